package org.mikrotext.relay.envelope.control;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.boundary.RoomStore.Append;
import org.mikrotext.store.boundary.RoomStore.Appended;
import org.mikrotext.store.boundary.StoreException;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * Stores envelopes by group commit and hands them to the room's sockets in {@code seq} order.
 *
 * <p>Checked envelopes (rate, fields, signature: all done by the caller's thread) wait in one queue. The writer thread
 * takes everything waiting, up to {@value #MAX_BATCH}, and stores it in one transaction: one round trip locks the rooms,
 * one reads the senders, one batch inserts the rows, and one commit (one flush to disk) makes them durable. While it
 * commits, the next batch gathers, so batches grow with the load and a lone envelope waits for nobody. The publisher
 * thread then pushes each stored envelope to its room's sockets and completes the sender's future (the {@code ack}
 * or the 201), in commit order. An envelope is acknowledged only after its commit.
 *
 * <p>A replay rolls its whole batch back (the unique constraint on the chain position fails at the flush); the batch is
 * then stored again one envelope per transaction, so that only the replay is refused. A database failure fails the
 * batch's envelopes with the database's error (503 database-unavailable).
 */
@ApplicationScoped
public class EnvelopeLog {

    static final int MAX_BATCH = 256;
    /** Envelopes checked and waiting for the writer; beyond this the relay answers 503 relay-busy. */
    static final int MAX_WAITING = 20_000;
    private static final long RETRY_SECONDS = 1;
    private static final Logger LOG = Logger.getLogger(EnvelopeLog.class.getName());

    @Inject
    RoomStore store;

    @Inject
    RoomChannels channels;

    @Inject
    Limits limits;

    @Inject
    RelayMetrics metrics;

    @Resource
    ManagedThreadFactory threads;

    private final Clock clock = Clock.systemUTC();
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private final ArrayDeque<List<Pending>> written = new ArrayDeque<>();
    private boolean started;
    private volatile boolean stopped;
    private Thread writer;
    private Thread publisher;

    /** One envelope on its way: what to append, and who waits for the outcome. */
    private static final class Pending {
        final Append append;
        final CompletableFuture<Envelope> outcome = new CompletableFuture<>();
        Envelope stored;
        RuntimeException failure;

        Pending(Append append) {
            this.append = append;
        }
    }

    /**
     * Queues a checked envelope; the future completes with the stored envelope after its commit and after it has
     * been handed to the room's sockets, or fails with the refusal.
     */
    public CompletableFuture<Envelope> append(String roomId, String senderId, SignedEnvelope envelope) {
        Pending pending = new Pending(new Append(roomId, senderId, envelope));
        synchronized (waiting) {
            if (stopped) {
                throw busy("The relay is shutting down");
            }
            if (waiting.size() >= MAX_WAITING) {
                throw busy("The relay is storing too many envelopes at once");
            }
            startIfNeeded();
            waiting.add(pending);
            waiting.notifyAll();
        }
        return pending.outcome;
    }

    @PreDestroy
    void stop() {
        List<Pending> abandoned = new ArrayList<>();
        synchronized (waiting) {
            stopped = true;
            abandoned.addAll(waiting);
            waiting.clear();
            waiting.notifyAll();
        }
        synchronized (written) {
            written.forEach(abandoned::addAll);
            written.clear();
            written.notifyAll();
        }
        for (Thread thread : new Thread[] {writer, publisher}) {
            if (thread != null) {
                thread.interrupt();
            }
        }
        abandoned.forEach(pending -> pending.outcome.completeExceptionally(busy("The relay is shutting down")));
    }

    private void startIfNeeded() {
        if (started) {
            return;
        }
        started = true;
        writer = threads.newThread(this::writeLoop);
        writer.setName("mikrotext-envelope-writer");
        publisher = threads.newThread(this::publishLoop);
        publisher.setName("mikrotext-envelope-publisher");
        writer.start();
        publisher.start();
    }

    private void writeLoop() {
        while (true) {
            List<Pending> batch;
            synchronized (waiting) {
                if (!awaitWork(waiting)) {
                    return;
                }
                batch = new ArrayList<>(Math.min(waiting.size(), MAX_BATCH));
                while (!waiting.isEmpty() && batch.size() < MAX_BATCH) {
                    batch.add(waiting.poll());
                }
            }
            write(batch);
            synchronized (written) {
                written.add(batch);
                written.notifyAll();
            }
        }
    }

    private void write(List<Pending> batch) {
        long now = clock.instant().getEpochSecond();
        try {
            List<Appended> outcomes = store.appendAll(batch.stream().map(p -> p.append).toList(), now,
                    limits.maxEnvelopes());
            for (int i = 0; i < batch.size(); i++) {
                Appended outcome = outcomes.get(i);
                Pending pending = batch.get(i);
                if (outcome.envelope() != null) {
                    pending.stored = outcome.envelope();
                } else {
                    pending.failure = new StoreException(outcome.refused());
                }
            }
        } catch (RuntimeException e) {
            if (!isUniqueViolation(e)) {
                batch.forEach(pending -> pending.failure = e);
                return;
            }
            LOG.fine("A batch held a replayed chain position; storing it one envelope at a time");
            for (Pending pending : batch) {
                Append append = pending.append;
                try {
                    pending.stored = store.append(append.roomId(), append.senderId(), append.fields(), now,
                            limits.maxEnvelopes());
                } catch (RuntimeException single) {
                    pending.failure = single;
                }
            }
        }
    }

    private void publishLoop() {
        while (true) {
            List<Pending> batch;
            synchronized (written) {
                if (!awaitWork(written)) {
                    return;
                }
                batch = written.poll();
            }
            for (Pending pending : batch) {
                try {
                    if (pending.stored != null) {
                        metrics.accepted();
                        channels.publish(pending.stored);
                        pending.outcome.complete(pending.stored);
                    } else {
                        pending.outcome.completeExceptionally(pending.failure);
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "Handing an envelope to its room failed: {0}", e.getClass().getName());
                    pending.outcome.complete(pending.stored);
                }
            }
        }
    }

    /** Waits, holding {@code queue}'s monitor, until it holds something; false once the log is stopped. */
    private boolean awaitWork(ArrayDeque<?> queue) {
        while (queue.isEmpty() && !stopped) {
            try {
                queue.wait();
            } catch (InterruptedException e) {
                // stop() interrupts; the loop condition decides
            }
        }
        return !stopped;
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
        return new Problem(503, "relay-busy", "Temporarily unavailable", detail, RETRY_SECONDS);
    }
}
