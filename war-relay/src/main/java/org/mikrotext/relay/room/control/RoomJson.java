package org.mikrotext.relay.room.control;

import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.mikrotext.relay.protocol.Base64Url;
import org.mikrotext.store.boundary.RoomStore.RoomView;
import org.mikrotext.store.entity.Participant;
import org.mikrotext.relay.json.JsonIO;

/** The JSON shapes of rooms and participants, shared by REST answers and WebSocket frames. */
public final class RoomJson {

    private RoomJson() {
    }

    /** ISO-8601 UTC in whole seconds. */
    public static String time(long epochSecond) {
        return Instant.ofEpochSecond(epochSecond).toString();
    }

    public static JsonObject participant(Participant p) {
        return JsonIO.object()
                .add("participantId", p.getId())
                .add("pseudonym", p.getPseudonym())
                .add("signingKey", Base64Url.encode(p.getSigningKey()))
                .add("exchangeKey", Base64Url.encode(p.getExchangeKey()))
                .add("role", p.getRole().name().toLowerCase(Locale.ROOT))
                .add("joinedAt", time(p.getJoinedAt()))
                .build();
    }

    public static JsonArray participants(List<Participant> participants) {
        JsonArrayBuilder array = JsonIO.array();
        participants.forEach(p -> array.add(participant(p)));
        return array.build();
    }

    /** Who left: enough to name them and to verify what they wrote, nothing more. */
    public static JsonArray departed(List<Participant> departed) {
        JsonArrayBuilder array = JsonIO.array();
        departed.forEach(p -> array.add(JsonIO.object()
                .add("participantId", p.getId())
                .add("pseudonym", p.getPseudonym())
                .add("signingKey", Base64Url.encode(p.getSigningKey()))
                .add("leftAt", time(p.getLeftAt()))));
        return array.build();
    }

    public static JsonObjectBuilder view(RoomView view) {
        JsonObjectBuilder json = JsonIO.object()
                .add("roomId", view.room().getId())
                .add("expiresAt", time(view.room().getExpiresAt()))
                .add("keyVersion", view.room().getKeyVersion())
                .add("participants", participants(view.participants()))
                .add("departed", departed(view.departed()));
        if (view.wrapped() == null) {
            json.addNull("wrapped");
        } else {
            json.add("wrapped", Base64Url.encode(view.wrapped()));
        }
        return json;
    }
}
