package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import org.glassfish.tyrus.core.TyrusSession;
import org.glassfish.tyrus.core.TyrusWebSocket;
import org.junit.jupiter.api.Test;

class OutboxTest {

    private static final Executor INLINE = Runnable::run;
    private static final int FAR = 1 << 30;

    private final TyrusWebSocket socket = new TyrusWebSocket();
    private final TyrusSession session = new TyrusSession(null).connect(socket, List.of());

    @Test
    void outsideABatchEachFrameLeavesAtOnceInItsOwnWrite() {
        Outbox outbox = new Outbox(session, new Recording(socket), "p", FAR, INLINE);
        outbox.offer(WireFrame.text("{\"n\":1}"));
        assertEquals(1, socket.written.size());
        outbox.offer(WireFrame.text("{\"n\":2}"));
        assertEquals(List.of("{\"n\":1}", "{\"n\":2}"), texts(socket.written));
    }

    @Test
    void withinABatchEachSocketsFramesLeaveTogetherInOrderWhenItEnds() {
        Outbox a = new Outbox(session, new Recording(socket), "a", FAR, INLINE);
        TyrusWebSocket otherSocket = new TyrusWebSocket();
        TyrusSession otherSession = new TyrusSession(null).connect(otherSocket, List.of());
        Outbox b = new Outbox(otherSession, new Recording(otherSocket), "b", FAR, INLINE);
        WireFrame envelope = WireFrame.text("{\"type\":\"envelope\",\"seq\":1}");

        WriteBatch.run(() -> {
            a.offerEnvelope(1, envelope);
            b.offerEnvelope(1, envelope);
            a.offer("{\"type\":\"ack\",\"seq\":1}");
            a.offerEnvelope(2, WireFrame.text("{\"type\":\"envelope\",\"seq\":2}"));
            assertTrue(socket.written.isEmpty() && otherSocket.written.isEmpty(), "held until the batch ends");
        });

        assertEquals(1, socket.written.size(), "one write for the socket's three frames");
        assertEquals(List.of("{\"type\":\"envelope\",\"seq\":1}", "{\"type\":\"ack\",\"seq\":1}",
                "{\"type\":\"envelope\",\"seq\":2}"), texts(socket.written));
        assertArrayEquals(envelope.wire().array(), otherSocket.written.get(0));

        a.offer("{\"type\":\"pong\"}");
        assertEquals(2, socket.written.size(), "after the batch, frames leave at once again");
    }

    @Test
    void aSingleFrameLeavesFromTheThreadsReusedArrayNotFromItsOwn() {
        List<WireFrame> written = new ArrayList<>();
        FrameWriter raw = new FrameWriter() {
            @Override
            public void write(WireFrame frame, SendHandler done) {
                written.add(frame);
                done.onResult(new SendResult());
            }

            @Override
            public boolean joinsFrames() {
                return true;
            }
        };
        WireFrame ready = WireFrame.text("{\"type\":\"ready\",\"seq\":0}");
        new Outbox(session, raw, "p", FAR, INLINE).offer(ready);

        assertEquals(1, written.size());
        assertNotSame(ready.wire().array(), written.get(0).wire().array(),
                "the container keeps the array of a socket's last write: it must not be the socket's own frame");
        assertEquals(List.of("{\"type\":\"ready\",\"seq\":0}"), texts(List.of(bytesOf(written.get(0)))));
    }

    private static byte[] bytesOf(WireFrame frame) {
        ByteBuffer wire = frame.wire();
        byte[] out = new byte[wire.remaining()];
        wire.get(out);
        return out;
    }

    @Test
    void aPingMarkSplitsTheJoinedFramesSoThatItCountsWhatWasSentBeforeIt() {
        // A ping after every 100 bytes of payload: it goes out after the first two frames and before the third.
        Outbox outbox = new Outbox(session, new Recording(socket), "p", 800, INLINE);
        String sixty = "{\"pad\":\"" + "x".repeat(50) + "\"}";
        WriteBatch.run(() -> {
            for (int i = 0; i < 3; i++) {
                outbox.offer(sixty);
            }
        });
        assertEquals(3, socket.written.size());
        assertEquals(List.of(sixty, sixty), texts(List.of(socket.written.get(0))));
        assertEquals(0x89, socket.written.get(1)[0] & 0xFF, "the ping");
        assertEquals(List.of(sixty), texts(List.of(socket.written.get(2))));
    }

    private static final String SIXTY = "{\"pad\":\"" + "x".repeat(50) + "\"}";

    /**
     * An outbox that may fall 800 bytes behind (a ping after every 100), with nine frames of 60 bytes sent to
     * {@code target} and not yet read: 540 bytes, more than half its limit; the last ping counted 480 of them.
     */
    private static Outbox behind540(TyrusWebSocket target) {
        Outbox outbox = new Outbox(new TyrusSession(null).connect(target, List.of()), new Recording(target), "p", 800,
                INLINE);
        for (int i = 0; i < 9; i++) {
            outbox.offer(SIXTY);
        }
        return outbox;
    }

    /** The payload of the last ping written to {@code target}. */
    private static ByteBuffer lastPing(TyrusWebSocket target) {
        byte[] ping = target.written.stream().filter(w -> (w[0] & 0xFF) == 0x89).reduce((a, b) -> b).orElseThrow();
        return ByteBuffer.wrap(ping, 2, ping.length - 2);
    }

