package org.mikrotext.relay.envelope.boundary;

import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.mikrotext.relay.envelope.control.FrameWriter;
import org.mikrotext.relay.envelope.control.WireFrame;

/**
 * Writes a {@link org.mikrotext.relay.envelope.control.WireFrame}'s ready-made bytes to a Tyrus (Payara) socket, so
 * that an envelope is framed once however many sockets it goes to.
 *
 * <p>Through the WebSocket API, Tyrus encodes the text to UTF-8 and builds the frame again for every socket. Tyrus's
 * own broadcast avoids that with {@code TyrusWebSocket.sendRawFrame(ByteBuffer)}, a public method that checks the
 * socket is connected and hands the bytes to the connection's writer under the same lock as every other frame of
 * that socket. {@link #writer} reaches it through the session's asynchronous remote endpoint (its {@code webSocket}
 * field). The bytes are a server's text frame (unmasked), so this is used only for sessions without negotiated
 * extensions (an extension such as permessage-deflate would transform frames). The write is complete, or queued in
 * order by the container, when the call returns, so the outbox is told at once; a write that fails later closes the
 * connection, and the client resumes by {@code seq}. If the session is not Tyrus's, or Tyrus has changed, the
 * WebSocket API's {@code sendText} is used.
 */
final class TyrusRawFrames {

    private static final String REMOTE_CLASS = "org.glassfish.tyrus.core.TyrusRemoteEndpoint";
    private static final SendResult OK = new SendResult();
    private static volatile Field webSocketField;
    private static volatile Method sendRaw;
    private static final ContainerShortcut SHORTCUT = new ContainerShortcut(TyrusRawFrames.class,
            "WebSocket frames are framed once per envelope and written to each socket as bytes",
            "WebSocket frames are framed by the container for each socket");

    private TyrusRawFrames() {
    }

    /** A writer of ready-made frames for this session, or the WebSocket API's where that is not possible. */
    static FrameWriter writer(Session session) {
        Object webSocket = webSocket(session);
        if (webSocket == null) {
            return FrameWriter.api(session);
        }
        SHORTCUT.worked();
        return new RawWriter(webSocket, sendRaw);
    }

    /** Writes a frame's bytes, or several frames joined, as they are. */
    private record RawWriter(Object webSocket, Method send) implements FrameWriter {

        @Override
        public void write(WireFrame frame, SendHandler done) {
            SendResult result;
            try {
                Future<?> written = (Future<?>) send.invoke(webSocket, frame.wire());
                if (written.isDone()) {
                    // Tyrus wrote it on this thread: Grizzly has put the bytes on the wire or copied the rest into
                    // its queue. Where Tyrus queued the buffer itself (the socket was not ready), it keeps the bytes.
                    frame.bytesTaken();
                }
                result = resultOf(written);
            } catch (InvocationTargetException e) {
                result = new SendResult(e.getCause());
            } catch (IllegalAccessException | RuntimeException e) {
                result = new SendResult(e);
            }
            done.onResult(result);
        }

        @Override
        public boolean joinsFrames() {
            return true;
        }
    }

    private static SendResult resultOf(Future<?> written) {
        if (!written.isDone()) {
            return OK; // queued in order behind earlier frames of this socket
        }
        try {
            written.get();
            return OK;
        } catch (ExecutionException e) {
            return new SendResult(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new SendResult(e);
        }
    }

    /** The session's Tyrus web socket, or null if it is not Tyrus's, has extensions, or is closed. */
    static Object webSocket(Session session) {
        if (SHORTCUT.unavailable()) {
            return null;
        }
        Object remote;
        try {
            if (!session.getNegotiatedExtensions().isEmpty()) {
                return null;
            }
            remote = session.getAsyncRemote();
        } catch (IllegalStateException e) {
            return null; // closed meanwhile (Tyrus refuses a closed session's endpoint); its first write fails
        }
        if (remote == null) {
            return null;
        }
        try {
            Field field = webSocketField;
            if (field == null) {
                Class<?> remoteClass = remote.getClass();
                while (remoteClass != null && !remoteClass.getName().equals(REMOTE_CLASS)) {
                    remoteClass = remoteClass.getSuperclass();
                }
                if (remoteClass == null) {
                    return null; // another WebSocket implementation: nothing to give up on
                }
                field = remoteClass.getDeclaredField("webSocket");
                field.setAccessible(true);
                Method method = field.getType().getMethod("sendRawFrame", ByteBuffer.class);
                if (!Future.class.isAssignableFrom(method.getReturnType())) {
                    throw new NoSuchMethodException("sendRawFrame returns " + method.getReturnType().getName());
                }
                sendRaw = method;
                webSocketField = field;
            } else if (!field.getDeclaringClass().isInstance(remote)) {
                return null;
            }
            return field.get(remote);
        } catch (NoSuchFieldException | NoSuchMethodException | IllegalAccessException | RuntimeException e) {
            SHORTCUT.giveUp(e);
            return null;
        }
    }
}
