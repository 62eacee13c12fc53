package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mikrotext.it.support.Browser;
import org.mikrotext.it.support.Database;
import org.mikrotext.it.support.Member;
import org.mikrotext.it.support.MicroProcess;
import org.mikrotext.it.support.Relay;
import org.mikrotext.it.support.Socket;

/**
 * Two relay instances (Payara Micro processes) share one PostgreSQL database with {@code mikrotext.cluster.enabled},
 * as behind a load balancer: the room's creator is on one, the others on the other, and everything a room does
 * reaches everyone, whichever instance it happened on.
 */
class ClusterIT {

    /** Shared rooms, and room for the concurrent test's bursts of envelopes within the send rate limit. */
    private static final Map<String, String> SHARED = Map.of("MIKROTEXT_CLUSTER_ENABLED", "true",
            "MIKROTEXT_RATE_SEND_CAPACITY", "100000");
    private static final int PER_SENDER = 150;

    @TempDir
    static Path dir;

    static MicroProcess a;
    static MicroProcess b;

    @BeforeAll
    static void start() throws Exception {
        a = new MicroProcess(Files.createDirectories(dir.resolve("a")), SHARED, List.of()).start();
        b = new MicroProcess(Files.createDirectories(dir.resolve("b")), SHARED, List.of()).start();
        assertTrue(log(b).contains("Rooms are shared with the other relay instances"), "B listens");
    }

    @AfterAll
    static void stop() throws Exception {
        for (MicroProcess relay : new MicroProcess[] {a, b}) {
            if (relay != null) {
                relay.close();
            }
        }
    }

    /**
     * Alice sends through A and Bob through B at the same time, into one room: a socket on each instance receives
     * every envelope once, in seq order, with no gap.
     */
    @Test
    void envelopesStoredOnBothInstancesReachEverySocketOnceAndInOrder() throws Exception {
        Relay onA = new Relay(a.port());
        Member alice = onA.create("Alice", 600);
        Member bob = onA.joinNew(alice, "Bob");
        Member carol = onA.joinNew(alice, "Carol");
        Member bobOnB = new Member(new Relay(b.port()), bob.roomId(), bob.participantId(), bob.token(), bob.signing(),
                null);
        Member carolOnB = new Member(new Relay(b.port()), carol.roomId(), carol.participantId(), carol.token(),
                carol.signing(), null);
        try (Socket readerA = alice.connect(0); Socket readerB = carolOnB.connect(0)) {
            for (Socket reader : List.of(readerA, readerB)) {
                reader.next("ready");
                reader.next("participants");
            }
            ExecutorService senders = Executors.newFixedThreadPool(2);
            try {
                List<Future<Long>> sent = new ArrayList<>();
                for (Member sender : List.of(alice, bobOnB)) {
                    sent.add(senders.submit(() -> {
                        long stored = 0;
                        for (int i = 0; i < PER_SENDER; i++) {
                            stored += sender.post(sender.nextEnvelope().build()).status() == 201 ? 1 : 0;
                        }
                        return stored;
                    }));
                }
                for (Future<Long> each : sent) {
                    assertEquals(PER_SENDER, each.get(120, TimeUnit.SECONDS), "every envelope stored");
                }
            } finally {
                senders.shutdownNow();
            }
            List<Long> inOrder = LongStream.rangeClosed(1, 2L * PER_SENDER).boxed().toList();
            for (Socket reader : List.of(readerA, readerB)) {
                List<Long> seqs = reader.collect(f -> "envelope".equals(f.getString("type", "")), 2 * PER_SENDER, 60)
                        .stream().map(f -> f.getJsonNumber("seq").longValue()).toList();
                assertEquals(inOrder, seqs, "each envelope once, in seq order");
                assertTrue(reader.drain(1_000).stream().noneMatch(f -> "envelope".equals(f.getString("type", ""))),
                        "and nothing more");
            }

            // Notifications forged by another database user are only cues: the database says nothing happened.
            String room = alice.roomId();
            assertEquals(1, Database.count("SELECT COUNT(pg_notify('mikrotext', ?))", String.join("\n", "forged",
                    "r " + room + " " + carol.participantId(), "x " + room, "k " + room + " 7",
                    "e " + room + " 999999")));
            for (Socket reader : List.of(readerA, readerB)) {
                List<JsonObject> frames = reader.drain(2_000);
                assertTrue(frames.isEmpty(), "no frame for a forged notification: " + frames);
                assertFalse(reader.isClosed(), "no socket closed by a forged notification");
            }
            assertEquals(201, alice.post(alice.nextEnvelope().build()).status());
            for (Socket reader : List.of(readerA, readerB)) {
                assertEquals(2L * PER_SENDER + 1, reader.next("envelope").getJsonNumber("seq").longValue(),
                        "the next envelope is not skipped");
            }
        }

        // A participant who claims to have read beyond the room's last seq, as the room's only socket on B, does not
        // move B's position in the room past what exists: the envelopes that follow, from either instance, still
        // reach the next socket there.
        Thread.sleep(1_000); // Carol's socket on B has gone
        long last = 2L * PER_SENDER + 1;
        try (Socket ahead = bobOnB.connect(Long.MAX_VALUE)) {
            ahead.next("ready");
            ahead.next("participants");
            try (Socket carolAgain = carolOnB.connect(last)) {
                carolAgain.next("ready");
                carolAgain.next("participants");
                assertEquals(201, alice.post(alice.nextEnvelope().build()).status());
                assertEquals(201, bobOnB.post(bobOnB.nextEnvelope().build()).status());
                List<Long> seqs = carolAgain.collect(f -> "envelope".equals(f.getString("type", "")), 2, 30).stream()
                        .map(f -> f.getJsonNumber("seq").longValue()).toList();
                assertEquals(List.of(last + 1, last + 2), seqs, "stored on A and on B after a socket claimed more");
            }
        }
    }

    @Test
    void oneRoomAcrossTwoInstances() throws Exception {
        try (Browser alice = new Browser("alice"); Browser bert = new Browser("bert");
             Browser cleo = new Browser("cleo")) {

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
                    + "WHERE application_name = 'mikrotext listener' AND pid <> pg_backend_pid()"),
                    "one listening connection each");
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
