package org.mikrotext.store.control;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link EnvelopeBatchTest} on a real PostgreSQL (embedded, one server for the class, a database per test), through
 * the relay's data source, and what only PostgreSQL does: its plans.
 */
class EnvelopeBatchPostgresTest extends EnvelopeBatchTest {

    private static EmbeddedPostgres postgres;

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
        SwitchingDataSource database = new SwitchingDataSource();
        database.setUrl(postgres.getJdbcUrl("postgres", name));
        database.setUser("postgres");
        return database;
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
