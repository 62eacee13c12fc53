package org.mikrotext.relay.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LimitsTest {

    /** The defaults of every key, as the README's configuration table gives them. */
    private static Limits defaults() {
        Limits limits = new Limits();
        limits.minTtl = Duration.ofMinutes(5);
        limits.maxTtl = Duration.ofDays(7);
        limits.defaultTtl = Duration.ofHours(24);
        limits.maxParticipants = 64;
        limits.maxJoins = 256;
        limits.maxOpenInvites = 256;
        limits.maxEnvelopes = 10_000;
        limits.maxCiphertextBytes = 65_536;
        limits.maxInFlight = 20_000;
        limits.maxInFlightBytes = 67_108_864;
        limits.maxFrameBytes = 163_840;
        limits.maxBodyBytes = 163_840;
        limits.maxPseudonymCodePoints = 40;
        limits.sendCapacity = 20;
        limits.sendPeriod = Duration.ofSeconds(10);
        limits.joinCapacity = 30;
        limits.joinPeriod = Duration.ofMinutes(1);
        limits.apiCapacity = 1200;
        limits.apiPeriod = Duration.ofMinutes(1);
        limits.floodCloseAfter = 10;
        limits.helloTimeout = Duration.ofSeconds(10);
        limits.maxQueuedBytes = 4_194_304;
        limits.maxSlowCatchUps = 16;
        limits.allowedOrigins = " ";
        limits.trustedProxies = " ";
        return limits;
    }

    @Test
    void theDefaultsAndTheBenchmarksRaisedLimitsAreValid() {
        Limits limits = defaults();
        assertEquals(List.of(), limits.problems());
        limits.sendCapacity = 10_000;
        limits.apiCapacity = 100_000_000;
        limits.maxEnvelopes = 1;
        limits.minTtl = Duration.ofSeconds(1);
        limits.defaultTtl = Duration.ofSeconds(1);
        limits.check(new Object());
    }

    @Test
    void aFrameLimitPastTheContainersFrameBufferIsRefused() {
        Limits limits = defaults();
        limits.maxFrameBytes = 262_130;
        assertEquals(List.of(), limits.problems());
        limits.maxFrameBytes = 262_131;
        assertEquals(List.of("mikrotext.ws.max-frame-bytes (262131) must not exceed 262130: the WebSocket container "
                + "holds at most 262144 bytes of a frame (WEB-INF/web.xml)"), limits.problems());
    }

    @Test
    void theContainersFrameBufferIsTheOneWebXmlSets() throws Exception {
        String webXml = Files.readString(Path.of("src/main/webapp/WEB-INF/web.xml"));
        assertTrue(webXml.contains("<param-name>org.glassfish.tyrus.servlet.incoming-buffer-size</param-name>\n"
                + "        <param-value>" + Limits.CONTAINER_FRAME_BUFFER + "</param-value>"), webXml);
    }

    @Test
    void everyCountOrSizeBelowOneIsNamedWithItsValue() {
        Limits limits = defaults();
        limits.maxEnvelopes = 0;
        limits.maxCiphertextBytes = -1;
        limits.maxInFlight = 0;
        limits.sendCapacity = 0;
        limits.maxQueuedBytes = -4;
        limits.maxSlowCatchUps = 0;
        assertEquals(List.of("mikrotext.room.max-envelopes must be at least 1 (it is 0)",
                "mikrotext.envelope.max-ciphertext-bytes must be at least 1 (it is -1)",
                "mikrotext.envelope.max-in-flight must be at least 1 (it is 0)",
                "mikrotext.rate.send.capacity must be at least 1 (it is 0)",
                "mikrotext.ws.max-queued-bytes must be at least 1 (it is -4)",
                "mikrotext.ws.max-slow-catch-ups must be at least 1 (it is 0)"), limits.problems());
    }

    @Test
    void durationsMustBePositiveAndTheRoomLifetimesInOrder() {
        Limits limits = defaults();
        limits.helloTimeout = Duration.ZERO;
        limits.joinPeriod = Duration.ofSeconds(-1);
        assertEquals(List.of("mikrotext.rate.join.period must be a positive duration (it is PT-1S)",
                "mikrotext.ws.hello-timeout must be a positive duration (it is PT0S)"), limits.problems());

        limits = defaults();
        limits.minTtl = Duration.ofDays(8);
        assertEquals(List.of("mikrotext.room.min-ttl (PT192H) must not exceed mikrotext.room.max-ttl (PT168H)"),
                limits.problems());

        limits = defaults();
        limits.defaultTtl = Duration.ofDays(30);
        assertEquals(List.of("mikrotext.room.default-ttl (PT720H) must lie between mikrotext.room.min-ttl (PT5M) and "
                + "mikrotext.room.max-ttl (PT168H)"), limits.problems());
    }

    @Test
    void originsAndProxiesMustBeWhatTheyAreComparedWith() {
        Limits limits = defaults();
        limits.allowedOrigins = "https://chat.example.com, http://10.1.2.3:8080/ ,HTTPS://Upper.Example,"
                + "http://my_app:8080";
        limits.trustedProxies = "10.0.0.2, ::1, [2001:db8::7], ::ffff:10.0.0.3";
        assertEquals(List.of(), limits.problems());
        assertEquals(List.of("10.0.0.2", "0:0:0:0:0:0:0:1", "2001:db8:0:0:0:0:0:7", "10.0.0.3"),
                limits.trustedProxies(), "as the container writes a peer's address");

        limits.allowedOrigins = "chat.example.com,https://chat.example.com/path,ftp://x.example,https://u@x.example";
        limits.trustedProxies = "proxy.internal, 10.0.0.256, 10.0.0.0/8, .:1";
        assertEquals(List.of(
                "mikrotext.ws.allowed-origins must list origins such as https://chat.example.com ('chat.example.com' "
                        + "is not one)",
                "mikrotext.ws.allowed-origins must list origins such as https://chat.example.com "
                        + "('https://chat.example.com/path' is not one)",
                "mikrotext.ws.allowed-origins must list origins such as https://chat.example.com ('ftp://x.example' "
                        + "is not one)",
                "mikrotext.ws.allowed-origins must list origins such as https://chat.example.com ('https://u@x.example' "
                        + "is not one)",
                "mikrotext.http.trusted-proxies must list IP addresses ('proxy.internal' is not one)",
                "mikrotext.http.trusted-proxies must list IP addresses ('10.0.0.256' is not one)",
                "mikrotext.http.trusted-proxies must list IP addresses ('10.0.0.0/8' is not one)",
                "mikrotext.http.trusted-proxies must list IP addresses ('.:1' is not one)"), limits.problems());
    }

    @Test
    void theStartCheckRefusesWithEveryProblemInOneMessage() {
        Limits limits = defaults();
        limits.maxEnvelopes = 0;
        limits.helloTimeout = Duration.ZERO;
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> limits.check(new Object()));
        assertTrue(refused.getMessage().startsWith("MikroText's configuration is not valid: "), refused.getMessage());
        assertTrue(refused.getMessage().contains("mikrotext.room.max-envelopes must be at least 1 (it is 0); "
                + "mikrotext.ws.hello-timeout must be a positive duration (it is PT0S)"), refused.getMessage());
    }
}
