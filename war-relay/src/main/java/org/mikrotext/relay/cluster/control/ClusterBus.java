package org.mikrotext.relay.cluster.control;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.mikrotext.config.SettingProblems;
import org.mikrotext.relay.envelope.control.RoomChannels;
import org.mikrotext.relay.protocol.Base64Url;
import org.mikrotext.store.control.Notices;
import org.mikrotext.store.boundary.Migrations;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Several relay instances behind one load balancer, sharing one PostgreSQL database
 * ({@code mikrotext.cluster.enabled}): each tells the others what changed in a room with PostgreSQL's
 * {@code NOTIFY} (stored envelopes within the group commit that stores them, {@link #notices()}; the rarer changes
 * after they commit, {@link #tell}), and listens on one connection of its own for what they tell. What it hears it
 * hands to {@link RoomChannels}, which reads from the database what its own sockets need (the envelopes after the
 * last it handed out, the participant list, the new key's wraps) and closes the sockets of a removed participant or
 * an ended room. A notification carries ids and numbers only. After each (re)connection of its listening connection an
 * instance catches every room it has sockets in up from the database, so news missed meanwhile is not lost.
 * Off (the default), nothing is sent or heard and the relay works alone, as before.
 */
@ApplicationScoped
public class ClusterBus {

    static final String CHANNEL = "mikrotext";
    /** The listening connection's {@code application_name} in PostgreSQL while it listens. */
    static final String LISTENER_NAME = "mikrotext listener";
    private static final Logger LOG = Logger.getLogger(ClusterBus.class.getName());
    private static final int WAIT_MILLIS = 5_000;
    private static final long MAX_BACKOFF_MILLIS = 30_000;
    private static final long CHECK_EVERY_NANOS = 60_000_000_000L;

    @Inject
    @ConfigProperty(name = "mikrotext.cluster.enabled", defaultValue = "false")
    boolean enabled;

    @Resource(lookup = Migrations.DATA_SOURCE)
    DataSource dataSource;

    @Resource
    ManagedThreadFactory threads;

    @Inject
    RoomChannels channels;

    private final String instance = newInstanceId();
    private volatile boolean stopped;
    private Thread listener;

    public boolean enabled() {
        return enabled;
    }

    void onStart(@Observes @Initialized(ApplicationScoped.class) Object ignored) {
        if (!enabled) {
            return;
        }
        try (Connection connection = dataSource.getConnection()) {
            if (!connection.isWrapperFor(PGConnection.class)) {
                SettingProblems.refuseStartWith(List.of("mikrotext.cluster.enabled needs PostgreSQL (the database is "
                        + connection.getMetaData().getDatabaseProductName() + ")"));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("The database could not be reached to share rooms between instances", e);
        }
        listener = threads.newThread(this::listen);
        listener.setName("mikrotext-cluster-listener");
        listener.setDaemon(true);
        listener.start();
        LOG.info("Rooms are shared with the other relay instances on this database (mikrotext.cluster.enabled)");
    }

    @PreDestroy
    void stop() {
        stopped = true;
        if (listener != null) {
            listener.interrupt();
            try {
                listener.join(WAIT_MILLIS + 1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * How a group commit of envelopes tells the other instances of each room's newest stored seq: within its
     * transaction, so that they hear of it exactly when it commits, at no round trip of its own. None when off.
     */
    public Notices notices() {
        if (!enabled) {
            return Notices.NONE;
        }
        return new Notices(CHANNEL, newest -> ClusterNews.payloads(instance, newest.entrySet().stream()
                .map(room -> ClusterNews.stored(room.getKey(), room.getValue())).toList()));
    }

    /**
     * Tells the other instances (after the change is committed). A failure is logged and not retried: an instance
     * that missed envelopes finds them before the room's next envelope reaches its sockets, and one whose listening
     * connection broke catches up from the database when it listens again.
     */
    public void tell(List<ClusterNews> news) {
        if (!enabled || news.isEmpty()) {
            return;
        }
        try (Connection connection = dataSource.getConnection();
             PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('" + CHANNEL + "', ?)")) {
            for (String payload : ClusterNews.payloads(instance, news)) {
                notify.setString(1, payload);
                notify.execute();
            }
        } catch (SQLException | RuntimeException e) {
            LOG.log(Level.WARNING, "Telling the other relay instances failed: {0}", e.getClass().getName());
        }
    }

    private void listen() {
        long backoff = 500;
        while (!stopped) {
            try (Connection connection = dataSource.getConnection()) {
                try {
                    listenOn(connection);
                    backoff = 500;
                } finally {
                    unlisten(connection); // the connection goes back to the pool
                }
            } catch (SQLException | RuntimeException e) {
                if (stopped) {
                    return;
                }
                LOG.log(Level.WARNING, "Listening to the other relay instances failed ({0}); listening again in {1} ms",
                        new Object[] {e.getClass().getName(), backoff});
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
    }

    /**
     * Listens until stopped or the connection fails. Once a minute it checks that the connection still answers (a
     * connection dropped without a reset, by a firewall or a failover, would otherwise wait in silence) and brings
     * every room with sockets here up to the database, for news whose notification was lost (stored envelopes are
     * told within their commit, but other news after its change commits, and an instance can stop between the two).
     */
    private void listenOn(Connection connection) throws SQLException {
        PGConnection pg = connection.unwrap(PGConnection.class);
        try (Statement listen = connection.createStatement()) {
            // named, so that an operator (and ClusterIT) can tell it apart in pg_stat_activity whatever it ran last
            listen.execute("SET application_name = '" + LISTENER_NAME + "'");
            listen.execute("LISTEN " + CHANNEL);
        }
        channels.catchUpEverywhere(); // what was told while this instance was not listening
        long lastCheck = System.nanoTime();
        while (!stopped) {
            PGNotification[] notifications = pg.getNotifications(WAIT_MILLIS);
            if (notifications != null) {
                hear(notifications);
            }
            if (System.nanoTime() - lastCheck >= CHECK_EVERY_NANOS) {
                if (!connection.isValid(WAIT_MILLIS / 1000)) {
                    throw new SQLException("The listening connection does not answer");
                }
                channels.catchUpEverywhere();
                lastCheck = System.nanoTime();
            }
        }
    }

    private static void unlisten(Connection connection) {
        try (Statement unlisten = connection.createStatement()) {
            unlisten.execute("UNLISTEN *");
            unlisten.execute("RESET application_name");
        } catch (SQLException e) {
            // a broken connection listens to nothing; the pool's validation drops it
        }
    }

    /**
     * Hands what the other instances told, in order, to {@link RoomChannels}, all the notifications that arrived
     * together at once: their stored envelopes are then read in one statement.
     */
    private void hear(PGNotification[] notifications) {
        List<ClusterNews> told = new ArrayList<>();
        for (PGNotification notification : notifications) {
            ClusterNews.Heard heard = ClusterNews.Heard.of(notification.getParameter());
            if (heard.instance() != null && !heard.instance().equals(instance)) {
                told.addAll(heard.news());
            }
        }
        if (!told.isEmpty()) {
            channels.elsewhere(told);
        }
    }

    private static String newInstanceId() {
        byte[] id = new byte[12];
        new SecureRandom().nextBytes(id);
        return Base64Url.encode(id);
    }
}
