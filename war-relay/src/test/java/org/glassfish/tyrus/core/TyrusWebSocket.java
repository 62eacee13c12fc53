package org.glassfish.tyrus.core;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/** A stand-in with the shape of Tyrus 2.1's socket as far as the relay relies on it: {@code sendRawFrame}. */
public class TyrusWebSocket {

    public final List<byte[]> written = new ArrayList<>();
    public boolean connected = true;
    public RuntimeException failWith;
    /** As Tyrus when the connection cannot take more now: the buffer itself is kept and written later. */
    public final List<ByteBuffer> queued = new ArrayList<>();
    public boolean notReady;

    /** As Tyrus: refuses when the socket is no longer connected, else writes the bytes as they are. */
    public Future<Object> sendRawFrame(ByteBuffer frame) {
        if (!connected) {
            throw new RuntimeException("Socket is not connected.");
        }
        CompletableFuture<Object> done = new CompletableFuture<>();
        if (failWith != null) {
            done.completeExceptionally(failWith);
            return done;
        }
        if (notReady) {
            queued.add(frame);
            return done;
        }
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        written.add(bytes);
        done.complete(null);
        return done;
    }
}
