package org.mikrotext.store.control;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mikrotext.store.boundary.RoomStore.Append;
import org.mikrotext.store.boundary.RoomStore.Appended;
import org.mikrotext.store.entity.Envelope;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * {@link EnvelopeBatchTest} on a real PostgreSQL (embedded, one server for the class, a database per test), through
 * the relay's data source, and what only PostgreSQL does: its plans.
 */
class EnvelopeBatchPostgresTest extends EnvelopeBatchTest {

    private static EmbeddedPostgres postgres;
    private String url;

    @BeforeAll
    static void start() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stop() throws IOException {
        postgres.close();
    }

    @Override
    DataSource freshDatabase() throws SQLException {
        String name = "batch_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection admin = postgres.getPostgresDatabase().getConnection();
             Statement sql = admin.createStatement()) {
            sql.execute("CREATE DATABASE " + name);
        }
        url = postgres.getJdbcUrl("postgres", name);
        SwitchingDataSource database = new SwitchingDataSource();
        database.setUrl(url);
        database.setUser("postgres");
        return database;
    }

    /**
     * On PostgreSQL the commit travels with the envelopes, so it is made to fail where it runs: a deferred trigger
     * raises at commit time, and the whole transaction is rolled back.
     */
    @Override
    Connection failingCommit() throws SQLException {
        try (Statement sql = connection.createStatement()) {
            sql.execute("CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql "
                    + "AS $$ BEGIN RAISE EXCEPTION 'the commit failed'; END $$");
            sql.execute("CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON envelopes "
                    + "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()");
        }
        return connection;
    }

    @Test
    void aGroupCommitFindsRoomsAndParticipantsByKeyNotByReadingTheTables() throws Exception {
        long[] before = scans();
        EnvelopeBatch.appendAll(connection, List.of(append("room-a", "alice", 1, 0), append("room-b", "bob", 2, 0),
                append("room-a", "alice", 1, 1)), NOW, 100);
        long[] after = scans();
        for (long deadline = System.nanoTime() + 10_000_000_000L;
             after[1] == before[1] && System.nanoTime() < deadline; after = scans()) {
            Thread.sleep(100); // PostgreSQL 14 reports table statistics up to half a second late
        }
        assertTrue(after[1] > before[1], "rooms and participants were read by index");
        assertEquals(before[0], after[0], "no sequential scan of rooms or participants (tables of one page)");
    }

    @Test
    void aGroupCommitTakesTwoRoundTripsWhateverItHolds() throws Exception {
        TrimMarks marks = new TrimMarks();
        try (Connection counted = DriverManager.getConnection(url + "&socketFactory=" + CountingSockets.class.getName())) {
            for (int batch = 0; batch < 8; batch++) { // past the driver's threshold for server-side statements
                List<Append> appends = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    appends.add(append("room-a", "alice", 1, 4 * batch + i));
                }
                appends.add(append("room-b", "bob", 2, batch));
                appends.add(append("room-a", "carol", 1, batch)); // refused: carol has left
                CountingSockets.reset();
                List<Appended> outcomes = EnvelopeBatch.appendAll(counted, appends, NOW, 6, false, marks);
                assertEquals(2, CountingSockets.roundTrips(), "begin, locks and senders; envelopes, advance, trims "
                        + "and commit (batch " + batch + ")");
                assertEquals(5, outcomes.stream().filter(outcome -> outcome.envelope() != null).count());
            }
        }
        assertEquals(List.of(27L, 28L, 29L, 30L, 31L, 32L), seqs("room-a"), "room-a trimmed to its newest 6");
        assertEquals(List.of(10L, 11L, 12L, 13L, 14L, 15L), seqs("room-b"));
    }

    @Test
    void noticesAreHeardWhenTheGroupCommitCommitsAndNeverWhenItDoesNot() throws Exception {
        Notices notices = new Notices("batch_news", newest -> List.of(newest.toString(), "one more"));
        try (Connection listener = DriverManager.getConnection(url);
             Connection counted = DriverManager.getConnection(url + "&socketFactory="
                     + CountingSockets.class.getName());
             Statement listen = listener.createStatement()) {
            listen.execute("LISTEN batch_news");
            PGConnection heard = listener.unwrap(PGConnection.class);
            TrimMarks marks = new TrimMarks();
            for (int keep : new int[] {100, 1}) { // without and with trims
                CountingSockets.reset();
                EnvelopeBatch.appendAll(counted, List.of(append("room-a", "alice", 1, keep), append("room-b", "bob", 2,
                        keep), append("room-a", "alice", 1, keep + 1)), NOW, keep, false, marks, notices);
                assertEquals(2, CountingSockets.roundTrips(), "the notices travel with the commit (keep " + keep + ")");
                long seqB = keep == 100 ? 8 : 9;
                assertEquals(List.of("{room-a=" + (keep == 100 ? 2 : 4) + ", room-b=" + seqB + "}", "one more"),
                        payloads(heard.getNotifications(5_000)), "each room's newest seq, heard once committed");
            }
            Connection failing = failingCommit();
            assertThrows(SQLException.class, () -> EnvelopeBatch.appendAll(failing, List.of(append("room-a", "alice", 1,
                    9)), NOW, 100, false, marks, notices));
            assertEquals(List.of(), payloads(heard.getNotifications(1_000)), "nothing heard of a rolled-back commit");
            EnvelopeBatch.appendAll(connection, List.of(append("room-a", "carol", 1, 0)), NOW, 100, false, marks,
                    notices);
            assertEquals(List.of(), payloads(heard.getNotifications(1_000)), "nothing told when nothing was stored");
        }
    }

    @Test
    void manyRoomsAreReadEachFromItsOwnPositionInOneRoundTrip() throws Exception {
        List<Append> appends = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            appends.add(append("room-a", "alice", 1, i)); // seqs 1..6
            appends.add(append("room-b", "bob", 2, i)); // seqs 8..13
        }
        EnvelopeBatch.appendAll(connection, appends, NOW, 100);
        try (Connection counted = DriverManager.getConnection(url + "&socketFactory="
                + CountingSockets.class.getName())) {
            EnvelopeReads.between(counted, List.of(new EnvelopeReads.Range("room-a", 0, 1)), 10); // prepared once
            CountingSockets.reset();
            Map<String, List<Envelope>> read = EnvelopeReads.between(counted, List.of(
                    new EnvelopeReads.Range("room-b", 9, 13), new EnvelopeReads.Range("room-a", 2, 4),
                    new EnvelopeReads.Range("room-gone", 0, 5)), 3);
            assertEquals(1, CountingSockets.roundTrips());
            assertEquals(List.of(3L, 4L), read.get("room-a").stream().map(Envelope::getSeq).toList());
            assertEquals(List.of(10L, 11L, 12L), read.get("room-b").stream().map(Envelope::getSeq).toList(),
                    "at most 3 a room, the oldest first");
            assertEquals(Set.of("room-a", "room-b"), read.keySet());
            Envelope third = read.get("room-a").get(0);
            assertEquals("alice", third.getSenderId());
            assertEquals(2, third.getChainIndex());
            assertArrayEquals(appends.get(4).fields().ciphertext(), third.getCiphertext());
            assertArrayEquals(appends.get(4).fields().signature(), third.getSignature());
            assertNull(third.getCheckpoint(), "no checkpoint at chain index 2");
        }
    }

    private static List<String> payloads(PGNotification[] notifications) {
        return notifications == null ? List.of()
                : Arrays.stream(notifications).map(PGNotification::getParameter).toList();
    }

    private List<Long> seqs(String roomId) throws SQLException {
        List<Long> seqs = new ArrayList<>();
        try (Statement sql = connection.createStatement();
             ResultSet row = sql.executeQuery("SELECT seq FROM envelopes WHERE room_id = '" + roomId + "' ORDER BY seq")) {
            while (row.next()) {
                seqs.add(row.getLong(1));
            }
        }
        return seqs;
    }

    /** Sequential and index scans of rooms and participants so far, as PostgreSQL's statistics report them. */
    private long[] scans() throws SQLException {
        try (Statement sql = connection.createStatement()) {
            sql.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet row = sql.executeQuery("SELECT sum(seq_scan), sum(idx_scan) FROM pg_stat_user_tables "
                    + "WHERE relname IN ('rooms', 'participants')")) {
                row.next();
                return new long[] {row.getLong(1), row.getLong(2)};
            }
        }
    }
}
