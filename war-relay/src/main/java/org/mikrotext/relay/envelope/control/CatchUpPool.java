package org.mikrotext.relay.envelope.control;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that catch resuming sockets up: read the envelopes each missed, wait while it drains them, and join it
 * to the live stream.
 *
 * <p>A pool of its own with a queue, because the container's shared executor hands a task only to a thread that is
 * free at that instant (up to its maximum) and refuses the rest: in a burst of hellos (every socket of a relay that
 * has just restarted, or a benchmark's connect phase) a refused catch-up would leave its socket authenticated but
 * never attached. Here such a burst waits its turn. At most {@code threads} run at once (each needs a database
 * connection first; a socket that reads slowly holds its thread while it drains); beyond {@code maxWaiting} queued,
 * {@link #execute} refuses, and the caller closes that socket to come back later. Idle threads end after a minute.
 */
final class CatchUpPool implements Executor {

    static final int THREADS = 32;
    static final int MAX_WAITING = 50_000;

    private final ThreadPoolExecutor pool;

    CatchUpPool(ThreadFactory threads, int size, int maxWaiting) {
        AtomicInteger count = new AtomicInteger();
        pool = new ThreadPoolExecutor(size, size, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(maxWaiting),
                task -> {
                    Thread thread = threads.newThread(task);
                    thread.setName("mikrotext-catch-up-" + count.incrementAndGet());
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
    }

    /** Runs the task when a thread is free; refuses ({@link RejectedExecutionException}) only with the queue full. */
    @Override
    public void execute(Runnable task) {
        pool.execute(task);
    }

    /** Catch-ups waiting for a thread. */
    int waiting() {
        return pool.getQueue().size();
    }

    void shutdown() {
        pool.shutdownNow();
    }
}
