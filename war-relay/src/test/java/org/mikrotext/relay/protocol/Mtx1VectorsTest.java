package org.mikrotext.relay.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import java.io.IOException;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/** Checks the relay's protocol code against every MTX1 test vector it touches (docs/protocol/mtx1-vectors.json). */
class Mtx1VectorsTest {

    private static final HexFormat HEX = HexFormat.of();

    /** Kinds only clients compute (key derivation, chains, padding, decryption); the relay never sees their inputs. */
    private static final Set<String> CLIENT_ONLY_KINDS =
            Set.of("hkdf", "chain", "padding-lengths", "receiver-from-checkpoint");

    private static JsonObject root;
    private static List<JsonObject> vectors;

    @BeforeAll
    static void load() throws IOException {
        Path path = Path.of(System.getProperty("mtx1.vectors", "../docs/protocol/mtx1-vectors.json"));
        try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8); JsonReader reader = Json.createReader(in)) {
            root = reader.readObject();
        }
        vectors = root.getJsonArray("vectors").getValuesAs(JsonObject.class);
    }

    @Test
    void everyVectorKindIsCoveredOrKnownClientOnly() {
        Set<String> relayKinds = Set.of("base64url", "base64url-invalid", "frame", "message", "checkpoint",
                "envelope-signature", "safety-code", "invite", "rotation-wrap");
        for (JsonObject v : vectors) {
            String kind = v.getString("kind");
            assertTrue(relayKinds.contains(kind) || CLIENT_ONLY_KINDS.contains(kind), "unknown vector kind " + kind);
        }
        assertEquals("MTX1", root.getString("protocol"));
        assertFalse(ofKind("envelope-signature").isEmpty());
        assertFalse(ofKind("frame").isEmpty());
    }

    @TestFactory
    Stream<DynamicTest> base64url() {
        return named("base64url", v -> () -> {
            byte[] raw = HEX.parseHex(v.getString("hex"));
            String b64u = v.getString("b64u");
            assertEquals(b64u, Base64Url.encode(raw));
            assertArrayEquals(raw, Base64Url.decode(b64u));
            assertArrayEquals(raw, Base64Url.decode(b64u, raw.length));
        });
    }

    @TestFactory
    Stream<DynamicTest> base64urlInvalid() {
        return named("base64url-invalid", v -> () -> {
            String b64u = v.getString("b64u");
            assertThrows(MalformedFieldException.class, () -> Base64Url.decode(b64u));
        });
    }

    @TestFactory
    Stream<DynamicTest> frame() {
        return named("frame", v -> () -> {
            Frame f = Frame.tag(v.getString("tag"));
            for (JsonObject field : v.getJsonArray("fields").getValuesAs(JsonObject.class)) {
                if (field.containsKey("string")) {
                    f = f.string(field.getString("string"));
                } else if (field.containsKey("int")) {
                    f = f.integer(field.getInt("int"));
                } else if (field.containsKey("hex")) {
                    f = f.binary(HEX.parseHex(field.getString("hex")));
                } else if (field.containsKey("absent")) {
                    f = f.binary(null);
                } else {
                    throw new AssertionError("unknown field type " + field);
                }
            }
            assertEquals(v.getString("frameHex"), HEX.formatHex(f.toBytes()));
        });
    }

    /** The AADs of message, checkpoint, invite and rotation vectors use the same framing. */
    @TestFactory
    Stream<DynamicTest> aadFrames() {
        Map<String, Function<JsonObject, Frame>> builders = Map.of(
                "message", v -> chainFrame("MTX1-MESSAGE", v, v.getInt("chainIndex")),
                "checkpoint", v -> chainFrame("MTX1-CHECKPOINT", v, v.getInt("chainIndex")),
                "invite", v -> Frame.tag("MTX1-INVITE").string(v.getString("roomId")).integer(v.getInt("keyVersion")),
                "rotation-wrap", v -> Frame.tag("MTX1-WRAP").string(v.getString("roomId"))
                        .integer(v.getInt("keyVersion")).string(v.getString("participantId")));
        return vectors.stream()
                .filter(v -> builders.containsKey(v.getString("kind")))
                .map(v -> dynamicTest(v.getString("name") + " aad", () ->
                        assertEquals(v.getString("aadHex"),
                                HEX.formatHex(builders.get(v.getString("kind")).apply(v).toBytes()))));
    }

    @TestFactory
    Stream<DynamicTest> envelopeSignature() {
        return named("envelope-signature", v -> () -> {
            JsonObject wire = v.getJsonObject("wireEnvelope");
            String roomId = v.getString("roomId");
            String senderId = v.getString("senderId");
            int keyVersion = wire.getInt("keyVersion");
            int chainIndex = wire.getInt("chainIndex");
            byte[] chainId = Base64Url.decode(wire.getString("chainId"), 16);
            byte[] checkpoint = wire.isNull("checkpoint") ? null : Base64Url.decode(wire.getString("checkpoint"), 60);
            byte[] nonce = Base64Url.decode(wire.getString("nonce"), 12);
            Base64Url.requireMaxEncodedLength(wire.getString("ciphertext"), 64 * 1024);
            byte[] ciphertext = Base64Url.decode(wire.getString("ciphertext"));
            byte[] signature = Base64Url.decode(wire.getString("signature"), 64);

            // The wire envelope carries exactly the message and checkpoint of the matching vectors.
            JsonObject message = matching("message", roomId, senderId, keyVersion, chainId, chainIndex);
            assertEquals(message.getString("ciphertextHex"), HEX.formatHex(ciphertext));
            assertEquals(message.getString("nonceHex"), HEX.formatHex(nonce));
            if (checkpoint != null) {
                JsonObject cp = matching("checkpoint", roomId, senderId, keyVersion, chainId, chainIndex);
                assertEquals(cp.getString("checkpointHex"), HEX.formatHex(checkpoint));
            } else {
                assertTrue(chainIndex % 16 != 0, "an envelope at chainIndex % 16 == 0 must carry a checkpoint");
            }
            assertEquals(v.getString("validSignatureHex"), HEX.formatHex(signature));

            byte[] input = Frame.envelopeSigningInput(roomId, senderId, keyVersion, chainId, chainIndex,
                    checkpoint, nonce, ciphertext);
            assertEquals(v.getString("signingInputHex"), HEX.formatHex(input));
            String otherSender = root.getJsonObject("inputs").getJsonObject("participants").getString("bob");
            byte[] otherInput = Frame.envelopeSigningInput(roomId, otherSender, keyVersion, chainId, chainIndex,
                    checkpoint, nonce, ciphertext);
            assertEquals(v.getString("otherSenderInputHex"), HEX.formatHex(otherInput));

            ECPublicKey key = SigningKeys.parseSpki(HEX.parseHex(v.getString("signerSpkiHex")));
            ECPublicKey bob = SigningKeys.parseSpki(spki("bobSigning"));
            assertTrue(v.getBoolean("mustVerify"));
            for (EnvelopeSignatures.Verifier verifier : List.of(EnvelopeSignatures.BOUNCY_CASTLE,
                    EnvelopeSignatures.preferred(true))) {
                String by = " (" + verifier.describe() + ")";
                assertTrue(verifier.verify(key, input, signature), "valid signature must verify" + by);
                assertFalse(verifier.verify(key, input, HEX.parseHex(v.getString("tamperedSignatureHex"))),
                        "tampered signature must fail" + by);
                assertFalse(verifier.verify(key, HEX.parseHex(v.getString("tamperedInputHex")), signature),
                        "tampered input must fail" + by);
                assertFalse(verifier.verify(key, otherInput, signature), "other sender's input must fail" + by);
                assertFalse(verifier.verify(bob, input, signature), "another sender's key must fail" + by);
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> keys() {
        JsonObject keys = root.getJsonObject("keys");
        assertFalse(keys.isEmpty());
        return keys.keySet().stream().map(name -> dynamicTest("key " + name, () -> {
            JsonObject k = keys.getJsonObject(name);
            byte[] spki = HEX.parseHex(k.getString("spkiHex"));
            assertArrayEquals(spki, Base64Url.decode(k.getString("spkiB64u"), 91));
            ECPublicKey key = SigningKeys.parseSpki(spki);
            JsonObject jwk = k.getJsonObject("jwk");
            assertEquals(new BigInteger(1, Base64Url.decode(jwk.getString("x"), 32)), key.getW().getAffineX());
            assertEquals(new BigInteger(1, Base64Url.decode(jwk.getString("y"), 32)), key.getW().getAffineY());
            assertArrayEquals(spki, key.getEncoded());
        }));
    }

    @TestFactory
    Stream<DynamicTest> invite() {
        return named("invite", v -> () -> {
            String token = v.getString("inviteTokenB64u");
            assertArrayEquals(HEX.parseHex(v.getString("inviteTokenHex")), Base64Url.decode(token, 32));
            assertEquals(v.getString("inviteTokenSha256Hex"), HEX.formatHex(Tokens.hashToken(token)));
            assertArrayEquals(HEX.parseHex(v.getString("inviteSecretHex")),
                    Base64Url.decode(v.getString("inviteSecretB64u"), 32));
            assertEquals(v.getString("wrappedRoomKeyHex"),
                    HEX.formatHex(Base64Url.decode(v.getString("wrappedRoomKeyB64u"))));
        });
    }

    @TestFactory
    Stream<DynamicTest> safetyCode() {
        return named("safety-code", v -> () -> {
            List<JsonObject> participants = new ArrayList<>(v.getJsonArray("participants").getValuesAs(JsonObject.class));
            // Sort by participantId in byte order of the ASCII (String order equals it for ASCII).
            participants.sort(Comparator.comparing(p -> p.getString("participantId")));
            assertEquals(v.getJsonArray("sortedParticipantIds").getValuesAs(JsonString.class).stream()
                            .map(JsonString::getString).collect(Collectors.toList()),
                    participants.stream().map(p -> p.getString("participantId")).collect(Collectors.toList()));

            Frame f = Frame.tag("MTX1-SAFETY").string(v.getString("roomId")).integer(v.getInt("keyVersion"))
                    .binary(HEX.parseHex(v.getString("rkfHex")));
            for (JsonObject p : participants) {
                byte[] signing = HEX.parseHex(p.getString("signingSpkiHex"));
                byte[] exchange = HEX.parseHex(p.getString("exchangeSpkiHex"));
                SigningKeys.parseSpki(signing);
                SigningKeys.parseSpki(exchange);
                f = f.string(p.getString("participantId")).binary(signing).binary(exchange);
            }
            byte[] input = f.toBytes();
            assertEquals(v.getString("inputHex"), HEX.formatHex(input));
            byte[] digest = Tokens.sha256(input);
            assertEquals(v.getString("digestHex"), HEX.formatHex(digest));
            StringBuilder code = new StringBuilder();
            for (int g = 0; g < 8; g++) {
                long group = Integer.toUnsignedLong(ByteBuffer.wrap(digest, 4 * g, 4).getInt()) % 100000;
                code.append(g == 0 ? "" : " ").append(String.format("%05d", group));
            }
            assertEquals(v.getString("code"), code.toString());
        });
    }

    private static Frame chainFrame(String tag, JsonObject v, int chainIndex) {
        return Frame.tag(tag).string(v.getString("roomId")).string(v.getString("senderId"))
                .integer(v.getInt("keyVersion")).binary(HEX.parseHex(v.getString("chainIdHex"))).integer(chainIndex);
    }

    private static JsonObject matching(String kind, String roomId, String senderId, int keyVersion, byte[] chainId,
                                       int chainIndex) {
        return ofKind(kind).stream()
                .filter(m -> m.getString("roomId").equals(roomId) && m.getString("senderId").equals(senderId)
                        && m.getInt("keyVersion") == keyVersion && m.getInt("chainIndex") == chainIndex
                        && Arrays.equals(HEX.parseHex(m.getString("chainIdHex")), chainId))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " vector for chainIndex " + chainIndex));
    }

    private static byte[] spki(String keyName) {
        return HEX.parseHex(root.getJsonObject("keys").getJsonObject(keyName).getString("spkiHex"));
    }

    private static List<JsonObject> ofKind(String kind) {
        return vectors.stream().filter(v -> v.getString("kind").equals(kind)).collect(Collectors.toList());
    }

    private static Stream<DynamicTest> named(String kind, Function<JsonObject, Executable> check) {
        List<JsonObject> ofKind = ofKind(kind);
        assertFalse(ofKind.isEmpty(), "no vectors of kind " + kind);
        return ofKind.stream().map(v -> dynamicTest(v.getString("name"), check.apply(v)));
    }
}
