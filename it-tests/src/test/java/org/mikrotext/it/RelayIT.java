package org.mikrotext.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.URL;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.mikrotext.it.support.Database;
import org.mikrotext.it.support.Member;
import org.mikrotext.it.support.RawSocket;
import org.mikrotext.it.support.Relay;
import org.mikrotext.it.support.Relay.Answer;
import org.mikrotext.it.support.Socket;
import org.mikrotext.it.support.Wire;

/**
 * The relay's REST API and WebSocket, driven from outside as a client would, against the relay WAR on a real
 * Payara Micro and a real PostgreSQL. The server runs with short test settings (see it-tests/pom.xml): rooms may
 * live 2 s, the sweep runs every second, a room keeps 50 envelopes, and hello must come within 3 s.
 */
@ExtendWith(ArquillianExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RelayIT {

    static final String PROBLEM_JSON = "application/problem+json";
    /**
     * JSON the container's parser refuses with exceptions of its own: past its nesting depth, an exponent out of range,
     * a number too long.
     */
    static final List<String> UNPARSABLE = List.of(
            "{\"type\":\"ping\",\"a\":" + "[".repeat(1_001) + "]".repeat(1_001) + "}",
            "{\"type\":\"ping\",\"ttlSeconds\":1e9999999999}",
            "{\"type\":\"ping\",\"a\":" + "9".repeat(1_200) + "}");

    @Deployment(testable = false)
    static WebArchive deployment() {
        return RelayDeployment.war();
    }

    @ArquillianResource
    URL url;

    Relay relay;

    @BeforeEach
    void relay() {
        relay = new Relay(url);
    }

    // ---- rooms -------------------------------------------------------------------------------------------------

    @Test
    void createsRoomStoringOnlyTheTokensHash() throws Exception {
        KeyPair signing = Wire.p256();
        KeyPair exchange = Wire.p256();
        Answer created = relay.call("POST", "api/rooms", null,
                Relay.identity("Alice\u0301", signing, exchange).add("ttlSeconds", 600).build().toString());
        assertEquals(201, created.status(), created.body());
        JsonObject json = created.json();
        String roomId = json.getString("roomId");
        assertEquals(22, roomId.length());
        assertEquals(43, json.getString("sessionToken").length());
        assertEquals(1, json.getInt("keyVersion"));
        assertTrue(created.response().headers().firstValue("Location").orElseThrow().endsWith("/api/rooms/" + roomId));
        long ttl = Instant.parse(json.getString("expiresAt")).getEpochSecond() - Instant.now().getEpochSecond();
        assertTrue(ttl > 590 && ttl <= 601, "expiresAt is ~10 minutes ahead: " + ttl);

        Answer view = relay.call("GET", "api/rooms/" + roomId, json.getString("sessionToken"), null);
        assertEquals(200, view.status(), view.body());
        JsonObject me = view.json().getJsonArray("participants").getJsonObject(0);
        assertEquals("Alic\u00e9", me.getString("pseudonym"), "stored in NFC");
        assertEquals("creator", me.getString("role"));
        assertEquals(Wire.spki(signing), me.getString("signingKey"));
        assertEquals(Wire.spki(exchange), me.getString("exchangeKey"));
        assertTrue(view.json().isNull("wrapped"));

        String token = json.getString("sessionToken");
        List<Object[]> rows = Database.rows("SELECT token_hash FROM participants WHERE room_id = ?", roomId);
        assertEquals(1, rows.size());
        assertEquals(Wire.sha256Hex(Wire.unb64(token)), rows.get(0)[0].toString().strip());
        assertEquals(0, Database.count("SELECT COUNT(*) FROM participants WHERE room_id = ? AND (pseudonym = ? OR token_hash = ?)",
                roomId, token, token));
    }

    @Test
    void storesNothingBeyondTheSecurityModel() throws Exception {
        Set<String> columns = Database.rows("SELECT table_name || '.' || column_name FROM information_schema.columns "
                        + "WHERE table_schema = 'public' AND table_name <> 'flyway_schema_history'")
                .stream().map(r -> r[0].toString()).collect(Collectors.toSet());
        assertEquals(Set.of(
                "rooms.id", "rooms.key_version", "rooms.last_seq", "rooms.created_at", "rooms.expires_at",
                "participants.id", "participants.room_id", "participants.pseudonym", "participants.signing_key",
                "participants.exchange_key", "participants.role", "participants.token_hash", "participants.joined_at",
                "participants.left_at",
                "invites.token_hash", "invites.room_id", "invites.key_version", "invites.wrapped_room_key",
                "invites.spent", "invites.expires_at",
                "envelopes.room_id", "envelopes.seq", "envelopes.sender_id", "envelopes.key_version",
                "envelopes.chain_id", "envelopes.chain_index", "envelopes.checkpoint", "envelopes.nonce",
                "envelopes.ciphertext", "envelopes.signature", "envelopes.created_at", "envelopes.expires_at",
                "key_wraps.room_id", "key_wraps.participant_id", "key_wraps.key_version", "key_wraps.wrapped"),
                columns);
    }

    @Test
    void refusesBadRoomInputWithProblemDetails() {
        KeyPair key = Wire.p256();
        String good = Wire.spki(key);
        byte[] offCurve = key.getPublic().getEncoded();
        offCurve[90] ^= 1;
        String longName = "x".repeat(41);
        List<String> bodies = List.of(
                Relay.identity("", key, key).build().toString(),
                Relay.identity(longName, key, key).build().toString(),
                Relay.identity("bob\u202Eevil", key, key).build().toString(),
                Relay.identity("bob\u0007", key, key).build().toString(),
                Json.createObjectBuilder().add("pseudonym", "Bob").add("signingKey", good).build().toString(),
                Json.createObjectBuilder().add("pseudonym", "Bob").add("signingKey", Wire.b64(offCurve))
                        .add("exchangeKey", good).build().toString(),
                Json.createObjectBuilder().add("pseudonym", "Bob").add("signingKey", good + "A")
                        .add("exchangeKey", good).build().toString(),
                Json.createObjectBuilder().add("pseudonym", "Bob").add("signingKey", "+" + good.substring(1))
                        .add("exchangeKey", good).build().toString(),
                Relay.identity("Bob", key, key).add("ttlSeconds", 1).build().toString(),
                Relay.identity("Bob", key, key).add("ttlSeconds", 604801).build().toString(),
                Relay.identity("Bob", key, key).add("ttlSeconds", "600").build().toString(),
                Json.createObjectBuilder().add("pseudonym", 7).add("signingKey", good).add("exchangeKey", good)
                        .build().toString(),
                "{not json",
                "[]",
                UNPARSABLE.get(0), UNPARSABLE.get(1), UNPARSABLE.get(2));
        for (String body : bodies) {
            Answer answer = relay.call("POST", "api/rooms", null, body);
            assertEquals(400, answer.status(), body + " -> " + answer.body());
            assertTrue(answer.contentType().startsWith(PROBLEM_JSON), answer.contentType());
            assertEquals(400, answer.json().getInt("status"));
            assertFalse(answer.body().contains("Exception"), answer.body());
        }
        String huge = Relay.identity("x".repeat(200_000), key, key).build().toString();
        Answer tooLarge = relay.call("POST", "api/rooms", null, huge);
        assertEquals(413, tooLarge.status());
        assertTrue(tooLarge.contentType().startsWith(PROBLEM_JSON));
    }

    @Test
    void aTokenOpensOnlyItsOwnRoom() {
        Member alice = relay.create("Alice", 600);
        Member mallory = relay.create("Mallory", 600);
        String room = "api/rooms/" + alice.roomId();
        for (String token : new String[] {null, "", "not-a-token", Wire.b64(Wire.random(32)), mallory.token()}) {
            for (String[] call : new String[][] {{"GET", ""}, {"GET", "/envelopes"}, {"DELETE", ""},
                    {"POST", "/envelopes"}, {"POST", "/invites"}}) {
                String body = call[0].equals("POST") ? "{}" : null;
                Answer answer = relay.call(call[0], room + call[1], token, body);
                assertEquals(401, answer.status(), call[0] + call[1] + " with " + token);
                assertEquals("unauthorized", answer.problemType());
            }
        }
        Answer unknown = relay.call("GET", "api/rooms/" + Wire.b64(Wire.random(16)), alice.token(), null);
        assertEquals(404, unknown.status());
        assertEquals("room-not-found", unknown.problemType());
        assertEquals(404, relay.call("GET", "api/rooms/nope", alice.token(), null).status());
        // Mallory's envelope cannot enter Alice's room, even signed with Mallory's registered key.
        Answer foreign = relay.call("POST", room + "/envelopes", mallory.token(), mallory.nextEnvelope().build().toString());
        assertEquals(401, foreign.status());
        assertEquals(200, alice.get("").status());
    }

    // ---- invites and joins -------------------------------------------------------------------------------------

    @Test
    void anInviteIsSpentOnceAndHandsOverTheWrappedKey() throws Exception {
        Member alice = relay.create("Alice", 600);
        String inviteToken = Wire.b64(Wire.random(32));
        String wrapped = Wire.b64(Wire.random(60));
        Answer invited = relay.call("POST", "api/rooms/" + alice.roomId() + "/invites", alice.token(),
                Json.createObjectBuilder().add("inviteToken", inviteToken).add("keyVersion", 1)
                        .add("wrappedRoomKey", wrapped).build().toString());
        assertEquals(201, invited.status(), invited.body());

        Answer joined = relay.join(alice.roomId(), inviteToken, "Bob", Wire.p256(), Wire.p256());
        assertEquals(201, joined.status(), joined.body());
        assertEquals(wrapped, joined.json().getString("wrappedRoomKey"));
        assertEquals(1, joined.json().getInt("keyVersion"));
        assertEquals(alice.get("").json().getString("expiresAt"), joined.json().getString("expiresAt"));
        assertEquals(0, Database.count("SELECT COUNT(*) FROM invites WHERE room_id = ? AND wrapped_room_key IS NOT NULL",
                alice.roomId()), "a spent invite forgets the wrapped room key");

        Answer again = relay.join(alice.roomId(), inviteToken, "Eve", Wire.p256(), Wire.p256());
        assertEquals(410, again.status());
        assertEquals("invite-used", again.problemType());
        Answer unknown = relay.join(alice.roomId(), Wire.b64(Wire.random(32)), "Eve", Wire.p256(), Wire.p256());
        assertEquals(403, unknown.status());
        assertEquals("invite-invalid", unknown.problemType());
        Answer noRoom = relay.join(Wire.b64(Wire.random(16)), inviteToken, "Eve", Wire.p256(), Wire.p256());
        assertEquals(404, noRoom.status());
        assertEquals(2, alice.get("").json().getJsonArray("participants").size());
    }

    @Test
    void concurrentJoinsSpendAnInviteExactlyOnce() throws Exception {
        Member alice = relay.create("Alice", 600);
        String inviteToken = relay.invite(alice);
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<Callable<Integer>> joins = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                String name = "Guest" + i;
                joins.add(() -> relay.join(alice.roomId(), inviteToken, name, Wire.p256(), Wire.p256()).status());
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<Integer> f : pool.invokeAll(joins)) {
                statuses.add(f.get());
            }
            assertEquals(1, statuses.stream().filter(s -> s == 201).count(), statuses.toString());
            assertEquals(11, statuses.stream().filter(s -> s == 410).count(), statuses.toString());
        } finally {
            pool.shutdownNow();
        }
        assertEquals(2, Database.count("SELECT COUNT(*) FROM participants WHERE room_id = ?", alice.roomId()));
    }

    @Test
    void anInviteNeverOutlivesItsRoomAndExpires() throws Exception {
        Member alice = relay.create("Alice", 600);
        String roomExpiry = alice.get("").json().getString("expiresAt");
        Answer longInvite = relay.call("POST", "api/rooms/" + alice.roomId() + "/invites", alice.token(),
                Json.createObjectBuilder().add("inviteToken", Wire.b64(Wire.random(32))).add("keyVersion", 1)
                        .add("wrappedRoomKey", Wire.b64(Wire.random(60))).add("ttlSeconds", 86400).build().toString());
        assertEquals(201, longInvite.status(), longInvite.body());
        assertEquals(roomExpiry, longInvite.json().getString("expiresAt"));

        Answer staleVersion = relay.call("POST", "api/rooms/" + alice.roomId() + "/invites", alice.token(),
                Json.createObjectBuilder().add("inviteToken", Wire.b64(Wire.random(32))).add("keyVersion", 2)
                        .add("wrappedRoomKey", Wire.b64(Wire.random(60))).build().toString());
        assertEquals(409, staleVersion.status());
        Answer badWrap = relay.call("POST", "api/rooms/" + alice.roomId() + "/invites", alice.token(),
                Json.createObjectBuilder().add("inviteToken", Wire.b64(Wire.random(32))).add("keyVersion", 1)
                        .add("wrappedRoomKey", Wire.b64(Wire.random(59))).build().toString());
        assertEquals(400, badWrap.status());

        String shortToken = Wire.b64(Wire.random(32));
        Answer shortInvite = relay.call("POST", "api/rooms/" + alice.roomId() + "/invites", alice.token(),
                Json.createObjectBuilder().add("inviteToken", shortToken).add("keyVersion", 1)
                        .add("wrappedRoomKey", Wire.b64(Wire.random(60))).add("ttlSeconds", 1).build().toString());
        assertEquals(201, shortInvite.status());
        Thread.sleep(2100);
        Answer late = relay.join(alice.roomId(), shortToken, "Bob", Wire.p256(), Wire.p256());
        assertTrue(late.status() == 410 || late.status() == 403, late.body());
        assertEquals(1, alice.get("").json().getJsonArray("participants").size());
    }

    // ---- envelopes over REST ------------------------------------------------------------------------------------

    @Test
    void envelopesAreVerifiedStoredAndListedInOrder() throws Exception {
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");
        List<JsonObject> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JsonObject envelope = alice.nextEnvelope().build();
            Answer posted = alice.post(envelope);
            assertEquals(201, posted.status(), posted.body());
            assertEquals(i + 1, posted.json().getJsonNumber("seq").longValue());
            sent.add(envelope);
        }
        JsonObject list = bob.get("/envelopes?after=0").json();
        assertEquals(3, list.getJsonArray("envelopes").size());
        for (int i = 0; i < 3; i++) {
            JsonObject got = list.getJsonArray("envelopes").getJsonObject(i);
            assertEquals(i + 1, got.getJsonNumber("seq").longValue());
            assertEquals(alice.participantId(), got.getString("senderId"));
            for (String field : List.of("chainId", "nonce", "ciphertext", "signature")) {
                assertEquals(sent.get(i).getString(field), got.getString(field), field);
            }
            assertEquals(sent.get(i).getInt("chainIndex"), got.getInt("chainIndex"));
        }
        assertEquals(1, bob.get("/envelopes?after=2").json().getJsonArray("envelopes").size());
        assertEquals(1, bob.get("/envelopes?after=0&limit=1").json().getJsonArray("envelopes").size());
        assertEquals(400, bob.get("/envelopes?limit=0").status());
        assertEquals(400, bob.get("/envelopes?limit=1001").status());
        assertEquals(400, bob.get("/envelopes?after=-1").status());

        // stored exactly as sent
        List<Object[]> rows = Database.rows("SELECT ciphertext, sender_id FROM envelopes WHERE room_id = ? AND seq = 1",
                alice.roomId());
        assertArrayEquals(Wire.unb64(sent.get(0).getString("ciphertext")), (byte[]) rows.get(0)[0]);
        assertEquals(alice.participantId(), rows.get(0)[1]);
    }

    @Test
    void badEnvelopesAreRefusedBeforeAnythingIsStored() throws Exception {
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");

        Answer forged = alice.post(alice.envelope(1, 1, Wire.random(272), bob.signing()).build());
        assertEquals(400, forged.status());
        assertEquals("bad-signature", forged.problemType());

        JsonObject good = alice.envelope(1, 1, Wire.random(272), alice.signing()).build();
        assertEquals(201, alice.post(good).status());
        Answer replay = alice.post(good);
        assertEquals(409, replay.status());
        assertEquals("replay", replay.problemType());

        Answer staleKey = alice.post(alice.envelope(2, 2, Wire.random(272), alice.signing()).build());
        assertEquals(409, staleKey.status());
        assertEquals("key-version", staleKey.problemType());

        JsonObject noCheckpoint = Json.createObjectBuilder(alice.envelope(1, 16, Wire.random(272), alice.signing()).build())
                .addNull("checkpoint").build();
        assertEquals(400, alice.post(noCheckpoint).status());

        Answer huge = alice.post(alice.envelope(1, 3, Wire.random(65537), alice.signing()).build());
        assertEquals(413, huge.status());
        assertTrue(huge.contentType().startsWith(PROBLEM_JSON));
        Answer maximal = alice.post(alice.envelope(1, 4, Wire.random(65536), alice.signing()).build());
        assertEquals(201, maximal.status(), maximal.body());

        JsonObject shortNonce = Json.createObjectBuilder(alice.envelope(1, 5, Wire.random(272), alice.signing()).build())
                .add("nonce", Wire.b64(Wire.random(11))).build();
        assertEquals(400, alice.post(shortNonce).status());
        JsonObject padded = Json.createObjectBuilder(alice.envelope(1, 6, Wire.random(272), alice.signing()).build())
                .add("chainId", Wire.b64(Wire.random(16)) + "==").build();
        assertEquals(400, alice.post(padded).status());

        assertEquals(2, Database.count("SELECT COUNT(*) FROM envelopes WHERE room_id = ?", alice.roomId()));
    }

    @Test
    void aRoomKeepsOnlyItsNewestEnvelopes() throws Exception {
        // The test server keeps 50 envelopes per room (mikrotext.room.max-envelopes).
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");
        Member carol = relay.joinNew(alice, "Carol");
        int sent = 0;
        for (Member m : List.of(alice, bob, carol)) {
            for (int i = 0; i < 19; i++) {
                assertEquals(201, m.post(m.nextEnvelope().build()).status());
                sent++;
            }
        }
        var list = alice.get("/envelopes?after=0&limit=1000").json().getJsonArray("envelopes");
        assertEquals(50, list.size());
        assertEquals(sent - 49, list.getJsonObject(0).getJsonNumber("seq").longValue());
        assertEquals(sent, list.getJsonObject(49).getJsonNumber("seq").longValue());
        assertEquals(50, Database.count("SELECT COUNT(*) FROM envelopes WHERE room_id = ?", alice.roomId()));
    }

    // ---- WebSocket --------------------------------------------------------------------------------------------

    @Test
    void aForeignOriginGetsNoSocket() {
        Member alice = relay.create("Alice", 600);
        assertThrows(IllegalStateException.class, () -> Socket.open(relay.ws(alice.roomId()), "https://evil.example"));
        assertThrows(IllegalStateException.class, () -> Socket.open(relay.ws(alice.roomId()), "null"));
        for (String origin : new String[] {null, "http://127.0.0.1:" + url.getPort(), "http://localhost:9999"}) {
            try (Socket socket = Socket.open(relay.ws(alice.roomId()), origin)) {
                socket.send(Json.createObjectBuilder().add("type", "hello").add("token", alice.token()).build());
                assertEquals("ready", socket.next(10).getString("type"), "origin " + origin);
            }
        }
    }

    @Test
    void helloMustComeFirstWithAValidTokenOfThisRoom() {
        Member alice = relay.create("Alice", 600);
        Member mallory = relay.create("Mallory", 600);
        try (Socket bad = Socket.open(relay.ws(alice.roomId()), null)) {
            bad.send(Json.createObjectBuilder().add("type", "hello").add("token", Wire.b64(Wire.random(32))).build());
            assertEquals(4401, bad.closeCode(10));
        }
        try (Socket foreign = Socket.open(relay.ws(alice.roomId()), null)) {
            foreign.send(Json.createObjectBuilder().add("type", "hello").add("token", mallory.token()).build());
            assertEquals(4401, foreign.closeCode(10));
        }
        try (Socket notHello = Socket.open(relay.ws(alice.roomId()), null)) {
            notHello.send(alice.nextEnvelope().add("type", "send").build());
            assertEquals(4401, notHello.closeCode(10));
        }
        try (Socket noRoom = Socket.open(relay.ws(Wire.b64(Wire.random(16))), null)) {
            noRoom.send(Json.createObjectBuilder().add("type", "hello").add("token", alice.token()).build());
            assertEquals(4404, noRoom.closeCode(10));
        }
        try (Socket silent = Socket.open(relay.ws(alice.roomId()), null)) {
            assertEquals(4408, silent.closeCode(10), "the test server wants hello within 3 s");
        }
    }

    @Test
    void sendIsAcknowledgedAndPushedToEveryoneWithTheAuthenticatedSender() {
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");
        try (Socket a = alice.connect(0); Socket b = bob.connect(0)) {
            JsonObject ready = b.next("ready");
            assertEquals(bob.participantId(), ready.getString("participantId"));
            assertEquals(2, ready.getJsonObject("room").getJsonArray("participants").size());
            assertEquals(0, ready.getJsonNumber("lastSeq").longValue());
            a.next("ready");
            b.next("participants");
            a.next("participants");

            JsonObject envelope = alice.nextEnvelope().build();
            a.send(Json.createObjectBuilder(envelope).add("type", "send").add("id", "m1").build());
            List<JsonObject> beforeAck = new ArrayList<>();
            JsonObject ack = a.next("ack", 10, beforeAck);
            assertEquals("m1", ack.getString("id"));
            assertEquals(1, ack.getJsonNumber("seq").longValue());
            assertEquals(List.of(1L), beforeAck.stream().filter(f -> f.getString("type").equals("envelope"))
                    .map(f -> f.getJsonNumber("seq").longValue()).toList(),
                    "the sending socket has its own envelope too (no gap), and before its ack");
            JsonObject pushed = b.next("envelope");
            assertEquals(alice.participantId(), pushed.getString("senderId"));
            assertEquals(1, pushed.getJsonNumber("seq").longValue());
            assertEquals(envelope.getString("ciphertext"), pushed.getString("ciphertext"));
            assertEquals(envelope.getString("signature"), pushed.getString("signature"));
            assertNotNull(pushed.getString("createdAt"));

            JsonObject forged = alice.envelope(1, 1, Wire.random(272), bob.signing()).add("type", "send").add("id", 7).build();
            a.send(forged);
            JsonObject error = a.next("error");
            assertEquals(400, error.getInt("code"));
            assertEquals(7, error.getInt("id"));
            a.send(Json.createObjectBuilder().add("type", "ping").add("id", "p").build());
            assertEquals("p", a.next("pong").getString("id"));
            assertTrue(b.drain(300).stream().noneMatch(f -> f.getString("type").equals("envelope")),
                    "a refused envelope reaches nobody");
        }
    }

    @Test
    void concurrentSendersGetGaplessSeqAndEverySocketSeesEachEnvelopeOnceInOrder() throws Exception {
        Member alice = relay.create("Alice", 600);
        List<Member> members = List.of(alice, relay.joinNew(alice, "Bob"), relay.joinNew(alice, "Carol"));
        List<Socket> sockets = new ArrayList<>();
        try {
            for (Member m : members) {
                Socket s = m.connect(0);
                s.next("ready");
                sockets.add(s);
            }
            int perSender = 15;
            ExecutorService pool = Executors.newFixedThreadPool(members.size());
            List<Future<?>> sends = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                Socket s = sockets.get(i);
                sends.add(pool.submit(() -> {
                    for (int k = 0; k < perSender; k++) {
                        s.send(Json.createObjectBuilder(m.nextEnvelope().build()).add("type", "send")
                                .add("id", "s" + k).build());
                    }
                }));
            }
            for (Future<?> f : sends) {
                f.get();
            }
            pool.shutdown();
            int total = perSender * members.size();
            for (Socket s : sockets) {
                List<JsonObject> got = s.collect(f -> f.getString("type").equals("envelope"), total, 30);
                List<Long> seqs = got.stream().map(f -> f.getJsonNumber("seq").longValue()).toList();
                List<Long> expected = new ArrayList<>();
                for (long q = 1; q <= total; q++) {
                    expected.add(q);
                }
                assertEquals(expected, seqs);
                assertTrue(s.drain(300).stream().noneMatch(f -> f.getString("type").equals("envelope")),
                        "no duplicates");
            }
        } finally {
            sockets.forEach(Socket::close);
        }
        assertEquals(45, Database.count("SELECT MAX(seq) FROM envelopes WHERE room_id = ?", alice.roomId()));
        assertEquals(45, Database.count("SELECT COUNT(DISTINCT seq) FROM envelopes WHERE room_id = ?", alice.roomId()));
    }

    @Test
    void helloWithAfterResumesWithEveryMissedEnvelopeExactlyOnceThenLiveOnes() {
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");
        for (int i = 0; i < 10; i++) {
            assertEquals(201, alice.post(alice.nextEnvelope().build()).status());
        }
        try (Socket b = bob.connect(4)) {
            JsonObject ready = b.next("ready");
            assertEquals(10, ready.getJsonNumber("lastSeq").longValue());
            List<JsonObject> missed = b.collect(f -> f.getString("type").equals("envelope"), 6, 10);
            assertEquals(List.of(5L, 6L, 7L, 8L, 9L, 10L),
                    missed.stream().map(f -> f.getJsonNumber("seq").longValue()).toList());
            assertEquals(201, alice.post(alice.nextEnvelope().build()).status());
            JsonObject live = b.next("envelope", 10, null);
            assertEquals(11, live.getJsonNumber("seq").longValue());
            assertTrue(b.drain(300).stream().noneMatch(f -> f.getString("type").equals("envelope")));
        }
    }

    @Test
    void aFrameInFragmentsIsAnsweredAsOneAndWholeFramesStillFollow() {
        Member alice = relay.create("Alice", 600);
        try (Socket a = alice.connect(0)) {
            a.next("ready");
            a.sendFragments("{\"type\":\"pi", "ng\",\"id\":\"fr", "agmented\"}");
            assertEquals("fragmented", a.next("pong").getString("id"));
            a.sendText("{\"type\":\"ping\",\"id\":\"whole\"}");
            assertEquals("whole", a.next("pong").getString("id"));
        }
    }

    @Test
    void aPageOfEnvelopesHoldsAtMostTwoMebibytesOfCiphertext() {
        Member dave = roomWithLargeBacklog().get(2); // 48 envelopes of 64 KiB
        JsonObject first = dave.get("/envelopes?after=0&limit=1000").json();
        assertEquals(32, first.getJsonArray("envelopes").size(), "2 MiB of 64 KiB ciphertexts");
        assertTrue(first.getBoolean("more"), "cut short, so it says there may be more");
        JsonObject rest = dave.get("/envelopes?after=32&limit=1000").json();
        assertEquals(16, rest.getJsonArray("envelopes").size());
        assertEquals(48, rest.getJsonArray("envelopes").getJsonObject(15).getJsonNumber("seq").longValue());
        assertFalse(rest.containsKey("more"), "the rest, within the limit");
        assertFalse(dave.get("/envelopes?after=0&limit=32").json().containsKey("more"), "the limit came first");
    }

    @Test
    void aFrameTheJsonParserRefusesIsAnsweredAsBadInput() {
        Member alice = relay.create("Alice", 600);
        try (Socket a = alice.connect(0)) {
            a.next("ready");
            for (String frame : UNPARSABLE) {
                a.sendText(frame);
                JsonObject error = a.next("error");
                assertEquals(400, error.getInt("code"), frame.substring(0, 20));
            }
            a.sendText("{\"type\":\"ping\",\"id\":\"still\"}");
            assertEquals("still", a.next("pong").getString("id"));
        }
        try (Socket notHello = Socket.open(relay.ws(alice.roomId()), null)) {
            notHello.sendText(UNPARSABLE.get(0));
            assertEquals(4401, notHello.closeCode(10), "told at once, not left to the hello timeout");
        }
    }

    @Test
    void aFrameOverTheLimitClosesTheSocket() throws Exception {
        Member alice = relay.create("Alice", 600);
        try (Socket a = alice.connect(0)) {
            a.next("ready");
            a.sendText("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(170 * 1024) + "\"}");
            assertEquals(4413, a.closeCode(10));
        }
        // A frame far over the limit is not held whole before it is refused: the connection ends once the container's
        // buffer for a frame (256 KiB) is full, not after the 3 MiB it declares (the container's default is 4 MiB).
        try (RawSocket big = new RawSocket(relay.ws(alice.roomId()))) {
            big.sendText(hello(alice.token()));
            readJson(big, "ready");
            int code;
            try {
                big.sendUnfinishedFrame(3 << 20, 1 << 20);
                code = big.readUntilClose();
            } catch (java.net.SocketException e) {
                code = -1; // reset while still sending: the relay stopped reading
            }
            assertNotEquals(4413, code, "ended by the container before the frame was complete");
        }
    }

    @Test
    void aFloodOfFramesOtherThanSendsIsRefusedUnreadThenClosed() {
        Member alice = relay.create("Alice", 600);
        try (Socket a = alice.connect(0)) {
            a.next("ready");
            int pongs = 0;
            int refused = 0;
            for (int i = 0; i < 100 && refused <= 10; i++) { // the 11th refusal within the period closes the socket
                a.sendText("{\"type\":\"ping\",\"id\":" + i + "}");
                JsonObject answer = a.next(10);
                while ("participants".equals(answer.getString("type"))) {
                    answer = a.next(10);
                }
                if ("pong".equals(answer.getString("type"))) {
                    pongs++;
                } else {
                    assertEquals(429, answer.getInt("code"), answer.toString());
                    assertFalse(answer.containsKey("id"), "refused before it was read: " + answer);
                    refused++;
                }
            }
            assertEquals(4429, a.closeCode(15));
            assertTrue(pongs >= 60 && pongs <= 62, "three times the 20 sends a socket may make per 10 s: " + pongs);
        }
    }

    @Test
    void aFloodIsRateLimitedThenClosed() {
        Member alice = relay.create("Alice", 600);
        long started = System.nanoTime();
        try (Socket a = alice.connect(0)) {
            a.next("ready");
            // One frame at a time, each after the answer to the one before, so that no frame is in flight when the
            // relay closes the socket (a write racing the close would reset the connection before the close frame
            // could be read).
            int refused = 0;
            for (int i = 0; i < 40 && refused <= 10; i++) { // the 11th refusal within the period closes the socket
                a.send(Json.createObjectBuilder(alice.nextEnvelope().build()).add("type", "send").add("id", i).build());
                JsonObject answer = a.next(10);
                while (Set.of("envelope", "participants").contains(answer.getString("type"))) {
                    answer = a.next(10); // the echo of an accepted envelope, and the participant list after ready
                }
                assertTrue(Set.of("ack", "error").contains(answer.getString("type")), answer.toString());
                if ("error".equals(answer.getString("type"))) {
                    assertEquals(429, answer.getInt("code"), answer.toString());
                    assertTrue(answer.getInt("retryAfter") >= 1, "the bucket's wait, as REST's Retry-After: " + answer);
                    refused++;
                }
            }
            assertEquals(4429, a.closeCode(15));
        }
        int accepted = relay.call("GET", "api/rooms/" + alice.roomId() + "/envelopes?limit=1000", alice.token(), null)
                .json().getJsonArray("envelopes").size();
        long refilled = Duration.ofNanos(System.nanoTime() - started).toMillis() / 500 + 1;
        assertTrue(accepted >= 20 && accepted <= 20 + refilled,
                "the bucket's 20 envelopes, plus one per 500 ms meanwhile: " + accepted + " (at most " + (20 + refilled) + ")");
        Answer limited = alice.post(alice.nextEnvelope().build());
        for (int i = 0; i < 5 && limited.status() == 201; i++) {
            limited = alice.post(alice.nextEnvelope().build());
        }
        assertEquals(429, limited.status(), "REST and WebSocket share the participant's bucket");
        assertTrue(limited.response().headers().firstValue("Retry-After").isPresent());
    }

    @Test
    void participantsAreAnnouncedAndARemovedOneIsShutOut() {
        Member alice = relay.create("Alice", 600);
        try (Socket a = alice.connect(0)) {
            a.next("ready");
            a.next("participants");
            Member bob = relay.joinNew(alice, "Bob");
            assertEquals(2, a.next("participants").getJsonArray("participants").size());
            Member carol = relay.joinNew(alice, "Carol");
            assertEquals(3, a.next("participants").getJsonArray("participants").size());

            try (Socket b = bob.connect(0)) {
                b.next("ready");
                assertEquals(403, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/"
                        + carol.participantId(), bob.token(), null).status(), "only the creator removes others");
                assertEquals(409, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/"
                        + alice.participantId(), alice.token(), null).status(), "the creator cannot leave");
                assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/"
                        + bob.participantId(), bob.token(), null).status());
                assertEquals(4403, b.closeCode(10));
            }
            JsonObject afterBob = a.next("participants");
            assertEquals(2, afterBob.getJsonArray("participants").size());
            JsonObject departed = afterBob.getJsonArray("departed").getJsonObject(0);
            assertEquals(bob.participantId(), departed.getString("participantId"));
            assertEquals(Wire.spki(bob.signing()), departed.getString("signingKey"),
                    "who joins later can still verify what Bob wrote");
            assertEquals(401, bob.get("").status(), "the session of who left is revoked");
            assertEquals(401, bob.post(bob.nextEnvelope().build()).status(), "who left can send nothing");
            Member late = relay.joinNew(alice, "Late");
            assertEquals(bob.participantId(), late.get("").json().getJsonArray("departed").getJsonObject(0)
                    .getString("participantId"));
            assertEquals(3, a.next("participants").getJsonArray("participants").size());
            assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/"
                    + carol.participantId(), alice.token(), null).status());
            JsonObject last = a.next("participants");
            assertEquals(2, last.getJsonArray("participants").size());
            assertEquals(2, last.getJsonArray("departed").size());
        }
    }

    @Test
    void oneStalledSocketHoldsUpNobodyAndIsClosedToResumeLater() throws Exception {
        // The test server lets a socket fall at most 1 MiB behind (mikrotext.ws.max-queued-bytes).
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");
        Member carol = relay.joinNew(alice, "Carol");
        try (Socket b = bob.connect(0); RawSocket stalled = new RawSocket(relay.ws(alice.roomId()))) {
            stalled.sendText(Json.createObjectBuilder().add("type", "hello").add("token", carol.token()).build().toString());
            b.next("ready");
            int count = 20;
            long started = System.nanoTime();
            for (int i = 0; i < count; i++) {
                assertEquals(201, alice.post(alice.nextEnvelope(Wire.random(64 * 1024)).build()).status());
            }
            assertEquals(count, b.collect(f -> f.getString("type").equals("envelope"), count, 20).size());
            assertTrue(Duration.ofNanos(System.nanoTime() - started).toSeconds() < 20, "nobody waited for Carol");
            assertEquals(1013, stalled.readUntilClose(), "the stalled socket is closed, to resume by seq");
        }
        try (Socket c = carol.connect(0)) {
            c.next("ready");
            assertEquals(20, c.collect(f -> f.getString("type").equals("envelope"), 20, 20).size(),
                    "Carol catches up by seq when she returns");
        }
    }

    @Test
    void aRoomHoldsAtMost64Participants() {
        Member alice = relay.create("Alice", 600);
        for (int i = 2; i <= 64; i++) {
            relay.joinNew(alice, "Guest " + i);
        }
        String invite = relay.invite(alice);
        Answer full = relay.join(alice.roomId(), invite, "One too many", Wire.p256(), Wire.p256());
        assertEquals(409, full.status());
        assertEquals("room-full", full.problemType());
        assertEquals(64, alice.get("").json().getJsonArray("participants").size());
    }

    @Test
    void aRoomHasAtMost70ParticipantsInItsLifeOnTheTestServer() {
        // Those who left keep their rows (and go into every participant list): the test server allows 70 joins.
        Member alice = relay.create("Alice", 600);
        for (int i = 2; i <= 70; i++) {
            Member guest = relay.joinNew(alice, "Guest " + i);
            assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/"
                    + guest.participantId(), alice.token(), null).status());
        }
        Answer refused = relay.join(alice.roomId(), relay.invite(alice), "One too many", Wire.p256(), Wire.p256());
        assertEquals(409, refused.status());
        assertEquals("too-many-joins", refused.problemType());
        JsonObject view = alice.get("").json();
        assertEquals(1, view.getJsonArray("participants").size());
        assertEquals(69, view.getJsonArray("departed").size());
    }

    @Test
    void theCreatorRotatesTheRoomKeyForTheRemainingParticipants() {
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");
        Member carol = relay.joinNew(alice, "Carol");
        String openInvite = relay.invite(alice);
        assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/" + bob.participantId(),
                alice.token(), null).status());
        String aliceWrap = Wire.b64(Wire.random(60));
        String carolWrap = Wire.b64(Wire.random(60));
        String keys = "api/rooms/" + alice.roomId() + "/keys";
        List<String[]> both = List.of(new String[] {alice.participantId(), aliceWrap},
                new String[] {carol.participantId(), carolWrap});

        assertEquals(403, relay.call("POST", keys, carol.token(), rotation(2, both)).status(), "creator only");
        assertEquals(409, relay.call("POST", keys, alice.token(), rotation(3, both)).status(), "current + 1 only");
        Answer missing = relay.call("POST", keys, alice.token(), rotation(2, List.<String[]>of(both.get(0))));
        assertEquals(400, missing.status());
        assertEquals("wraps-incomplete", missing.problemType());
        List<String[]> withBob = new ArrayList<>(both);
        withBob.add(new String[] {bob.participantId(), aliceWrap});
        assertEquals(400, relay.call("POST", keys, alice.token(), rotation(2, withBob)).status(),
                "who left gets no wrap");

        try (Socket c = carol.connect(0)) {
            c.next("ready");
            Answer rotated = relay.call("POST", keys, alice.token(), rotation(2, both));
            assertEquals(201, rotated.status(), rotated.body());
            JsonObject announced = c.next("key-rotated");
            assertEquals(2, announced.getInt("keyVersion"));
            assertEquals(carolWrap, announced.getString("wrapped"), "each socket gets its own wrap");
        }
        JsonObject view = carol.get("").json();
        assertEquals(2, view.getInt("keyVersion"));
        assertEquals(carolWrap, view.getString("wrapped"));
        assertEquals(aliceWrap, alice.get("").json().getString("wrapped"));
        assertEquals(409, carol.post(carol.envelope(1, 0, Wire.random(272), carol.signing()).build()).status(),
                "only the new key version is accepted");
        assertEquals(201, carol.post(carol.envelope(2, 0, Wire.random(272), carol.signing()).build()).status());
        assertEquals(403, relay.join(alice.roomId(), openInvite, "Eve", Wire.p256(), Wire.p256()).status(),
                "outstanding invites are revoked");
    }

    @Test
    void aSocketStillCatchingUpGetsTheNewKeyBeforeAnyEnvelopeOfIt() throws Exception {
        // The test server lets a socket fall at most 1 MiB behind, so a catch-up of 48 envelopes of 64 KiB waits
        // for its reader: a rotation then happens while the socket is not yet live.
        List<Member> room = roomWithLargeBacklog();
        Member alice = room.get(0);
        Member carol = room.get(3);
        String keys = "api/rooms/" + alice.roomId() + "/keys";
        List<String[]> wraps2 = room.stream()
                .map(m -> new String[] {m.participantId(), Wire.b64(Wire.random(60))}).toList();
        List<String[]> wraps3 = room.stream()
                .map(m -> new String[] {m.participantId(), Wire.b64(Wire.random(60))}).toList();
        String carolsWrap2 = wraps2.get(3)[1];
        String carolsWrap3 = wraps3.get(3)[1];

        // Rotated during the catch-up, then an envelope of the new version: its key comes before it.
        try (RawSocket c = new RawSocket(relay.ws(alice.roomId()))) {
            c.sendText(hello(carol.token()));
            assertEquals(1, readJson(c, "ready").getJsonObject("room").getInt("keyVersion"));
            assertEquals(201, relay.call("POST", keys, alice.token(), rotation(2, wraps2)).status());
            assertEquals(201, alice.post(alice.envelope(2, 0, Wire.random(272), alice.signing()).build()).status());
            List<String> seen = readUntil(c, f -> "envelope".equals(f.getString("type")) && f.getInt("keyVersion") == 2);
            assertEquals(LARGE_BACKLOG, seen.stream().filter("envelope 1"::equals).count(), String.join(",", seen));
            assertEquals(List.of("key-rotated 2 " + carolsWrap2, "envelope 2"), seen.subList(LARGE_BACKLOG, seen.size()),
                    "the new key, then the envelope of the new version");
        }
        // Rotated during the catch-up, no envelope of the new version yet: the key comes when the socket goes live.
        try (RawSocket c = new RawSocket(relay.ws(alice.roomId()))) {
            c.sendText(hello(carol.token()));
            assertEquals(2, readJson(c, "ready").getJsonObject("room").getInt("keyVersion"));
            assertEquals(201, relay.call("POST", keys, alice.token(), rotation(3, wraps3)).status());
            List<String> seen = readUntil(c, f -> "participants".equals(f.getString("type")));
            assertEquals(List.of("key-rotated 3 " + carolsWrap3, "participants"), seen.subList(seen.size() - 2,
                    seen.size()), "the key announced to the room before the socket went live reaches it");
            assertEquals(LARGE_BACKLOG + 1, seen.stream().filter(f -> f.startsWith("envelope ")).count());
        }
    }

    /**
     * Carol's socket in a room with a large backlog, past its {@code ready}: its catch-up waits for her to read, and
     * Alice has removed her meanwhile.
     */
    private RawSocket removedWhileCatchingUp() throws java.io.IOException {
        List<Member> room = roomWithLargeBacklog();
        Member alice = room.get(0);
        Member carol = room.get(3);
        RawSocket c = new RawSocket(relay.ws(alice.roomId()));
        c.sendText(hello(carol.token()));
        readJson(c, "ready");
        assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/"
                + carol.participantId(), alice.token(), null).status());
        return c;
    }

    @Test
    void aRemovedParticipantsSocketStillCatchingUpNeverGoesLive() throws Exception {
        // As above: the catch-up waits for its reader, and the participant is removed meanwhile.
        try (RawSocket c = removedWhileCatchingUp()) {
            List<String> seen = new ArrayList<>();
            java.io.IOException ended = assertThrows(java.io.IOException.class, () -> readUntil(c, f -> false, seen));
            // The relay closes with 4403; a reset may overtake the close frame (the relay closes with this client's
            // pongs unread). Still open after 30 s would be a SocketTimeoutException.
            assertFalse(ended instanceof java.net.SocketTimeoutException, "the socket stayed open: " + seen);
            assertTrue(ended instanceof java.net.SocketException || ended.getMessage().contains(": 4403 "),
                    ended.toString());
            assertFalse(seen.contains("participants"), "the removed participant's socket never went live: " + seen);
        }
    }

    @Test
    void aRemovedParticipantsSlowSocketStillCatchingUpIsClosedAtOnce() throws Exception {
        // Carol reads what was already sent but answers no ping, so her catch-up goes on waiting for her: only the
        // removal can end it before its 30 s wait does (1013).
        long started = System.nanoTime();
        try (RawSocket c = removedWhileCatchingUp()) {
            assertEquals(4403, c.readUntilClose());
        }
        assertTrue(System.nanoTime() - started < 15_000_000_000L, "closed at the removal, not after the wait");
    }

    @Test
    void aParticipantListThatChangesDuringTheCatchUpReachesTheSocketWhenItGoesLive() throws Exception {
        // As above: Carol's socket waits for its reader while catching up; Alice's is live, so the room's channel is
        // open and counts changes to its list. The participants frame after the catch-up is the ready's list only
        // while nothing changed since it was read.
        List<Member> room = roomWithLargeBacklog();
        Member alice = room.get(0);
        Member dave = room.get(2);
        Member carol = room.get(3);
        try (Socket a = alice.connect(LARGE_BACKLOG)) {
            a.next("ready");
            a.next("participants");
            try (RawSocket c = new RawSocket(relay.ws(alice.roomId()))) {
                c.sendText(hello(carol.token()));
                assertEquals(4, readJson(c, "ready").getJsonObject("room").getJsonArray("participants").size());
                List<String> seen = readUntil(c, f -> "participants".equals(f.getString("type")));
                assertEquals(LARGE_BACKLOG, seen.stream().filter("envelope 1"::equals).count(), String.join(",", seen));
            }
            try (RawSocket c = new RawSocket(relay.ws(alice.roomId()))) {
                c.sendText(hello(carol.token()));
                assertEquals(4, readJson(c, "ready").getJsonObject("room").getJsonArray("participants").size());
                assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId() + "/participants/"
                        + dave.participantId(), alice.token(), null).status());
                JsonObject list;
                do {
                    list = nextFrame(c);
                } while (!"participants".equals(list.getString("type")));
                assertEquals(3, list.getJsonArray("participants").size(),
                        "Dave left while the socket caught up: " + list);
                assertEquals(dave.participantId(),
                        list.getJsonArray("departed").getJsonObject(0).getString("participantId"));
            }
            assertEquals(3, a.next("participants").getJsonArray("participants").size());
        }
    }

    @Test
    void aRoomThatEndsWhileASocketWaitsForItsCatchUpClosesThatSocket() throws Exception {
        // Each of the relay's 32 catch-up threads is held by a socket that reads nothing of a backlog over the 512 KiB
        // at which a catch-up waits for its reader (12 envelopes of 64 KiB; the test server's limit is 1 MiB), so a
        // hello to another room waits for a thread, and that room is deleted meanwhile: no socket of it is live yet
        // for the deletion to close. When a thread is free again, the waiting socket is closed (4410) instead of going
        // live in a room that no longer exists.
        List<Member> backlog = roomWithBacklog(12);
        Member carol = backlog.get(3);
        List<RawSocket> holders = new ArrayList<>();
        try {
            for (int i = 0; i < CATCH_UP_THREADS; i++) {
                RawSocket holder = new RawSocket(relay.ws(carol.roomId()));
                holders.add(holder);
                holder.sendText(hello(carol.token()));
                readJson(holder, "ready");
                readJson(holder, "envelope");
            }
            Member zoe = relay.create("Zoe", 600);
            try (RawSocket z = new RawSocket(relay.ws(zoe.roomId()))) {
                z.sendText(hello(zoe.token()));
                readJson(z, "ready");
                assertEquals(204, relay.call("DELETE", "api/rooms/" + zoe.roomId(), zoe.token(), null).status());
                try (RawSocket first = holders.remove(0)) {
                    readUntil(first, f -> "participants".equals(f.getString("type"))); // frees its thread
                }
                List<String> seen = new ArrayList<>();
                java.io.IOException ended = assertThrows(java.io.IOException.class,
                        () -> readUntil(z, f -> false, seen));
                assertTrue(ended.getMessage() != null && ended.getMessage().contains(": 4410 "),
                        ended + " after " + seen);
                assertFalse(seen.contains("participants"), "the socket never went live: " + seen);
            }
        } finally {
            for (RawSocket holder : holders) {
                try (holder) {
                    readUntil(holder, f -> "participants".equals(f.getString("type")));
                } catch (java.io.IOException e) {
                    // already drained, or closed by the relay: its thread is free either way
                }
            }
        }
    }

    /** The relay's catch-up threads ({@code CatchUpPool.THREADS}). */
    private static final int CATCH_UP_THREADS = 32;

    private static final int LARGE_BACKLOG = 48;

    /**
     * A room of Alice (its creator), Bob, Dave and Carol, in that order, holding 48 envelopes of 64 KiB (over 4 MiB of
     * frames, far more than the 1 MiB the test server lets a socket fall behind), 16 from each of the first three
     * (the send rate allows 20 at once).
     */
    private List<Member> roomWithLargeBacklog() {
        return roomWithBacklog(LARGE_BACKLOG);
    }

    /** {@link #roomWithLargeBacklog} with {@code envelopes} (a multiple of 3, at most 60) of 64 KiB. */
    private List<Member> roomWithBacklog(int envelopes) {
        Member alice = relay.create("Alice", 600);
        List<Member> room = List.of(alice, relay.joinNew(alice, "Bob"), relay.joinNew(alice, "Dave"),
                relay.joinNew(alice, "Carol"));
        for (Member sender : room.subList(0, 3)) {
            for (int i = 0; i < envelopes / 3; i++) {
                assertEquals(201, sender.post(sender.nextEnvelope(Wire.random(64 * 1024)).build()).status());
            }
        }
        return room;
    }

    /** The body of a key rotation to {@code version} with {@code wraps} ({participantId, wrapped}). */
    private static String rotation(int version, List<String[]> wraps) {
        var array = Json.createArrayBuilder();
        wraps.forEach(w -> array.add(Json.createObjectBuilder().add("participantId", w[0]).add("wrapped", w[1])));
        return Json.createObjectBuilder().add("keyVersion", version).add("wraps", array).build().toString();
    }

    private static String hello(String token) {
        return Json.createObjectBuilder().add("type", "hello").add("token", token).add("after", 0).build().toString();
    }

    private static JsonObject readJson(RawSocket socket, String type) throws java.io.IOException {
        JsonObject frame = nextFrame(socket);
        assertEquals(type, frame.getString("type"), frame.toString());
        return frame;
    }

    private static JsonObject nextFrame(RawSocket socket) throws java.io.IOException {
        return Json.createReader(new java.io.StringReader(socket.readText())).readObject();
    }

    /** {@link #readUntil(RawSocket, java.util.function.Predicate, List)} into a new list, which it returns. */
    private static List<String> readUntil(RawSocket socket, java.util.function.Predicate<JsonObject> last)
            throws java.io.IOException {
        List<String> seen = new ArrayList<>();
        readUntil(socket, last, seen);
        return seen;
    }

    /**
     * Reads frames up to the first that {@code last} matches, and names each in {@code seen}: {@code envelope V} (its
     * key version), {@code key-rotated V WRAPPED}, or its type.
     */
    private static void readUntil(RawSocket socket, java.util.function.Predicate<JsonObject> last, List<String> seen)
            throws java.io.IOException {
        while (true) {
            JsonObject frame = nextFrame(socket);
            String type = frame.getString("type");
            seen.add(switch (type) {
                case "envelope" -> "envelope " + frame.getInt("keyVersion");
                case "key-rotated" -> "key-rotated " + frame.getInt("keyVersion") + " " + frame.getString("wrapped");
                default -> type;
            });
            if (last.test(frame)) {
                return;
            }
        }
    }

    // ---- lifetime ---------------------------------------------------------------------------------------------

    @Test
    void theCreatorBurnsTheRoomAndEverythingGoesAtOnce() throws Exception {
        Member alice = relay.create("Alice", 600);
        Member bob = relay.joinNew(alice, "Bob");
        relay.invite(alice);
        assertEquals(201, bob.post(bob.nextEnvelope().build()).status());
        try (Socket a = alice.connect(0); Socket b = bob.connect(0)) {
            a.next("ready");
            b.next("ready");
            assertEquals(403, relay.call("DELETE", "api/rooms/" + alice.roomId(), bob.token(), null).status());
            assertEquals(204, relay.call("DELETE", "api/rooms/" + alice.roomId(), alice.token(), null).status());
            assertEquals(4410, a.closeCode(10));
            assertEquals(4410, b.closeCode(10));
        }
        assertEquals(404, alice.get("").status());
        assertRoomGone(alice.roomId());
    }

    @Test
    void anExpiredRoomIsSweptAndItsSocketsClosed() throws Exception {
        Member alice = relay.create("Alice", 3);
        Member bob = relay.joinNew(alice, "Bob");
        assertEquals(201, alice.post(alice.nextEnvelope().build()).status());
        try (Socket b = bob.connect(0)) {
            b.next("ready");
            assertEquals(4410, b.closeCode(15));
        }
        assertRoomGone(alice.roomId());
        assertEquals(404, alice.get("").status());
    }

    private static void assertRoomGone(String roomId) throws Exception {
        for (String table : List.of("rooms", "participants", "invites", "envelopes", "key_wraps")) {
            String column = table.equals("rooms") ? "id" : "room_id";
            assertEquals(0, Database.count("SELECT COUNT(*) FROM " + table + " WHERE " + column + " = ?", roomId), table);
        }
    }

    // ---- per-address limits: last, since it spends this address's bucket ---------------------------------------

    @Test
    @Order(Integer.MAX_VALUE)
    void roomCreationIsRateLimitedPerClientAddress() {
        KeyPair key = Wire.p256();
        String body = Relay.identity("Alice", key, key).build().toString();
        Answer last = null;
        for (int i = 0; i < 600; i++) {
            last = relay.call("POST", "api/rooms", null, body);
            if (last.status() == 429) {
                break;
            }
            assertEquals(201, last.status());
        }
        assertEquals(429, last.status());
        assertEquals("rate-limited", last.problemType());
        long retryAfter = Long.parseLong(last.response().headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= Duration.ofMinutes(1).toSeconds(), "Retry-After " + retryAfter);
    }
}
