package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mikrotext.it.support.Member;
import org.mikrotext.it.support.MicroProcess;
import org.mikrotext.it.support.Relay;

/**
 * The zero-configuration default: with no DB_* variables, rooms live in an H2 file and survive a restart; and a
 * limit that cannot work stops the relay from deploying, with a message that names it.
 */
class DefaultDatabaseIT {

    @TempDir
    Path dir;

    @Test
    void roomsSurviveARestartOfTheEmbeddedDefault() throws Exception {
        try (MicroProcess micro = new MicroProcess(dir, Map.of(), List.of("DB_URL", "DB_USER", "DB_PASSWORD"))) {
            micro.start();
            Relay relay = new Relay(micro.port());
            Member alice = relay.create("Alice", 600);
            Member bob = relay.joinNew(alice, "Bob");
            assertEquals(201, bob.post(bob.nextEnvelope().build()).status());

            micro.stop();
            micro.start();

            assertEquals(200, alice.get("").status());
            assertEquals(2, alice.get("").json().getJsonArray("participants").size());
            assertEquals(1, alice.get("/envelopes").json().getJsonArray("envelopes").size());
            assertTrue(Files.exists(dir.resolve("mikrotext-data/mikrotext.mv.db")), "an H2 file database");
        }
    }

    @Test
    void aLimitThatCannotWorkStopsTheRelayFromDeployingAndIsNamed() throws Exception {
        Map<String, String> env = Map.of("MIKROTEXT_ROOM_MAX_ENVELOPES", "0", "MIKROTEXT_WS_HELLO_TIMEOUT", "PT0S");
        try (MicroProcess micro = new MicroProcess(dir, env, List.of("DB_URL", "DB_USER", "DB_PASSWORD"))) {
            assertTrue(micro.startRefused("MikroText's configuration is not valid: mikrotext.room.max-envelopes must "
                    + "be at least 1 (it is 0); mikrotext.ws.hello-timeout must be a positive duration (it is PT0S)"),
                    "the refusal names both keys and their values; see " + micro.log());
            assertFalse(MicroProcess.servesRelay(HttpClient.newHttpClient(), micro.base()), "no relay is served");
        }
    }

    @Test
    void sharingRoomsBetweenInstancesNeedsPostgres() throws Exception {
        Map<String, String> env = Map.of("MIKROTEXT_CLUSTER_ENABLED", "true");
        try (MicroProcess micro = new MicroProcess(dir, env, List.of("DB_URL", "DB_USER", "DB_PASSWORD"))) {
            assertTrue(micro.startRefused("MikroText's configuration is not valid: mikrotext.cluster.enabled needs "
                    + "PostgreSQL (the database is H2)"), "the refusal names the key; see " + micro.log());
            assertFalse(MicroProcess.servesRelay(HttpClient.newHttpClient(), micro.base()), "no relay is served");
        }
    }
}
