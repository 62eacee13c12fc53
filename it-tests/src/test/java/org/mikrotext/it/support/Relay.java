package org.mikrotext.it.support;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.time.Duration;

/** A client of one running relay over HTTP, on 127.0.0.1 (the address Arquillian hands back is rewritten). */
public final class Relay {

    private final URI base;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    public Relay(URL deployment) {
        this(deployment.getPort());
    }

    public Relay(int port) {
        this.base = URI.create("http://127.0.0.1:" + port + "/");
    }

    public URI base() {
        return base;
    }

    public URI ws(String roomId) {
        return URI.create("ws://127.0.0.1:" + base.getPort() + "/ws/rooms/" + roomId);
    }

    /** An HTTP answer with its body parsed when it is JSON. */
    public record Answer(int status, String contentType, String body, HttpResponse<String> response) {

        public JsonObject json() {
            try (JsonReader reader = Json.createReader(new StringReader(body))) {
                return reader.readObject();
            }
        }

        public String problemType() {
            return json().getString("type").replace("https://mikrotext.org/problems/", "");
        }
    }

    public Answer call(String method, String path, String token, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path.startsWith("/") ? path.substring(1) : path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
            // A large body waits for "100 Continue", so that a refusal (413) arrives before it is sent.
            request.expectContinue(body.length() > 65536);
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                    response.body(), response);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The bytes the relay serves at {@code path}, exactly. */
    public byte[] bytes(String path) {
        try {
            HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(base.resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(path + " answered " + response.statusCode());
            }
            return response.body();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static JsonObjectBuilder identity(String pseudonym, KeyPair signing, KeyPair exchange) {
        return Json.createObjectBuilder()
                .add("pseudonym", pseudonym)
                .add("signingKey", Wire.spki(signing))
                .add("exchangeKey", Wire.spki(exchange));
    }

    /** Creates a room; the creator is returned as a participant. */
    public Member create(String pseudonym, long ttlSeconds) {
        KeyPair signing = Wire.p256();
        KeyPair exchange = Wire.p256();
        Answer answer = call("POST", "api/rooms", null,
                identity(pseudonym, signing, exchange).add("ttlSeconds", ttlSeconds).build().toString());
        if (answer.status() != 201) {
            throw new IllegalStateException("Room creation failed: " + answer.status() + " " + answer.body());
        }
        JsonObject json = answer.json();
        return new Member(this, json.getString("roomId"), json.getString("participantId"),
                json.getString("sessionToken"), signing, exchange);
    }

    /** Registers an invite for the member's room and returns its token (base64url). */
    public String invite(Member inviter) {
        String token = Wire.b64(Wire.random(32));
        Answer answer = call("POST", "api/rooms/" + inviter.roomId() + "/invites", inviter.token(),
                Json.createObjectBuilder().add("inviteToken", token).add("keyVersion", 1)
                        .add("wrappedRoomKey", Wire.b64(Wire.random(60))).build().toString());
        if (answer.status() != 201) {
            throw new IllegalStateException("Invite failed: " + answer.status() + " " + answer.body());
        }
        return token;
    }

    public Answer join(String roomId, String inviteToken, String pseudonym, KeyPair signing, KeyPair exchange) {
        return call("POST", "api/rooms/" + roomId + "/participants", null,
                identity(pseudonym, signing, exchange).add("inviteToken", inviteToken).build().toString());
    }

    /** Invites and joins a new participant. */
    public Member joinNew(Member inviter, String pseudonym) {
        KeyPair signing = Wire.p256();
        KeyPair exchange = Wire.p256();
        Answer answer = join(inviter.roomId(), invite(inviter), pseudonym, signing, exchange);
        if (answer.status() != 201) {
            throw new IllegalStateException("Join failed: " + answer.status() + " " + answer.body());
        }
        JsonObject json = answer.json();
        return new Member(this, inviter.roomId(), json.getString("participantId"), json.getString("sessionToken"),
                signing, exchange);
    }
}
