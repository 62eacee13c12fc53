package org.mikrotext.relay.protocol;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Immutable builder for MTX1 {@code frame(TAG, f1, f2, …)}: the ASCII bytes of TAG, then for each field
 * a 4-byte big-endian length and the field's bytes. Each call returns a new {@code Frame}; a frame can be
 * shared between threads and extended from any point.
 */
public final class Frame {

    private final Frame previous;
    private final byte[] bytes;     // the tag (root) or one field without its length prefix
    private final int totalLength;  // length of the whole encoding up to and including this element

    private Frame(Frame previous, byte[] bytes, int totalLength) {
        this.previous = previous;
        this.bytes = bytes;
        this.totalLength = totalLength;
    }

    /**
     * Starts a frame with its tag.
     *
     * @throws IllegalArgumentException if the tag is empty or not printable ASCII
     */
    public static Frame tag(String asciiTag) {
        if (asciiTag == null || asciiTag.isEmpty()
                || !asciiTag.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw new IllegalArgumentException("tag must be non-empty printable ASCII");
        }
        byte[] tag = asciiTag.getBytes(StandardCharsets.US_ASCII);
        return new Frame(null, tag, tag.length);
    }

    /**
     * Appends a UTF-8 string field.
     *
     * @throws IllegalArgumentException if the string is null or holds an unpaired surrogate
     */
    public Frame string(String utf8) {
        if (utf8 == null) {
            throw new IllegalArgumentException("string field must not be null");
        }
        try {
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(utf8));
            byte[] b = new byte[encoded.remaining()];
            encoded.get(b);
            return append(b);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("string field is not valid Unicode", e);
        }
    }

    /**
     * Appends an integer field (length 4, then the 4-byte big-endian value).
     *
     * @throws IllegalArgumentException if the value is negative
     */
    public Frame integer(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("integer field must be in 0..2^31-1");
        }
        return append(ByteBuffer.allocate(4).putInt(value).array());
    }

    /** Appends a binary field (copied); {@code null} is an absent field, encoded as length 0. */
    public Frame binary(byte[] rawOrNullForAbsent) {
        return append(rawOrNullForAbsent == null ? new byte[0] : rawOrNullForAbsent.clone());
    }

    /** @return the encoded frame (a fresh array) */
    public byte[] toBytes() {
        byte[] out = new byte[totalLength];
        int end = totalLength;
        for (Frame f = this; f != null; f = f.previous) {
            int start = end - f.bytes.length;
            System.arraycopy(f.bytes, 0, out, start, f.bytes.length);
            if (f.previous != null) {
                start -= 4;
                ByteBuffer.wrap(out, start, 4).putInt(f.bytes.length);
            }
            end = start;
        }
        return out;
    }

    /**
     * The bytes an envelope signature covers:
     * {@code frame("MTX1-ENVELOPE", roomId, senderId, keyVersion, chainId, chainIndex, checkpoint, nonce, ciphertext)}.
     */
    public static byte[] envelopeSigningInput(String roomId, String senderId, int keyVersion, byte[] chainId,
                                              int chainIndex, byte[] checkpointOrNull, byte[] nonce,
                                              byte[] ciphertext) {
        return tag("MTX1-ENVELOPE")
                .string(roomId)
                .string(senderId)
                .integer(keyVersion)
                .binary(requireNonNull(chainId, "chainId"))
                .integer(chainIndex)
                .binary(checkpointOrNull)
                .binary(requireNonNull(nonce, "nonce"))
                .binary(requireNonNull(ciphertext, "ciphertext"))
                .toBytes();
    }

    private static byte[] requireNonNull(byte[] b, String name) {
        if (b == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        return b;
    }

    private Frame append(byte[] field) {
        int total;
        try {
            total = Math.addExact(totalLength, Math.addExact(4, field.length));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("frame too large", e);
        }
        return new Frame(this, field, total);
    }
}
