package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mikrotext.it.support.Member;
import org.mikrotext.it.support.MicroProcess;
import org.mikrotext.it.support.Relay;
import org.mikrotext.it.support.Relay.Answer;
import org.mikrotext.it.support.Socket;
import org.mikrotext.it.support.Wire;

/**
 * Operations and faults with real processes: a PostgreSQL of this test's own (so it can be stopped and started)
 * and a Payara Micro it starts, kills and restarts. Covers health, metrics, the OpenAPI document, the lifecycle log
 * and its secrecy, a database restart under load, and a SIGKILL while envelopes are being sent.
 */
class OperationsIT {

    private static final Pattern ROOM_LINE = Pattern.compile("room ([0-9a-f]{12}) (created|invite spent|participant "
            + "joined|participant left|participant removed|burned by its creator|expired and deleted)");

    @TempDir
    Path dir;

    @Test
    void operatingTheRelayThroughFaults() throws Exception {
        int pgPort = freePort();
        Path pgData = dir.resolve("pg");
        Files.createDirectories(pgData);
        EmbeddedPostgres postgres = startPostgres(pgPort, pgData);
        Map<String, String> env = Map.of("DB_URL", "jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres",
                "DB_USER", "postgres", "DB_PASSWORD", "postgres");
        try (MicroProcess micro = new MicroProcess(dir, env, List.of())) {
            micro.start();
            Relay relay = new Relay(micro.port());
            List<String> secrets = new ArrayList<>();

            // A whole conversation: create, invite, join, send over WebSocket and REST, leave, expire, burn.
            Member alice = relay.create("Alice", 600);
            String inviteToken = relay.invite(alice);
            Answer joined = relay.join(alice.roomId(), inviteToken, "Bob", Wire.p256(), Wire.p256());
            assertEquals(201, joined.status());
            Member bob = new Member(relay, alice.roomId(), joined.json().getString("participantId"),
                    joined.json().getString("sessionToken"), Wire.p256(), Wire.p256());
            secrets.add(inviteToken);
            secrets.add(joined.json().getString("wrappedRoomKey"));
            Member carol = relay.joinNew(alice, "Carol");
            try (Socket a = alice.connect(0)) {
                a.next("ready");
                for (int i = 0; i < 5; i++) {
                    JsonObject envelope = alice.nextEnvelope().build();
                    collect(envelope, secrets);
                    a.send(Json.createObjectBuilder(envelope).add("type", "send").add("id", i).build());
                    a.next("ack");
                }
            }
            JsonObject viaRest = carol.nextEnvelope().build();
            collect(viaRest, secrets);
            assertEquals(201, carol.post(viaRest).status());
            assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/" + carol.participantId(),
                    carol.token(), null).status());
            Member shortLived = relay.create("Dora", 2);
            for (Member m : List.of(alice, carol, shortLived)) {
                secrets.add(m.token());
                secrets.add(Wire.sha256Hex(Wire.unb64(m.token())));
                secrets.add(Wire.spki(m.signing()));
            }

            // Metrics and the OpenAPI document.
            String metrics = relay.call("GET", "metrics", null, null).body();
            assertTrue(metric(metrics, "mikrotext_envelopes_accepted_total") >= 6, metrics);
            assertTrue(metric(metrics, "mikrotext_envelopes_delivered_total") >= 5);
            assertTrue(metrics.contains("mikrotext_sockets_open"));
            assertTrue(metric(metrics, "mikrotext_rooms_active") >= 1);
            assertEquals(0, metric(metrics, "mikrotext_envelopes_in_flight"),
                    "every envelope stored and handed out has left the count that bounds the relay's backlog");
            assertEquals(400, relay.call("POST", "api/rooms", null, "{}").status());
            String refusals = relay.call("GET", "metrics", null, null).body();
            assertTrue(refusals.matches(
                    "(?s).*mikrotext_rejections_total\\{[^}]*reason=\"invalid-field\"[^}]*} [1-9].*"));
            assertEquals(400, relay.call("POST", "api/rooms", null, "{}").status());
            assertEquals(metric(refusals, "mikrotext_rejections_total") + 1,
                    metric(relay.call("GET", "metrics", null, null).body(), "mikrotext_rejections_total"),
                    "each refusal counts once, the second on the first one's counter");
            String openapi = relay.call("GET", "openapi", null, null).body();
            assertTrue(openapi.contains("/api/rooms/{roomId}/envelopes"), openapi);
            assertTrue(openapi.contains("Send an envelope") && openapi.contains("Join with an invite"));

