package org.mikrotext.relay.operations;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.Tag;
import org.mikrotext.relay.envelope.control.RoomChannels;
import org.mikrotext.store.boundary.RoomStore;

/**
 * The relay's MicroProfile metrics (at {@code /metrics}): open sockets, active rooms, envelopes accepted and
 * delivered, and refusals by reason. The expiry sweep records its own duration and deletions.
 */
@ApplicationScoped
public class RelayMetrics {

    @Inject
    MetricRegistry registry;

    @Inject
    RoomChannels channels;

    @Inject
    RoomStore store;

    private final Clock clock = Clock.systemUTC();
    private Counter accepted;
    private Counter delivered;

    /** Registers the gauges when the application starts, before anything is measured. */
    void onStart(@Observes @Initialized(ApplicationScoped.class) Object ignored) {
        accepted.getCount();
    }

    @PostConstruct
    void register() {
        accepted = registry.counter(Metadata.builder().withName("mikrotext.envelopes.accepted")
                .withDescription("Envelopes verified and stored").build());
        delivered = registry.counter(Metadata.builder().withName("mikrotext.envelopes.delivered")
                .withDescription("Envelope frames handed to sockets (live and catch-up)").build());
        registry.gauge(Metadata.builder().withName("mikrotext.sockets.open")
                .withDescription("Authenticated WebSocket connections").build(), channels, RoomChannels::openSockets);
        registry.gauge(Metadata.builder().withName("mikrotext.rooms.active")
                .withDescription("Rooms that exist and have not expired").build(), this,
                metrics -> metrics.store.countActiveRooms(metrics.clock.instant().getEpochSecond()));
    }

    public void accepted() {
        accepted.inc();
    }

    public void delivered(long frames) {
        delivered.inc(frames);
    }

    /** A refusal, by the short name of its problem type (e.g. {@code bad-signature}, {@code rate-limited}). */
    public void rejected(String reason) {
        registry.counter(Metadata.builder().withName("mikrotext.rejections")
                .withDescription("Requests and frames refused, by reason").build(), new Tag("reason", reason)).inc();
    }
}
