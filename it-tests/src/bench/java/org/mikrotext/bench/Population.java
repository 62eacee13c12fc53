package org.mikrotext.bench;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Rooms and participants made through the relay's real REST API before anything is timed: the creator creates the
 * room with a fresh room key, uploads one invite per participant (inviteToken and a real wrappedRoomKey derived from
 * an invite secret), and each participant joins and unwraps the room key from the join answer.
 */
final class Population {

    static final int KEY_VERSION = 1;

    /** One room as the clients know it. */
    static final class Room {
        final int index;
        final String roomId;
        final byte[] roomKey;
        final List<Member> members = new ArrayList<>();

        Room(int index, String roomId, byte[] roomKey) {
            this.index = index;
            this.roomId = roomId;
            this.roomKey = roomKey;
        }
    }

    /** One participant: session, keys, the room key it unwrapped, and its socket. */
    static final class Member {
        final Room room;
        final int index;
        final String participantId;
        final String token;
        final KeyPair signing;
        final byte[] roomKey;
        /** 0: an ordinary member; 1: a room-mate of the stalled member; 2: the stalled member. */
        volatile int group;
        /** The relay instance its socket goes to: 0, or 1 for the second relay of the {@code shared} scenario. */
        volatile int relay;
        volatile WsClient.Conn conn;
        volatile boolean live;
        volatile long lastSeq;
        volatile boolean stalled;
        final SenderChain[] chains = new SenderChain[128];

        Member(Room room, int index, String participantId, String token, KeyPair signing, byte[] roomKey) {
            this.room = room;
            this.index = index;
            this.participantId = participantId;
            this.token = token;
            this.signing = signing;
            this.roomKey = roomKey;
        }

        byte[] helloFrame(long after) {
            return ("{\"type\":\"hello\",\"token\":\"" + token + "\",\"after\":" + after + "}")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    /** The relay's REST API over HTTP/1.1. */
    static final class Api {
        private final URI base;
        private final HttpClient http;

        Api(URI base, ExecutorService executor) {
            this.base = base;
            this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
                    .connectTimeout(Duration.ofSeconds(10)).build();
        }

        JsonObject call(String method, String path, String token, JsonObject body, int expect) {
            HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body.toString()));
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            for (int attempt = 0; ; attempt++) {
                try {
                    HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == expect) {
                        if (r.body().isEmpty()) {
                            return JsonObject.EMPTY_JSON_OBJECT;
                        }
                        try (JsonReader reader = Json.createReader(new StringReader(r.body()))) {
                            return reader.readObject();
                        }
                    }
                    if (r.statusCode() == 503 && attempt < 5) {
                        Thread.sleep(1000);
                        continue;
                    }
                    throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": "
                            + r.body());
                } catch (IOException e) {
                    if (attempt >= 3) {
                        throw new IllegalStateException(method + " " + path + " failed", e);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private Population() {
    }

    /**
     * Creates {@code rooms} rooms of {@code perRoom} participants in parallel. {@code signingKeys} hands out the
     * signing key of participant {@code n} (unique keys for senders; a small shared pool for idle sockets).
     */
    static List<Room> create(Api api, int firstRoomIndex, int rooms, int perRoom, IntFunction<KeyPair> signingKeys,
                             KeyPair exchange, int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Room>> futures = new ArrayList<>();
            for (int r = 0; r < rooms; r++) {
                int roomIndex = firstRoomIndex + r;
                futures.add(pool.submit(() -> createRoom(api, roomIndex, perRoom, signingKeys, exchange)));
            }
            List<Room> out = new ArrayList<>();
            for (Future<Room> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Room createRoom(Api api, int roomIndex, int perRoom, IntFunction<KeyPair> signingKeys,
                                   KeyPair exchange) {
        KeyPair creatorKey = signingKeys.apply(roomIndex * perRoom);
        JsonObject created = api.call("POST", "api/rooms", null, identity("r" + roomIndex + "-0", creatorKey, exchange)
                .add("ttlSeconds", 6 * 3600).build(), 201);
        String roomId = created.getString("roomId");
        byte[] roomKey = Mtx1.random(32);
        Room room = new Room(roomIndex, roomId, roomKey);
        Member creator = new Member(room, 0, created.getString("participantId"), created.getString("sessionToken"),
                creatorKey, roomKey);
        room.members.add(creator);
        for (int i = 1; i < perRoom; i++) {
            byte[] secret = Mtx1.random(32);
            String inviteToken = Mtx1.b64(Mtx1.inviteToken(secret, roomId));
            byte[] wrapped = Mtx1.wrapForInvite(secret, roomId, KEY_VERSION, roomKey, Mtx1.random(12));
            api.call("POST", "api/rooms/" + roomId + "/invites", creator.token, Json.createObjectBuilder()
                    .add("inviteToken", inviteToken).add("keyVersion", KEY_VERSION)
                    .add("wrappedRoomKey", Mtx1.b64(wrapped)).build(), 201);
            KeyPair signing = signingKeys.apply(roomIndex * perRoom + i);
            JsonObject joined = api.call("POST", "api/rooms/" + roomId + "/participants", null,
                    identity("r" + roomIndex + "-" + i, signing, exchange).add("inviteToken", inviteToken).build(),
                    201);
            byte[] unwrapped = Mtx1.unwrapInvite(secret, roomId, joined.getInt("keyVersion"),
                    Mtx1.unb64(joined.getString("wrappedRoomKey")));
            if (!Arrays.equals(unwrapped, roomKey)) {
                throw new IllegalStateException("The room key unwrapped at join differs from the creator's");
            }
            room.members.add(new Member(room, i, joined.getString("participantId"), joined.getString("sessionToken"),
                    signing, unwrapped));
        }
        return room;
    }

    private static jakarta.json.JsonObjectBuilder identity(String pseudonym, KeyPair signing, KeyPair exchange) {
        return Json.createObjectBuilder()
                .add("pseudonym", pseudonym)
                .add("signingKey", Mtx1.b64(signing.getPublic().getEncoded()))
                .add("exchangeKey", Mtx1.b64(exchange.getPublic().getEncoded()));
    }
}
