package org.mikrotext.relay.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Arrays;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.mikrotext.config.SettingProblems;
import org.mikrotext.relay.limits.control.IpAddresses;

/**
 * Every limit of the relay, each a MicroProfile Config key with the protocol's default. Documented, with its key,
 * in the README's configuration table. Checked once at start: a count, size or duration that is not positive, or
 * room lifetimes out of order, stop the deployment with one message that names every such key and its value.
 */
@ApplicationScoped
public class Limits {

    /**
     * How much of one WebSocket frame the container holds ({@code org.glassfish.tyrus.servlet.incoming-buffer-size} in
     * {@code WEB-INF/web.xml}); a frame of {@link #maxFrameBytes()} and its header must fit in it.
     */
    static final int CONTAINER_FRAME_BUFFER = 262_144;
    private static final int FRAME_HEADER_BYTES = 14;

    @Inject
    @ConfigProperty(name = "mikrotext.room.min-ttl", defaultValue = "PT5M")
    Duration minTtl;

    @Inject
    @ConfigProperty(name = "mikrotext.room.max-ttl", defaultValue = "P7D")
    Duration maxTtl;

    @Inject
    @ConfigProperty(name = "mikrotext.room.default-ttl", defaultValue = "PT24H")
    Duration defaultTtl;

    @Inject
    @ConfigProperty(name = "mikrotext.room.max-participants", defaultValue = "64")
    int maxParticipants;

    @Inject
    @ConfigProperty(name = "mikrotext.room.max-joins", defaultValue = "256")
    int maxJoins;

    @Inject
    @ConfigProperty(name = "mikrotext.room.max-open-invites", defaultValue = "256")
    int maxOpenInvites;

    @Inject
    @ConfigProperty(name = "mikrotext.room.max-envelopes", defaultValue = "10000")
    int maxEnvelopes;

    @Inject
    @ConfigProperty(name = "mikrotext.envelope.max-ciphertext-bytes", defaultValue = "65536")
    int maxCiphertextBytes;

    @Inject
    @ConfigProperty(name = "mikrotext.envelope.max-in-flight", defaultValue = "20000")
    int maxInFlight;

    @Inject
    @ConfigProperty(name = "mikrotext.envelope.max-in-flight-bytes", defaultValue = "67108864")
    int maxInFlightBytes;

    @Inject
    @ConfigProperty(name = "mikrotext.ws.max-frame-bytes", defaultValue = "163840")
    int maxFrameBytes;

    @Inject
    @ConfigProperty(name = "mikrotext.rest.max-body-bytes", defaultValue = "163840")
    int maxBodyBytes;

    @Inject
    @ConfigProperty(name = "mikrotext.pseudonym.max-code-points", defaultValue = "40")
    int maxPseudonymCodePoints;

    @Inject
    @ConfigProperty(name = "mikrotext.rate.send.capacity", defaultValue = "20")
    int sendCapacity;

    @Inject
    @ConfigProperty(name = "mikrotext.rate.send.period", defaultValue = "PT10S")
    Duration sendPeriod;

    @Inject
    @ConfigProperty(name = "mikrotext.rate.join.capacity", defaultValue = "30")
    int joinCapacity;

    @Inject
    @ConfigProperty(name = "mikrotext.rate.join.period", defaultValue = "PT1M")
    Duration joinPeriod;

    @Inject
    @ConfigProperty(name = "mikrotext.rate.api.capacity", defaultValue = "1200")
    int apiCapacity;

    @Inject
    @ConfigProperty(name = "mikrotext.rate.api.period", defaultValue = "PT1M")
    Duration apiPeriod;

    @Inject
    @ConfigProperty(name = "mikrotext.ws.flood-close-after", defaultValue = "10")
    int floodCloseAfter;

    @Inject
    @ConfigProperty(name = "mikrotext.ws.hello-timeout", defaultValue = "PT10S")
    Duration helloTimeout;

    @Inject
    @ConfigProperty(name = "mikrotext.ws.max-queued-bytes", defaultValue = "4194304")
    int maxQueuedBytes;

    @Inject
    @ConfigProperty(name = "mikrotext.ws.max-slow-catch-ups", defaultValue = "16")
    int maxSlowCatchUps;

    @Inject
    @ConfigProperty(name = "mikrotext.ws.allowed-origins", defaultValue = " ")
    String allowedOrigins;

    @Inject
    @ConfigProperty(name = "mikrotext.http.trusted-proxies", defaultValue = " ")
    String trustedProxies;

    /** At start: refuses to deploy with limits that would make the relay misbehave, naming each one. */
    void check(@Observes @Initialized(ApplicationScoped.class) Object ignored) {
        SettingProblems.refuseStartWith(problems());
    }

