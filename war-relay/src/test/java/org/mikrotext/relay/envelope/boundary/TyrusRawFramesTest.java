package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.websocket.Extension;
import jakarta.websocket.SendResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.glassfish.tyrus.core.TyrusRemoteEndpoint;
import org.glassfish.tyrus.core.TyrusSession;
import org.glassfish.tyrus.core.TyrusWebSocket;
import org.junit.jupiter.api.Test;
import org.mikrotext.relay.envelope.control.FrameWriter;
import org.mikrotext.relay.envelope.control.WireFrame;

class TyrusRawFramesTest {

    private final List<SendResult> results = new ArrayList<>();

    @Test
    void writesTheSharedFrameBytesToEachSocket() {
        TyrusWebSocket first = new TyrusWebSocket();
        TyrusWebSocket second = new TyrusWebSocket();
        WireFrame frame = WireFrame.text("{\"type\":\"envelope\",\"seq\":7}");

        TyrusRawFrames.writer(session(first, List.of())).write(frame, results::add);
        TyrusRawFrames.writer(session(second, List.of())).write(frame, results::add);

        byte[] expected = frame.wire().array();
        assertArrayEquals(expected, first.written.get(0));
        assertArrayEquals(expected, second.written.get(0));
        assertTrue(results.stream().allMatch(SendResult::isOK));
    }

    @Test
    void joinedBytesAreReusedOnlyAfterTyrusWroteThemAndNeverWhileItKeepsThem() {
        TyrusWebSocket slow = new TyrusWebSocket();
        slow.notReady = true;
        WireFrame queued = WireFrame.joined(List.of(WireFrame.text("{\"room\":\"a\"}"), WireFrame.text("{\"n\":1}")));
        byte[] queuedBytes = copy(queued.wire());
        TyrusRawFrames.writer(session(slow, List.of())).write(queued, results::add);

        TyrusWebSocket fast = new TyrusWebSocket();
        WireFrame written = WireFrame.joined(List.of(WireFrame.text("{\"room\":\"b\"}"), WireFrame.text("{\"n\":2}")));
        assertNotSame(queued.wire().array(), written.wire().array(), "the kept bytes are not lent again");
        TyrusRawFrames.writer(session(fast, List.of())).write(written, results::add);
        WireFrame next = WireFrame.joined(List.of(WireFrame.text("{\"room\":\"c\"}"), WireFrame.text("{\"n\":3}")));
        assertSame(written.wire().array(), next.wire().array(), "written bytes are reused");

        assertArrayEquals(queuedBytes, copy(slow.queued.get(0)), "what Tyrus kept is what was queued");
        assertTrue(results.stream().allMatch(SendResult::isOK));
        next.bytesTaken();
    }

    private static byte[] copy(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    @Test
    void aSocketThatIsGoneOrFailsReportsTheFailure() {
        TyrusWebSocket closed = new TyrusWebSocket();
        closed.connected = false;
        TyrusRawFrames.writer(session(closed, List.of())).write(WireFrame.text("{}"), results::add);

        TyrusWebSocket failing = new TyrusWebSocket();
        failing.failWith = new IllegalStateException("broken pipe");
        TyrusRawFrames.writer(session(failing, List.of())).write(WireFrame.text("{}"), results::add);

        assertEquals(2, results.size());
        assertFalse(results.get(0).isOK());
        assertFalse(results.get(1).isOK());
        assertEquals("broken pipe", results.get(1).getException().getMessage());
        assertTrue(closed.written.isEmpty());
    }

    @Test
    void aSessionClosedDuringHelloGetsTheApiPathAndLaterSessionsStillTheRawOne() {
        TyrusSession closed = session(new TyrusWebSocket(), List.of());
        closed.closedByClient();
        TyrusRawFrames.writer(closed);

        TyrusWebSocket socket = new TyrusWebSocket();
        TyrusRawFrames.writer(session(socket, List.of())).write(WireFrame.text("{}"), results::add);
        assertEquals(1, socket.written.size(), "the raw path was not given up");
    }

    @Test
    void aSessionWithExtensionsGetsTheApiPath() {
        TyrusWebSocket socket = new TyrusWebSocket();
        TyrusSession session = session(socket, List.of(new Deflate()));
        FrameWriter writer = TyrusRawFrames.writer(session);
        writer.write(WireFrame.text("{}"), results::add);

        assertTrue(socket.written.isEmpty(), "no ready-made bytes where an extension would transform frames");
        assertEquals(1, ((TyrusRemoteEndpoint.Async) session.getAsyncRemote()).textSends);
        assertTrue(results.get(0).isOK());
    }

    private static TyrusSession session(TyrusWebSocket socket, List<Extension> extensions) {
        return new TyrusSession(null).connect(socket, extensions);
    }

    private static final class Deflate implements Extension {
        @Override
        public String getName() {
            return "permessage-deflate";
        }

        @Override
        public List<Parameter> getParameters() {
            return List.of();
        }
    }
}
