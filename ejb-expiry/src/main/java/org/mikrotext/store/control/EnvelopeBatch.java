package org.mikrotext.store.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.mikrotext.store.boundary.RoomStore.Append;
import org.mikrotext.store.boundary.RoomStore.Appended;
import org.mikrotext.store.boundary.StoreException.Reason;
import org.mikrotext.store.entity.Envelope;

/**
 * Appends many envelopes, of any rooms, in one local transaction on one connection (group commit), with plain JDBC:
 * the hot path of the relay, where the container's per-transaction work (EJB call, JTA, persistence context) cost
 * more than the SQL itself. It locks the rooms' rows (in id order), reads the senders, inserts the envelopes,
 * advances every room's last seq in one statement, trims what falls out of each room's limit, and commits: on
 * PostgreSQL in two round trips ({@link PostgresRoundTrips}), on H2 one statement (or batch) at a time.
 *
 * <p>Each envelope gets the next {@code seq} of its room, in the order given. An envelope from a participant who is
 * gone or not in the room, to a room that is gone or expired, or under a stale key version is refused on its own.
 * A replay breaks the unique constraint on the chain position: the whole batch is rolled back and the
 * {@link SQLException} (SQL state 23505) reaches the caller, which then stores the batch once more with
 * {@code refuseReplays}, so that only the replay is refused.
 *
 * <p>H2's SQL is portable between PostgreSQL and H2 (PostgreSQL mode). Its {@code IN} lists are padded to a power of
 * two by repeating their last value, so that the database sees few distinct statements and can reuse their plans.
 */
public final class EnvelopeBatch {

    private static final String INSERT = "INSERT INTO envelopes (room_id, seq, sender_id, key_version, chain_id, "
            + "chain_index, checkpoint, nonce, ciphertext, signature, created_at, expires_at) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    /** From the room's {@link TrimMarks mark} (0: its first seq) up to the newest that falls out of the limit. */
    private static final String TRIM = "DELETE FROM envelopes WHERE room_id = ? AND seq > ? AND seq <= ?";

    private EnvelopeBatch() {
    }

    private static boolean isPostgres(Connection connection) throws SQLException {
        return "PostgreSQL".equals(connection.getMetaData().getDatabaseProductName());
    }

    /** A locked room as the batch sees it; {@code lastSeq} advances as envelopes are assigned. */
    static final class LockedRoom {
        final int keyVersion;
        final long expiresAt;
        final long firstSeq;
        long lastSeq;

        LockedRoom(int keyVersion, long lastSeq, long expiresAt) {
            this.keyVersion = keyVersion;
            this.lastSeq = lastSeq;
            this.firstSeq = lastSeq;
            this.expiresAt = expiresAt;
        }
    }

    /** A sender as the batch sees it: its room, and whether it is still in it. */
    record Sender(String roomId, boolean present) {
    }

    /**
     * Appends {@code appends} and commits. The connection must not be in a transaction; it is left with auto-commit
     * on. On any exception the transaction is rolled back.
     */
    public static List<Appended> appendAll(Connection connection, List<Append> appends, long now, int keepNewest)
            throws SQLException {
        return appendAll(connection, appends, now, keepNewest, false);
    }

    /**
     * As {@link #appendAll(Connection, List, long, int)}, but with {@code refuseReplays} it first reads which chain
     * positions the rooms already hold (one more round trip) and refuses replays on their own, as it does a repeat
     * within the batch: for storing a batch again after a replay broke it.
     */
    public static List<Appended> appendAll(Connection connection, List<Append> appends, long now, int keepNewest,
                                           boolean refuseReplays) throws SQLException {
        return appendAll(connection, appends, now, keepNewest, refuseReplays, new TrimMarks());
    }

    /**
     * As {@link #appendAll(Connection, List, long, int, boolean)}, with each room's trim starting at its mark in
     * {@code marks}; the trims are recorded there once they are committed.
     */
    public static List<Appended> appendAll(Connection connection, List<Append> appends, long now, int keepNewest,
                                           boolean refuseReplays, TrimMarks marks) throws SQLException {
        return appendAll(connection, appends, now, keepNewest, refuseReplays, marks, Notices.NONE);
    }

