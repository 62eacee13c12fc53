package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.websocket.Extension;
import jakarta.websocket.SendResult;
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
