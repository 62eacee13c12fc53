package org.mikrotext.relay.envelope.boundary;

import java.lang.reflect.Field;

/**
 * Lets go of what Tyrus (Payara) keeps of a socket's handshake once the socket is open.
 *
 * <p>Tyrus's servlet upgrade handler keeps the handshake's {@code UpgradeInfo} in a field for the life of the socket,
 * although it reads it once, to create the connection at the start of {@code init}. It holds Tyrus's copy of the
 * handshake request (every header, the parameters, the path) and of the answer: about 2.5 KB per idle socket with the
 * benchmark's five request headers, more with a browser's (docs/performance.md, after 11). When a socket's
 * {@code hello} arrives, its connection exists ({@code init} set it before any frame could be read), so the field is
 * set to null. The handler is reached from the socket's Tyrus web socket ({@link TyrusRawFrames#webSocket}) through
 * its protocol handler, the servlet writer and the proxy Tyrus puts in front of the handler, all fields. If any of them is missing, or the writer is not the
 * servlet container's, nothing is changed and one INFO line says so.
 */
final class TyrusHandshakeState {

    private static final String SERVLET_WRITER = "org.glassfish.tyrus.servlet.TyrusServletWriter";
    /** {@code TyrusWebSocket.protocolHandler}, {@code ProtocolHandler.writer}. */
    private static volatile Field[] toWriter;
    /** {@code TyrusServletWriter.tyrusHttpUpgradeHandler}, its {@code connection} and {@code upgradeInfo}. */
    private static volatile Field[] inHandler;
    /** {@code TyrusServletUpgrade$TyrusHttpUpgradeHandlerProxy.handler}. */
    private static volatile Field proxyHandler;
    private static final ContainerShortcut SHORTCUT = new ContainerShortcut(TyrusHandshakeState.class,
            "WebSocket sockets release Tyrus's copy of their handshake once open",
            "WebSocket sockets keep Tyrus's copy of their handshake");

    private TyrusHandshakeState() {
    }

    /** Drops the handshake state of the open socket behind a Tyrus web socket; true if it did. */
    static boolean release(Object webSocket) {
        if (SHORTCUT.unavailable() || webSocket == null) {
            return false;
        }
        try {
            Field[] path = toWriter;
            if (path == null) {
                Field protocolHandler = GrizzlyOutputBuffer.field(webSocket.getClass(), "protocolHandler");
                path = new Field[] {protocolHandler, GrizzlyOutputBuffer.field(protocolHandler.getType(), "writer")};
                toWriter = path;
            }
            Object protocolHandler = path[0].get(webSocket);
            Object writer = protocolHandler == null ? null : path[1].get(protocolHandler);
            if (writer == null || !writer.getClass().getName().equals(SERVLET_WRITER)) {
                return false;
            }
            Field[] handler = inHandler;
            if (handler == null) {
                Field upgradeHandler = GrizzlyOutputBuffer.field(writer.getClass(), "tyrusHttpUpgradeHandler");
                handler = new Field[] {upgradeHandler,
                    GrizzlyOutputBuffer.field(upgradeHandler.getType(), "connection"),
                    GrizzlyOutputBuffer.field(upgradeHandler.getType(), "upgradeInfo")};
                inHandler = handler;
            }
            Object upgradeHandler = handler[0].get(writer);
            if (upgradeHandler != null && upgradeHandler.getClass() != handler[0].getType()) {
                upgradeHandler = delegate(upgradeHandler, handler[0].getType());
            }
            if (upgradeHandler == null || handler[1].get(upgradeHandler) == null) {
                return false;
            }
            handler[2].set(upgradeHandler, null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return SHORTCUT.giveUp(e);
        }
        SHORTCUT.worked();
        return true;
    }

    /** The handler a proxy of Tyrus's ({@code TyrusServletUpgrade$TyrusHttpUpgradeHandlerProxy}) passes calls to. */
    private static Object delegate(Object proxy, Class<?> handlerType) throws ReflectiveOperationException {
        Field field = proxyHandler;
        if (field == null || field.getDeclaringClass() != proxy.getClass()) {
            field = GrizzlyOutputBuffer.field(proxy.getClass(), "handler");
            if (!handlerType.isAssignableFrom(field.getType())) {
                throw new NoSuchFieldException(proxy.getClass().getName() + ".handler is a " + field.getType());
            }
            proxyHandler = field;
        }
        return field.get(proxy);
    }
}
