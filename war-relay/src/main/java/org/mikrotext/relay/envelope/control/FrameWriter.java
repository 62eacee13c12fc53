package org.mikrotext.relay.envelope.control;

import jakarta.websocket.SendHandler;
import jakarta.websocket.Session;

/** Hands one text frame to a socket's container and reports, through {@code done}, when it has been taken or failed. */
@FunctionalInterface
public interface FrameWriter {

    void write(WireFrame frame, SendHandler done);

    /** True if this writer puts a frame's bytes on the wire as they are, so that frames joined into one are taken. */
    default boolean joinsFrames() {
        return false;
    }

    /** Through the WebSocket API: the container encodes and frames the text again for this socket. */
    static FrameWriter api(Session session) {
        return (frame, done) -> session.getAsyncRemote().sendText(frame.text(), done);
    }
}
