package org.mikrotext.relay.envelope.control;

import java.util.ArrayList;
import java.util.List;

/**
 * Holds back the frames a thread offers to sockets while a batch of work runs, and lets each socket's frames leave
 * together when it ends: one write per socket per batch instead of one per frame. A publisher hands a committed
 * batch of envelopes to their rooms this way, so the sending socket's own envelope and its {@code ack} (and any
 * other envelopes of the room in that batch) leave in one write; the more envelopes a commit holds, the more frames
 * share a write. Frames offered on other threads are not held.
 */
public final class WriteBatch {

    private static final ThreadLocal<WriteBatch> CURRENT = new ThreadLocal<>();

    private final List<Outbox> held = new ArrayList<>();

    private WriteBatch() {
    }

    /** Runs {@code work}, then sends what it offered, socket by socket. Nested calls join the outer batch. */
    public static void run(Runnable work) {
        if (CURRENT.get() != null) {
            work.run();
            return;
        }
        WriteBatch batch = new WriteBatch();
        CURRENT.set(batch);
        try {
            work.run();
        } finally {
            CURRENT.remove();
            for (Outbox outbox : batch.held) {
                try {
                    outbox.release();
                } catch (Throwable e) { // every held socket must be released, whatever one of them throws
                    closeQuietly(outbox);
                }
            }
        }
    }

    /** A socket whose frames could not be released misses them: it is closed, so that it resumes by seq. */
    private static void closeQuietly(Outbox outbox) {
        try {
            outbox.close(1011, "delivery failed; resume by seq");
        } catch (Throwable e) {
            // closing failed too (the relay is stopping): the container closes the socket
        }
    }

    /** True if a batch runs on this thread and will release {@code outbox} when it ends (called once per outbox). */
    static boolean hold(Outbox outbox) {
        WriteBatch batch = CURRENT.get();
        if (batch == null) {
            return false;
        }
        batch.held.add(outbox);
        return true;
    }
}
