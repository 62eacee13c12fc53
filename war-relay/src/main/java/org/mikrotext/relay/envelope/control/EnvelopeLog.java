package org.mikrotext.relay.envelope.control;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.PersistenceException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.mikrotext.relay.cluster.control.ClusterBus;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.store.boundary.Migrations;
import org.mikrotext.store.boundary.RoomStore.Append;
import org.mikrotext.store.boundary.RoomStore.Appended;
import org.mikrotext.store.boundary.StoreException;
import org.mikrotext.store.control.EnvelopeBatch;
import org.mikrotext.store.control.TrimMarks;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * Stores envelopes by group commit and hands them to the room's sockets in {@code seq} order.
 *
 * <p>Checked envelopes (rate, fields, signature: all done by the caller's thread) wait in the queue of their room's
 * writer thread ({@value #WRITERS} writers, a room always on the same one). A writer takes everything waiting in its
 * queue, up to {@value #MAX_BATCH}, and stores it in one local JDBC transaction ({@link EnvelopeBatch}): on
 * PostgreSQL one round trip locks the rooms and reads the senders, and one inserts the rows, advances the rooms and
 * commits (one flush to disk). While it commits, the next batch gathers, so batches grow with the load. A writer
 * that finds its queue empty waits for the next envelope and no longer: waiting for a fuller batch (up to 1 ms for
 * 16 envelopes, before) made each commit cycle and its batch longer and added more latency than it saved
 * (docs/performance.md, after 10). The room's publisher thread ({@value #PUBLISHERS}, a room always on the same
 * one) then pushes each stored envelope to its room's sockets and completes the sender's future (the {@code ack} or
 * the 201), in commit order, within one {@link WriteBatch}: each socket's frames of the batch (the envelopes of its
 * room, and the {@code ack} of its own) leave in one write. A publisher that has fallen behind takes every batch
 * stored meanwhile (up to {@value #MAX_BATCH} envelopes) into one write batch. An envelope is acknowledged only after
 * its commit.
 *
 * <p>The queues take envelopes without a lock ({@link LinkedTransferQueue}): the many request threads that append
 * contend for no monitor, and wake the writer only when it is idle, waiting in {@code take} (docs/performance.md,
 * after 18). Stopping wakes idle threads with a marker ({@link #NO_MORE}, {@link #NO_MORE_BATCHES}), not an interrupt.
 *
 * <p>A replay rolls its whole batch back (the unique constraint on the chain position fails at the insert); the batch
 * is then stored once more with the held chain positions read first, so that only the replay is refused. A database
 * failure fails the batch's envelopes with the database's error (503 database-unavailable).
 */
@ApplicationScoped
public class EnvelopeLog {

    static final int MAX_BATCH = 256;
    /**
     * Writer threads. Each room belongs to one (by its id's hash), so a room's envelopes are stored and published in
     * order; with more than one, the commits of different writers would overlap their round trips to the database.
     * One: on two cores two writers without a linger made smaller commits and a worse p99 (docs/performance.md).
     */
    static final int WRITERS = 1;
    /**
     * Publisher threads. Each room belongs to one (by its id's hash), so its envelopes reach its sockets in commit
     * order, while a socket write that is slow holds up only the rooms of its own publisher.
     */
    static final int PUBLISHERS = 2;
    /**
     * Envelopes checked and not yet stored and handed to their sockets (waiting for a writer, being stored, or waiting
     * for a publisher); with this many in flight the relay answers 503 relay-busy, so that a relay that cannot keep up
     * holds a bounded backlog (at most this many envelopes' wait) instead of one that grows with the overload. The
     * default of {@code mikrotext.envelope.max-in-flight}.
     */
    static final int MAX_IN_FLIGHT = 20_000;
    /**
     * The ciphertext bytes of the envelopes in flight, bounded too: 20,000 envelopes of 64 KiB would be 1.25 GiB. The
     * default of {@code mikrotext.envelope.max-in-flight-bytes}.
     */
    static final long MAX_IN_FLIGHT_BYTES = 64L << 20;
    private static final String TOO_MANY = "The relay is storing and handing out too many envelopes at once";
    static final String SHUTTING_DOWN = "The relay is shutting down";
    private static final Logger LOG = Logger.getLogger(EnvelopeLog.class.getName());

    @Inject
    RoomChannels channels;

    @Inject
    Limits limits;

    @Inject
    RelayMetrics metrics;

    @Resource
    ManagedThreadFactory threads;

    @Resource(lookup = Migrations.DATA_SOURCE)
    DataSource dataSource;

    @Inject
    ClusterBus cluster;

    private final Clock clock = Clock.systemUTC();
    private final LinkedTransferQueue<Pending>[] waiting = queues(WRITERS);
    private final LinkedTransferQueue<List<Pending>>[] written = queues(PUBLISHERS);
    /** Where each room's trims start (the end of its previous trim), so that they skip what is already deleted. */
    private final TrimMarks trimMarks = new TrimMarks();
    private final List<Thread> running = new ArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong inFlightBytes = new AtomicLong();
    private volatile boolean started;
    private volatile boolean stopped;
    private int maxInFlight = MAX_IN_FLIGHT;
    private long maxInFlightBytes = MAX_IN_FLIGHT_BYTES;

    /** One envelope on its way: what to append, and who waits for the outcome. */
    private static final class Pending {
        static final AtomicIntegerFieldUpdater<Pending> ENDED =
                AtomicIntegerFieldUpdater.newUpdater(Pending.class, "ended");
        final Append append;
        final int bytes;
        final CompletableFuture<Envelope> outcome = new CompletableFuture<>();
        Envelope stored;
        RuntimeException failure;
        volatile int ended;

        Pending(Append append) {
            this.append = append;
            this.bytes = append.fields().ciphertext().length;
        }

        private Pending() {
            this.append = null;
            this.bytes = 0;
        }
    }

    /** Put in a writer's queue by {@link #stop}, to wake it if idle; never counted, stored or ended. */
    private static final Pending NO_MORE = new Pending();
    /** The same for a publisher: an empty batch, so that one taken with others is published as nothing. */
    private static final List<Pending> NO_MORE_BATCHES = new ArrayList<>();

    /**
     * Queues a checked envelope; the future completes with the stored envelope after its commit and after it has
     * been handed to the room's sockets, or fails with the refusal.
     */
    public CompletableFuture<Envelope> append(String roomId, String senderId, SignedEnvelope envelope) {
        Pending pending = new Pending(new Append(roomId, senderId, envelope));
        take(pending);
        LinkedTransferQueue<Pending> queue = waiting[Math.floorMod(roomId.hashCode(), WRITERS)];
        queue.add(pending);
        // stop() sets stopped and then empties the queues: it finds this envelope, or this check finds it stopping.
        // If stop() or the writer took it first, they end it.
        if (stopped && queue.remove(pending)) {
            Problem stopping = busy(SHUTTING_DOWN);
            finish(pending, null, stopping);
            throw stopping;
        }
        startIfNeeded();
        return pending.outcome;
    }

    /**
     * Refuses (503 {@code relay-busy}) an envelope that the relay could not take now, before any work is spent on it:
     * a relay too far behind sheds new envelopes for the cost of this check, not of a signature verification each.
     * {@link #append} checks again, with the envelope's size.
     */
    public void admit() {
        refuseIfBusy(inFlight.get(), inFlightBytes.get(), stopped);
    }

    void refuseIfBusy(int envelopes, long bytes, boolean stopping) {
        if (stopping) {
            throw busy(SHUTTING_DOWN);
        }
        if (envelopes >= maxInFlight || bytes >= maxInFlightBytes) {
            throw busy(TOO_MANY);
        }
    }

    /** Counts an envelope in flight, or refuses it if that would pass a bound (one alone always fits). */
    private void take(Pending pending) {
        int envelopes = inFlight.incrementAndGet();
        long bytes = inFlightBytes.addAndGet(pending.bytes);
        if (envelopes > maxInFlight || (bytes > maxInFlightBytes && envelopes > 1)) {
            release(pending);
            throw busy(TOO_MANY);
        }
    }

    private void release(Pending pending) {
        inFlight.decrementAndGet();
        inFlightBytes.addAndGet(-pending.bytes);
    }

    /** The one end of every envelope taken (a second is ignored): out of the count, then its sender told. */
    private void finish(Pending pending, Envelope stored, Throwable failure) {
        if (!Pending.ENDED.compareAndSet(pending, 0, 1)) {
            return;
        }
        release(pending);
        if (failure == null) {
            pending.outcome.complete(stored);
        } else {
            pending.outcome.completeExceptionally(failure);
        }
    }

    /** Envelopes checked and not yet stored and handed out, for the metrics. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Their ciphertext bytes. */
    long inFlightBytes() {
        return inFlightBytes.get();
    }

    /** The bounds on what is in flight, from the configuration. */
    @PostConstruct
    void configure() {
        bound(limits.maxInFlight(), limits.maxInFlightBytes());
    }

    void bound(int envelopes, long bytes) {
        maxInFlight = envelopes;
        maxInFlightBytes = bytes;
    }

    @PreDestroy
    void stop() {
        stopped = true;
        List<Pending> abandoned = new ArrayList<>();
        for (LinkedTransferQueue<Pending> queue : waiting) {
            queue.drainTo(abandoned);
            queue.add(NO_MORE);
        }
        for (LinkedTransferQueue<List<Pending>> queue : written) {
            List<List<Pending>> batches = new ArrayList<>();
            queue.drainTo(batches);
            batches.forEach(abandoned::addAll);
            queue.add(NO_MORE_BATCHES);
        }
        // No interrupt: a thread in the middle of a batch finishes it (an interrupt could break the database's file
        // I/O); the markers above wake the idle ones, and handOver fails what is stored after this point.
        abandon(abandoned);
    }

    /**
     * Ends envelopes that no thread will store or hand out any more, refused as the relay shuts down; skips a stop
     * marker among them (one taken with envelopes, or left by an earlier stop()).
     */
    private void abandon(List<Pending> batch) {
        for (Pending pending : batch) {
            if (pending != NO_MORE) {
                finish(pending, null, busy(SHUTTING_DOWN));
            }
        }
    }

    private void startIfNeeded() {
        if (started) {
            return; // without a monitor: every append passes here
        }
        synchronized (running) {
            if (started) {
                return;
            }
            List<Thread> loops = new ArrayList<>();
            for (int i = 0; i < WRITERS; i++) {
                LinkedTransferQueue<Pending> queue = waiting[i];
                loops.add(thread("mikrotext-envelope-writer-" + i, () -> writeLoop(queue)));
            }
            for (int i = 0; i < PUBLISHERS; i++) {
                LinkedTransferQueue<List<Pending>> queue = written[i];
                loops.add(thread("mikrotext-envelope-publisher-" + i, () -> publishLoop(queue)));
            }
            loops.forEach(Thread::start);
            running.addAll(loops);
            started = true; // only now: if the container refused a thread, the next envelope tries again
        }
    }

    private Thread thread(String name, Runnable loop) {
        Thread thread = threads.newThread(loop);
        thread.setName(name);
        return thread;
    }

    private void writeLoop(LinkedTransferQueue<Pending> queue) {
        while (!stopped) {
            List<Pending> batch = new ArrayList<>();
            batch.add(next(queue));
            queue.drainTo(batch, MAX_BATCH - 1);
            if (stopped) { // taken after stop() emptied the queue (or its marker, added once stopped is set)
                abandon(batch);
                continue;
            }
            try {
                long started = System.nanoTime();
                write(batch);
                Duration storing = Duration.ofNanos(System.nanoTime() - started);
                handOver(batch);
                metrics.stored(storing);
            } catch (Throwable e) { // the writer must outlive any one batch, or every later envelope would wait
                LOG.log(Level.SEVERE, "Storing a batch of envelopes failed", e);
                RuntimeException failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                batch.forEach(pending -> finish(pending, null, failure));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> LinkedTransferQueue<T>[] queues(int count) {
        LinkedTransferQueue<T>[] queues = new LinkedTransferQueue[count];
        for (int i = 0; i < count; i++) {
            queues[i] = new LinkedTransferQueue<>();
        }
        return queues;
    }

    private void write(List<Pending> batch) {
        long now = clock.instant().getEpochSecond();
        List<Append> appends = batch.stream().map(p -> p.append).toList();
        try {
            settle(batch, appendAll(appends, now, false));
        } catch (RuntimeException e) {
            if (!isUniqueViolation(e)) {
                batch.forEach(pending -> pending.failure = e);
                return;
            }
            LOG.fine("A batch held a replayed chain position; storing it again with replays refused");
            try {
                settle(batch, appendAll(appends, now, true));
            } catch (RuntimeException again) {
                batch.forEach(pending -> pending.failure = again);
                return;
            }
        }
    }

    private static void settle(List<Pending> batch, List<Appended> outcomes) {
        for (int i = 0; i < batch.size(); i++) {
            Appended outcome = outcomes.get(i);
            Pending pending = batch.get(i);
            if (outcome.envelope() != null) {
                pending.stored = outcome.envelope();
            } else {
                pending.failure = new StoreException(outcome.refused());
            }
        }
    }

    /**
     * One local transaction outside JTA: the writer threads run no container transaction of their own. With rooms
     * shared between instances, it also tells the others of each room's newest stored seq, within the transaction.
     */
    private List<Appended> appendAll(List<Append> appends, long now, boolean refuseReplays) {
        try (Connection connection = dataSource.getConnection()) {
            return EnvelopeBatch.appendAll(connection, appends, now, limits.maxEnvelopes(), refuseReplays,
                    trimMarks, cluster.notices());
        } catch (SQLException e) {
            throw new PersistenceException("Storing a batch of envelopes failed", e);
        }
    }

    /** Splits a stored batch among the publishers by room, keeping each room's envelopes in commit order. */
    private void handOver(List<Pending> batch) {
        List<List<Pending>> shares = new ArrayList<>(PUBLISHERS);
        for (int i = 0; i < PUBLISHERS; i++) {
            shares.add(new ArrayList<>());
        }
        for (Pending pending : batch) {
            shares.get(Math.floorMod(pending.append.roomId().hashCode(), PUBLISHERS)).add(pending);
        }
        for (int i = 0; i < PUBLISHERS; i++) {
            List<Pending> share = shares.get(i);
            if (!share.isEmpty()) {
                written[i].add(share);
                if (stopped && written[i].remove(share)) {
                    // Stored but no publisher runs any more: the senders resume by seq and find them.
                    abandon(share);
                }
            }
        }
    }

    private void publishLoop(LinkedTransferQueue<List<Pending>> queue) {
        while (!stopped) {
            List<List<Pending>> batches = takeUpTo(next(queue), queue, MAX_BATCH);
            if (stopped) { // as stop() ends what it finds: stored, so their senders resume by seq and find them
                batches.forEach(this::abandon);
                continue;
            }
            long started = System.nanoTime();
            try {
                WriteBatch.run(() -> {
                    handOutStoredBefore(batches);
                    batches.forEach(this::publish);
                });
                metrics.published(Duration.ofNanos(System.nanoTime() - started));
            } catch (Throwable e) { // the publisher must outlive any one batch
                LOG.log(Level.WARNING, "Handing a batch to the sockets failed: {0}", e.getClass().getName());
                // Whatever was not handed out still ends (stored ones are acknowledged: sockets catch up by seq),
                // or it would stay counted in flight.
                batches.forEach(batch -> batch.forEach(this::end));
            }
        }
    }

    /**
     * The stored batches a publisher hands out in one {@link WriteBatch}: the oldest ({@code first}, taken already),
     * and those stored behind it while the publisher was busy, up to {@code maxEnvelopes} in all. Publishing is mostly
     * one socket write per socket per write batch, so a publisher that falls behind catches up with fewer writes (a
     * socket's envelopes of all these commits leave joined), and a publisher that keeps up hands out each batch alone.
     */
    static <T> List<List<T>> takeUpTo(List<T> first, Queue<List<T>> queue, int maxEnvelopes) {
        List<List<T>> taken = new ArrayList<>(List.of(first));
        int envelopes = first.size();
        while (true) {
            List<T> next = queue.peek();
            if (next == null || envelopes + next.size() > maxEnvelopes) {
                break;
            }
            List<T> batch = queue.poll(); // the one peeked at, unless stop() emptied the queue meanwhile
            if (batch == null) {
                break;
            }
            taken.add(batch);
            envelopes += batch.size();
        }
        return taken;
    }

    /**
     * With rooms shared between instances: first hands out, in one read of the database for all rooms of the batches,
     * what other instances stored in them before this instance's envelopes, so that {@link RoomChannels#publish}
     * finds no gap to read room by room. If the read fails, it does.
     */
    private void handOutStoredBefore(List<List<Pending>> batches) {
        if (!cluster.enabled()) {
            return;
        }
        Map<String, Long> before = new HashMap<>();
        batches.forEach(batch -> batch.stream().filter(pending -> pending.stored != null).forEach(pending ->
                before.merge(pending.stored.getRoomId(), pending.stored.getSeq() - 1, Math::min)));
        try {
            channels.handOutStored(before);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "Handing out what other instances stored failed ({0}); publishing reads room by room",
                    e.getClass().getName());
        }
    }

    /** Hands a stored batch to the rooms' sockets and completes the senders' futures (acks), in commit order. */
    private void publish(List<Pending> batch) {
        for (Pending pending : batch) {
            if (pending.stored != null) {
                try {
                    metrics.accepted();
                    channels.publish(pending.stored);
                } catch (Throwable e) { // the publisher must outlive any one envelope
                    LOG.log(Level.WARNING, "Handing an envelope to its room failed: {0}", e.getClass().getName());
                }
            }
            // Completing runs the sender's answer (the ack) on this thread; a failing answer fails only its own
            // dependent future, never this call.
            end(pending);
        }
    }

    /** Ends an envelope the writer is done with: stored, or refused with its failure. */
    private void end(Pending pending) {
        finish(pending, pending.stored, pending.stored == null ? pending.failure : null);
    }

    /** Waits until {@code queue} holds something and takes it (a stop marker, once the log stops). */
    private static <T> T next(LinkedTransferQueue<T> queue) {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                // nothing here interrupts (stop() wakes with a marker); if something else does, wait on
            }
        }
    }

    /** SQL state 23505 (unique violation, in PostgreSQL and H2) anywhere in the chain. */
    static boolean isUniqueViolation(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql) {
                for (SQLException s = sql; s != null; s = s.getNextException()) {
                    if ("23505".equals(s.getSQLState())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static Problem busy(String detail) {
        return Problem.relayBusy(detail);
    }
}
