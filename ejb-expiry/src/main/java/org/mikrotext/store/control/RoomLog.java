package org.mikrotext.store.control;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.logging.Logger;

/**
 * One log line per room lifecycle event. Rooms are named only by a short hash of their id, participants not at
 * all; tokens, keys, signatures and ciphertext never reach a log.
 */
public final class RoomLog {

    private static final Logger LOG = Logger.getLogger("org.mikrotext.rooms");

    /** The lifecycle events that are logged. */
    public enum Event {
        CREATED("created"),
        INVITE_SPENT("invite spent"),
        JOINED("participant joined"),
        LEFT("participant left"),
        REMOVED("participant removed"),
        ROTATED("room key rotated"),
        BURNED("burned by its creator"),
        EXPIRED("expired and deleted");

        private final String text;

        Event(String text) {
            this.text = text;
        }
    }

    private RoomLog() {
    }

    public static void log(Event event, String roomId) {
        LOG.info(() -> "room " + shortHash(roomId) + " " + event.text);
    }

    /** The first 12 hex digits of SHA-256 over the room id: enough to follow a room through the log, not to find it. */
    public static String shortHash(String roomId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(("mikrotext room " + roomId).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
