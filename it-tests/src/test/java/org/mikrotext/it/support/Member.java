package org.mikrotext.it.support;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.security.KeyPair;

/** A participant of a room as the tests drive it: its session and keys, and its own sender chain position. */
public final class Member {

    private final Relay relay;
    private final String roomId;
    private final String participantId;
    private final String token;
    private final KeyPair signing;
    private final KeyPair exchange;
    private final byte[] chainId = Wire.random(16);
    private int nextIndex;

    public Member(Relay relay, String roomId, String participantId, String token, KeyPair signing, KeyPair exchange) {
        this.relay = relay;
        this.roomId = roomId;
        this.participantId = participantId;
        this.token = token;
        this.signing = signing;
        this.exchange = exchange;
    }

    public String roomId() {
        return roomId;
    }

    public String participantId() {
        return participantId;
    }

    public String token() {
        return token;
    }

    public KeyPair signing() {
        return signing;
    }

    /** The next envelope of this member's chain, correctly signed, with {@code ciphertext} as its body. */
    public synchronized JsonObjectBuilder nextEnvelope(byte[] ciphertext) {
        int index = nextIndex++;
        return envelope(1, index, ciphertext, signing);
    }

    public synchronized JsonObjectBuilder nextEnvelope() {
        return nextEnvelope(Wire.random(256 + 16));
    }

    /** An envelope at an explicit position, signed with {@code key} (which may be someone else's). */
    public JsonObjectBuilder envelope(int keyVersion, int index, byte[] ciphertext, KeyPair key) {
        byte[] checkpoint = index % 16 == 0 ? Wire.random(60) : null;
        byte[] nonce = Wire.random(12);
        byte[] signature = Wire.sign(key.getPrivate(), Wire.frame("MTX1-ENVELOPE", roomId, participantId, keyVersion,
                chainId, index, checkpoint, nonce, ciphertext));
        JsonObjectBuilder json = Json.createObjectBuilder()
                .add("keyVersion", keyVersion)
                .add("chainId", Wire.b64(chainId))
                .add("chainIndex", index)
                .add("nonce", Wire.b64(nonce))
                .add("ciphertext", Wire.b64(ciphertext))
                .add("signature", Wire.b64(signature));
        if (checkpoint == null) {
            json.addNull("checkpoint");
        } else {
            json.add("checkpoint", Wire.b64(checkpoint));
        }
        return json;
    }

    public Relay.Answer post(JsonObject envelope) {
        return relay.call("POST", "api/rooms/" + roomId + "/envelopes", token, envelope.toString());
    }

    public Relay.Answer get(String path) {
        return relay.call("GET", "api/rooms/" + roomId + path, token, null);
    }

    /** Opens a socket to the room and says hello with {@code after}. */
    public Socket connect(long after) {
        Socket socket = Socket.open(relay.ws(roomId), null);
        socket.send(Json.createObjectBuilder().add("type", "hello").add("token", token).add("after", after).build());
        return socket;
    }
}
