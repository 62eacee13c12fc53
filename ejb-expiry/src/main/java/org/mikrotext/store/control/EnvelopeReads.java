package org.mikrotext.store.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * Reads the envelopes of many rooms, each from its own position, in one statement (one round trip), with plain JDBC
 * on PostgreSQL: for a relay instance that hands out what other instances stored in the rooms it has sockets in. One
 * notification names several rooms, and reading them one by one through the container was the serial stage of a
 * relay that shares rooms (docs/performance.md, after 16).
 */
public final class EnvelopeReads {

    private static final String BETWEEN = "SELECT e.room_id, e.seq, e.sender_id, e.key_version, e.chain_id, "
            + "e.chain_index, e.checkpoint, e.nonce, e.ciphertext, e.signature, e.created_at, e.expires_at "
            + "FROM unnest(?::varchar[], ?::bigint[], ?::bigint[]) AS wanted (room_id, after_seq, up_to) "
            + "CROSS JOIN LATERAL (SELECT * FROM envelopes x WHERE x.room_id = wanted.room_id "
            + "AND x.seq > wanted.after_seq AND x.seq <= wanted.up_to ORDER BY x.seq LIMIT ?) e";

    /** The envelopes of {@code roomId} with {@code after < seq <= upTo}. */
    public record Range(String roomId, long after, long upTo) {
    }

    private EnvelopeReads() {
    }

    /**
     * The envelopes of each range, in {@code seq} order, at most {@code perRoom} of each (the rest, if any, are read
     * again from the last one returned); rooms without any are left out.
     */
    public static Map<String, List<Envelope>> between(Connection connection, List<Range> ranges, int perRoom)
            throws SQLException {
        Map<String, List<Envelope>> read = new LinkedHashMap<>();
        if (ranges.isEmpty()) {
            return read;
        }
        try (PreparedStatement select = connection.prepareStatement(BETWEEN)) {
            select.setArray(1, connection.createArrayOf("varchar", ranges.stream().map(Range::roomId).toArray()));
            select.setArray(2, connection.createArrayOf("int8", ranges.stream().map(Range::after).toArray()));
            select.setArray(3, connection.createArrayOf("int8", ranges.stream().map(Range::upTo).toArray()));
            select.setInt(4, perRoom);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    Envelope envelope = new Envelope(rows.getString(1), rows.getLong(2), rows.getString(3),
                            new SignedEnvelope(rows.getInt(4), rows.getBytes(5), rows.getInt(6), rows.getBytes(7),
                                    rows.getBytes(8), rows.getBytes(9), rows.getBytes(10)),
                            rows.getLong(11), rows.getLong(12));
                    read.computeIfAbsent(envelope.getRoomId(), room -> new ArrayList<>()).add(envelope);
                }
            }
        }
        read.values().forEach(envelopes -> envelopes.sort(Comparator.comparingLong(Envelope::getSeq)));
        return read;
    }
}
