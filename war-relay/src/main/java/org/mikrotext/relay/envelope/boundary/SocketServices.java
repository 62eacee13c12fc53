package org.mikrotext.relay.envelope.boundary;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.envelope.control.Envelopes;
import org.mikrotext.relay.envelope.control.RoomChannels;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.room.control.RoomService;
import org.mikrotext.relay.room.control.Sessions;

/**
 * What a {@link RoomSocket} uses, looked up once by {@link RoomSocketConfigurator} and handed to every socket, so that
 * no socket carries injection state of its own (see docs/performance.md, heap per idle socket). Reached through
 * methods: the reference handed out is a client proxy.
 */
@ApplicationScoped
public class SocketServices {

    @Inject
    Sessions sessions;

    @Inject
    RoomService rooms;

    @Inject
    Envelopes envelopes;

    @Inject
    RoomChannels channels;

    @Inject
    Limits limits;

    @Inject
    RelayMetrics metrics;

    Sessions sessions() {
        return sessions;
    }

    RoomService rooms() {
        return rooms;
    }

    Envelopes envelopes() {
        return envelopes;
    }

    RoomChannels channels() {
        return channels;
    }

    Limits limits() {
        return limits;
    }

    RelayMetrics metrics() {
        return metrics;
    }
}
