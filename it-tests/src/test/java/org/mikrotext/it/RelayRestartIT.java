package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mikrotext.it.support.Browser;
import org.mikrotext.it.support.Database;
import org.mikrotext.it.support.MicroProcess;
import org.mikrotext.it.support.Relay;

/**
 * Relays in trouble, each a Payara Micro process the test controls, on PostgreSQL, with browsers in the room: one
 * restarts in the middle of a conversation (the browsers reconnect by themselves, resume by seq, and nothing is lost
 * or shown twice), and one too busy to take a message (the browser sends it again by itself).
 */
class RelayRestartIT {

    @TempDir
    Path dir;

    @Test
    void clientsReconnectByThemselvesAfterARelayRestartAndLoseNothing() throws Exception {
        try (MicroProcess relay = new MicroProcess(dir, Map.of(), List.of());
             Browser alice = new Browser("alice"); Browser bob = new Browser("bob")) {
            relay.start();
            aliceInvitesBob(relay, alice, bob);

            List<String> expected = new ArrayList<>();
            alice.say("Before the restart");
            expected.add("Alice: Before the restart");
            bob.awaitMessages(expected, 20);

            relay.stop();
            for (Browser b : List.of(alice, bob)) {
                b.waitUntil(d -> !BrowserIT.connectionState(b).equals("connected"), 30);
            }
            relay.start();
            for (Browser b : List.of(alice, bob)) {
                b.waitUntil(d -> BrowserIT.connectionState(b).equals("connected"), 60);
            }

            bob.say("After the restart");
            expected.add("Bob: After the restart");
            alice.awaitMessages(expected, 30);
            alice.say("Still here");
            expected.add("Alice: Still here");
            alice.awaitMessages(expected, 30);
            bob.awaitMessages(expected, 30);
            assertEquals(expected, alice.messages());
        }
    }

    @Test
    void aMessageTheBusyRelayRefusedIsSentAgainByItself() throws Exception {
        try (MicroProcess micro = new MicroProcess(dir, Map.of("MIKROTEXT_ENVELOPE_MAX_IN_FLIGHT", "1"), List.of());
             Browser alice = new Browser("alice"); Browser bob = new Browser("bob")) {
            micro.start();
            Relay relay = new Relay(micro.port());
            aliceInvitesBob(micro, alice, bob);
            String roomId = BrowserIT.roomIdOf(alice);

            List<String> expected = List.of("Alice: Stored once the database lets go",
                    "Alice: Refused as busy, then sent again");
            try (Connection db = Database.connect()) {
                // The room's row is locked, so the relay's writer waits: Alice's first message stays in flight and
                // fills the relay's bound of one, and her second is refused (503 relay-busy).
                db.setAutoCommit(false);
                try (PreparedStatement lock = db.prepareStatement("SELECT id FROM rooms WHERE id = ? FOR UPDATE")) {
                    lock.setString(1, roomId);
                    lock.executeQuery().close();
                }
                alice.say("Stored once the database lets go");
                alice.waitUntil(d -> metric(relay, "mikrotext_envelopes_in_flight") == 1, 20);
                alice.say("Refused as busy, then sent again");
                alice.waitUntil(d -> alice.js("return [...document.querySelectorAll('#log li.pending .meta')]"
                        + ".map(e => e.textContent).join('|')").toString()
                        .contains("the relay is busy, so it goes again"), 20);
                assertTrue(alice.all("#log li.failed").isEmpty(), "a busy relay fails no message");
                assertEquals(0, Database.count("SELECT COUNT(*) FROM envelopes WHERE room_id = ?", roomId));
                db.rollback();
            }
            bob.awaitMessages(expected, 40);
            alice.awaitMessages(expected, 40);
            assertTrue(alice.all("#log li.pending").isEmpty(), "nothing left to send");
            assertEquals(2, Database.count("SELECT COUNT(*) FROM envelopes WHERE room_id = ?", roomId));
            assertTrue(metric(relay, "mikrotext_rejections_total") >= 1, "the relay refused at least one send");
        }
    }

    /** Alice creates a room on the relay and Bob joins it with her invite; both are connected. */
    private static void aliceInvitesBob(MicroProcess relay, Browser alice, Browser bob) {
        String base = relay.base().toString();
        alice.open(base);
        alice.type("#create-pseudonym", "Alice");
        alice.click("#create-submit");
        alice.waitUntil(d -> BrowserIT.connectionState(alice).equals("connected"), 20);
        bob.open(base);
        BrowserIT.join(bob, BrowserIT.inviteLink(alice), "Bob");
    }

    /** A metric's value now (summed over its labels). */
    private static double metric(Relay relay, String name) {
        return OperationsIT.metric(relay.call("GET", "metrics", null, null).body(), name);
    }
}
