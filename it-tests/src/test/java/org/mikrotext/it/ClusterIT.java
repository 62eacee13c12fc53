package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mikrotext.it.support.Browser;
import org.mikrotext.it.support.Database;
import org.mikrotext.it.support.MicroProcess;

/**
 * Two relay instances (Payara Micro processes) share one PostgreSQL database with {@code mikrotext.cluster.enabled},
 * as behind a load balancer: the room's creator is on one, the others on the other, and everything a room does
 * reaches everyone, whichever instance it happened on.
 */
class ClusterIT {

    private static final Map<String, String> SHARED = Map.of("MIKROTEXT_CLUSTER_ENABLED", "true");

    @TempDir
    Path dir;

    @Test
    void oneRoomAcrossTwoInstances() throws Exception {
        try (MicroProcess a = new MicroProcess(Files.createDirectories(dir.resolve("a")), SHARED, List.of());
             MicroProcess b = new MicroProcess(Files.createDirectories(dir.resolve("b")), SHARED, List.of());
             Browser alice = new Browser("alice"); Browser bert = new Browser("bert");
             Browser cleo = new Browser("cleo")) {
            a.start();
            b.start();
            assertTrue(log(b).contains("Rooms are shared with the other relay instances"), "B listens");

            // Alice creates the room on A; Bert and Cleo join it on B.
            alice.open(a.base().toString());
            alice.type("#create-pseudonym", "Alice");
            alice.click("#create-submit");
            alice.waitUntil(d -> BrowserIT.connectionState(alice).equals("connected"), 20);
            String roomId = BrowserIT.roomIdOf(alice);
            for (Browser guest : List.of(bert, cleo)) {
                String link = BrowserIT.inviteLink(alice).replace(a.base().toString(), b.base().toString());
                guest.open(b.base().toString());
                BrowserIT.join(guest, link, BrowserIT.capitalised(guest.name()));
            }
            List<Browser> everyone = List.of(alice, bert, cleo);
            for (Browser person : everyone) {
                person.waitUntil(d -> person.all("#participants li").size() == 3, 20); // joins on B reach A
            }

            List<String> expected = new ArrayList<>();
            alice.say("Written on A");
            expected.add("Alice: Written on A");
            bert.say("Written on B");
            expected.add("Bert: Written on B");
            for (Browser person : everyone) {
                person.awaitMessages(expected, 20);
            }

            // Both instances stop listening for a moment: what A stores meanwhile still reaches B's sockets.
            assertEquals(2, Database.count("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    + "WHERE query = 'LISTEN mikrotext' AND pid <> pg_backend_pid()"), "one listening connection each");
            alice.say("Said while nobody listened");
            expected.add("Alice: Said while nobody listened");
            for (Browser person : everyone) {
                person.awaitMessages(expected, 30);
            }
            assertTrue(log(b).contains("Listening to the other relay instances failed"), "B listened again");

            // Alice removes Cleo on A: Cleo's socket on B is closed, and Bert gets the new key there.
            String cleoId = cleo.find("#participants li.you").getAttribute("data-participant-id");
            alice.click("#participants li[data-participant-id='" + cleoId + "'] button.remove");
            alice.click("#remove-confirm");
            cleo.shown("#room-ended");
            assertTrue(cleo.text("#room-ended").contains("You were removed"), cleo.text("#room-ended"));
            alice.waitUntil(d -> alice.text("#room-notice").contains("was removed"), 20);
            bert.waitUntil(d -> bert.all("#participants li").size() == 2, 20);
            alice.waitUntil(d -> BrowserIT.safetyCode(alice).equals(BrowserIT.safetyCode(bert)), 20);
            bert.say("Under the new key, from B");
            expected.add("Bert: Under the new key, from B");
            alice.awaitMessages(expected, 20);
            bert.awaitMessages(expected, 20);
            assertEquals(2, Database.count("SELECT key_version FROM envelopes WHERE room_id = ? ORDER BY seq DESC "
                    + "LIMIT 1", roomId));

            // Alice ends the room on A: Bert's socket on B is closed.
            alice.click("#burn");
            alice.click("#burn-confirm");
            for (Browser person : List.of(alice, bert)) {
                person.shown("#room-ended");
                assertTrue(person.text("#room-ended").contains("This room has ended"), person.name());
            }
        }
    }

    private static String log(MicroProcess process) throws Exception {
        return Files.readString(process.log().toPath(), StandardCharsets.UTF_8);
    }
}
