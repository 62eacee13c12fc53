package org.mikrotext.bench;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.mikrotext.it.support.Wire;

/**
 * The load generator's own implementation of the MTX1 client cryptography (HKDF, sender chains, AES-256-GCM bodies
 * and checkpoints, ECDSA P-256 signatures, invite wraps). {@link #selfCheck(Path)} proves it against the protocol's
 * test vectors before anything is measured, so the benchmark speaks the real protocol.
 */
final class Mtx1 {

    static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] SALT = "MTX1".getBytes(StandardCharsets.US_ASCII);
    private static final HexFormat HEX = HexFormat.of();

    private Mtx1() {
    }

    static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static byte[] unb64(String s) {
        return Base64.getUrlDecoder().decode(s);
    }

    static byte[] random(int n) {
        return Wire.random(n);
    }

    static KeyPair p256() {
        return Wire.p256();
    }

    static PublicKey publicKey(byte[] spki) {
        try {
            return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** HKDF-SHA-256 with salt "MTX1", 32 bytes out. */
    static byte[] hkdf(byte[] ikm, String info) {
        byte[] prk = hmac(SALT, ikm);
        byte[] infoBytes = info.getBytes(StandardCharsets.UTF_8);
        byte[] t = Arrays.copyOf(infoBytes, infoBytes.length + 1);
        t[infoBytes.length] = 1;
        return hmac(prk, t);
    }

    static byte[] messageKey(byte[] chainKey) {
        return hmac(chainKey, new byte[] {1});
    }

    static byte[] nextChainKey(byte[] chainKey) {
        return hmac(chainKey, new byte[] {2});
    }

    /** frame(TAG, fields…), as the integration tests' own implementation writes it. */
    static byte[] frame(String tag, Object... fields) {
        return Wire.frame(tag, fields);
    }

    static byte[] gcm(int mode, byte[] key, byte[] nonce, byte[] input, byte[] aad) {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(aad);
            return c.doFinal(input);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] encrypt(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
        return gcm(Cipher.ENCRYPT_MODE, key, nonce, plaintext, aad);
    }

    static byte[] decrypt(byte[] key, byte[] nonce, byte[] ciphertext, byte[] aad) {
        return gcm(Cipher.DECRYPT_MODE, key, nonce, ciphertext, aad);
    }

    /** JSON, then 0x80, then zeros up to 256·⌈(n+1)/256⌉. */
    static byte[] pad(byte[] json) {
        int padded = 256 * ((json.length + 1 + 255) / 256);
        byte[] out = Arrays.copyOf(json, padded);
        out[json.length] = (byte) 0x80;
        return out;
    }

    static byte[] unpad(byte[] padded) {
        int end = padded.length - 1;
        while (end >= 0 && padded[end] == 0) {
            end--;
        }
        if (end < 0 || padded[end] != (byte) 0x80) {
            throw new IllegalStateException("Bad MTX1 padding");
        }
        return Arrays.copyOf(padded, end);
    }

    static byte[] checkpointKey(byte[] roomKey, String roomId, int keyVersion) {
        return hkdf(roomKey, "MTX1 checkpoint " + roomId + " " + keyVersion);
    }

    static byte[] messageAad(String roomId, String senderId, int keyVersion, byte[] chainId, int chainIndex) {
        return frame("MTX1-MESSAGE", roomId, senderId, keyVersion, chainId, chainIndex);
    }

    static byte[] checkpointAad(String roomId, String senderId, int keyVersion, byte[] chainId, int chainIndex) {
        return frame("MTX1-CHECKPOINT", roomId, senderId, keyVersion, chainId, chainIndex);
    }

    static byte[] envelopeSigningInput(String roomId, String senderId, int keyVersion, byte[] chainId, int chainIndex,
                                       byte[] checkpoint, byte[] nonce, byte[] ciphertext) {
        return frame("MTX1-ENVELOPE", roomId, senderId, keyVersion, chainId, chainIndex, checkpoint, nonce,
                ciphertext);
    }

    /** nonce12 || AES-256-GCM(CPK, nonce12, CK_i, aad), 60 bytes. */
    static byte[] checkpoint(byte[] cpk, byte[] nonce, byte[] chainKey, byte[] aad) {
        byte[] ct = encrypt(cpk, nonce, chainKey, aad);
        byte[] out = Arrays.copyOf(nonce, 12 + ct.length);
        System.arraycopy(ct, 0, out, 12, ct.length);
        return out;
    }

    static byte[] openCheckpoint(byte[] cpk, byte[] checkpoint, byte[] aad) {
        return decrypt(cpk, Arrays.copyOf(checkpoint, 12), Arrays.copyOfRange(checkpoint, 12, checkpoint.length), aad);
    }

    static byte[] inviteToken(byte[] inviteSecret, String roomId) {
        return hkdf(inviteSecret, "MTX1 invite token " + roomId);
    }

    /** wrappedRoomKey = nonce12 || AES-256-GCM(IWK, RK, aad = frame("MTX1-INVITE", roomId, keyVersion)). */
    static byte[] wrapForInvite(byte[] inviteSecret, String roomId, int keyVersion, byte[] roomKey, byte[] nonce) {
        byte[] iwk = hkdf(inviteSecret, "MTX1 invite wrap " + roomId);
        byte[] ct = encrypt(iwk, nonce, roomKey, frame("MTX1-INVITE", roomId, keyVersion));
        byte[] out = Arrays.copyOf(nonce, 12 + ct.length);
        System.arraycopy(ct, 0, out, 12, ct.length);
        return out;
    }

    static byte[] unwrapInvite(byte[] inviteSecret, String roomId, int keyVersion, byte[] wrapped) {
        byte[] iwk = hkdf(inviteSecret, "MTX1 invite wrap " + roomId);
        return decrypt(iwk, Arrays.copyOf(wrapped, 12), Arrays.copyOfRange(wrapped, 12, wrapped.length),
                frame("MTX1-INVITE", roomId, keyVersion));
    }

    static Signature signer() {
        try {
            return Signature.getInstance("SHA256withECDSAinP1363Format");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] sign(Signature signer, PrivateKey key, byte[] data) {
        try {
            signer.initSign(key, RANDOM);
            signer.update(data);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean verify(PublicKey key, byte[] data, byte[] signature) {
        try {
            Signature s = signer();
            s.initVerify(key);
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    static byte[] hex(String s) {
        return HEX.parseHex(s);
    }

    /**
     * Checks this implementation against {@code docs/protocol/mtx1-vectors.json}: HKDF, the sender chain, message
     * bodies, the checkpoint, the invite wrap and the envelope signing input and signature. Returns how many vectors
     * were checked; throws if any disagrees.
     */
    static int selfCheck(Path vectors) throws IOException {
        JsonObject doc;
        try (Reader r = Files.newBufferedReader(vectors); JsonReader reader = Json.createReader(r)) {
            doc = reader.readObject();
        }
        int checked = 0;
        for (JsonValue value : doc.getJsonArray("vectors")) {
            JsonObject v = value.asJsonObject();
            switch (v.getString("kind")) {
                case "hkdf" -> {
                    expect(v, hkdf(hex(v.getString("ikmHex")), v.getString("info")), v.getString("okmHex"));
                    checked++;
                }
                case "chain" -> {
                    byte[] ck = hex(v.getString("ck0Hex"));
                    JsonArray cks = v.getJsonArray("chainKeysHex");
                    JsonArray mks = v.getJsonArray("messageKeysHex");
                    for (int i = 0; i < cks.size(); i++) {
                        expect(v, ck, cks.getString(i));
                        expect(v, messageKey(ck), mks.getString(i));
                        ck = nextChainKey(ck);
                    }
                    checked++;
                }
                case "message" -> {
                    byte[] chainId = hex(v.getString("chainIdHex"));
                    byte[] aad = messageAad(v.getString("roomId"), v.getString("senderId"), v.getInt("keyVersion"),
                            chainId, v.getInt("chainIndex"));
                    expect(v, aad, v.getString("aadHex"));
                    byte[] padded = pad(v.getString("plaintextUtf8").getBytes(StandardCharsets.UTF_8));
                    expect(v, padded, v.getString("paddedHex"));
                    expect(v, encrypt(hex(v.getString("mkHex")), hex(v.getString("nonceHex")), padded, aad),
                            v.getString("ciphertextHex"));
                    checked++;
                }
                case "checkpoint" -> {
                    byte[] cpk = checkpointKey(hex(v.getString("rkHex")), v.getString("roomId"),
                            v.getInt("keyVersion"));
                    expect(v, cpk, v.getString("cpkHex"));
                    byte[] aad = checkpointAad(v.getString("roomId"), v.getString("senderId"), v.getInt("keyVersion"),
                            hex(v.getString("chainIdHex")), v.getInt("chainIndex"));
                    expect(v, checkpoint(cpk, hex(v.getString("nonceHex")), hex(v.getString("ckHex")), aad),
                            v.getString("checkpointHex"));
                    checked++;
                }
                case "invite" -> {
                    byte[] s = hex(v.getString("inviteSecretHex"));
                    expect(v, inviteToken(s, v.getString("roomId")), v.getString("inviteTokenHex"));
                    expect(v, wrapForInvite(s, v.getString("roomId"), v.getInt("keyVersion"),
                            hex(v.getString("rkHex")), hex(v.getString("nonceHex"))), v.getString("wrappedRoomKeyHex"));
                    checked++;
                }
                case "envelope-signature" -> {
                    JsonObject w = v.getJsonObject("wireEnvelope");
                    byte[] input = envelopeSigningInput(v.getString("roomId"), v.getString("senderId"),
                            w.getInt("keyVersion"), unb64(w.getString("chainId")), w.getInt("chainIndex"),
                            w.isNull("checkpoint") ? null : unb64(w.getString("checkpoint")),
                            unb64(w.getString("nonce")), unb64(w.getString("ciphertext")));
                    expect(v, input, v.getString("signingInputHex"));
                    PublicKey key = publicKey(hex(v.getString("signerSpkiHex")));
                    if (!verify(key, input, hex(v.getString("validSignatureHex")))
                            || verify(key, input, hex(v.getString("tamperedSignatureHex")))) {
                        throw new AssertionError("MTX1 vector " + v.getString("name") + ": signature check disagrees");
                    }
                    checked++;
                }
                default -> {
                    // other kinds (base64url, safety code, rotation) are not used by the load generator
                }
            }
        }
        if (checked < 10) {
            throw new AssertionError("Only " + checked + " MTX1 vectors checked; is " + vectors + " the right file?");
        }
        return checked;
    }

    private static void expect(JsonObject vector, byte[] actual, String expectedHex) {
        if (!HEX.formatHex(actual).equals(expectedHex.toLowerCase())) {
            throw new AssertionError("MTX1 vector " + vector.getString("name") + " disagrees: got "
                    + HEX.formatHex(actual) + ", expected " + expectedHex);
        }
    }
}
