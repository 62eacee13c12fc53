package org.mikrotext.expiry.boundary;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.DependsOn;
import jakarta.ejb.EJB;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.Timeout;
import jakarta.ejb.TimerConfig;
import jakarta.ejb.TimerService;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.mikrotext.config.SettingProblems;
import org.mikrotext.store.boundary.RoomEndings;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.control.RoomLog;

/**
 * Deletes expired rooms (with their participants, invites, key wraps and envelopes) and expired invites, in
 * batches, on a non-persistent interval timer. The timer holds no truth: the indexed {@code expires_at} columns do,
 * so a missed tick, or two instances ticking at once, do no harm. The interval is configuration, which is why this
 * is a programmatic timer rather than a fixed {@code @Schedule}.
 */
@Singleton
@Startup
@DependsOn("Migrations")
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class ExpirySweeper {

    private static final Logger LOG = Logger.getLogger(ExpirySweeper.class.getName());

    @Resource
    TimerService timerService;

    @EJB
    RoomStore store;

    @Inject
    RoomEndings endings;

    @Inject
    @ConfigProperty(name = "mikrotext.expiry.sweep-interval", defaultValue = "PT30S")
    Duration interval;

    @Inject
    @ConfigProperty(name = "mikrotext.expiry.batch-size", defaultValue = "500")
    int batchSize;

    @Inject
    MetricRegistry metrics;

    private final AtomicBoolean running = new AtomicBoolean();
    private final Clock clock = Clock.systemUTC();

    @PostConstruct
    void start() {
        // Rooms would never be forgotten: a batch of 0 sweeps nothing, forever; a negative one fails every tick.
        SettingProblems.refuseStartWith(problems(interval, batchSize));
        long millis = Math.max(1000, interval.toMillis());
        timerService.createIntervalTimer(millis, millis, new TimerConfig("mikrotext-expiry", false));
    }

    /** What is wrong with the sweep's settings, one sentence per key; empty when they are usable. */
    static List<String> problems(Duration interval, int batchSize) {
        return new SettingProblems()
                .positive("mikrotext.expiry.sweep-interval", interval)
                .atLeastOne("mikrotext.expiry.batch-size", batchSize)
                .list();
    }

    @Timeout
    void tick() {
        if (!running.compareAndSet(false, true)) {
            return;
        }
        try {
            sweep();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "Expiry sweep failed; the next tick retries", e);
        } finally {
            running.set(false);
        }
    }

    /** Runs one sweep now: batch after batch until no expired room is left. Returns the number of rooms deleted. */
    public int sweep() {
        long started = System.nanoTime();
        int total = 0;
        long rows = 0;
        List<String> ended;
        do {
            RoomStore.Swept swept = store.deleteExpired(clock.instant().getEpochSecond(), batchSize);
            ended = swept.roomIds();
            ended.forEach(roomId -> RoomLog.log(RoomLog.Event.EXPIRED, roomId));
            endings.ended(ended);
            total += ended.size();
            rows += swept.rows();
        } while (ended.size() == batchSize);
        metrics.timer(Metadata.builder().withName("mikrotext.sweep.duration")
                .withDescription("Duration of expiry sweeps").build()).update(Duration.ofNanos(System.nanoTime() - started));
        metrics.counter(Metadata.builder().withName("mikrotext.sweep.rooms.deleted")
                .withDescription("Expired rooms deleted by the sweep").build()).inc(total);
        metrics.counter(Metadata.builder().withName("mikrotext.sweep.rows.deleted")
                .withDescription("Rows deleted by the sweep: expired rooms with all their rows, and expired invites")
                .build()).inc(rows);
        return total;
    }
}
