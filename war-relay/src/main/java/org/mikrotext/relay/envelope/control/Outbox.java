package org.mikrotext.relay.envelope.control;

import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The frames waiting for one socket, sent asynchronously, one at a time, in order, so that one slow browser never
 * holds up a room.
 *
 * <p>How far a socket is behind cannot be read from the container, which accepts every asynchronous send into its
 * own unbounded buffer. So the outbox measures it end to end: after every {@code maxBehind / 8} bytes of payload it
 * sends a WebSocket ping carrying the running count of bytes sent and a random number, and the browser's automatic
 * pong returns both once the browser has read everything before it. Only a pong that returns a ping this socket was
 * sent counts: a client cannot claim to have read what it has not by sending pongs of its own. A socket with more
 * than {@code maxBehind} bytes sent or queued but not yet read is closed (1013) and catches up by {@code seq} when
 * it returns.
 *
 * <p>Frames leave through a {@link FrameWriter}: on Payara the already framed bytes of a {@link WireFrame}, shared by
 * every socket the frame goes to; elsewhere the WebSocket API's {@code sendText}.
 */
public class Outbox {

    private static final Logger LOG = Logger.getLogger(Outbox.class.getName());
    private static final int MAX_SYNC_DEPTH = 16;
    private static final int MAX_JOINED = 64;
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static final SecureRandom NONCES = new SecureRandom();
    /** Pings not yet answered that a pong may still return; the oldest are forgotten past this many. */
    private static final int MAX_UNANSWERED_PINGS = 32;

    private final Session session;
    private final FrameWriter writer;
    private final String participantId;
    private final long maxBehind;
    private final long pingEvery;
    private final Executor executor;
    /** Frames ({@link WireFrame}) and ping marks (Long), in order. */
    private final Queue<Object> queue = new ArrayDeque<>();
    private long queuedBytes;
    private long sentBytes;
    private long readBytes;
    private long pingedAt;
    /** The pings sent and not yet answered, oldest first: {count of bytes, random number}. */
    private final Deque<long[]> unanswered = new ArrayDeque<>();
    /** The highest envelope seq queued; an envelope at or below it is a duplicate. */
    private long envelopeSeq;
    private boolean sending;
    private boolean closed;
    /** Frames wait for the end of this thread's {@link WriteBatch}. */
    private boolean held;

    public Outbox(Session session, FrameWriter writer, String participantId, int maxBehind, Executor executor) {
        this.session = session;
        this.writer = writer;
        this.participantId = participantId;
        this.maxBehind = maxBehind;
        this.pingEvery = Math.max(1, maxBehind / 8);
        this.executor = executor;
    }

    public String participantId() {
        return participantId;
    }

    /** Queues a frame without waiting; closes the socket if it would fall too far behind. */
    public void offer(String frame) {
        offer(WireFrame.text(frame));
    }

