package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mikrotext.it.support.Browser;
import org.mikrotext.it.support.MicroProcess;

/**
 * The relay restarts in the middle of a conversation (a Payara Micro process this test controls, on PostgreSQL):
 * the browsers reconnect by themselves, resume by seq, and nothing is lost or shown twice.
 */
class RelayRestartIT {

    @TempDir
    Path dir;

    @Test
    void clientsReconnectByThemselvesAfterARelayRestartAndLoseNothing() throws Exception {
        try (MicroProcess relay = new MicroProcess(dir, Map.of(), List.of());
             Browser alice = new Browser("alice"); Browser bob = new Browser("bob")) {
            relay.start();
            String base = relay.base().toString();
            alice.open(base);
            alice.type("#create-pseudonym", "Alice");
            alice.click("#create-submit");
            alice.waitUntil(d -> BrowserIT.connectionState(alice).equals("connected"), 20);
            bob.open(base);
            BrowserIT.join(bob, BrowserIT.inviteLink(alice), "Bob");

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
}
