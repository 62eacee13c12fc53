package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.persistence.PersistenceException;
import java.lang.reflect.Proxy;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.mikrotext.relay.cluster.control.ClusterBus;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.SignedEnvelope;

class EnvelopeLogTest {

    @Test
    void aUniqueViolationAnywhereInTheChainIsAReplay() {
        SQLException duplicate = new SQLException("duplicate key value violates unique constraint", "23505");
        assertTrue(EnvelopeLog.isUniqueViolation(new RuntimeException(new IllegalStateException(duplicate))));

        BatchUpdateException batch = new BatchUpdateException("batch entry 3 was aborted", null, 0, new int[0]);
        batch.setNextException(duplicate);
        assertTrue(EnvelopeLog.isUniqueViolation(new RuntimeException(batch)), "the batch's next exception counts");
    }

    @Test
    void otherDatabaseFailuresAreNot() {
        assertFalse(EnvelopeLog.isUniqueViolation(new RuntimeException(new SQLException("refused", "08001"))));
        assertFalse(EnvelopeLog.isUniqueViolation(new RuntimeException("no SQL at all")));
    }

    @Test
    void aPublisherTakesEveryBatchWaitingUpToTheLimitInCommitOrder() {
        ArrayDeque<List<Integer>> queue = new ArrayDeque<>(List.of(batch(5, 2), batch(250, 3), batch(2, 4)));

        assertEquals(List.of(batch(3, 1), batch(5, 2)), EnvelopeLog.takeUpTo(batch(3, 1), queue, 256),
                "the third would pass 256 envelopes: it waits for the next round");
        assertEquals(List.of(batch(250, 3), batch(2, 4)), EnvelopeLog.takeUpTo(queue.poll(), queue, 256));
        assertTrue(queue.isEmpty());
    }

    @Test
    void aBatchOverTheLimitIsStillTakenAloneAndOneWaitingAloneIsTakenAlone() {
        ArrayDeque<List<Integer>> queue = new ArrayDeque<>(List.of(batch(1, 2)));

        assertEquals(List.of(batch(300, 1)), EnvelopeLog.takeUpTo(batch(300, 1), queue, 256));
        assertEquals(List.of(batch(1, 2)), EnvelopeLog.takeUpTo(queue.poll(), queue, 256));
        assertTrue(queue.isEmpty());
    }

