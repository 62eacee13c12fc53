package org.mikrotext.store.control;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.mikrotext.store.control.EnvelopeBatch.LockedRoom;
import org.mikrotext.store.control.EnvelopeBatch.Sender;
import org.mikrotext.store.control.EnvelopeBatch.Trim;
import org.mikrotext.store.entity.Envelope;

/**
 * A group commit on PostgreSQL in two round trips: one that begins the transaction, plans index scans, locks the rooms
 * and reads the senders; and one that inserts the envelopes, advances the rooms, trims them, notifies the other relay
 * instances ({@link Notices}) and commits. Each round trip is one statement text of several statements, which the
 * PostgreSQL driver sends together and PostgreSQL answers together; their lists travel as arrays, so that each text is
 * the same for every batch and stays prepared on the server. After the second round trip the driver knows that the
 * transaction has ended, and the caller's {@link Connection#commit()} sends nothing.
 *
 * <p>Every round trip wakes the database's backend and then the writer thread; on a busy machine each wake-up may wait
 * for a core, and the writer's commit cycle is what every envelope of the next batch waits for (docs/performance.md,
 * after 12: the same batches took six or seven round trips before). H2 goes the portable way, one statement at a time
 * ({@link EnvelopeBatch}).
 */
final class PostgresRoundTrips {

    /**
     * For this transaction only: every statement of a group commit finds its rows by key, but with few rooms (a
     * relay's usual state) PostgreSQL plans sequential scans of {@code rooms} and {@code participants}, dead row
     * versions included, for the row locks, the senders, the room advance and the foreign-key check of every inserted
     * envelope. With index scans PostgreSQL spends about a third less CPU per envelope in batches of 20
     * (docs/performance.md, after 8).
     */
    private static final String LOCK_AND_READ = "SET LOCAL enable_seqscan = off; "
            + "SELECT id, key_version, last_seq, expires_at FROM rooms WHERE id = ANY (?) ORDER BY id FOR UPDATE; "
            + "SELECT id, room_id, left_at FROM participants WHERE id = ANY (?)";

    private static final String INSERT_AND_ADVANCE = "INSERT INTO envelopes (room_id, seq, sender_id, key_version, "
            + "chain_id, chain_index, checkpoint, nonce, ciphertext, signature, created_at, expires_at) "
            + "SELECT * FROM unnest(?::varchar[], ?::bigint[], ?::varchar[], ?::integer[], ?::bytea[], ?::integer[], "
            + "?::bytea[], ?::bytea[], ?::bytea[], ?::bytea[], ?::bigint[], ?::bigint[]); "
            + "UPDATE rooms SET last_seq = advanced.last_seq FROM unnest(?::varchar[], ?::bigint[]) "
            + "AS advanced (id, last_seq) WHERE rooms.id = advanced.id; ";
    /**
     * Deletes what falls out of each room's limit. Added only when rooms trim: PostgreSQL plans the trim anew on every
     * execution (its generic plan looks dearer than a plan for the arrays at hand), which a commit without trims need
     * not pay for.
     */
    private static final String TRIM = "DELETE FROM envelopes USING unnest(?::varchar[], ?::bigint[], ?::bigint[]) "
            + "AS trims (room_id, after_seq, up_to) WHERE envelopes.room_id = trims.room_id "
            + "AND envelopes.seq > trims.after_seq AND envelopes.seq <= trims.up_to; ";
    /** Tells the channel's listeners, who hear it at the commit (and never if the transaction rolls back). */
    private static final String NOTIFY = "SELECT pg_notify(?, payload) FROM unnest(?::text[]) AS payload; ";
    /** The second round trip's texts, 1 for trims plus 2 for notices: each is fixed, prepared once on the server. */
    private static final String[] STORE = {
        INSERT_AND_ADVANCE + "COMMIT",
        INSERT_AND_ADVANCE + TRIM + "COMMIT",
        INSERT_AND_ADVANCE + NOTIFY + "COMMIT",
        INSERT_AND_ADVANCE + TRIM + NOTIFY + "COMMIT",
    };

    private PostgresRoundTrips() {
    }

