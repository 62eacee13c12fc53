package org.mikrotext.relay.operations;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.MetricUnits;
import org.eclipse.microprofile.metrics.Tag;
import org.eclipse.microprofile.metrics.Timer;
import org.mikrotext.relay.envelope.control.EnvelopeLog;
import org.mikrotext.relay.envelope.control.RoomChannels;
import org.mikrotext.store.boundary.RoomStore;

/**
 * The relay's MicroProfile metrics (at {@code /metrics}): open sockets, active rooms, envelopes accepted, in flight and
 * delivered, group commits and their hand-over to sockets (count and time), and refusals by reason. The expiry sweep
 * records its own duration and deletions.
 */
@ApplicationScoped
public class RelayMetrics {

    @Inject
    MetricRegistry registry;

    @Inject
    RoomChannels channels;

    @Inject
    RoomStore store;

    @Inject
    EnvelopeLog log;

    private final Clock clock = Clock.systemUTC();
    private final Map<String, Counter> rejections = new ConcurrentHashMap<>();
    private Counter accepted;
    private Counter delivered;
    private Timer stored;
    private Timer published;

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
        stored = registry.timer(Metadata.builder().withName("mikrotext.envelopes.store")
                .withDescription("Group commits of envelopes: one per batch, with how long the batch took to store")
                .withUnit(MetricUnits.SECONDS).build());
        published = registry.timer(Metadata.builder().withName("mikrotext.envelopes.publish")
                .withDescription("Committed batches handed to sockets and acknowledged, with how long that took")
                .withUnit(MetricUnits.SECONDS).build());
        registry.gauge(Metadata.builder().withName("mikrotext.sockets.open")
                .withDescription("Authenticated WebSocket connections").build(), channels, RoomChannels::openSockets);
        registry.gauge(Metadata.builder().withName("mikrotext.envelopes.in-flight")
                .withDescription("Envelopes checked and not yet stored and handed to their sockets; at 20,000 (or "
                        + "64 MiB of ciphertext) the relay refuses sends as relay-busy").build(), log,
                EnvelopeLog::inFlight);
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

    /** One group commit of envelopes took {@code elapsed}. */
    public void stored(Duration elapsed) {
        stored.update(elapsed);
    }

    /** One committed batch was handed to its sockets and acknowledged in {@code elapsed}. */
    public void published(Duration elapsed) {
        published.update(elapsed);
    }

    /**
     * A refusal, by the short name of its problem type (e.g. {@code bad-signature}, {@code rate-limited}). Each
     * reason's counter is looked up in the registry once: an overloaded relay refuses thousands of sends a second.
     */
    public void rejected(String reason) {
        rejections.computeIfAbsent(reason, this::rejectionCounter).inc();
    }

    /** The problem types are the relay's own constants, so the map holds a fixed, small set of counters. */
    private Counter rejectionCounter(String reason) {
        return registry.counter(Metadata.builder().withName("mikrotext.rejections")
                .withDescription("Requests and frames refused, by reason").build(), new Tag("reason", reason));
    }
}
