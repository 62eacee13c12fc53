package org.mikrotext.relay.envelope.boundary;

import jakarta.enterprise.inject.spi.CDI;
import jakarta.websocket.server.ServerEndpointConfig;

/**
 * Makes each {@link RoomSocket} with {@code new} and hands it the one {@link SocketServices}. Left to the container,
 * every socket's endpoint instance was made through CDI, which kept an injection context for it (an injection target,
 * its constructor and resource injectors, a creational context: about 0.8 KB) for as long as the socket was open,
 * although the endpoint needs nothing but that one application-scoped bean. Its reference is a client proxy, looked up
 * once. Every other decision (origin, subprotocol, extensions, handshake) stays the container's.
 */
public class RoomSocketConfigurator extends ServerEndpointConfig.Configurator {

    private volatile SocketServices services;

    @Override
    public <T> T getEndpointInstance(Class<T> endpointClass) throws InstantiationException {
        if (endpointClass != RoomSocket.class) {
            return super.getEndpointInstance(endpointClass);
        }
        SocketServices known = services;
        if (known == null) {
            known = CDI.current().select(SocketServices.class).get();
            services = known;
        }
        return endpointClass.cast(new RoomSocket(known));
    }
}
