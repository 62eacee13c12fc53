package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mikrotext.relay.envelope.boundary.PayaraClasses.call;
import static org.mikrotext.relay.envelope.boundary.PayaraClasses.field;
import static org.mikrotext.relay.envelope.boundary.PayaraClasses.set;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URLClassLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link GrizzlyUpgradeRequest} on Payara's own Grizzly: the classes are loaded from the
 * {@code nucleus-grizzly-all.jar} inside the Payara Micro the relay runs on ({@link PayaraClasses}).
 */
class GrizzlyUpgradeRequestTest {

    @TempDir
    static Path dir;
    private static URLClassLoader grizzly;

    @BeforeAll
    static void loadPayarasGrizzly() throws IOException {
        grizzly = PayaraClasses.of(dir, "nucleus-grizzly-all.jar");
    }

    @AfterAll
    static void close() throws IOException {
        grizzly.close();
    }

    @Test
    void anAnsweredHandshakeKeepsNoHeadersAndNoScratchBuffers() throws Exception {
        Object request = upgradedRequest();
        Object packet = call(request, "getRequest");
        Object requestHeaders = call(packet, "getHeaders");
        Object responseHeaders = call(call(packet, "getResponse"), "getHeaders");
        Object parameters = call(request, "getParameters");
        assertEquals("sso=secret", call(requestHeaders, "getHeader", "Cookie"));
        assertEquals("Upgrade", call(responseHeaders, "getHeader", "Connection"));
        assertNotNull(buffer(parameters, "tmpNameC"), "Grizzly allocates the parser's scratch buffers with the request");

        assertTrue(GrizzlyUpgradeRequest.releaseServerRequest(request));

        for (Object headers : new Object[] {requestHeaders, responseHeaders}) {
            assertEquals(0, call(headers, "size"));
            for (Object field : (Object[]) field(headers, "headers")) {
                assertNull(field, "no header field object is kept");
            }
        }
        assertNull(call(requestHeaders, "getHeader", "Cookie"), "the handshake's cookie is gone");
        assertNull(buffer(parameters, "tmpNameC"));
        assertNull(buffer(parameters, "tmpValueC"));
        assertEquals("GET", call(call(packet, "getMethod"), "getMethodString"), "the request line is untouched");

        // Grizzly can still use all of it: headers are added again, parameters parsed again.
        call(call(requestHeaders, "addValue", "X-Later"), "setString", "yes");
        assertEquals("yes", call(requestHeaders, "getHeader", "X-Later"));
        call(parameters, "processParameters", "a=b");
        assertEquals("b", call(parameters, "getParameter", "a"));
    }

    @Test
    void anotherContainersRequestIsLeftAlone() {
        HttpServletRequest other = (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> null);
        assertFalse(GrizzlyUpgradeRequest.release(other));
        assertFalse(GrizzlyUpgradeRequest.release(null));
    }

    /** A WebSocket handshake's request as Grizzly holds it after the 101 went out, with its answer. */
    private Object upgradedRequest() throws Exception {
        Class<?> packetType = grizzly.loadClass("org.glassfish.grizzly.http.HttpRequestPacket");
        Object builder = packetType.getMethod("builder").invoke(null);
        call(builder, "method", "GET");
        call(builder, "uri", "/ws/rooms/r1");
        call(builder, "protocol", "HTTP/1.1");
        call(builder, "header", "Host", "relay.example");
        call(builder, "header", "Upgrade", "websocket");
        call(builder, "header", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        call(builder, "header", "Cookie", "sso=secret");
        Object packet = call(builder, "build");
        Class<?> responseType = grizzly.loadClass("org.glassfish.grizzly.http.HttpResponsePacket");
        Object answer = responseType.getMethod("builder", packetType).invoke(null, packet);
        call(answer, "status", 101);
        call(answer, "header", "Upgrade", "websocket");
        call(answer, "header", "Connection", "Upgrade");
        call(answer, "header", "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        Object response = call(answer, "build");
        Method setResponse = packetType.getDeclaredMethod("setResponse", responseType); // protected
        setResponse.setAccessible(true);
        setResponse.invoke(packet, response);
        Object request = grizzly.loadClass("org.glassfish.grizzly.http.server.Request").getMethod("create")
                .invoke(null);
        set(request, "request", packet);
        return request;
    }

    private static Object buffer(Object parameters, String chunk) throws ReflectiveOperationException {
        return field(field(parameters, chunk), "buff");
    }
}
