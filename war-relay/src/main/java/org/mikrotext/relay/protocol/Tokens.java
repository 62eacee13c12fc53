package org.mikrotext.relay.protocol;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** Random identifiers and tokens from a shared CSPRNG, and the SHA-256 under which tokens are stored. */
public final class Tokens {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int TOKEN_BYTES = 32;
    private static final int ID_BYTES = 16;

    private Tokens() {
    }

    /** @return 32 fresh random bytes (a session or invite token) */
    public static byte[] newToken() {
        byte[] token = new byte[TOKEN_BYTES];
        RANDOM.nextBytes(token);
        return token;
    }

    /** @return a fresh {@code roomId} or {@code participantId}: 16 random bytes, base64url (22 chars) */
    public static String newId() {
        byte[] id = new byte[ID_BYTES];
        RANDOM.nextBytes(id);
        return Base64Url.encode(id);
    }

    /** @return SHA-256 of {@code data} */
    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /**
     * @return SHA-256 of the token's 32 strictly decoded bytes, the only form in which tokens are stored
     * @throws MalformedFieldException (field {@code "token"}) unless the token is canonical base64url of 32 bytes
     */
    public static byte[] hashToken(String tokenB64u) {
        return sha256(Base64Url.decode(tokenB64u, TOKEN_BYTES, "token"));
    }
}