    /** The first round trip (it also begins the transaction): index plans, the rooms' row locks, the senders. */
    static void lockAndRead(Connection connection, List<String> roomIds, List<String> senderIds,
                            Map<String, LockedRoom> rooms, Map<String, Sender> senders) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LOCK_AND_READ)) {
            statement.setArray(1, connection.createArrayOf("varchar", roomIds.toArray()));
            statement.setArray(2, connection.createArrayOf("varchar", senderIds.toArray()));
            int resultSets = 0;
            for (boolean isResultSet = statement.execute(); ; isResultSet = statement.getMoreResults()) {
                if (isResultSet) {
                    try (ResultSet rows = statement.getResultSet()) {
                        if (resultSets++ == 0) {
                            EnvelopeBatch.readRooms(rows, rooms);
                        } else {
                            EnvelopeBatch.readSenders(rows, senders);
                        }
                    }
                } else if (statement.getUpdateCount() == -1) {
                    break;
                }
            }
            if (resultSets != 2) {
                throw new SQLException("Expected the rooms and the senders, got " + resultSets + " result sets");
            }
        }
    }

    /**
     * The second round trip: the envelopes, the rooms' new last seqs, the trims, the notifications to
     * {@code channel} (none if {@code payloads} is empty), and the commit. With nothing to store it sends nothing,
     * and the caller's commit ends the transaction.
     */
    static void store(Connection connection, List<Envelope> stored, Map<String, Long> advanced, List<Trim> trims,
                      String channel, List<String> payloads) throws SQLException {
        if (stored.isEmpty()) {
            return; // then no room advances, none trims and nobody is told
        }
        List<Map.Entry<String, Long>> rooms = List.copyOf(advanced.entrySet());
        String text = STORE[(trims.isEmpty() ? 0 : 1) + (payloads.isEmpty() ? 0 : 2)];
        try (PreparedStatement statement = connection.prepareStatement(text)) {
            int p = 0;
            statement.setArray(++p, column(connection, "varchar", stored, Envelope::getRoomId));
            statement.setArray(++p, column(connection, "int8", stored, Envelope::getSeq));
            statement.setArray(++p, column(connection, "varchar", stored, Envelope::getSenderId));
            statement.setArray(++p, column(connection, "int4", stored, Envelope::getKeyVersion));
            statement.setArray(++p, bytes(connection, stored, Envelope::getChainId));
            statement.setArray(++p, column(connection, "int4", stored, Envelope::getChainIndex));
            statement.setArray(++p, bytes(connection, stored, Envelope::getCheckpoint));
            statement.setArray(++p, bytes(connection, stored, Envelope::getNonce));
            statement.setArray(++p, bytes(connection, stored, Envelope::getCiphertext));
            statement.setArray(++p, bytes(connection, stored, Envelope::getSignature));
            statement.setArray(++p, column(connection, "int8", stored, Envelope::getCreatedAt));
            statement.setArray(++p, column(connection, "int8", stored, Envelope::getExpiresAt));
            statement.setArray(++p, column(connection, "varchar", rooms, Map.Entry::getKey));
            statement.setArray(++p, column(connection, "int8", rooms, Map.Entry::getValue));
            if (!trims.isEmpty()) {
                statement.setArray(++p, column(connection, "varchar", trims, Trim::roomId));
                statement.setArray(++p, column(connection, "int8", trims, Trim::from));
                statement.setArray(++p, column(connection, "int8", trims, Trim::upTo));
            }
            if (!payloads.isEmpty()) {
                statement.setString(++p, channel);
                statement.setArray(++p, connection.createArrayOf("text", payloads.toArray()));
            }
            statement.execute();
            while (statement.getMoreResults() || statement.getUpdateCount() != -1) {
                // every statement's outcome read; an error would have been thrown by execute
            }
        }
    }

    /** One field of every row, as a PostgreSQL array of {@code type}. */
    private static <T> Array column(Connection connection, String type, List<T> rows, Function<T, Object> field)
            throws SQLException {
        return connection.createArrayOf(type, rows.stream().map(field).toArray());
    }

    /** One binary field of every row, as a {@code bytea[]} (the driver encodes it from a {@code byte[][]}). */
    private static <T> Array bytes(Connection connection, List<T> rows, Function<T, byte[]> field)
            throws SQLException {
        return connection.createArrayOf("bytea", rows.stream().map(field).toArray(byte[][]::new));
    }
}
