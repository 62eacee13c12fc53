package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mikrotext.it.support.Database;
import org.mikrotext.it.support.Member;
import org.mikrotext.it.support.PayaraServer;
import org.mikrotext.it.support.Relay;
import org.mikrotext.it.support.Relay.Answer;
import org.mikrotext.it.support.Socket;

/**
 * The EAR (ejb-expiry.jar, the skinny relay WAR, Flyway and the PostgreSQL driver in lib/) on Payara Server, driven
 * with asadmin the way the README tells an operator to: start a domain whose environment names the database
 * (DB_URL, DB_USER, DB_PASSWORD), deploy, use the relay, undeploy, stop. The database is the test run's PostgreSQL.
 */
class EarIT {

    static final String APP = "mikrotext";

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void earDeploysOnPayaraServerAgainstPostgresAndRelaysASignedEnvelope() throws Exception {
        long t0 = System.nanoTime();
        Path unpacked = Path.of(System.getProperty("mikrotext.it.payara-server", "target/payara-server"));
        Path ear = Path.of(System.getProperty("mikrotext.it.ear", "target/runtime/mikrotext.ear"));
        Map<String, String> database = Map.of(
                "DB_URL", Objects.requireNonNull(System.getenv("DB_URL"), "DB_URL"),
                "DB_USER", Objects.requireNonNull(System.getenv("DB_USER"), "DB_USER"),
                "DB_PASSWORD", Objects.requireNonNull(System.getenv("DB_PASSWORD"), "DB_PASSWORD"));
        assertTrue(database.get("DB_URL").startsWith("jdbc:postgresql:"), "the test runs against PostgreSQL");

        try (PayaraServer server = new PayaraServer(PayaraServer.installUnder(unpacked),
                unpacked.resolve("domains"), "mikrotext-it", database)) {
            Duration started = server.start();
            report("asadmin start-domain: %d ms (admin port %d, http port %d)", started.toMillis(),
                    server.adminPort(), server.httpPort());
            assertTrue(server.process().isPresent(), "the domain's server process runs");

            Duration deployed = server.deploy(ear, APP);
            report("asadmin deploy %s: %d ms", ear.getFileName(), deployed.toMillis());

            Relay relay = new Relay(server.httpPort());

            // The static client and the API share the context root "/".
            Answer page = relay.call("GET", "", null, null);
            assertEquals(200, page.status());
            assertTrue(page.contentType().startsWith("text/html"), page.contentType());
            assertTrue(page.body().contains("<title>MikroText</title>"), "the client's page at /");
            assertTrue(page.response().headers().firstValue("Content-Security-Policy").isPresent(), "CSP on /");
            Answer missing = relay.call("GET", "api/rooms/" + "A".repeat(22), null, null);
            assertEquals(404, missing.status());
            assertEquals("room-not-found", missing.problemType());

            // A room, a second participant, and a signed envelope over the WebSocket.
            Member alice = relay.create("Alice", 600);
            Member bob = relay.joinNew(alice, "Bob");
            try (Socket a = alice.connect(0); Socket b = bob.connect(0)) {
                JsonObject ready = b.next("ready");
                assertEquals(bob.participantId(), ready.getString("participantId"));
                assertEquals(2, ready.getJsonObject("room").getJsonArray("participants").size());
                a.next("ready");

                JsonObject envelope = alice.nextEnvelope().build();
                a.send(Json.createObjectBuilder(envelope).add("type", "send").add("id", "ear-1").build());
                JsonObject ack = a.next("ack");
                assertEquals("ear-1", ack.getString("id"));
                assertEquals(1, ack.getJsonNumber("seq").longValue());

                JsonObject pushed = b.next("envelope");
                assertEquals(alice.participantId(), pushed.getString("senderId"));
                assertEquals(1, pushed.getJsonNumber("seq").longValue());
                assertEquals(envelope.getString("ciphertext"), pushed.getString("ciphertext"));
                assertEquals(envelope.getString("signature"), pushed.getString("signature"));
                assertEquals(envelope.getString("nonce"), pushed.getString("nonce"));
                assertNotNull(pushed.getString("createdAt"));
            }

            // Stored in the PostgreSQL that DB_URL names (not in the H2 default the data source falls back to).
            assertEquals(2, Database.count("SELECT COUNT(*) FROM participants WHERE room_id = ?", alice.roomId()));
            assertEquals(1, Database.count("SELECT COUNT(*) FROM envelopes WHERE room_id = ? AND sender_id = ?",
                    alice.roomId(), alice.participantId()));
            assertEquals(1, bob.get("/envelopes?after=0").json().getJsonArray("envelopes").size());

            Duration undeployed = server.undeploy(APP);
            report("asadmin undeploy: %d ms", undeployed.toMillis());
            Answer gone = relay.call("GET", "api/rooms/" + alice.roomId(), alice.token(), null);
            assertEquals(404, gone.status(), "no relay after undeploy");
            assertFalse(gone.contentType().startsWith("application/problem+json"), "the server's 404, not the relay's");

            // Deployed again into the same JVM: the native signature verifier loads in the new class loader too
            // (its library is extracted and loaded once per deployment), and verifies.
            Duration redeployed = server.deploy(ear, APP);
            report("asadmin deploy again: %d ms", redeployed.toMillis());
            Member carol = relay.create("Carol", 600);
            Answer stored = carol.post(carol.nextEnvelope().build());
            assertEquals(201, stored.status(), "a signed envelope is accepted after the redeploy");
            JsonObject forged = Json.createObjectBuilder(carol.nextEnvelope().build())
                    .add("signature", alice.nextEnvelope().build().getString("signature")).build();
            assertEquals(400, carol.post(forged).status(), "a signature by another key is refused after the redeploy");
            String log = Files.readString(server.serverLog());
            assertEquals(2, log.split("Envelope signatures are verified by AmazonCorrettoCryptoProvider", -1).length - 1,
                    "the native verifier was chosen at both deployments");
            assertTrue(log.contains("WebSocket writes go from the relay's frames to the connection"),
                    "Payara Server's output buffer of the socket was shrunk at the handshake");
            assertTrue(log.contains("WebSocket handshakes release their parsed headers once answered"),
                    "Payara Server's header storage of the handshake was released");
            assertTrue(log.contains("WebSocket sockets release Tyrus's copy of their handshake once open"),
                    "Payara Server's Tyrus let go of the handshake");
            server.undeploy(APP);

            Duration stopped = server.stop();
            report("asadmin stop-domain: %d ms", stopped.toMillis());
            assertFalse(server.process().isPresent(), "the domain's server process has ended");
        } finally {
            report("EarIT took %d ms in all", Duration.ofNanos(System.nanoTime() - t0).toMillis());
        }
    }

    private static void report(String format, Object... args) {
        System.out.printf("[EarIT] " + format + "%n", args);
    }
}
