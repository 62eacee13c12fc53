package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WireFrameTest {

    @Test
    void shortTextHasTheSevenBitLength() {
        ByteBuffer wire = WireFrame.text("{\"type\":\"pong\"}").wire();
        assertEquals(0x81, wire.get(0) & 0xFF, "FIN and the text opcode");
        assertEquals(15, wire.get(1), "no mask bit, 15 bytes");
        assertEquals("{\"type\":\"pong\"}", payload(wire));
    }

    @Test
    void eachLengthEncodingAtItsBoundaries() {
        for (int length : new int[] {0, 125, 126, 65_535, 65_536, 200_000}) {
            String text = "x".repeat(length);
            ByteBuffer wire = WireFrame.text(text).wire();
            assertEquals(length, declaredLength(wire), "length " + length);
            assertEquals(text, payload(wire), "payload of " + length);
        }
        assertEquals(2 + 125, WireFrame.text("x".repeat(125)).wire().remaining());
        assertEquals(4 + 126, WireFrame.text("x".repeat(126)).wire().remaining());
        assertEquals(10 + 65_536, WireFrame.text("x".repeat(65_536)).wire().remaining());
    }

    @Test
    void theLengthCountsUtf8BytesNotCharacters() {
        WireFrame frame = WireFrame.text("\"é€😀\"");
        assertEquals(2 + 2 + 3 + 4, frame.length());
        assertEquals(frame.length(), declaredLength(frame.wire()));
        assertEquals("\"é€😀\"", payload(frame.wire()));
        assertEquals("\"é€😀\"", frame.text());
    }

    @Test
    void everySocketGetsItsOwnPositionOverTheSameBytes() {
        WireFrame frame = WireFrame.text("{\"seq\":1}");
        ByteBuffer first = frame.wire();
        first.get(new byte[first.remaining()]);
        ByteBuffer second = frame.wire();
        assertEquals(0, second.position());
        assertEquals(2 + 9, second.remaining());
        assertArrayEquals(first.array(), second.array());
    }

    /** The payload length as a client reads it (RFC 6455 section 5.2). */
    private static long declaredLength(ByteBuffer wire) {
        int seven = wire.get(1) & 0x7F;
        assertEquals(0, wire.get(1) & 0x80, "a server's frames are not masked");
        if (seven < 126) {
            return seven;
        }
        if (seven == 126) {
            return ((wire.get(2) & 0xFF) << 8) | (wire.get(3) & 0xFF);
        }
        return wire.getLong(2);
    }

    private static String payload(ByteBuffer wire) {
        int seven = wire.get(1) & 0x7F;
        int header = seven < 126 ? 2 : seven == 126 ? 4 : 10;
        return new String(wire.array(), header, wire.remaining() - header, StandardCharsets.UTF_8);
    }
}
