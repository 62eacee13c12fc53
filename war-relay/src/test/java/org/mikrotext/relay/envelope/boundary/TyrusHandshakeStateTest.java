package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mikrotext.relay.envelope.boundary.PayaraClasses.call;
import static org.mikrotext.relay.envelope.boundary.PayaraClasses.construct;
import static org.mikrotext.relay.envelope.boundary.PayaraClasses.field;
import static org.mikrotext.relay.envelope.boundary.PayaraClasses.set;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.URLClassLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link TyrusHandshakeState} on the Tyrus of the Payara Micro the relay runs on ({@link PayaraClasses}). */
class TyrusHandshakeStateTest {

    @TempDir
    static Path dir;
    private static URLClassLoader tyrus;

    @BeforeAll
    static void loadPayarasTyrus() throws IOException {
        tyrus = PayaraClasses.of(dir, "tyrus-core.jar", "tyrus-spi.jar", "tyrus-container-servlet.jar");
    }

    @AfterAll
    static void close() throws IOException {
        tyrus.close();
    }

    @Test
    void anOpenSocketsHandlerBehindTyrussProxyForgetsTheHandshake() throws Exception {
        Object handler = handler(true);

        assertTrue(TyrusHandshakeState.release(webSocket(handler)));

        assertNull(field(handler, "upgradeInfo"), "the handshake's request and answer are no longer held");
        assertNotNull(field(handler, "connection"), "the connection itself is untouched");
    }

    @Test
    void aHandlerWithoutItsConnectionYetKeepsTheHandshake() throws Exception {
        Object handler = handler(false);
        Object upgradeInfo = field(handler, "upgradeInfo");

        assertFalse(TyrusHandshakeState.release(webSocket(handler)));

        assertSame(upgradeInfo, field(handler, "upgradeInfo"), "init still needs it to create the connection");
    }

    @Test
    void aSocketWithoutAServletWriterIsLeftAlone() throws Exception {
        assertFalse(TyrusHandshakeState.release(webSocketWriting(null)));
        assertFalse(TyrusHandshakeState.release(null));
        assertTrue(TyrusHandshakeState.release(webSocket(handler(true))), "later sockets are still released");
    }

    /** Tyrus's upgrade handler after {@code preInit}, and after {@code init} if {@code initialised}. */
    private Object handler(boolean initialised) throws Exception {
        Class<?> handlerType = tyrus.loadClass("org.glassfish.tyrus.servlet.TyrusHttpUpgradeHandler");
        Object handler = handlerType.getConstructor().newInstance();
        set(handler, "upgradeInfo", stub("org.glassfish.tyrus.spi.WebSocketEngine$UpgradeInfo"));
        if (initialised) {
            set(handler, "connection", stub("org.glassfish.tyrus.spi.Connection"));
        }
        return handler;
    }

    /** The socket a handler serves, as Tyrus wires it: web socket, protocol handler, servlet writer, proxy. */
    private Object webSocket(Object handler) throws Exception {
        Object proxy = construct(tyrus.loadClass("org.glassfish.tyrus.servlet.TyrusServletUpgrade$TyrusHttpUpgradeHandlerProxy"),
                new Class<?>[0]);
        call(proxy, "setHandler", handler);
        Object writer = construct(tyrus.loadClass("org.glassfish.tyrus.servlet.TyrusServletWriter"),
                new Class<?>[] {handler.getClass()}, proxy);
        return webSocketWriting(writer);
    }

    /** A Tyrus web socket whose protocol handler writes through {@code writer} (none if null). */
    private Object webSocketWriting(Object writer) throws Exception {
        Object protocolHandler = construct(tyrus.loadClass("org.glassfish.tyrus.core.ProtocolHandler"),
                new Class<?>[] {boolean.class, tyrus.loadClass("org.glassfish.tyrus.core.MaskingKeyGenerator")},
                false, null);
        if (writer != null) {
            call(protocolHandler, "setWriter", writer);
        }
        return construct(tyrus.loadClass("org.glassfish.tyrus.core.TyrusWebSocket"),
                new Class<?>[] {protocolHandler.getClass(), tyrus.loadClass("org.glassfish.tyrus.core.TyrusEndpointWrapper")},
                protocolHandler, null);
    }

    private Object stub(String interfaceName) throws ClassNotFoundException {
        return Proxy.newProxyInstance(tyrus, new Class<?>[] {tyrus.loadClass(interfaceName)}, (p, m, a) -> null);
    }
}
