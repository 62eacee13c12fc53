package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.mikrotext.it.support.Browser;
import org.mikrotext.it.support.Database;
import org.mikrotext.it.support.Relay;
import org.mikrotext.it.support.Relay.Answer;
import org.mikrotext.it.support.Wire;

/**
 * The product end to end: real people's flows in real headless Chromium against the relay WAR on Payara Micro and
 * PostgreSQL, on http://127.0.0.1 (a secure context, so WebCrypto is available). Screenshots of the main screens go
 * to {@code it-tests/target/screenshots/}.
 */
@ExtendWith(ArquillianExtension.class)
class BrowserIT {

    private static final Pattern SAFETY_CODE = Pattern.compile("\\d{5}( \\d{5}){7}");
    private static final Pattern B64U_32 = Pattern.compile("(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])");

    @Deployment(testable = false)
    static WebArchive deployment() {
        return RelayDeployment.war();
    }

    @ArquillianResource
    URL url;

    String base() {
        return "http://127.0.0.1:" + url.getPort() + "/";
    }

    @Test
    void theClientIsServedWithStrictHeaders() {
        Relay relay = new Relay(url);
        for (String path : List.of("", "index.html")) {
            Answer page = relay.call("GET", path, null, null);
            assertEquals(200, page.status());
            var headers = page.response().headers();
            assertEquals("default-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                    + "form-action 'none'; object-src 'none'", headers.firstValue("Content-Security-Policy").orElse(""));
            assertEquals("no-referrer", headers.firstValue("Referrer-Policy").orElse(""));
            assertEquals("no-store", headers.firstValue("Cache-Control").orElse(""));
            assertEquals("nosniff", headers.firstValue("X-Content-Type-Options").orElse(""));
            assertFalse(page.body().matches("(?s).*<script(?![^>]*\\bsrc=)[^>]*>.*"), "no inline script");
            assertFalse(page.body().contains("style="), "no inline style");
        }
    }

    @Test
    void theServedClientMatchesItsChecksumsAndIntegrityHashes() throws Exception {
        Relay relay = new Relay(url);
        String checksums = new String(relay.bytes("checksums.sha256"), StandardCharsets.UTF_8);
        List<String> lines = checksums.lines().toList();
        assertTrue(lines.size() >= 8, checksums);
        for (String line : lines) {
            String[] parts = line.split("  ", 2);
            byte[] served = relay.bytes(parts[1]);
            assertEquals(parts[0], HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(served)),
                    parts[1]);
        }
        String page = new String(relay.bytes("index.html"), StandardCharsets.UTF_8);
        Matcher tags = Pattern.compile("(?:href|src)=\"([^\"]+)\" integrity=\"sha384-([^\"]+)\"").matcher(page);
        List<String> checked = new ArrayList<>();
        while (tags.find()) {
            byte[] served = relay.bytes(tags.group(1));
            assertEquals(tags.group(2),
                    Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-384").digest(served)), tags.group(1));
            checked.add(tags.group(1));
        }
        assertTrue(checked.containsAll(List.of("css/app.css", "js/app.js", "js/mtx1.js", "js/room-session.js")),
                "the stylesheet, the entry script and every module carry an integrity hash: " + checked);
    }

    @Test
    void aRoomFromCreationToBurn() throws Exception {
        List<Browser> browsers = new ArrayList<>();
        try {
            Browser alice = open(browsers, "alice");
            alice.screenshot("01-create");
            alice.type("#create-pseudonym", "Alice");
            alice.click("#create-submit");
            alice.shown("#room-view");
            assertEquals("connected", alice.waitUntil(d -> connectionState(alice).equals("connected") ? "connected" : null, 20));

            // Alice invites Bob and Carol with two fresh one-time links.
            String bobLink = inviteLink(alice);
            String carolLink = inviteLink(alice);
            assertNotEquals(bobLink, carolLink, "a fresh invite each time");
            assertTrue(bobLink.startsWith(base() + "#/join/"), bobLink);

            Browser bob = open(browsers, "bob");
            bob.holdFramesOnCue();
            join(bob, bobLink, "Bob");
            Browser carol = open(browsers, "carol");
            join(carol, carolLink, "Carol");

            List<String> expected = new ArrayList<>();
            for (Browser person : List.of(alice, bob, carol)) {
                String line = "Hello from " + person.name() + " \u2014 caf\u00e9 \uD83D\uDD10";
                person.say(line);
                expected.add(capitalised(person.name()) + ": " + line);
                for (Browser everyone : List.of(alice, bob, carol)) {
                    everyone.awaitMessages(expected, 20);
                }
            }
            for (Browser everyone : List.of(alice, bob, carol)) {
                assertEquals(3, everyone.all("#participants li").size());
                assertEquals(1, everyone.all("#participants li.you").size());
                assertEquals(capitalised(everyone.name()), everyone.find("#participants li.you").getText().trim()
                        .replaceAll("\\s*\\(you\\)\\s*$", ""));
            }
            alice.screenshot("03-room");

            // The relay holds only ciphertext: neither the text nor any 32-byte secret of the browsers.
            String roomId = roomIdOf(alice);
            assertRelayHoldsNoSecrets(roomId, expected, List.of(alice, bob, carol));

            // Everyone sees the same safety code.
            String code = safetyCode(alice);
            assertTrue(SAFETY_CODE.matcher(code).matches(), code);
            assertEquals(code, safetyCode(bob));
            assertEquals(code, safetyCode(carol));
            assertFalse(alice.visible("#safety-warning"));

            // A link that was used already says so and lets no one in.
            Browser dave = open(browsers, "dave");
            String refusal = refusedJoin(dave, bobLink, "Dave");
            assertTrue(refusal.contains("already been used"), refusal);
            dave.screenshot("04-invite-used");
            assertEquals(3, Database.count("SELECT COUNT(*) FROM participants WHERE room_id = ?", roomId));

            // Someone already in the room who opens a fresh link to it is not joined a second time: the link is left
            // for the person it was meant for.
            String daveLink = inviteLink(alice);
            visit(carol, daveLink);
            carol.shown("#room-view");
            carol.waitUntil(d -> carol.text("#room-notice").contains("already in this room"), 20);
            assertEquals(1, carol.all("#room-list [data-room-id]").size());
            assertEquals(3, Database.count("SELECT COUNT(*) FROM participants WHERE room_id = ?", roomId));

            // A fourth person changes the code for everyone, and the warning shows.
            join(dave, daveLink, "Dave");
            for (Browser everyone : List.of(alice, bob, carol, dave)) {
                everyone.waitUntil(d -> everyone.all("#participants li").size() == 4, 20);
            }
            String newCode = safetyCode(dave);
            assertNotEquals(code, newCode);
            for (Browser earlier : List.of(alice, bob, carol)) {
                earlier.waitUntil(d -> safetyCode(earlier).equals(newCode), 20);
                earlier.shown("#safety-warning");
                assertTrue(earlier.text("#safety-warning").contains("changed since you last checked"));
            }
            alice.screenshot("05-safety-code-changed");
            alice.click("#safety-ack");
            alice.waitUntil(d -> !alice.visible("#safety-warning"), 10);

            // Alice removes Dave: he is disconnected, the others get a new room key, and a link made before is dead.
            String unusedLink = inviteLink(alice);
            assertTrue(dave.all("#participants button.remove").isEmpty(), "only the creator can remove");
            String daveId = dave.find("#participants li.you").getAttribute("data-participant-id");
            alice.click("#participants li[data-participant-id='" + daveId + "'] button.remove");
            alice.shown("#remove-box");
            assertTrue(alice.text("#remove-question").contains("Dave"), alice.text("#remove-question"));
            alice.screenshot("06-remove");
            bob.js("window.mikrotextHoldFrom = '\"type\":\"key-rotated\"'");
            alice.click("#remove-confirm");
            dave.shown("#room-ended");
            assertTrue(dave.text("#room-ended").contains("You were removed"), dave.text("#room-ended"));
            alice.waitUntil(d -> alice.text("#room-notice").matches("(?s).*Dave.* was removed.*"), 20);
            // Bob has not heard of the new key yet, so he seals under the old one and the relay refuses it; once he
            // has the new key, his client seals the same text again and it arrives.
            bob.waitUntil(d -> (Long) bob.js("return window.mikrotextHeld().length") > 0, 20);
            bob.say("Sealed before I heard of the new key");
            bob.waitUntil(d -> bob.js("return window.mikrotextHeld().join()").toString().contains("\"type\":\"error\""), 20);
            assertTrue(bob.js("return window.mikrotextHeld().join()").toString().contains("key version"));
            bob.js("window.mikrotextReleaseFrames()");
            expected.add("Bob: Sealed before I heard of the new key");
            assertEquals(2, Database.count("SELECT key_version FROM rooms WHERE id = ?", roomId));
            List<Browser> members = List.of(alice, bob, carol);
            assertEquals(3, Database.count("SELECT COUNT(*) FROM key_wraps WHERE room_id = ? AND key_version = 2 AND "
                    + "participant_id <> ?", roomId, daveId), "a wrap for each who stays, none for Dave");
            String rotatedCode = alice.waitUntil(d -> {
                String a = safetyCode(alice);
                boolean shared = members.stream().allMatch(m -> safetyCode(m).equals(a));
                return shared && !a.equals(code) && !a.equals(newCode) ? a : null;
            }, 20);
            assertTrue(SAFETY_CODE.matcher(rotatedCode).matches(), "a new key makes a new code: " + rotatedCode);
            carol.say("Only the three of us read this");
            expected.add("Carol: Only the three of us read this");
            for (Browser member : members) {
                member.awaitMessages(expected, 20);
                member.waitUntil(d -> member.all("#participants li").size() == 3, 20);
            }
            assertEquals(2, Database.count("SELECT COUNT(*) FROM envelopes e JOIN participants p ON p.id = e.sender_id "
                    + "WHERE e.room_id = ? AND p.pseudonym IN ('Bob', 'Carol') AND e.key_version = 2", roomId),
                    "Bob's and Carol's last messages are sealed under the new key");
            assertRelayHoldsNoSecrets(roomId, expected, members);
            String revoked = refusedJoin(dave, unusedLink, "Dave");
            assertTrue(revoked.contains("not valid"), "the new key revoked the unused link: " + revoked);

            // Bob reloads: still in the room, the history under both keys is readable, and he keeps chatting.
            bob.driver().navigate().refresh();
            bob.waitUntil(d -> "true".equals(bob.js("return document.documentElement.dataset.ready || ''")), 30);
            bob.shown("#room-view");
            bob.awaitMessages(expected, 30);
            bob.say("Back after a reload");
            expected.add("Bob: Back after a reload");
            for (Browser everyone : members) {
                everyone.awaitMessages(expected, 20);
            }

            // At 360 px the room still works.
            carol.resize(360, 780);
            carol.screenshot("07-room-360px");
            assertTrue(carol.visible("#composer"));

            // Alice burns the room; everyone sees that it has ended.
            alice.click("#burn");
            alice.click("#burn-confirm");
            for (Browser everyone : members) {
                everyone.shown("#room-ended");
                assertTrue(everyone.text("#room-ended").contains("This room has ended"), everyone.name());
            }
            bob.screenshot("08-ended");
            assertEquals(0, Database.count("SELECT COUNT(*) FROM envelopes WHERE room_id = ?", roomId));
            assertEquals(0, Database.count("SELECT COUNT(*) FROM rooms WHERE id = ?", roomId));
        } finally {
            browsers.forEach(Browser::close);
        }
    }

    @Test
    void pollingWhereSocketsAreBlockedSeveralRoomsAndTheComposer() throws Exception {
        List<Browser> browsers = new ArrayList<>();
        try {
            Browser alice = open(browsers, "alice");
            alice.type("#create-pseudonym", "Alice");
            alice.click("#create-submit");
            alice.waitUntil(d -> connectionState(alice).equals("connected"), 20);
            String firstRoom = roomIdOf(alice);
            String link = inviteLink(alice);

            // Bob sits behind a proxy that blocks WebSockets: his client polls and sends by POST, and says so.
            Browser bob = open(browsers, "bob");
            bob.blockWebSockets();
            visit(bob, link);
            bob.waitUntil(d -> "true".equals(bob.js("return document.documentElement.dataset.ready || ''")), 20);
            bob.type("#join-pseudonym", "Bob");
            bob.click("#join-submit");
            try {
                bob.waitUntil(d -> connectionState(bob).equals("polling"), 30);
            } catch (RuntimeException e) {
                throw new AssertionError("Bob's connection is " + connectionState(bob) + ": " + bob.text("#connection"), e);
            }
            assertTrue(bob.text("#connection").contains("Polling"), bob.text("#connection"));
            alice.say("Can you read me?");
            bob.awaitMessages(List.of("Alice: Can you read me?"), 20);
            bob.say("Yes, by polling");
            alice.awaitMessages(List.of("Alice: Can you read me?", "Bob: Yes, by polling"), 20);

            // The composer: Shift+Enter makes a new line, Enter sends; the log is announced politely.
            var composer = alice.shown("#composer");
            composer.sendKeys("line one");
            composer.sendKeys(org.openqa.selenium.Keys.chord(org.openqa.selenium.Keys.SHIFT, org.openqa.selenium.Keys.ENTER));
            composer.sendKeys("line two");
            composer.sendKeys(org.openqa.selenium.Keys.ENTER);
            bob.awaitMessages(List.of("Alice: Can you read me?", "Bob: Yes, by polling", "Alice: line one\nline two"), 20);
            assertEquals("log", alice.find("#log").getAttribute("role"));
            assertEquals("additions", alice.find("#log").getAttribute("aria-relevant"));

            // Alice opens a second room in the same tab; a message in the first shows as unread.
            alice.click("#new-room");
            alice.shown("#create-view");
            alice.type("#create-pseudonym", "Alice");
            alice.click("#create-submit");
            alice.waitUntil(d -> alice.all("#room-list [data-room-id]").size() == 2, 20);
            bob.say("Are you still there?");
            String unread = "#room-list [data-room-id='" + firstRoom + "'] .unread";
            alice.waitUntil(d -> alice.visible(unread) && alice.find(unread).getText().trim().equals("1"), 20);
            alice.screenshot("09-two-rooms-unread");
            alice.click("#room-list [data-room-id='" + firstRoom + "']");
            alice.awaitMessages(List.of("Alice: Can you read me?", "Bob: Yes, by polling", "Alice: line one\nline two",
                    "Bob: Are you still there?"), 20);
            alice.waitUntil(d -> !alice.visible(unread), 10);
        } finally {
            browsers.forEach(Browser::close);
        }
    }

    private Browser open(List<Browser> browsers, String name) {
        Browser browser = new Browser(name);
        browsers.add(browser);
        return browser.open(base());
    }

    static String connectionState(Browser browser) {
        return browser.find("#connection").getAttribute("data-state");
    }

    static String inviteLink(Browser browser) {
        String before = browser.find("#invite-link").getAttribute("value");
        browser.click("#copy-invite");
        return browser.waitUntil(d -> {
            String link = browser.find("#invite-link").getAttribute("value");
            return link != null && !link.isBlank() && !link.equals(before) ? link : null;
        }, 20);
    }

    /** Opens a link as a fresh page load (as from a mail or chat), never as a same-page fragment change. */
    static void visit(Browser browser, String link) {
        browser.driver().get("about:blank");
        browser.driver().get(link);
    }

    static void join(Browser browser, String link, String pseudonym) {
        visit(browser, link);
        browser.waitUntil(d -> "true".equals(browser.js("return document.documentElement.dataset.ready || ''")), 20);
        browser.shown("#join-view");
        if (pseudonym.equals("Bob")) {
            browser.screenshot("02-join");
        }
        browser.type("#join-pseudonym", pseudonym);
        browser.click("#join-submit");
        browser.shown("#room-view");
        browser.waitUntil(d -> connectionState(browser).equals("connected"), 20);
    }

    /** Tries to join with a link that must be refused; returns the refusal shown. */
    static String refusedJoin(Browser browser, String link, String pseudonym) {
        visit(browser, link);
        browser.waitUntil(d -> "true".equals(browser.js("return document.documentElement.dataset.ready || ''")), 20);
        assertFalse(browser.driver().getCurrentUrl().contains("#/join/"), "the fragment leaves the address bar at once");
        browser.type("#join-pseudonym", pseudonym);
        browser.click("#join-submit");
        return browser.waitUntil(d -> {
            String t = browser.find("#join-error").getText();
            return t.isBlank() ? null : t;
        }, 20);
    }

    static String safetyCode(Browser browser) {
        return browser.waitUntil(d -> {
            String code = browser.find("#safety-code").getText().trim();
            return SAFETY_CODE.matcher(code).matches() ? code : null;
        }, 20);
    }

    static String roomIdOf(Browser browser) {
        return browser.find("#room-list [data-room-id]").getAttribute("data-room-id");
    }

    static String capitalised(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /**
     * Reads every row the relay holds for the room and finds neither any message text nor any 32-byte value the
     * browsers keep in their session storage (the room key, session tokens).
     */
    static void assertRelayHoldsNoSecrets(String roomId, List<String> lines, List<Browser> browsers) throws Exception {
        List<byte[]> secrets = new ArrayList<>();
        for (Browser browser : browsers) {
            String storage = (String) browser.js("return JSON.stringify(Object.assign({}, sessionStorage));");
            Matcher m = B64U_32.matcher(storage);
            while (m.find()) {
                secrets.add(Wire.unb64(m.group()));
            }
        }
        assertFalse(secrets.isEmpty(), "the browsers hold their room key and session tokens");
        List<byte[]> needles = new ArrayList<>(secrets);
        for (String line : lines) {
            String text = line.substring(line.indexOf(": ") + 2);
            needles.add(text.getBytes(StandardCharsets.UTF_8));
        }
        List<Object[]> rows = new ArrayList<>();
        rows.addAll(Database.rows("SELECT ciphertext, checkpoint, nonce, signature, chain_id FROM envelopes WHERE room_id = ?", roomId));
        rows.addAll(Database.rows("SELECT signing_key, exchange_key, pseudonym, token_hash FROM participants WHERE room_id = ?", roomId));
        rows.addAll(Database.rows("SELECT token_hash, wrapped_room_key FROM invites WHERE room_id = ?", roomId));
        rows.addAll(Database.rows("SELECT wrapped FROM key_wraps WHERE room_id = ?", roomId));
        assertTrue(rows.size() >= 6, "envelopes and participants were stored");
        for (Object[] row : rows) {
            for (Object cell : row) {
                byte[] haystack = cell == null ? new byte[0]
                        : cell instanceof byte[] b ? b : cell.toString().getBytes(StandardCharsets.UTF_8);
                for (byte[] needle : needles) {
                    assertFalse(contains(haystack, needle), "a secret or a message text is stored in the relay");
                }
            }
        }
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
