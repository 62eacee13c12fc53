package org.mikrotext.relay.envelope.control;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import org.mikrotext.relay.json.JsonFields;
import org.mikrotext.relay.protocol.Base64Url;
import org.mikrotext.relay.room.control.RoomJson;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.SignedEnvelope;
import org.mikrotext.relay.json.JsonIO;

/** Reads the client's envelope fields and writes stored envelopes, the same over REST and WebSocket. */
public final class EnvelopeJson {

    static final int CHAIN_ID_LENGTH = 16;
    static final int NONCE_LENGTH = 12;
    static final int CHECKPOINT_LENGTH = 60;
    static final int SIGNATURE_LENGTH = 64;

    private EnvelopeJson() {
    }

    /** The client's fields, strictly decoded; the ciphertext over {@code maxCiphertextBytes} is 413. */
    public static SignedEnvelope read(JsonObject json, int maxCiphertextBytes) {
        int keyVersion = JsonFields.integer(json, "keyVersion", 1, Integer.MAX_VALUE);
        byte[] chainId = JsonFields.bytes(json, "chainId", CHAIN_ID_LENGTH);
        int chainIndex = JsonFields.integer(json, "chainIndex", 0, Integer.MAX_VALUE);
        byte[] checkpoint = JsonFields.optionalBytes(json, "checkpoint", CHECKPOINT_LENGTH);
        byte[] nonce = JsonFields.bytes(json, "nonce", NONCE_LENGTH);
        byte[] ciphertext = JsonFields.boundedBytes(json, "ciphertext", maxCiphertextBytes);
        byte[] signature = JsonFields.bytes(json, "signature", SIGNATURE_LENGTH);
        return new SignedEnvelope(keyVersion, chainId, chainIndex, checkpoint, nonce, ciphertext, signature);
    }

    /** All fields of a stored envelope, at the top level of {@code builder}. */
    public static JsonObjectBuilder write(Envelope e, JsonObjectBuilder builder) {
        builder.add("seq", e.getSeq())
                .add("senderId", e.getSenderId())
                .add("keyVersion", e.getKeyVersion())
                .add("chainId", Base64Url.encode(e.getChainId()))
                .add("chainIndex", e.getChainIndex());
        if (e.getCheckpoint() == null) {
            builder.addNull("checkpoint");
        } else {
            builder.add("checkpoint", Base64Url.encode(e.getCheckpoint()));
        }
        return builder.add("nonce", Base64Url.encode(e.getNonce()))
                .add("ciphertext", Base64Url.encode(e.getCiphertext()))
                .add("signature", Base64Url.encode(e.getSignature()))
                .add("createdAt", RoomJson.time(e.getCreatedAt()))
                .add("expiresAt", RoomJson.time(e.getExpiresAt()));
    }

    /** The {@code envelope} frame of the WebSocket, encoded once for every socket it goes to. */
    public static WireFrame frame(Envelope e) {
        return WireFrame.text(write(e, JsonIO.object().add("type", "envelope")).build().toString());
    }

    public static JsonObject object(Envelope e) {
        return write(e, JsonIO.object()).build();
    }
}
