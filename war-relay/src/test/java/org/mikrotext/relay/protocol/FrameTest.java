package org.mikrotext.relay.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class FrameTest {

    private static final HexFormat HEX = HexFormat.of();

    @Test
    void tagAlone() {
        assertEquals("4d5458312d54", HEX.formatHex(Frame.tag("MTX1-T").toBytes()));
    }

    @Test
    void encodesEachFieldType() {
        byte[] bytes = Frame.tag("T")
                .string("h\u00e9")
                .integer(258)
                .binary(new byte[] {0x00, (byte) 0xff})
                .binary(null)
                .string("")
                .integer(0)
                .integer(Integer.MAX_VALUE)
                .toBytes();
        assertEquals("54"
                + "00000003" + "68c3a9"
                + "00000004" + "00000102"
                + "00000002" + "00ff"
                + "00000000"
                + "00000000"
                + "00000004" + "00000000"
                + "00000004" + "7fffffff", HEX.formatHex(bytes));
    }

    @Test
    void supplementaryCharactersAreUtf8() {
        assertEquals("54" + "00000004" + "f09f9490", HEX.formatHex(Frame.tag("T").string("\uD83D\uDD10").toBytes()));
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> Frame.tag("T").integer(-1));
        assertThrows(IllegalArgumentException.class, () -> Frame.tag("T").integer(Integer.MIN_VALUE));
        assertThrows(IllegalArgumentException.class, () -> Frame.tag("T").string("\uD800"));
        assertThrows(IllegalArgumentException.class, () -> Frame.tag("T").string(null));
        assertThrows(IllegalArgumentException.class, () -> Frame.tag(""));
        assertThrows(IllegalArgumentException.class, () -> Frame.tag(null));
        assertThrows(IllegalArgumentException.class, () -> Frame.tag("MTX1-\u00c9"));
        assertThrows(IllegalArgumentException.class, () -> Frame.tag("MTX1 X"));
    }

    @Test
    void isImmutableAndCopiesInput() {
        byte[] raw = {1, 2, 3};
        Frame base = Frame.tag("T").binary(raw);
        raw[0] = 9;
        Frame a = base.integer(1);
        Frame b = base.string("x");
        assertEquals("54" + "00000003" + "010203", HEX.formatHex(base.toBytes()));
        assertEquals("54" + "00000003" + "010203" + "00000004" + "00000001", HEX.formatHex(a.toBytes()));
        assertEquals("54" + "00000003" + "010203" + "00000001" + "78", HEX.formatHex(b.toBytes()));
        byte[] out = base.toBytes();
        out[0] = 0;
        assertNotSame(out, base.toBytes());
        assertEquals(0x54, base.toBytes()[0]);
    }

    @Test
    void envelopeSigningInputLayout() {
        byte[] chainId = new byte[16];
        byte[] nonce = new byte[12];
        byte[] ciphertext = {(byte) 0xaa};
        byte[] input = Frame.envelopeSigningInput("R", "S", 2, chainId, 7, null, nonce, ciphertext);
        byte[] expected = Frame.tag("MTX1-ENVELOPE").string("R").string("S").integer(2).binary(chainId).integer(7)
                .binary(null).binary(nonce).binary(ciphertext).toBytes();
        assertArrayEquals(expected, input);
        assertEquals("4d5458312d454e56454c4f5045" + "00000001" + "52" + "00000001" + "53"
                + "00000004" + "00000002" + "00000010" + "00".repeat(16) + "00000004" + "00000007"
                + "00000000" + "0000000c" + "00".repeat(12) + "00000001" + "aa", HEX.formatHex(input));
        byte[] withCheckpoint = Frame.envelopeSigningInput("R", "S", 2, chainId, 7, new byte[60], nonce, ciphertext);
        assertEquals(input.length + 60, withCheckpoint.length);
        assertThrows(IllegalArgumentException.class,
                () -> Frame.envelopeSigningInput("R", "S", -1, chainId, 7, null, nonce, ciphertext));
        assertThrows(IllegalArgumentException.class,
                () -> Frame.envelopeSigningInput("R", "S", 1, chainId, 7, null, nonce, null));
    }
}
