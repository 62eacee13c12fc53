package org.mikrotext.store.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mikrotext.store.boundary.RoomStore.Append;
import org.mikrotext.store.boundary.RoomStore.Appended;
import org.mikrotext.store.boundary.StoreException.Reason;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * The group commit's SQL against the real schema (Flyway migrations), on each database the relay runs on: H2 in
 * PostgreSQL mode ({@link EnvelopeBatchH2Test}) and PostgreSQL ({@link EnvelopeBatchPostgresTest}), both reached
 * through the relay's own {@link SwitchingDataSource}.
 */
abstract class EnvelopeBatchTest {

    static final long NOW = 1_800_000_000L;
    Connection connection;

    /** An empty database of its own for one test. */
    abstract DataSource freshDatabase() throws SQLException;

    @BeforeEach
    void schema() throws SQLException {
        DataSource database = freshDatabase();
        Flyway.configure().dataSource(database).load().migrate();
        connection = database.getConnection();
        try (Statement sql = connection.createStatement()) {
            sql.execute("INSERT INTO rooms VALUES ('room-a', 1, 0, 0, " + (NOW + 60) + ")");
            sql.execute("INSERT INTO rooms VALUES ('room-b', 2, 7, 0, " + (NOW + 60) + ")");
            sql.execute("INSERT INTO rooms VALUES ('room-gone', 1, 0, 0, " + NOW + ")");
            participant(sql, "alice", "room-a", null);
            participant(sql, "bob", "room-b", null);
            participant(sql, "carol", "room-a", NOW - 5);
            participant(sql, "dave", "room-gone", null);
        }
    }

    @AfterEach
    void close() throws SQLException {
        connection.close();
    }

    @Test
    void eachRoomGetsItsNextSeqsAndRefusalsStandAlone() throws SQLException {
        List<Appended> outcomes = EnvelopeBatch.appendAll(connection, List.of(
                append("room-a", "alice", 1, 0),
                append("room-b", "bob", 2, 0),
                append("room-a", "alice", 1, 1),
                append("room-a", "carol", 1, 0),
                append("room-b", "alice", 2, 2),
                append("room-b", "bob", 1, 1),
                append("room-gone", "dave", 1, 0),
                append("room-nowhere", "alice", 1, 3)), NOW, 100);

        assertNull(outcomes.get(0).refused(), String.valueOf(outcomes));
        assertEquals(1, outcomes.get(0).envelope().getSeq());
        assertEquals(8, outcomes.get(1).envelope().getSeq(), "room-b continues after its last seq, 7");
        assertEquals(2, outcomes.get(2).envelope().getSeq());
        assertEquals(Reason.PARTICIPANT_NOT_FOUND, outcomes.get(3).refused(), "carol has left");
        assertEquals(Reason.PARTICIPANT_NOT_FOUND, outcomes.get(4).refused(), "alice is not in room-b");
        assertEquals(Reason.KEY_VERSION_MISMATCH, outcomes.get(5).refused());
        assertEquals(Reason.ROOM_NOT_FOUND, outcomes.get(6).refused(), "expired");
        assertEquals(Reason.ROOM_NOT_FOUND, outcomes.get(7).refused(), "no such room");
        assertNull(outcomes.get(3).envelope());

        assertEquals(List.of("room-a:1", "room-a:2", "room-b:8"), rows());
        assertEquals(2, lastSeq("room-a"));
        assertEquals(8, lastSeq("room-b"));
        assertTrue(connection.getAutoCommit(), "the connection goes back with auto-commit on");
        try (Statement sql = connection.createStatement();
             ResultSet row = sql.executeQuery("SELECT chain_id, checkpoint, created_at, expires_at FROM envelopes "
                     + "WHERE room_id = 'room-a' AND seq = 1")) {
            row.next();
            assertArrayEquals(outcomes.get(0).envelope().getChainId(), row.getBytes(1));
            assertArrayEquals(outcomes.get(0).envelope().getCheckpoint(), row.getBytes(2));
            assertEquals(NOW, row.getLong(3));
            assertEquals(NOW + 60, row.getLong(4), "an envelope goes with its room");
        }
    }

    @Test
    void roomsAdvanceTogetherInOneStatementAndOthersStayAsTheyWere() throws SQLException {
        try (Statement sql = connection.createStatement()) {
            sql.execute("INSERT INTO rooms VALUES ('room-c', 1, 40, 0, " + (NOW + 60) + ")");
            sql.execute("INSERT INTO rooms VALUES ('room-d', 1, 3, 0, " + (NOW + 60) + ")");
            participant(sql, "erin", "room-c", null);
        }
        // Three rooms advance (four slots in the statement, the last one repeated); room-d gets nothing.
        EnvelopeBatch.appendAll(connection, List.of(
                append("room-c", "erin", 1, 0),
                append("room-a", "alice", 1, 0),
                append("room-b", "bob", 2, 0),
                append("room-c", "erin", 1, 1),
                append("room-c", "erin", 1, 2)), NOW, 100);
        assertEquals(1, lastSeq("room-a"));
        assertEquals(8, lastSeq("room-b"));
        assertEquals(43, lastSeq("room-c"));
        assertEquals(3, lastSeq("room-d"), "a room without envelopes in the batch keeps its last seq");
        assertEquals(0, lastSeq("room-gone"));
        // The next batch continues from the stored last seqs.
        List<Appended> next = EnvelopeBatch.appendAll(connection, List.of(append("room-c", "erin", 1, 3),
                append("room-a", "alice", 1, 1)), NOW, 100);
        assertEquals(44, next.get(0).envelope().getSeq());
        assertEquals(2, next.get(1).envelope().getSeq());
    }

