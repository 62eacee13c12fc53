package org.mikrotext.relay.protocol;

/**
 * Strict base64url without padding (RFC 4648 §5), as MTX1 requires: alphabet {@code A-Za-z0-9-_} only,
 * no {@code '='}, no whitespace, no length of the form 4n+1, and unused trailing bits zero,
 * so every byte string has exactly one accepted encoding.
 */
public final class Base64Url {

    /** Field name reported by the public decoders, which do not know the caller's field. */
    static final String DEFAULT_FIELD = "base64url";

    private static final char[] ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".toCharArray();
    private static final byte[] VALUES = new byte[128];

    static {
        java.util.Arrays.fill(VALUES, (byte) -1);
        for (int i = 0; i < ALPHABET.length; i++) {
            VALUES[ALPHABET[i]] = (byte) i;
        }
    }

    private Base64Url() {
    }

    /**
     * Decodes strictly.
     *
     * @throws MalformedFieldException if {@code s} is null or not canonical unpadded base64url
     */
    public static byte[] decode(String s) {
        return decode(s, DEFAULT_FIELD);
    }

    /**
     * Decodes strictly and requires exactly {@code expectedLength} decoded bytes.
     * The encoded length is checked first, so oversized input is rejected before any decoding.
     *
     * @throws MalformedFieldException if {@code s} is null, not canonical, or of another decoded length
     */
    public static byte[] decode(String s, int expectedLength) {
        return decode(s, expectedLength, DEFAULT_FIELD);
    }

    /** Encodes without padding. */
    public static String encode(byte[] b) {
        char[] out = new char[encodedLength(b.length)];
        int o = 0;
        int i = 0;
        for (; i + 3 <= b.length; i += 3) {
            int v = (b[i] & 0xff) << 16 | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff);
            out[o++] = ALPHABET[v >>> 18];
            out[o++] = ALPHABET[(v >>> 12) & 63];
            out[o++] = ALPHABET[(v >>> 6) & 63];
            out[o++] = ALPHABET[v & 63];
        }
        int rest = b.length - i;
        if (rest == 1) {
            int v = b[i] & 0xff;
            out[o++] = ALPHABET[v >>> 2];
            out[o] = ALPHABET[(v << 4) & 63];
        } else if (rest == 2) {
            int v = (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
            out[o++] = ALPHABET[v >>> 10];
            out[o++] = ALPHABET[(v >>> 4) & 63];
            out[o] = ALPHABET[(v << 2) & 63];
        }
        return new String(out);
    }

    /**
     * Rejects {@code s} if it is longer than the unpadded encoding of {@code maxDecodedBytes} bytes,
     * so callers can refuse huge input before decoding it.
     *
     * @throws MalformedFieldException if {@code s} is null or too long
     */
    public static void requireMaxEncodedLength(String s, int maxDecodedBytes) {
        requireMaxEncodedLength(s, maxDecodedBytes, DEFAULT_FIELD);
    }

    static void requireMaxEncodedLength(String s, int maxDecodedBytes, String field) {
        if (maxDecodedBytes < 0) {
            throw new IllegalArgumentException("maxDecodedBytes must not be negative");
        }
        if (s == null) {
            throw new MalformedFieldException(field, field + " is missing");
        }
        if (s.length() > encodedLength(maxDecodedBytes)) {
            throw new MalformedFieldException(field, field + " is longer than " + maxDecodedBytes + " bytes");
        }
    }

    static byte[] decode(String s, int expectedLength, String field) {
        if (expectedLength < 0) {
            throw new IllegalArgumentException("expectedLength must not be negative");
        }
        if (s != null && s.length() != encodedLength(expectedLength)) {
            throw new MalformedFieldException(field, field + " must be " + expectedLength + " bytes");
        }
        return decode(s, field);
    }

    static byte[] decode(String s, String field) {
        if (s == null) {
            throw new MalformedFieldException(field, field + " is missing");
        }
        int n = s.length();
        if (n % 4 == 1) {
            throw new MalformedFieldException(field, field + " has an impossible base64url length");
        }
        byte[] out = new byte[n / 4 * 3 + Math.max(0, n % 4 - 1)];
        int acc = 0;
        int bits = 0;
        int o = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            int v = c < 128 ? VALUES[c] : -1;
            if (v < 0) {
                throw new MalformedFieldException(field,
                        field + " must be base64url without padding (A-Z a-z 0-9 - _ only)");
            }
            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[o++] = (byte) (acc >>> bits);
                acc &= (1 << bits) - 1;
            }
        }
        if (acc != 0) {
            throw new MalformedFieldException(field, field + " is not canonical base64url (unused bits set)");
        }
        return out;
    }

    /** Unpadded encoded length of {@code bytes} bytes, saturating at {@code Integer.MAX_VALUE}. */
    static int encodedLength(int bytes) {
        long chars = ((long) bytes * 4 + 2) / 3;
        return (int) Math.min(chars, Integer.MAX_VALUE);
    }
}
