package org.mikrotext.it.support;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The test side's own small implementation of MTX1's wire details (keys, framing, signatures), written
 * independently of the relay's, so that the tests check the relay against the protocol, not against itself.
 */
public final class Wire {

    public static final SecureRandom RANDOM = new SecureRandom();

    private Wire() {
    }

    public static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static byte[] unb64(String s) {
        return Base64.getUrlDecoder().decode(s);
    }

    public static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    public static KeyPair p256() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The 91-byte SPKI of a P-256 public key, base64url. */
    public static String spki(KeyPair pair) {
        return b64(pair.getPublic().getEncoded());
    }

    public static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** frame(TAG, fields…): strings as UTF-8, Integers as 4-byte big-endian, byte[] raw, null as length 0. */
    public static byte[] frame(String tag, Object... fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(tag.getBytes(StandardCharsets.US_ASCII));
        for (Object field : fields) {
            byte[] bytes;
            if (field == null) {
                bytes = new byte[0];
            } else if (field instanceof String s) {
                bytes = s.getBytes(StandardCharsets.UTF_8);
            } else if (field instanceof Integer i) {
                bytes = ByteBuffer.allocate(4).putInt(i).array();
            } else {
                bytes = (byte[]) field;
            }
            out.writeBytes(ByteBuffer.allocate(4).putInt(bytes.length).array());
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }

    public static byte[] sign(PrivateKey key, byte[] data) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
            s.initSign(key, RANDOM);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
