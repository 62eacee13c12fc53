package org.mikrotext.it.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Starts a real PostgreSQL for the whole test run, before any relay is started, on the port the build reserved
 * ({@code mikrotext.it.pg-port}); the relays find it through {@code DB_URL}. With {@code -Dmikrotext.it.external-db}
 * the tests use the PostgreSQL that {@code DB_URL} already names instead. With {@code -Dmikrotext.it.pg-durable} (the
 * benchmark sets it) every commit is flushed to disk ({@code fsync}, {@code synchronous_commit} and
 * {@code full_page_writes} on), as in production; otherwise the embedded server trades durability for speed.
 */
public class PostgresSession implements LauncherSessionListener {

    private EmbeddedPostgres postgres;

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        String port = System.getProperty("mikrotext.it.pg-port");
        if (port == null || Boolean.getBoolean("mikrotext.it.external-db") || postgres != null) {
            return;
        }
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder().setPort(Integer.parseInt(port));
            if (Boolean.getBoolean("mikrotext.it.pg-durable")) {
                builder.setServerConfig("fsync", "on")
                        .setServerConfig("synchronous_commit", "on")
                        .setServerConfig("full_page_writes", "on");
            }
            postgres = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the embedded PostgreSQL", e);
        }
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        if (postgres != null) {
            try {
                postgres.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                postgres = null;
            }
        }
    }
}