    @Test
    void theBoundsRefuseAsBusyAtTheirLimitAndAStoppingRelayAlways() {
        EnvelopeLog log = new EnvelopeLog();
        log.refuseIfBusy(EnvelopeLog.MAX_IN_FLIGHT - 1, EnvelopeLog.MAX_IN_FLIGHT_BYTES - 1, false);

        Problem full = assertThrows(Problem.class, () -> log.refuseIfBusy(EnvelopeLog.MAX_IN_FLIGHT, 0, false));
        assertEquals(503, full.status());
        assertEquals("relay-busy", full.shortType());
        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> log.refuseIfBusy(0, EnvelopeLog.MAX_IN_FLIGHT_BYTES, false)).shortType());
        assertEquals("relay-busy", assertThrows(Problem.class, () -> log.refuseIfBusy(0, 0, true)).shortType());
    }

    @Test
    void theConfiguredBoundsReplaceTheDefaults() {
        EnvelopeLog byCount = stalledLog();
        byCount.bound(2, 100);
        CompletableFuture<Envelope> first = byCount.append("room", "participant", envelope(16));
        byCount.append("room", "participant", envelope(16));
        assertEquals("relay-busy", assertThrows(Problem.class, byCount::admit).shortType(), "two envelopes fill it");
        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> byCount.append("room", "participant", envelope(16))).shortType());
        assertEquals(2, byCount.inFlight());
        byCount.stop();
        assertTrue(first.isCompletedExceptionally());

        EnvelopeLog byBytes = stalledLog();
        byBytes.bound(10, 100);
        byBytes.append("room", "participant", envelope(90));
        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> byBytes.append("room", "participant", envelope(20))).shortType(), "110 of 100 bytes");
        assertEquals(1, byBytes.inFlight());
        byBytes.stop();
    }

    @Test
    void anEnvelopeCountsInFlightUntilItEndsAndTheCountBoundsWhatIsTaken() {
        EnvelopeLog log = stalledLog();
        List<CompletableFuture<Envelope>> taken = new ArrayList<>();
        for (int i = 0; i < EnvelopeLog.MAX_IN_FLIGHT; i++) {
            taken.add(log.append("room", "participant", envelope(16)));
        }
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT, log.inFlight());

        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> log.append("room", "participant", envelope(16))).shortType());
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT, log.inFlight(), "a refused envelope is not counted");
        assertEquals("relay-busy", assertThrows(Problem.class, log::admit).shortType());

        log.stop();
        assertEquals(0, log.inFlight(), "every envelope ends when the relay stops");
        assertEquals(0, log.inFlightBytes());
        assertTrue(taken.stream().allMatch(CompletableFuture::isCompletedExceptionally));
    }

    @Test
    void theCiphertextInFlightIsBoundedToo() {
        EnvelopeLog log = stalledLog();
        int largest = 64 * 1024;
        for (long i = 0; i < EnvelopeLog.MAX_IN_FLIGHT_BYTES / largest; i++) {
            log.append("room", "participant", envelope(largest));
        }
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT_BYTES, log.inFlightBytes());

        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> log.append("room", "participant", envelope(1))).shortType());
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT_BYTES / largest, log.inFlight(),
                "1,024 envelopes of 64 KiB, where 20,000 small ones fit");
    }

    @Test
    void everyEnvelopeOfManyAppendingThreadsEndsAndStoppingEndsTheIdleThreads() throws Exception {
        List<Thread> started = new ArrayList<>();
        EnvelopeLog log = runningLog(started, 0);
        int threads = 8;
        int each = 5_000;
        List<CompletableFuture<Envelope>> outcomes = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger refused = new AtomicInteger();
        List<Thread> appenders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String room = "room-" + t;
            Thread appender = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    try {
                        outcomes.add(log.append(room, "participant", envelope(16)));
                    } catch (Problem busy) {
                        refused.incrementAndGet();
                    }
                }
            });
            appender.start();
            appenders.add(appender);
        }
        for (Thread appender : appenders) {
            appender.join();
        }
        assertEquals(threads * each, outcomes.size() + refused.get());

        // A lost wake-up would leave envelopes waiting for a writer that sleeps: their futures would never end.
        CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).handle((ok, failed) -> null)
                .get(30, TimeUnit.SECONDS);
        assertTrue(outcomes.stream().allMatch(CompletableFuture::isCompletedExceptionally),
                "the database refuses every batch");
        assertTrue(outcomes.get(0).handle((ok, failed) -> failed).get() instanceof PersistenceException);
        assertEquals(0, log.inFlight());
        assertEquals(3, started.size(), "one writer and two publishers");

        log.stop();
        for (Thread thread : started) {
            thread.join(5_000);
            assertFalse(thread.isAlive(), thread.getName() + " ends once the log stops");
        }
        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> log.append("room-0", "participant", envelope(16))).shortType());
        assertEquals(0, log.inFlight(), "an envelope refused while stopping is not counted");
    }

    @Test
    void stoppingWhileThreadsAppendEndsEveryEnvelopeOnce() throws Exception {
        List<Thread> started = new ArrayList<>();
        EnvelopeLog log = runningLog(started, 1); // each batch takes a millisecond to fail
        List<CompletableFuture<Envelope>> outcomes = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger refusedAsStopping = new AtomicInteger();
        List<Thread> appenders = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            String room = "room-" + t;
            Thread appender = new Thread(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (System.nanoTime() < deadline) {
                    try {
                        outcomes.add(log.append(room, "participant", envelope(16)));
                    } catch (Problem busy) {
                        if (EnvelopeLog.SHUTTING_DOWN.equals(busy.detail())) {
                            refusedAsStopping.incrementAndGet();
                            return;
                        }
                        Thread.onSpinWait(); // too many in flight: try again
                    }
                }
            });
            appender.start();
            appenders.add(appender);
        }
        Thread.sleep(300);
        log.stop();
        for (Thread appender : appenders) {
            appender.join();
        }

        CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).handle((ok, failed) -> null)
                .get(30, TimeUnit.SECONDS);
        assertEquals(0, log.inFlight(), "each envelope ended exactly once, whoever took it");
        assertEquals(4, refusedAsStopping.get(), "every appender was refused once the log stopped");
        assertTrue(outcomes.stream().allMatch(CompletableFuture::isCompletedExceptionally));
        for (Thread thread : started) {
            thread.join(5_000);
            assertFalse(thread.isAlive(), thread.getName() + " ends once the log stops");
        }
    }

    /**
     * A log whose threads run, on a database that refuses every connection (after {@code commitMillis}): each batch
     * fails whole, and its envelopes end with the database's error through the publisher, as a stored batch's would.
     */
    static EnvelopeLog runningLog(List<Thread> started, long commitMillis) {
        EnvelopeLog log = new EnvelopeLog();
        log.threads = threads(loop -> {
            Thread thread = new Thread(loop);
            started.add(thread);
            return thread;
        });
        log.dataSource = (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    Thread.sleep(commitMillis);
                    throw new SQLException("connection refused", "08001");
                });
        log.cluster = new ClusterBus();
        log.metrics = new RelayMetrics() {
            @Override
            public void stored(Duration elapsed) {
            }

            @Override
            public void published(Duration elapsed) {
            }
        };
        return log;
    }

    /** A log whose writer and publishers never run: what it takes stays in flight until it stops. */
    static EnvelopeLog stalledLog() {
        EnvelopeLog log = new EnvelopeLog();
        log.threads = threads(loop -> new Thread(() -> { }));
        return log;
    }

    /** The container's thread factory, making the log's threads with {@code make}. */
    private static ManagedThreadFactory threads(Function<Runnable, Thread> make) {
        return new ManagedThreadFactory() {
            public Thread newThread(Runnable loop) {
                return make.apply(loop);
            }

            public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
                throw new UnsupportedOperationException();
            }
        };
    }

    static SignedEnvelope envelope(int ciphertextBytes) {
        return new SignedEnvelope(1, new byte[16], 1, null, new byte[12], new byte[ciphertextBytes], new byte[64]);
    }

    private static List<Integer> batch(int size, int value) {
        return Collections.nCopies(size, value);
    }
}
