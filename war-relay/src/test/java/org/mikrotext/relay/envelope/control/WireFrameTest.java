package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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

    @Test
    void joinedFramesAreTheFramesOneAfterTheOtherAndNothingMore() {
        WireFrame a = WireFrame.text("{\"seq\":1}");
        WireFrame b = WireFrame.text("x".repeat(300));
        WireFrame joined = WireFrame.joined(List.of(a, b));

        assertEquals(a.length() + b.length(), joined.length());
        assertEquals(bytes(a.wire()).length + bytes(b.wire()).length, joined.wire().remaining());
        assertArrayEquals(concat(bytes(a.wire()), bytes(b.wire())), bytes(joined.wire()));
        joined.bytesTaken();
    }

    @Test
    void aThreadBuildsItsNextJoinedFramesInTheArrayWhoseBytesWereTaken() {
        WireFrame first = WireFrame.joined(List.of(WireFrame.text("{\"n\":1}"), WireFrame.text("{\"n\":2}")));
        byte[] array = first.wire().array();
        first.bytesTaken();

        WireFrame second = WireFrame.joined(List.of(WireFrame.text("{\"n\":3}"), WireFrame.text("{\"n\":4}")));
        assertSame(array, second.wire().array(), "reused");
        assertArrayEquals(concat(bytes(WireFrame.text("{\"n\":3}").wire()), bytes(WireFrame.text("{\"n\":4}").wire())),
                bytes(second.wire()));
        second.bytesTaken();
    }

    @Test
    void bytesNotTakenAreNeverOverwritten() throws Exception {
        WireFrame kept = WireFrame.joined(List.of(WireFrame.text("{\"kept\":1}"), WireFrame.text("{\"kept\":2}")));
        byte[] before = bytes(kept.wire());

        WireFrame next = WireFrame.joined(List.of(WireFrame.text("{\"next\":1}"), WireFrame.text("{\"next\":2}")));
        assertNotSame(kept.wire().array(), next.wire().array());
        next.bytesTaken();
        // Another thread saying the bytes are taken gives nothing back to this one.
        CompletableFuture.runAsync(kept::bytesTaken).get();
        WireFrame third = WireFrame.joined(List.of(WireFrame.text("{\"third\":1}"), WireFrame.text("{\"n\":2}")));
        assertNotSame(kept.wire().array(), third.wire().array());

        assertArrayEquals(before, bytes(kept.wire()), "the kept frame's bytes are as they were");
    }

    @Test
    void joinedFramesLargerThanTheReusedArrayGetTheirOwn() {
        String big = "x".repeat(WireFrame.MAX_REUSED);
        WireFrame joined = WireFrame.joined(List.of(WireFrame.text(big), WireFrame.text("{}")));
        assertEquals(joined.wire().remaining(), joined.wire().array().length);
        assertEquals(big.length() + 2, joined.length());
        WireFrame alone = WireFrame.text(big);
        assertSame(alone, WireFrame.joined(List.of(alone)), "a single large frame is not copied");
    }

    @Test
    void aSingleFrameIsCopiedIntoTheReusedArray() {
        WireFrame ready = WireFrame.text("{\"type\":\"ready\",\"pad\":\"" + "x".repeat(900) + "\"}");
        WireFrame copy = WireFrame.joined(List.of(ready));
        assertNotSame(ready.wire().array(), copy.wire().array());
        assertArrayEquals(bytes(ready.wire()), bytes(copy.wire()));
        assertEquals(ready.length(), copy.length());
        copy.bytesTaken();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
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
