package org.glassfish.tyrus.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Extension;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import java.net.URI;
import java.security.Principal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in with the shape of Tyrus 2.1's session as far as the relay relies on it: the class name, a private
 * {@code service} scheduler, an {@code IdleTimeoutCommand} that it schedules on every frame, and an asynchronous
 * remote endpoint over the session's socket.
 */
public class TyrusSession implements Session {

    private ScheduledExecutorService service;
    private long maxIdleTimeout;
    private TyrusRemoteEndpoint.Async asyncRemote;
    private List<Extension> extensions = List.of();
    private boolean closed;

    public TyrusSession(ScheduledExecutorService service) {
        this.service = service;
    }

    /** What Tyrus does on every frame received or sent. */
    public void restartIdleTimeoutExecutor() {
        service.schedule(new IdleTimeoutCommand(), maxIdleTimeout, TimeUnit.MILLISECONDS);
    }

    /** Gives the session a socket, as Tyrus does through its remote endpoints, and the extensions it negotiated. */
    public TyrusSession connect(TyrusWebSocket socket, List<Extension> negotiated) {
        asyncRemote = new TyrusRemoteEndpoint.Async(socket);
        extensions = negotiated;
        return this;
    }

    public ScheduledExecutorService scheduler() {
        return service;
    }

    public class IdleTimeoutCommand implements Runnable {
        @Override
        public void run() {
        }
    }

    @Override
    public long getMaxIdleTimeout() {
        return maxIdleTimeout;
    }

    @Override
    public void setMaxIdleTimeout(long milliseconds) {
        maxIdleTimeout = milliseconds;
    }

    @Override
    public WebSocketContainer getContainer() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void addMessageHandler(MessageHandler handler) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> void addMessageHandler(Class<T> clazz, MessageHandler.Whole<T> handler) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> void addMessageHandler(Class<T> clazz, MessageHandler.Partial<T> handler) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Set<MessageHandler> getMessageHandlers() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void removeMessageHandler(MessageHandler handler) {
        throw new UnsupportedOperationException();
    }

    @Override
    public String getProtocolVersion() {
        return "13";
    }

    @Override
    public String getNegotiatedSubprotocol() {
        return "";
    }

    @Override
    public List<Extension> getNegotiatedExtensions() {
        return extensions;
    }

    @Override
    public boolean isSecure() {
        return false;
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void setMaxBinaryMessageBufferSize(int length) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int getMaxBinaryMessageBufferSize() {
        return 0;
    }

    @Override
    public void setMaxTextMessageBufferSize(int length) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int getMaxTextMessageBufferSize() {
        return 0;
    }

    @Override
    public RemoteEndpoint.Async getAsyncRemote() {
        if (closed) {
            throw new IllegalStateException("The connection has been closed.");
        }
        return asyncRemote;
    }

    /** As Tyrus once the client has gone: the remote endpoints are refused. */
    public void closedByClient() {
        closed = true;
    }

    @Override
    public RemoteEndpoint.Basic getBasicRemote() {
        throw new UnsupportedOperationException();
    }

    @Override
    public String getId() {
        return "1";
    }

    @Override
    public void close() {
    }

    @Override
    public void close(CloseReason closeReason) {
    }

    @Override
    public URI getRequestURI() {
        return URI.create("/ws/rooms/x");
    }

    @Override
    public Map<String, List<String>> getRequestParameterMap() {
        return Map.of();
    }

    @Override
    public String getQueryString() {
        return null;
    }

    @Override
    public Map<String, String> getPathParameters() {
        return Map.of();
    }

    @Override
    public Map<String, Object> getUserProperties() {
        return Map.of();
    }

    @Override
    public Principal getUserPrincipal() {
        return null;
    }

    @Override
    public Set<Session> getOpenSessions() {
        return Set.of();
    }
}
