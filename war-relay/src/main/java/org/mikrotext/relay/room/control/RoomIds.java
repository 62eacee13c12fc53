package org.mikrotext.relay.room.control;

import java.util.regex.Pattern;

/** The shape of room and participant ids: 16 bytes as 22 characters of base64url. */
public final class RoomIds {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{21}[AQgw]");

    private RoomIds() {
    }

    public static boolean isWellFormed(String id) {
        return id != null && ID.matcher(id).matches();
    }
}