    @Test
    void aBatchWhoseEnvelopesAreAllRefusedStoresNothingAndTheNextOneGoesOn() throws SQLException {
        List<Appended> outcomes = EnvelopeBatch.appendAll(connection, List.of(append("room-a", "carol", 1, 0),
                append("room-gone", "dave", 1, 0), append("room-b", "bob", 1, 0)), NOW, 100);
        assertEquals(List.of(Reason.PARTICIPANT_NOT_FOUND, Reason.ROOM_NOT_FOUND, Reason.KEY_VERSION_MISMATCH),
                outcomes.stream().map(Appended::refused).toList());
        assertEquals(List.of(), rows());
        assertEquals(0, lastSeq("room-a"));
        assertEquals(7, lastSeq("room-b"));
        assertTrue(connection.getAutoCommit());
        List<Appended> next = EnvelopeBatch.appendAll(connection, List.of(append("room-b", "bob", 2, 0)), NOW, 100);
        assertEquals(8, next.get(0).envelope().getSeq());
        assertEquals(List.of("room-b:8"), rows());
    }

    @Test
    void onlyTheNewestAreKept() throws SQLException {
        List<Append> appends = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            appends.add(append("room-a", "alice", 1, i));
        }
        EnvelopeBatch.appendAll(connection, appends, NOW, 3);
        assertEquals(List.of("room-a:3", "room-a:4", "room-a:5"), rows());
    }

    @Test
    void eachTrimStartsWhereTheRoomsLastTrimEnded() throws SQLException {
        TrimMarks marks = new TrimMarks();
        EnvelopeBatch.appendAll(connection, chain("room-a", "alice", 0, 5), NOW, 3, false, marks);
        assertEquals(List.of("room-a:3", "room-a:4", "room-a:5"), rows());
        assertEquals(2, marks.of("room-a"), "seq 1 and 2 are deleted");

        // A row below the mark is taken to be deleted already: the next trim does not read it (nor delete it).
        try (PreparedStatement sql = connection.prepareStatement("INSERT INTO envelopes (room_id, seq, sender_id, "
                + "key_version, chain_id, chain_index, nonce, ciphertext, signature, created_at, expires_at) "
                + "VALUES ('room-a', 1, 'alice', 1, ?, 0, ?, ?, ?, 0, 0)")) {
            sql.setBytes(1, new byte[] {9, 9});
            sql.setBytes(2, new byte[12]);
            sql.setBytes(3, new byte[] {1});
            sql.setBytes(4, new byte[64]);
            sql.executeUpdate();
        }
        EnvelopeBatch.appendAll(connection, chain("room-a", "alice", 5, 2), NOW, 3, false, marks);
        assertEquals(List.of("room-a:1", "room-a:5", "room-a:6", "room-a:7"), rows());
        assertEquals(4, marks.of("room-a"));

        // Without a mark (another relay, or one just started) a room is trimmed from its first seq.
        EnvelopeBatch.appendAll(connection, chain("room-a", "alice", 7, 1), NOW, 3, false, new TrimMarks());
        assertEquals(List.of("room-a:6", "room-a:7", "room-a:8"), rows());
    }

    @Test
    void aTrimWhoseCommitFailsLeavesTheMarkWhereItWas() throws SQLException {
        TrimMarks marks = new TrimMarks();
        EnvelopeBatch.appendAll(connection, chain("room-a", "alice", 0, 5), NOW, 3, false, marks);
        Connection failingCommit = failingCommit();
        assertThrows(SQLException.class,
                () -> EnvelopeBatch.appendAll(failingCommit, chain("room-a", "alice", 5, 3), NOW, 3, false, marks));
        assertEquals(2, marks.of("room-a"), "the trim up to 5 was rolled back with its batch");
        assertEquals(List.of("room-a:3", "room-a:4", "room-a:5"), rows());
    }

    /** {@link #connection}, on which every commit from now on fails. */
    Connection failingCommit() throws SQLException {
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    if (method.getName().equals("commit")) {
                        throw new SQLException("the commit failed", "08006");
                    }
                    try {
                        return method.invoke(connection, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** {@code count} envelopes of one sender's chain, from {@code first}. */
    private static List<Append> chain(String roomId, String senderId, int first, int count) {
        List<Append> appends = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            appends.add(append(roomId, senderId, 1, i));
        }
        return appends;
    }

    @Test
    void aFullBatchIsStoredWholeAndInOrder() throws SQLException {
        List<Append> appends = new ArrayList<>();
        for (int i = 0; i < 37; i++) {
            appends.add(i % 3 == 0 ? append("room-b", "bob", 2, i) : append("room-a", "alice", 1, i));
        }
        List<Appended> outcomes = EnvelopeBatch.appendAll(connection, appends, NOW, 100);
        assertTrue(outcomes.stream().allMatch(outcome -> outcome.refused() == null), String.valueOf(outcomes));
        assertEquals(24, lastSeq("room-a"));
        assertEquals(7 + 13, lastSeq("room-b"));
        assertEquals(37, rows().size());
        try (Statement sql = connection.createStatement();
             ResultSet row = sql.executeQuery("SELECT chain_index, sender_id FROM envelopes "
                     + "WHERE room_id = 'room-a' AND seq = 24")) {
            row.next();
            assertEquals(35, row.getInt(1), "the last of room-a's envelopes in the batch");
            assertEquals("alice", row.getString(2));
        }
    }

    @Test
    void aReplayRollsTheWholeBatchBack() throws SQLException {
        EnvelopeBatch.appendAll(connection, List.of(append("room-a", "alice", 1, 0)), NOW, 100);
        SQLException replay = assertThrows(SQLException.class, () -> EnvelopeBatch.appendAll(connection,
                List.of(append("room-b", "bob", 2, 0), append("room-a", "alice", 1, 0)), NOW, 100));
        assertTrue(isUniqueViolation(replay), replay.toString());
        assertEquals(List.of("room-a:1"), rows(), "bob's envelope went with the batch");
        assertEquals(7, lastSeq("room-b"));
        assertTrue(connection.getAutoCommit());
    }

    @Test
    void storedAgainWithReplaysRefusedOnlyTheReplaysAreRefused() throws SQLException {
        EnvelopeBatch.appendAll(connection, List.of(append("room-a", "alice", 1, 0)), NOW, 100);
        List<Appended> outcomes = EnvelopeBatch.appendAll(connection, List.of(
                append("room-b", "bob", 2, 0),
                append("room-a", "alice", 1, 0),
                append("room-a", "alice", 1, 1),
                append("room-a", "alice", 1, 1)), NOW, 100, true);
        assertEquals(8, outcomes.get(0).envelope().getSeq());
        assertEquals(Reason.REPLAY, outcomes.get(1).refused(), "already stored");
        assertEquals(2, outcomes.get(2).envelope().getSeq(), "no gap where the replay was refused");
        assertEquals(Reason.REPLAY, outcomes.get(3).refused(), "repeated within the batch");
        assertEquals(List.of("room-a:1", "room-a:2", "room-b:8"), rows());
    }

    @Test
    void inListsArePaddedToPowersOfTwo() {
        assertEquals(1, EnvelopeBatch.padded(1));
        assertEquals(2, EnvelopeBatch.padded(2));
        assertEquals(4, EnvelopeBatch.padded(3));
        assertEquals(8, EnvelopeBatch.padded(5));
        assertEquals(256, EnvelopeBatch.padded(256));
    }

    private static boolean isUniqueViolation(SQLException e) {
        for (SQLException s = e; s != null; s = s.getNextException()) {
            if ("23505".equals(s.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    static Append append(String roomId, String senderId, int keyVersion, int chainIndex) {
        byte[] checkpoint = chainIndex % 16 == 0 ? new byte[] {9, 9} : null;
        return new Append(roomId, senderId, new SignedEnvelope(keyVersion, new byte[] {1, 2, 3}, chainIndex,
                checkpoint, new byte[12], new byte[] {4, 5}, new byte[64]));
    }

    static void participant(Statement sql, String id, String roomId, Long leftAt) throws SQLException {
        try (PreparedStatement insert = sql.getConnection().prepareStatement("INSERT INTO participants (id, room_id, "
                + "pseudonym, signing_key, exchange_key, role, token_hash, joined_at, left_at) "
                + "VALUES (?, ?, ?, ?, ?, 'MEMBER', ?, 0, ?)")) {
            insert.setString(1, id);
            insert.setString(2, roomId);
            insert.setString(3, id);
            insert.setBytes(4, new byte[] {1});
            insert.setBytes(5, new byte[] {2});
            insert.setString(6, leftAt == null ? id + "-token" : null);
            insert.setObject(7, leftAt, java.sql.Types.BIGINT);
            insert.executeUpdate();
        }
    }

    private List<String> rows() throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement sql = connection.createStatement();
             ResultSet row = sql.executeQuery("SELECT room_id, seq FROM envelopes ORDER BY room_id, seq")) {
            while (row.next()) {
                rows.add(row.getString(1) + ":" + row.getLong(2));
            }
        }
        return rows;
    }

    private long lastSeq(String roomId) throws SQLException {
        try (Statement sql = connection.createStatement();
             ResultSet row = sql.executeQuery("SELECT last_seq FROM rooms WHERE id = '" + roomId + "'")) {
            row.next();
            return row.getLong(1);
        }
    }
}
