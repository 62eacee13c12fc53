package org.mikrotext.relay.envelope.control;

import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The frames waiting for one socket: sent asynchronously, one at a time, in order. The queue is bounded in
 * characters; a socket that falls further behind is closed (1013) and catches up by {@code seq} when it returns,
 * so that one slow browser never holds up a room.
 */
public class Outbox {

    private static final Logger LOG = Logger.getLogger(Outbox.class.getName());
    private static final int MAX_SYNC_DEPTH = 16;
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private final Session session;
    private final String participantId;
    private final int maxQueuedChars;
    private final Executor executor;
    private final Queue<String> queue = new ArrayDeque<>();
    private long queuedChars;
    private boolean sending;
    private boolean closed;

    public Outbox(Session session, String participantId, int maxQueuedChars, Executor executor) {
        this.session = session;
        this.participantId = participantId;
        this.maxQueuedChars = maxQueuedChars;
        this.executor = executor;
    }

    public String participantId() {
        return participantId;
    }

    /** Queues a frame without waiting; closes the socket if its queue would overflow. */
    public void offer(String frame) {
        String first;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (queuedChars + frame.length() > maxQueuedChars) {
                closeLocked(CloseCodes.TOO_SLOW, "too far behind; resume by seq");
                return;
            }
            queue.add(frame);
            queuedChars += frame.length();
            if (sending) {
                return;
            }
            sending = true;
            first = queue.poll();
        }
        send(first);
    }

    /** Queues a frame, first waiting (up to {@code timeoutMillis}) until at most half the queue is in use. */
    public void offerWhenRoom(String frame, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (this) {
            while (!closed && queuedChars > maxQueuedChars / 2) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    closeLocked(CloseCodes.TOO_SLOW, "too far behind; resume by seq");
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        offer(frame);
    }

    public synchronized boolean isClosed() {
        return closed || !session.isOpen();
    }

    /** Closes the socket with a code; later frames are dropped. */
    public synchronized void close(int code, String phrase) {
        closeLocked(code, phrase);
    }

    private void closeLocked(int code, String phrase) {
        if (closed) {
            return;
        }
        closed = true;
        queue.clear();
        queuedChars = 0;
        notifyAll();
        executor.execute(() -> {
            try {
                if (session.isOpen()) {
                    session.close(CloseCodes.reason(code, phrase));
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.FINE, "Closing a socket failed", e);
            }
        });
    }

    private void send(String frame) {
        int[] depth = DEPTH.get();
        if (depth[0] >= MAX_SYNC_DEPTH) {
            executor.execute(() -> send(frame));
            return;
        }
        depth[0]++;
        try {
            session.getAsyncRemote().sendText(frame, result -> sent(frame, result));
        } catch (RuntimeException e) {
            sent(frame, new SendResult(e));
        } finally {
            depth[0]--;
        }
    }

    private void sent(String frame, SendResult result) {
        String next;
        synchronized (this) {
            queuedChars = Math.max(0, queuedChars - frame.length());
            notifyAll();
            if (!result.isOK() || closed) {
                sending = false;
                if (!closed) {
                    closed = true;
                    queue.clear();
                    queuedChars = 0;
                }
                return;
            }
            next = queue.poll();
            if (next == null) {
                sending = false;
                return;
            }
        }
        send(next);
    }
}