    /**
     * As {@link #appendAll(Connection, List, long, int, boolean, TrimMarks)}, telling {@code notices}' channel of the
     * stored envelopes within the transaction (PostgreSQL only: on H2 notices other than {@link Notices#NONE} are
     * refused, as the relay refuses to share rooms there).
     */
    public static List<Appended> appendAll(Connection connection, List<Append> appends, long now, int keepNewest,
                                           boolean refuseReplays, TrimMarks marks, Notices notices)
            throws SQLException {
        connection.setAutoCommit(false);
        try {
            Map<String, Long> trimmed = new HashMap<>();
            List<Appended> outcomes = append(connection, appends, now, keepNewest, refuseReplays, marks, trimmed,
                    notices);
            connection.commit();
            marks.committed(trimmed);
            return outcomes;
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback); // keep the cause (a replay's 23505) in front
            }
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    private static List<Appended> append(Connection connection, List<Append> appends, long now, int keepNewest,
                                         boolean refuseReplays, TrimMarks marks, Map<String, Long> trimmed,
                                         Notices notices) throws SQLException {
        List<String> roomIds = new ArrayList<>(new TreeSet<>(appends.stream().map(Append::roomId).toList()));
        List<String> senderIds = appends.stream().map(Append::senderId).distinct().toList();
        boolean postgres = isPostgres(connection);
        Map<String, LockedRoom> rooms = new LinkedHashMap<>();
        Map<String, Sender> senders = new HashMap<>();
        if (postgres) {
            PostgresRoundTrips.lockAndRead(connection, roomIds, senderIds, rooms, senders);
        } else {
            lockRooms(connection, roomIds, rooms);
            senders(connection, senderIds, senders);
        }
        Set<String> held = refuseReplays ? heldPositions(connection, roomIds, appends) : new HashSet<>();
        List<Appended> outcomes = new ArrayList<>(appends.size());
        List<Envelope> stored = new ArrayList<>(appends.size());
        for (Append append : appends) {
            LockedRoom room = rooms.get(append.roomId());
            Sender sender = senders.get(append.senderId());
            if (room == null || room.expiresAt <= now) {
                outcomes.add(new Appended(null, Reason.ROOM_NOT_FOUND));
            } else if (sender == null || !sender.present() || !sender.roomId().equals(append.roomId())) {
                outcomes.add(new Appended(null, Reason.PARTICIPANT_NOT_FOUND));
            } else if (append.fields().keyVersion() != room.keyVersion) {
                outcomes.add(new Appended(null, Reason.KEY_VERSION_MISMATCH));
            } else if (refuseReplays && !held.add(position(append.roomId(), append.senderId(),
                    append.fields().keyVersion(), append.fields().chainId(), append.fields().chainIndex()))) {
                outcomes.add(new Appended(null, Reason.REPLAY));
            } else {
                Envelope envelope = new Envelope(append.roomId(), ++room.lastSeq, append.senderId(),
                        append.fields(), now, room.expiresAt);
                stored.add(envelope);
                outcomes.add(new Appended(envelope, null));
            }
        }
        Map<String, Long> advanced = new LinkedHashMap<>();
        rooms.forEach((roomId, room) -> {
            if (room.lastSeq != room.firstSeq) {
                advanced.put(roomId, room.lastSeq);
            }
        });
        List<Trim> trims = new ArrayList<>();
        advanced.forEach((roomId, lastSeq) -> {
            long upTo = lastSeq - keepNewest;
            long from = marks.of(roomId);
            if (upTo > from) {
                trims.add(new Trim(roomId, from, upTo));
                trimmed.put(roomId, upTo);
            }
        });
        List<String> payloads = advanced.isEmpty() ? List.of() : notices.payloads().apply(advanced);
        if (postgres) {
            PostgresRoundTrips.store(connection, stored, advanced, trims, notices.channel(), payloads);
        } else if (!payloads.isEmpty()) {
            throw new SQLException("Notices need PostgreSQL's NOTIFY");
        } else {
            insert(connection, stored);
            advance(connection, advanced);
            trim(connection, trims);
        }
        return outcomes;
    }

    /** Deletes a room's envelopes with {@code from < seq <= upTo}. */
    record Trim(String roomId, long from, long upTo) {
    }