            Thread.sleep(4000);
            String afterSweep = relay.call("GET", "metrics", null, null).body();
            assertTrue(metric(afterSweep, "mikrotext_sweep_rooms_deleted_total") >= 1, afterSweep);
            assertTrue(metric(afterSweep, "mikrotext_sweep_rows_deleted_total") >= 2, "the room and its creator");
            assertTrue(afterSweep.contains("mikrotext_sweep_duration"));
            assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId(), alice.token(), null).status());

            // One line per lifecycle event, naming rooms by a short hash only; no secret anywhere in the log.
            String log = Files.readString(micro.log().toPath(), StandardCharsets.UTF_8);
            Set<String> events = ConcurrentHashMap.newKeySet();
            Matcher lines = ROOM_LINE.matcher(log);
            while (lines.find()) {
                events.add(lines.group(2));
            }
            assertEquals(Set.of("created", "invite spent", "participant joined", "participant left",
                    "burned by its creator", "expired and deleted"), events);
            assertFalse(log.contains(alice.roomId()), "rooms are named by a short hash only");
            // Sockets skip Tyrus's no-op idle-timer tasks (a ServiceLoader scan per frame otherwise).
            assertTrue(log.contains("WebSocket sessions skip Tyrus's idle-timer tasks"), "the idle-timer shortcut");
            // Each way into the container announces itself once, and none gave up (its INFO line would say so):
            // frames are framed once and written to each socket as bytes, not re-encoded by Tyrus per socket; they go
            // from those bytes to the connection, not through a fresh 8 KB container buffer per write; an open socket
            // keeps neither the handshake's parsed headers nor Tyrus's copy of the handshake.
            String[][] announcedNotRefused = {
                {"WebSocket frames are framed once per envelope and written to each socket as bytes",
                    "WebSocket frames are framed by the container for each socket"},
                {"WebSocket writes go from the relay's frames to the connection",
                    "WebSocket writes go through the container's output buffer"},
                {"WebSocket handshakes release their parsed headers once answered",
                    "WebSocket handshakes keep their headers"},
                {"WebSocket sockets release Tyrus's copy of their handshake once open",
                    "WebSocket sockets keep Tyrus's copy of their handshake"}};
            for (String[] pair : announcedNotRefused) {
                assertTrue(log.contains(pair[0]), pair[0]);
                assertFalse(log.contains(pair[1]), pair[1]);
            }
            // Signatures are verified natively inside Payara, not by the pure-Java fallback.
            assertTrue(log.contains("Envelope signatures are verified by AmazonCorrettoCryptoProvider"),
                    "the native verifier loads in the application server");
            for (String secret : secrets) {
                assertFalse(log.contains(secret), "a token, key, signature or ciphertext reached the log");
            }
            assertFalse(bob.token().isEmpty());

            // PostgreSQL restarts: meanwhile the relay answers clearly and quickly; afterwards it serves again.
            assertEquals(200, relay.call("GET", "health/ready", null, null).status());
            postgres.close();
            long started = System.nanoTime();
            Answer down = relay.call("GET", "health/ready", null, null);
            assertEquals(503, down.status(), down.body());
            Answer refused = relay.call("POST", "api/rooms", null,
                    Relay.identity("Eve", Wire.p256(), Wire.p256()).build().toString());
            assertEquals(503, refused.status(), refused.body());
            assertEquals("database-unavailable", refused.problemType());
            assertTrue(refused.response().headers().firstValue("Retry-After").isPresent());
            assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) < 20, "no request hangs");
            postgres = startPostgres(pgPort, pgData);
            waitForStatus(relay, "health/ready", 200, 60);
            Member after = relay.create("Frank", 600);
            assertEquals(201, after.post(after.nextEnvelope().build()).status());

            // SIGKILL while three people send: every acknowledged envelope survives, in order, without a gap.
            Member sender = relay.create("Gina", 600);
            List<Member> senders = List.of(sender, relay.joinNew(sender, "Hugo"), relay.joinNew(sender, "Ines"));
            Set<Long> acked = ConcurrentHashMap.newKeySet();
            ExecutorService pool = Executors.newFixedThreadPool(senders.size());
            for (Member m : senders) {
                pool.submit(() -> {
                    try (Socket s = m.connect(0)) {
                        s.next("ready");
                        for (int i = 0; i < 19 && !s.isClosed(); i++) {
                            s.send(Json.createObjectBuilder(m.nextEnvelope().build()).add("type", "send").add("id", i).build());
                            JsonObject ack = s.next("ack", 10, null);
                            acked.add(ack.getJsonNumber("seq").longValue());
                        }
                    } catch (RuntimeException | AssertionError e) {
                        // the relay was killed under this sender
                    }
                    return null;
                });
            }
            while (acked.size() < 20) {
                Thread.sleep(20);
            }
            micro.kill();
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
            micro.start();
            JsonArray stored = relay.call("GET", "api/rooms/" + sender.roomId() + "/envelopes?limit=1000",
                    sender.token(), null).json().getJsonArray("envelopes");
            List<Long> seqs = stored.stream().map(v -> v.asJsonObject().getJsonNumber("seq").longValue()).toList();
            for (int i = 0; i < seqs.size(); i++) {
                assertEquals(i + 1, seqs.get(i), "no gap in seq");
            }
            assertTrue(seqs.containsAll(acked), "every acknowledged envelope survived: " + acked + " in " + seqs);
        } finally {
            postgres.close();
        }
    }

    private static void collect(JsonObject envelope, List<String> secrets) {
        for (String field : List.of("ciphertext", "signature", "nonce", "chainId")) {
            secrets.add(envelope.getString(field));
        }
        secrets.add(HexFormat.of().formatHex(Wire.unb64(envelope.getString("signature"))));
        if (!envelope.isNull("checkpoint")) {
            secrets.add(envelope.getString("checkpoint"));
        }
    }

    static double metric(String exposition, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(exposition);
        double total = 0;
        boolean found = false;
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
            found = true;
        }
        assertTrue(found, name + " is exposed");
        return total;
    }

    private static void waitForStatus(Relay relay, String path, int status, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = relay.call("GET", path, null, null).status();
            if (last == status) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError(path + " answered " + last + ", not " + status + ", for " + seconds + " s");
    }

    private static EmbeddedPostgres startPostgres(int port, Path data) throws Exception {
        return EmbeddedPostgres.builder().setPort(port).setDataDirectory(data).setCleanDataDirectory(false).start();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