    /** {@link #offer(String)} for a frame encoded once for several sockets. */
    public void offer(WireFrame frame) {
        Object first;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (behind() + frame.length() > maxBehind) {
                closeLocked(CloseCodes.TOO_SLOW, "too far behind; resume by seq");
                return;
            }
            queue.add(frame);
            queuedBytes += frame.length();
            if (sentBytes + queuedBytes - pingedAt >= pingEvery) {
                pingedAt = sentBytes + queuedBytes;
                queue.add(pingedAt);
            }
            if (held || (!sending && writer.joinsFrames() && WriteBatch.hold(this))) {
                held = true;
                return;
            }
            first = nextLocked();
        }
        send(first);
    }

    /** The end of the write batch that held this socket's frames: they leave now, together. */
    void release() {
        Object first;
        synchronized (this) {
            held = false;
            first = nextLocked();
        }
        send(first);
    }

    /** Queues an envelope frame unless this socket already has the envelope (or a later one). */
    public void offerEnvelope(long seq, WireFrame frame) {
        if (claim(seq)) {
            offer(frame);
        }
    }

    /** {@link #offerWhenRoom} for an envelope frame, unless this socket already has the envelope. */
    public void offerEnvelopeWhenRoom(long seq, WireFrame frame, long timeoutMillis, Semaphore waits)
            throws InterruptedException {
        if (claim(seq)) {
            offerWhenRoom(frame, timeoutMillis, waits);
        }
    }

    private synchronized boolean claim(long seq) {
        if (seq <= envelopeSeq) {
            return false;
        }
        envelopeSeq = seq;
        return true;
    }

    /**
     * Queues a frame, first waiting (up to {@code timeoutMillis}) until the socket is at most half its limit behind. A
     * wait takes one of {@code waits}; with none left the socket is closed (1013) at once, to resume later.
     */
    public void offerWhenRoom(WireFrame frame, long timeoutMillis, Semaphore waits) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Object ping = null;
        synchronized (this) {
            if (behind() > maxBehind / 2 && pingedAt < sentBytes + queuedBytes) {
                pingedAt = sentBytes + queuedBytes;
                queue.add(pingedAt);
                ping = nextLocked();
            }
        }
        send(ping);
        synchronized (this) {
            if (!closed && behind() > maxBehind / 2) {
                if (!waits.tryAcquire()) {
                    closeLocked(CloseCodes.TOO_SLOW, "the relay is busy; resume by seq");
                    return;
                }
                try {
                    while (!closed && behind() > maxBehind / 2) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            closeLocked(CloseCodes.TOO_SLOW, "too far behind; resume by seq");
                            return;
                        }
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    }
                } finally {
                    waits.release();
                }
            }
        }
        offer(frame);
    }

    /**
     * A pong from the browser: everything sent before its ping has been read. One that returns no ping of this socket's
     * (a client's own, or a ping's count with another number) changes nothing.
     */
    public void pong(ByteBuffer data) {
        if (data.remaining() != 2 * Long.BYTES) {
            return;
        }
        long mark = data.getLong();
        long nonce = data.getLong();
        synchronized (this) {
            if (unanswered.stream().noneMatch(ping -> ping[0] == mark && ping[1] == nonce)) {
                return;
            }
            while (unanswered.peek()[0] != mark) {
                unanswered.poll(); // answered too, by this later pong
            }
            unanswered.poll();
            if (mark <= sentBytes && mark > readBytes) {
                readBytes = mark;
                notifyAll();
            }
        }
    }

    public synchronized boolean isClosed() {
        return closed || !session.isOpen();
    }

    /** Closes the socket with a code; later frames are dropped. */
    public synchronized void close(int code, String phrase) {
        closeLocked(code, phrase);
    }

    private long behind() {
        return sentBytes + queuedBytes - readBytes;
    }

    /**
     * The next item to send if nothing is being sent now, else null: a ping mark, or the frames queued one after the
     * other up to the next mark, joined into one write where the writer takes joined frames. A single frame is
     * "joined" too, that is copied into the thread's reusable array: Grizzly keeps a reference to the array of the
     * last write it took without copying, so a socket's own frame (its {@code ready}, say) would otherwise stay on
     * the heap for as long as the socket is idle (docs/performance.md, after 8).
     */
    private Object nextLocked() {
        if (sending || held || queue.isEmpty()) {
            return null;
        }
        sending = true;
        Object first = queue.poll();
        if (!(first instanceof WireFrame frame) || !writer.joinsFrames()) {
            return first;
        }
        List<WireFrame> run = new ArrayList<>();
        run.add(frame);
        while (run.size() < MAX_JOINED && queue.peek() instanceof WireFrame next) {
            queue.poll();
            run.add(next);
        }
        return WireFrame.joined(run);
    }

    private void closeLocked(int code, String phrase) {
        if (closed) {
            return;
        }
        closed = true;
        queue.clear();
        queuedBytes = 0;
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

    private void send(Object item) {
        if (item == null) {
            return;
        }
        int[] depth = DEPTH.get();
        if (depth[0] >= MAX_SYNC_DEPTH) {
            try {
                executor.execute(() -> send(item));
            } catch (RejectedExecutionException e) {
                sent(0, new SendResult(e));
            }
            return;
        }
        depth[0]++;
        try {
            if (item instanceof WireFrame frame) {
                writer.write(frame, result -> sent(frame.length(), result));
            } else {
                long mark = (Long) item;
                long nonce = NONCES.nextLong();
                synchronized (this) {
                    if (unanswered.size() == MAX_UNANSWERED_PINGS) {
                        unanswered.poll();
                    }
                    unanswered.add(new long[] {mark, nonce});
                }
                session.getAsyncRemote().sendPing(ByteBuffer.allocate(2 * Long.BYTES).putLong(mark).putLong(nonce)
                        .flip());
                sent(0, new SendResult());
            }
        } catch (IOException | RuntimeException e) {
            sent(0, new SendResult(e));
        } finally {
            depth[0]--;
        }
    }

    private void sent(int bytes, SendResult result) {
        Object next;
        synchronized (this) {
            sending = false;
            if (closed) {
                return;
            }
            if (!result.isOK()) {
                closed = true;
                queue.clear();
                queuedBytes = 0;
                notifyAll();
                return;
            }
            queuedBytes -= bytes;
            sentBytes += bytes;
            next = nextLocked();
        }
        send(next);
    }
}