    private static void insert(Connection connection, List<Envelope> stored) throws SQLException {
        if (stored.isEmpty()) {
            return;
        }
        try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
            for (Envelope envelope : stored) {
                bindInsert(insert, envelope);
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private static void bindInsert(PreparedStatement insert, Envelope envelope) throws SQLException {
        insert.setString(1, envelope.getRoomId());
        insert.setLong(2, envelope.getSeq());
        insert.setString(3, envelope.getSenderId());
        insert.setInt(4, envelope.getKeyVersion());
        insert.setBytes(5, envelope.getChainId());
        insert.setInt(6, envelope.getChainIndex());
        if (envelope.getCheckpoint() == null) {
            insert.setNull(7, Types.BINARY);
        } else {
            insert.setBytes(7, envelope.getCheckpoint());
        }
        insert.setBytes(8, envelope.getNonce());
        insert.setBytes(9, envelope.getCiphertext());
        insert.setBytes(10, envelope.getSignature());
        insert.setLong(11, envelope.getCreatedAt());
        insert.setLong(12, envelope.getExpiresAt());
    }

    /**
     * Stores each room's new last seq in one statement, not one per room: with few rooms PostgreSQL reads the whole
     * table for each statement that finds a room by id (measured: a sequential scan per room per commit,
     * docs/performance.md).
     */
    private static void advance(Connection connection, Map<String, Long> advanced) throws SQLException {
        if (advanced.isEmpty()) {
            return;
        }
        List<String> roomIds = new ArrayList<>(advanced.keySet());
        int slots = padded(roomIds.size());
        String sql = "UPDATE rooms SET last_seq = CASE id" + " WHEN ? THEN ?".repeat(slots) + " ELSE last_seq END"
                + " WHERE id IN (" + marks(roomIds.size()) + ")";
        try (PreparedStatement advance = connection.prepareStatement(sql)) {
            for (int i = 0; i < slots; i++) {
                String roomId = roomIds.get(Math.min(i, roomIds.size() - 1));
                advance.setString(2 * i + 1, roomId);
                advance.setLong(2 * i + 2, advanced.get(roomId));
            }
            bindPadded(advance, 2 * slots + 1, roomIds);
            advance.executeUpdate();
        }
    }

    private static void trim(Connection connection, List<Trim> trims) throws SQLException {
        if (trims.isEmpty()) {
            return;
        }
        try (PreparedStatement trim = connection.prepareStatement(TRIM)) {
            for (Trim t : trims) {
                trim.setString(1, t.roomId());
                trim.setLong(2, t.from());
                trim.setLong(3, t.upTo());
                trim.addBatch();
            }
            trim.executeBatch();
        }
    }

    /** The chain positions of {@code appends}' chains that the rooms already hold. */
    private static Set<String> heldPositions(Connection connection, List<String> roomIds, List<Append> appends)
            throws SQLException {
        List<byte[]> chainIds = appends.stream().map(append -> append.fields().chainId()).toList();
        Set<String> held = new HashSet<>();
        String sql = "SELECT room_id, sender_id, key_version, chain_id, chain_index FROM envelopes WHERE room_id IN ("
                + marks(roomIds.size()) + ") AND chain_id IN (" + marks(chainIds.size()) + ")";
        try (PreparedStatement select = connection.prepareStatement(sql)) {
            bindPadded(select, roomIds);
            int at = padded(roomIds.size());
            for (int i = 0; i < padded(chainIds.size()); i++) {
                select.setBytes(at + i + 1, chainIds.get(Math.min(i, chainIds.size() - 1)));
            }
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    held.add(position(rows.getString(1), rows.getString(2), rows.getInt(3), rows.getBytes(4),
                            rows.getInt(5)));
                }
            }
        }
        return held;
    }

    private static String position(String roomId, String senderId, int keyVersion, byte[] chainId, int chainIndex) {
        return roomId + ' ' + senderId + ' ' + keyVersion + ' ' + HexFormat.of().formatHex(chainId) + ' ' + chainIndex;
    }

    private static void lockRooms(Connection connection, List<String> roomIds, Map<String, LockedRoom> rooms)
            throws SQLException {
        String sql = "SELECT id, key_version, last_seq, expires_at FROM rooms WHERE id IN (" + marks(roomIds.size())
                + ") ORDER BY id FOR UPDATE";
        try (PreparedStatement select = connection.prepareStatement(sql)) {
            bindPadded(select, roomIds);
            try (ResultSet rows = select.executeQuery()) {
                readRooms(rows, rooms);
            }
        }
    }

    private static void senders(Connection connection, List<String> senderIds, Map<String, Sender> senders)
            throws SQLException {
        String sql = "SELECT id, room_id, left_at FROM participants WHERE id IN (" + marks(senderIds.size()) + ")";
        try (PreparedStatement select = connection.prepareStatement(sql)) {
            bindPadded(select, senderIds);
            try (ResultSet rows = select.executeQuery()) {
                readSenders(rows, senders);
            }
        }
    }

    /** Rows of {@code id, key_version, last_seq, expires_at}, locked. */
    static void readRooms(ResultSet rows, Map<String, LockedRoom> rooms) throws SQLException {
        while (rows.next()) {
            rooms.put(rows.getString(1), new LockedRoom(rows.getInt(2), rows.getLong(3), rows.getLong(4)));
        }
    }

    /** Rows of {@code id, room_id, left_at}. */
    static void readSenders(ResultSet rows, Map<String, Sender> senders) throws SQLException {
        while (rows.next()) {
            String id = rows.getString(1);
            String roomId = rows.getString(2);
            rows.getLong(3);
            boolean present = rows.wasNull();
            senders.put(id, new Sender(roomId, present));
        }
    }

    /** How many parameters a list of {@code count} values takes: the next power of two. */
    static int padded(int count) {
        int slots = 1;
        while (slots < count) {
            slots <<= 1;
        }
        return slots;
    }

    private static String marks(int count) {
        return String.join(", ", Collections.nCopies(padded(count), "?"));
    }

    private static void bindPadded(PreparedStatement statement, List<String> values) throws SQLException {
        bindPadded(statement, 1, values);
    }

    /** Binds a padded {@code IN} list whose first parameter has index {@code first}. */
    private static void bindPadded(PreparedStatement statement, int first, List<String> values) throws SQLException {
        int slots = padded(values.size());
        for (int i = 0; i < slots; i++) {
            statement.setString(first + i, values.get(Math.min(i, values.size() - 1)));
        }
    }
}