    /** What is wrong with these limits, one sentence per key; empty when they are all usable. */
    List<String> problems() {
        SettingProblems problems = new SettingProblems()
                .positive("mikrotext.room.min-ttl", minTtl)
                .positive("mikrotext.room.max-ttl", maxTtl)
                .positive("mikrotext.room.default-ttl", defaultTtl);
        if (minTtl.compareTo(maxTtl) > 0) {
            problems.add("mikrotext.room.min-ttl (" + minTtl + ") must not exceed mikrotext.room.max-ttl (" + maxTtl
                    + ")");
        } else if (defaultTtl.compareTo(minTtl) < 0 || defaultTtl.compareTo(maxTtl) > 0) {
            problems.add("mikrotext.room.default-ttl (" + defaultTtl + ") must lie between mikrotext.room.min-ttl ("
                    + minTtl + ") and mikrotext.room.max-ttl (" + maxTtl + ")");
        }
        problems
                .atLeastOne("mikrotext.room.max-participants", maxParticipants)
                .atLeastOne("mikrotext.room.max-joins", maxJoins)
                .atLeastOne("mikrotext.room.max-open-invites", maxOpenInvites)
                .atLeastOne("mikrotext.room.max-envelopes", maxEnvelopes)
                .atLeastOne("mikrotext.envelope.max-ciphertext-bytes", maxCiphertextBytes)
                .atLeastOne("mikrotext.envelope.max-in-flight", maxInFlight)
                .atLeastOne("mikrotext.envelope.max-in-flight-bytes", maxInFlightBytes)
                .atLeastOne("mikrotext.ws.max-frame-bytes", maxFrameBytes)
                .atLeastOne("mikrotext.rest.max-body-bytes", maxBodyBytes)
                .atLeastOne("mikrotext.pseudonym.max-code-points", maxPseudonymCodePoints)
                .atLeastOne("mikrotext.rate.send.capacity", sendCapacity)
                .positive("mikrotext.rate.send.period", sendPeriod)
                .atLeastOne("mikrotext.rate.join.capacity", joinCapacity)
                .positive("mikrotext.rate.join.period", joinPeriod)
                .atLeastOne("mikrotext.rate.api.capacity", apiCapacity)
                .positive("mikrotext.rate.api.period", apiPeriod)
                .atLeastOne("mikrotext.ws.flood-close-after", floodCloseAfter)
                .positive("mikrotext.ws.hello-timeout", helloTimeout)
                .atLeastOne("mikrotext.ws.max-queued-bytes", maxQueuedBytes)
                .atLeastOne("mikrotext.ws.max-slow-catch-ups", maxSlowCatchUps);
        if (maxFrameBytes > CONTAINER_FRAME_BUFFER - FRAME_HEADER_BYTES) {
            problems.add("mikrotext.ws.max-frame-bytes (" + maxFrameBytes + ") must not exceed "
                    + (CONTAINER_FRAME_BUFFER - FRAME_HEADER_BYTES) + ": the WebSocket container holds at most "
                    + CONTAINER_FRAME_BUFFER + " bytes of a frame (WEB-INF/web.xml)");
        }
        for (String origin : list(allowedOrigins)) {
            if (!isOrigin(origin)) {
                problems.add("mikrotext.ws.allowed-origins must list origins such as https://chat.example.com ('"
                        + origin + "' is not one)");
            }
        }
        for (String proxy : list(trustedProxies)) {
            if (IpAddresses.canonical(proxy).isEmpty()) {
                problems.add("mikrotext.http.trusted-proxies must list IP addresses ('" + proxy + "' is not one)");
            }
        }
        return problems.list();
    }

    /** {@code http} or {@code https}, a host and perhaps a port; nothing else (a browser's {@code Origin}). */
    private static boolean isOrigin(String text) {
        try {
            URI uri = new URI(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
            // A host the URI grammar does not parse (my_app:8080) still has an authority, as in a browser's Origin.
            String authority = uri.getRawAuthority();
            return ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
                    && authority != null && authority.indexOf('@') < 0 && uri.getRawPath().isEmpty()
                    && uri.getRawQuery() == null && uri.getRawFragment() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static List<String> list(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    public Duration minTtl() {
        return minTtl;
    }

    public Duration maxTtl() {
        return maxTtl;
    }

    public Duration defaultTtl() {
        return defaultTtl;
    }

    public int maxParticipants() {
        return maxParticipants;
    }

    /** Participants a room may have in its life, those who left included (their rows stay until it ends). */
    public int maxJoins() {
        return maxJoins;
    }

    public int maxOpenInvites() {
        return maxOpenInvites;
    }

    public int maxEnvelopes() {
        return maxEnvelopes;
    }

    public int maxCiphertextBytes() {
        return maxCiphertextBytes;
    }

    /** Envelopes checked and not yet stored and handed to their sockets, past which sends are refused as busy. */
    public int maxInFlight() {
        return maxInFlight;
    }

    /** The ciphertext bytes of those envelopes, bounded the same way. */
    public int maxInFlightBytes() {
        return maxInFlightBytes;
    }

    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    public int maxBodyBytes() {
        return maxBodyBytes;
    }

    public int maxPseudonymCodePoints() {
        return maxPseudonymCodePoints;
    }

    public int sendCapacity() {
        return sendCapacity;
    }

    public Duration sendPeriod() {
        return sendPeriod;
    }

    public int joinCapacity() {
        return joinCapacity;
    }

    public Duration joinPeriod() {
        return joinPeriod;
    }

    public int apiCapacity() {
        return apiCapacity;
    }

    public Duration apiPeriod() {
        return apiPeriod;
    }

    public int floodCloseAfter() {
        return floodCloseAfter;
    }

    public Duration helloTimeout() {
        return helloTimeout;
    }

    public int maxQueuedBytes() {
        return maxQueuedBytes;
    }

    /** Catch-ups that may wait for their socket's reader at once; one more that would wait is closed (1013). */
    public int maxSlowCatchUps() {
        return maxSlowCatchUps;
    }

    /** Extra origins allowed to open sockets, beyond the relay's own, http(s)://127.0.0.1 and http(s)://localhost. */
    public List<String> allowedOrigins() {
        return list(allowedOrigins);
    }

    /** Reverse proxies whose {@code X-Forwarded-For} names the client, in canonical form ({@link IpAddresses}). */
    public List<String> trustedProxies() {
        return list(trustedProxies).stream().flatMap(p -> IpAddresses.canonical(p).stream()).toList();
    }
}
