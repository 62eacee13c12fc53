package org.mikrotext.relay.envelope.boundary;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Lets a socket's frames go from the relay's bytes straight to the connection on Payara, instead of through a fresh
 * 8 KB buffer per write.
 *
 * <p>An upgraded connection writes through the HTTP response it was upgraded from. Grizzly's output buffer copies a
 * write that fits its buffer size (8 KB, set by Payara's web container) into a buffer it allocates for that write and
 * drops after the flush; only a thread of Grizzly's own pool gets those bytes back. The relay writes from its
 * publisher threads, so that was a fresh 8 KB array for every write to every socket: 42 % of all the bytes the relay
 * allocated at 2,500 envelopes/s (docs/performance.md, after 8). A write larger than the buffer size goes to the
 * connection as it is (Grizzly copies it only if the socket cannot take it at once). Grizzly's
 * {@code OutputBuffer.setBufferSize} accepts a smaller size (at least 512 bytes) until the response is committed,
 * but the servlet API's {@code setBufferSize} only ever grows it. So the handshake filter reaches Grizzly's buffer
 * through the servlet response ({@code ResponseFacade.response}, {@code Response.outputBuffer},
 * {@code OutputBuffer.grizzlyOutputBuffer}) before the upgrade and sets it to 512 bytes. The response of a handshake
 * has no body, so nothing else changes. On another container, or if these fields are gone, nothing is changed and
 * one INFO line says so.
 */
final class GrizzlyOutputBuffer {

    /** Grizzly's smallest buffer size; frames of an envelope are larger, so they are written without a copy. */
    static final int SIZE = 512;
    private static final String FACADE = "org.apache.catalina.connector.ResponseFacade";
    private static final String[] PATH = {"response", "outputBuffer", "grizzlyOutputBuffer"};
    private static volatile Field[] fields;
    private static volatile Method setSize;
    private static final ContainerShortcut SHORTCUT = new ContainerShortcut(GrizzlyOutputBuffer.class,
            "WebSocket writes go from the relay's frames to the connection (container output buffer " + SIZE
                    + " bytes)",
            "WebSocket writes go through the container's output buffer");

    private GrizzlyOutputBuffer() {
    }

    /** Shrinks the container's output buffer of a handshake's response; true if it did. */
    static boolean shrink(ServletResponse response) {
        ServletResponse inner = response;
        while (inner instanceof ServletResponseWrapper wrapper) {
            inner = wrapper.getResponse();
        }
        return shrinkFacade(inner);
    }

    /** {@link #shrink} for the container's own response object. */
    static boolean shrinkFacade(Object facade) {
        if (SHORTCUT.unavailable() || facade == null || !facade.getClass().getName().equals(FACADE)) {
            return false;
        }
        try {
            Field[] path = fields;
            if (path == null) {
                path = new Field[PATH.length];
                Class<?> owner = facade.getClass();
                for (int i = 0; i < PATH.length; i++) {
                    path[i] = field(owner, PATH[i]);
                    owner = path[i].getType();
                }
                setSize = owner.getMethod("setBufferSize", int.class);
                fields = path;
            }
            Object buffer = facade;
            for (Field field : path) {
                buffer = field.get(buffer);
                if (buffer == null) {
                    return false;
                }
            }
            setSize.invoke(buffer, SIZE);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return SHORTCUT.giveUp(e);
        }
        SHORTCUT.worked();
        return true;
    }

    /** The field {@code name} of {@code owner} or of a superclass, made accessible. */
    static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        for (Class<?> type = owner; type != null; type = type.getSuperclass()) {
            try {
                Field field = type.getDeclaredField(name);
                field.setAccessible(true);
                return field;
            } catch (NoSuchFieldException e) {
                // a superclass may declare it
            }
        }
        throw new NoSuchFieldException(owner.getName() + "." + name);
    }
}
