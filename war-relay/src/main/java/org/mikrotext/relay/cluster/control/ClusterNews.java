package org.mikrotext.relay.cluster.control;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.mikrotext.relay.room.control.RoomIds;

/**
 * One thing that changed in a room, as relay instances sharing a database tell each other (one line of a PostgreSQL
 * notification): envelopes stored up to a {@code seq}, the participant list changed, a participant removed, the room
 * key rotated, the room ended. Only ids and numbers: no token, key, wrap or ciphertext ever travels here; the
 * instance that hears the news reads what it needs from the database.
 */
public record ClusterNews(Kind kind, String roomId, String argument) {

    /** PostgreSQL refuses a notification payload of 8,000 bytes or more. */
    static final int MAX_PAYLOAD_BYTES = 7_000;

    public enum Kind {
        STORED('e'), PARTICIPANTS('p'), REMOVED('r'), ROTATED('k'), ENDED('x');

        final char code;

        Kind(char code) {
            this.code = code;
        }

        static Optional<Kind> of(char code) {
            for (Kind kind : values()) {
                if (kind.code == code) {
                    return Optional.of(kind);
                }
            }
            return Optional.empty();
        }
    }

    public static ClusterNews stored(String roomId, long upToSeq) {
        return new ClusterNews(Kind.STORED, roomId, Long.toString(upToSeq));
    }

    public static ClusterNews participants(String roomId) {
        return new ClusterNews(Kind.PARTICIPANTS, roomId, "");
    }

    public static ClusterNews removed(String roomId, String participantId) {
        return new ClusterNews(Kind.REMOVED, roomId, participantId);
    }

    public static ClusterNews rotated(String roomId, int keyVersion) {
        return new ClusterNews(Kind.ROTATED, roomId, Integer.toString(keyVersion));
    }

    public static ClusterNews ended(String roomId) {
        return new ClusterNews(Kind.ENDED, roomId, "");
    }

    public long seq() {
        return Long.parseLong(argument);
    }

    public int keyVersion() {
        return Integer.parseInt(argument);
    }

    String line() {
        return argument.isEmpty() ? kind.code + " " + roomId : kind.code + " " + roomId + " " + argument;
    }

    /** A line as {@link #line()} writes it; empty for anything else (the channel is open to any database user). */
    static Optional<ClusterNews> parse(String line) {
        String[] parts = line.split(" ", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].length() != 1 || !RoomIds.isWellFormed(parts[1])) {
            return Optional.empty();
        }
        Optional<Kind> kind = Kind.of(parts[0].charAt(0));
        String argument = parts.length == 3 ? parts[2] : "";
        boolean valid = kind.isPresent() && switch (kind.get()) {
            case STORED -> argument.matches("[0-9]{1,18}");
            case ROTATED -> argument.matches("[0-9]{1,9}");
            case REMOVED -> RoomIds.isWellFormed(argument);
            case PARTICIPANTS, ENDED -> parts.length == 2;
        };
        return valid ? Optional.of(new ClusterNews(kind.get(), parts[1], argument)) : Optional.empty();
    }

    /**
     * The notification payloads that carry {@code news} from {@code instance}: its id on the first line, then one line
     * each, split so that no payload passes {@value #MAX_PAYLOAD_BYTES} bytes.
     */
    static List<String> payloads(String instance, List<ClusterNews> news) {
        List<String> payloads = new ArrayList<>();
        StringBuilder payload = new StringBuilder(instance);
        for (ClusterNews item : news) {
            String line = item.line();
            if (payload.length() > instance.length()
                    && payload.length() + 1 + line.length() > MAX_PAYLOAD_BYTES) {
                payloads.add(payload.toString());
                payload = new StringBuilder(instance);
            }
            payload.append('\n').append(line);
        }
        if (payload.length() > instance.length()) {
            payloads.add(payload.toString());
        }
        return payloads;
    }

    /** The sender of a payload and its news (malformed lines left out); null sender if there is none. */
    record Heard(String instance, List<ClusterNews> news) {
        static Heard of(String payload) {
            if (payload == null || payload.getBytes(StandardCharsets.UTF_8).length > 8_000) {
                return new Heard(null, List.of());
            }
            String[] lines = payload.split("\n", -1);
            List<ClusterNews> news = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                parse(lines[i]).ifPresent(news::add);
            }
            return new Heard(lines[0], news);
        }
    }
}
