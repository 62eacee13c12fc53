package org.mikrotext.store.control;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.mikrotext.store.boundary.RoomStore.Append;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * PostgreSQL's CPU per envelope of group commits into rooms at their envelope limit, where every commit trims: not a
 * test (its name keeps it out of the test runs), a measurement, run by hand on an embedded PostgreSQL
 * (docs/performance.md, after 9):
 *
 * <pre>./mvnw -B -pl ejb-expiry test -Dtest=EnvelopeBatchTrimCost -Dsurefire.failIfNoSpecifiedTests=false
 *     -DtrimCost=true [-DtrimCost.fromFirstSeq=true] [-DtrimCost.keep=2000 -DtrimCost.measure=100000
 *     -DtrimCost.batch=20]</pre>
 *
 * <p>50 rooms of 11 senders, batches of random rooms, {@code synchronous_commit=off} so that the flush does not hide
 * the CPU; the rooms are filled to the limit, then three rounds are measured at the limit. With
 * {@code fromFirstSeq} each trim starts from the room's first seq (no {@link TrimMarks}), as before after 9.
 */
@EnabledIfSystemProperty(named = "trimCost", matches = "true")
class EnvelopeBatchTrimCost {

    @Test
    void measure() throws Exception {
        int keep = Integer.getInteger("trimCost.keep", 2000);
        int measure = Integer.getInteger("trimCost.measure", 100_000);
        int batch = Integer.getInteger("trimCost.batch", 20);
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "off").start()) {
            SwitchingDataSource ds = new SwitchingDataSource();
            ds.setUrl(pg.getJdbcUrl("postgres", "postgres"));
            ds.setUser("postgres");
            Flyway.configure().dataSource(ds).load().migrate();
            try (Connection c = ds.getConnection()) {
                try (Statement sql = c.createStatement()) {
                    for (int r = 0; r < 50; r++) {
                        sql.execute("INSERT INTO rooms VALUES ('room-" + r + "', 1, 0, 0, "
                                + (EnvelopeBatchTest.NOW + 6000) + ")");
                        for (int p = 0; p < 11; p++) {
                            EnvelopeBatchTest.participant(sql, "p-" + r + "-" + p, "room-" + r, null);
                        }
                    }
                }
                long pid;
                try (Statement sql = c.createStatement(); ResultSet rs = sql.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getLong(1);
                }
                Random random = new Random(1);
                TrimMarks marks = Boolean.getBoolean("trimCost.fromFirstSeq") ? null : new TrimMarks();
                int[] index = new int[550];
                // fill: the rooms up to about the limit (few trims yet)
                run(c, marks, random, index, 50 * keep, batch, keep, pid, "fill to " + keep + " per room");
                for (int round = 0; round < 3; round++) {
                    run(c, marks, random, index, measure, batch, keep, pid, "at the limit, round " + round);
                }
                try (Statement sql = c.createStatement(); ResultSet rs = sql.executeQuery(
                        "SELECT n_dead_tup, n_live_tup, autovacuum_count FROM pg_stat_user_tables "
                            + "WHERE relname = 'envelopes'")) {
                    rs.next();
                    System.out.printf("envelopes: dead %d live %d autovacuums %d%n", rs.getLong(1), rs.getLong(2),
                            rs.getLong(3));
                }
            }
        }
    }

    private static void run(Connection c, TrimMarks marks, Random random, int[] index, int count, int batch,
                            int keep, long pid, String label) throws Exception {
        long cpu0 = cpu(pid);
        long t0 = System.nanoTime();
        for (int done = 0; done < count; done += batch) {
            List<Append> appends = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                int r = random.nextInt(50);
                int p = random.nextInt(11);
                int sender = r * 11 + p;
                int chainIndex = index[sender]++;
                appends.add(new Append("room-" + r, "p-" + r + "-" + p, new SignedEnvelope(1,
                        new byte[] {(byte) r, (byte) p, 3}, chainIndex, chainIndex % 16 == 0 ? new byte[60] : null,
                        new byte[12], new byte[400], new byte[64])));
            }
            EnvelopeBatch.appendAll(c, appends, EnvelopeBatchTest.NOW, keep, false,
                    marks == null ? new TrimMarks() : marks);
        }
        double wall = (System.nanoTime() - t0) / 1e3 / count;
        double cpu = (cpu(pid) - cpu0) * 10_000.0 / count;
        System.out.printf("TRIM COST %-28s %7d envelopes: PostgreSQL CPU %.1f us/envelope, wall %.1f us/envelope%n",
                label, count, cpu, wall);
    }

    private static long cpu(long pid) throws Exception {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\) ")[1].split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
