package org.mikrotext.relay.envelope.boundary;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Lets go of the parsed HTTP headers of a WebSocket handshake on Payara once the handshake is answered, instead of
 * keeping them for as long as the socket is open.
 *
 * <p>Grizzly carries an upgraded connection as the endless body of the request it was upgraded from, so that request,
 * its response and everything they hold live as long as the socket. Most of it is storage for headers: every header
 * of the request and of the {@code 101} answer keeps a field with two chunks of four objects each (about 376 bytes a
 * header), and the request's parameter parser keeps two scratch buffers of 1,024 characters that Grizzly allocates
 * with every request. On an idle socket that was about a third of its heap (docs/performance.md, after 11), and it
 * held the handshake's headers, cookies included, in memory for the socket's whole life.
 *
 * <p>Once the container has sent the {@code 101} ({@code isCommitted}), nothing reads those headers again: Tyrus
 * copied what it needs during the handshake, and the frames that follow are read and written below the header layer.
 * So the handshake filter then empties the header lists of the request and of the response (their public
 * {@code clear()}, then drops the emptied field objects, which Grizzly creates again on demand) and drops the
 * parser's scratch buffers ({@code CharChunk.reset()}; Grizzly allocates them again if it ever parses parameters).
 * The container's objects are reached through public methods ({@code RequestFacade.getUnwrappedCoyoteRequest},
 * {@code Request.getCoyoteRequest}, {@code getRequest}, {@code getResponse}, {@code getHeaders},
 * {@code getParameters}); only the header array ({@code MimeHeaders.headers}) and the scratch buffers
 * ({@code Parameters.tmpNameC}, {@code tmpValueC}) are fields. On another container, or if any of these are gone,
 * nothing is changed and one INFO line says so.
 */
final class GrizzlyUpgradeRequest {

    private static final String FACADE = "org.apache.catalina.connector.RequestFacade";
    private static volatile Method[] facadePath;
    private static volatile Members members;
    private static final ContainerShortcut SHORTCUT = new ContainerShortcut(GrizzlyUpgradeRequest.class,
            "WebSocket handshakes release their parsed headers once answered",
            "WebSocket handshakes keep their headers for the life of the socket");

    private GrizzlyUpgradeRequest() {
    }

    /** The members of Grizzly's request that are used, looked up once. */
    private record Members(Method packet, Method requestHeaders, Method response, Method responseHeaders,
            Method clear, Field headerArray, Method parameters, Field[] scratch, Method reset) {

        static Members of(Class<?> server) throws ReflectiveOperationException {
            Method packet = server.getMethod("getRequest");
            Method requestHeaders = packet.getReturnType().getMethod("getHeaders");
            Method response = packet.getReturnType().getMethod("getResponse");
            Method responseHeaders = response.getReturnType().getMethod("getHeaders");
            Class<?> mimeHeaders = requestHeaders.getReturnType();
            Method parameters = server.getMethod("getParameters");
            Field[] scratch = {GrizzlyOutputBuffer.field(parameters.getReturnType(), "tmpNameC"),
                GrizzlyOutputBuffer.field(parameters.getReturnType(), "tmpValueC")};
            return new Members(packet, requestHeaders, response, responseHeaders, mimeHeaders.getMethod("clear"),
                    GrizzlyOutputBuffer.field(mimeHeaders, "headers"), parameters, scratch,
                    scratch[0].getType().getMethod("reset"));
        }
    }

    /** Releases the headers of an answered handshake; true if it did. */
    static boolean release(ServletRequest request) {
        ServletRequest inner = request;
        while (inner instanceof ServletRequestWrapper wrapper) {
            inner = wrapper.getRequest();
        }
        if (SHORTCUT.unavailable() || inner == null || !inner.getClass().getName().equals(FACADE)) {
            return false;
        }
        Object grizzly;
        try {
            Method[] path = facadePath;
            if (path == null) {
                Method unwrapped = inner.getClass().getMethod("getUnwrappedCoyoteRequest");
                path = new Method[] {unwrapped, unwrapped.getReturnType().getMethod("getCoyoteRequest")};
                facadePath = path;
            }
            Object catalina = path[0].invoke(inner);
            grizzly = catalina == null ? null : path[1].invoke(catalina);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return SHORTCUT.giveUp(e);
        }
        return grizzly != null && releaseServerRequest(grizzly);
    }

    /** {@link #release} for Grizzly's own request ({@code org.glassfish.grizzly.http.server.Request}). */
    static boolean releaseServerRequest(Object grizzlyRequest) {
        if (SHORTCUT.unavailable()) {
            return false;
        }
        try {
            Members m = members;
            if (m == null) {
                m = Members.of(grizzlyRequest.getClass());
                members = m;
            }
            Object packet = m.packet().invoke(grizzlyRequest);
            if (packet == null) {
                return false;
            }
            empty(m, m.requestHeaders().invoke(packet));
            Object response = m.response().invoke(packet);
            if (response != null) {
                empty(m, m.responseHeaders().invoke(response));
            }
            Object parameters = m.parameters().invoke(grizzlyRequest);
            if (parameters != null) {
                for (Field field : m.scratch()) {
                    Object chunk = field.get(parameters);
                    if (chunk != null) {
                        m.reset().invoke(chunk);
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            return SHORTCUT.giveUp(e);
        }
        SHORTCUT.worked();
        return true;
    }

    private static void empty(Members m, Object headers) throws ReflectiveOperationException {
        if (headers == null) {
            return;
        }
        m.clear().invoke(headers);
        Object[] fields = (Object[]) m.headerArray().get(headers);
        if (fields != null) {
            Arrays.fill(fields, null);
        }
    }
}