    @Test
    void onlyAPongThatReturnsThisSocketsPingCountsAsRead() {
        Outbox outbox = behind540(socket);
        assertEquals(4, socket.written.stream().filter(w -> (w[0] & 0xFF) == 0x89).count());
        ByteBuffer last = lastPing(socket);
        long mark = last.getLong();
        assertEquals(480, mark);

        // A client that has read nothing claims it has: its own pong, with the count alone or with another number.
        outbox.pong(ByteBuffer.allocate(8).putLong(mark).flip());
        outbox.pong(ByteBuffer.allocate(16).putLong(mark).putLong(last.getLong() + 1).flip());
        for (int i = 0; i < 5; i++) {
            outbox.offer(SIXTY); // 840 bytes not read: past the limit
        }
        assertTrue(outbox.isClosed(), "closed as too far behind, the forged pongs counted for nothing");

        TyrusWebSocket readingSocket = new TyrusWebSocket();
        Outbox reading = behind540(readingSocket);
        reading.pong(lastPing(readingSocket)); // the browser's pong: it has read the first 480 bytes
        for (int i = 0; i < 5; i++) {
            reading.offer(SIXTY);
        }
        assertFalse(reading.isClosed(), "360 bytes behind after its pong");
    }

    @Test
    void aCatchUpWaitsForItsReaderOnlyWithAWaitLeft() throws Exception {
        Outbox slow = behind540(socket);
        long started = System.nanoTime();
        slow.offerWhenRoom(WireFrame.text(SIXTY), 10_000, new Semaphore(0));
        assertTrue(slow.isClosed(), "no wait left: closed, to resume later");
        assertTrue(System.nanoTime() - started < 1_000_000_000L, "at once, not after the 10 s wait");

        TyrusWebSocket readingSocket = new TyrusWebSocket();
        Outbox reading = behind540(readingSocket);
        ByteBuffer ping = lastPing(readingSocket);
        Thread browser = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            reading.pong(ping);
        });
        browser.start();
        Semaphore one = new Semaphore(1);
        reading.offerWhenRoom(WireFrame.text(SIXTY), 10_000, one);
        browser.join();
        assertFalse(reading.isClosed(), "waited for the browser's pong, then queued the frame");
        assertEquals(10, texts(readingSocket.written.stream().filter(w -> (w[0] & 0xFF) == 0x81).toList()).size());
        assertEquals(1, one.availablePermits(), "the wait given back");
    }

    @Test
    void aSocketWhoseReleaseFailsIsClosedAndTheOthersStillGetTheirFrames() {
        FrameWriter broken = new FrameWriter() {
            @Override
            public void write(WireFrame frame, SendHandler done) {
                throw new OutOfMemoryError("no room for the joined frames");
            }

            @Override
            public boolean joinsFrames() {
                return true;
            }
        };
        Outbox bad = new Outbox(session, broken, "bad", FAR, INLINE);
        TyrusWebSocket otherSocket = new TyrusWebSocket();
        TyrusSession otherSession = new TyrusSession(null).connect(otherSocket, List.of());
        Outbox good = new Outbox(otherSession, new Recording(otherSocket), "good", FAR, INLINE);

        WriteBatch.run(() -> {
            bad.offer("{\"n\":1}");
            good.offer("{\"n\":1}");
        });

        assertTrue(bad.isClosed(), "closed, so that it resumes by seq");
        assertEquals(List.of("{\"n\":1}"), texts(otherSocket.written), "released after the failure");
        good.offer("{\"n\":2}");
        assertEquals(2, otherSocket.written.size(), "not held any more");
    }

    @Test
    void aWriterThatTakesOnlyWholeFramesIsNotHeldBack() {
        Recording api = new Recording(null);
        Outbox outbox = new Outbox(session, api, "p", FAR, INLINE);
        WriteBatch.run(() -> {
            outbox.offer("{\"n\":1}");
            outbox.offer("{\"n\":2}");
            assertEquals(List.of("{\"n\":1}", "{\"n\":2}"), api.texts, "sent at once, one by one");
        });
    }

    /** Writes the frames' bytes to a socket as they are, or (without a socket) records each frame's text. */
    private static final class Recording implements FrameWriter {

        private final TyrusWebSocket target;
        private final List<String> texts = new ArrayList<>();

        Recording(TyrusWebSocket target) {
            this.target = target;
        }

        @Override
        public void write(WireFrame frame, SendHandler done) {
            if (target != null) {
                target.sendRawFrame(frame.wire());
            } else {
                texts.add(frame.text());
            }
            done.onResult(new SendResult());
        }

        @Override
        public boolean joinsFrames() {
            return target != null;
        }
    }

    /** The text of each frame in the writes, in order (RFC 6455 server frames, as {@link WireFrame} makes them). */
    private static List<String> texts(List<byte[]> writes) {
        List<String> out = new ArrayList<>();
        for (byte[] write : writes) {
            ByteBuffer in = ByteBuffer.wrap(write);
            while (in.hasRemaining()) {
                assertEquals(0x81, in.get() & 0xFF);
                int seven = in.get() & 0x7F;
                int length = seven < 126 ? seven : seven == 126 ? in.getShort() & 0xFFFF : (int) in.getLong();
                byte[] payload = new byte[length];
                in.get(payload);
                out.add(new String(payload, StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
