package org.glassfish.tyrus.core;

import jakarta.websocket.EncodeException;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;

/** A stand-in with the shape of Tyrus 2.1's remote endpoints: a package-private {@code webSocket} field. */
public abstract class TyrusRemoteEndpoint implements RemoteEndpoint {

    final TyrusWebSocket webSocket;

    TyrusRemoteEndpoint(TyrusWebSocket webSocket) {
        this.webSocket = webSocket;
    }

    @Override
    public void setBatchingAllowed(boolean allowed) {
    }

    @Override
    public boolean getBatchingAllowed() {
        return false;
    }

    @Override
    public void flushBatch() {
    }

    /** As Tyrus: a ping leaves through the socket's writer, after the frames before it. */
    @Override
    public void sendPing(ByteBuffer data) throws IOException {
        byte[] frame = new byte[2 + data.remaining()];
        frame[0] = (byte) 0x89;
        frame[1] = (byte) data.remaining();
        data.get(frame, 2, data.remaining());
        webSocket.written.add(frame);
    }

    @Override
    public void sendPong(ByteBuffer data) throws IOException {
        throw new UnsupportedOperationException();
    }

    /** The asynchronous endpoint; its text sends are counted, to tell the API's path from the raw one. */
    public static class Async extends TyrusRemoteEndpoint implements RemoteEndpoint.Async {

        public int textSends;

        Async(TyrusWebSocket webSocket) {
            super(webSocket);
        }

        @Override
        public long getSendTimeout() {
            return 0;
        }

        @Override
        public void setSendTimeout(long timeout) {
        }

        @Override
        public void sendText(String text, SendHandler handler) {
            textSends++;
            handler.onResult(new jakarta.websocket.SendResult());
        }

        @Override
        public Future<Void> sendText(String text) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Future<Void> sendBinary(ByteBuffer data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void sendBinary(ByteBuffer data, SendHandler handler) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Future<Void> sendObject(Object data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void sendObject(Object data, SendHandler handler) {
            throw new UnsupportedOperationException();
        }
    }
}
