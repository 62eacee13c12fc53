package org.mikrotext.relay.envelope.control;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One text frame for the relay's sockets, encoded once: its text, and the same frame as the bytes a server puts on
 * the wire (RFC 6455 section 5.2: FIN and the text opcode, no mask, the payload length in 7, 16 or 64 bits, then the
 * UTF-8 payload). An envelope goes to every socket of its room as one {@code WireFrame}, so it is serialised and
 * framed once per envelope, not once per socket.
 */
public final class WireFrame {

    private static final int FIN_TEXT = 0x81;

    private final String text;
    private final byte[] wire;
    private final int payloadBytes;

    private WireFrame(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        int length = payload.length;
        int header = length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10;
        this.text = text;
        this.payloadBytes = length;
        this.wire = new byte[header + length];
        wire[0] = (byte) FIN_TEXT;
        if (header == 2) {
            wire[1] = (byte) length;
        } else if (header == 4) {
            wire[1] = 126;
            wire[2] = (byte) (length >>> 8);
            wire[3] = (byte) length;
        } else {
            wire[1] = 127;
            for (int i = 0; i < 8; i++) {
                wire[2 + i] = (byte) ((long) length >>> (56 - 8 * i));
            }
        }
        System.arraycopy(payload, 0, wire, header, length);
    }

    private WireFrame(byte[] wire, int payloadBytes) {
        this.text = null;
        this.wire = wire;
        this.payloadBytes = payloadBytes;
    }

    public static WireFrame text(String text) {
        return new WireFrame(text);
    }

    /** Several frames, one after the other, to go out in one write; it has bytes only, no {@link #text()}. */
    static WireFrame joined(List<WireFrame> frames) {
        int size = 0;
        int payload = 0;
        for (WireFrame frame : frames) {
            size += frame.wire.length;
            payload += frame.payloadBytes;
        }
        byte[] joined = new byte[size];
        int at = 0;
        for (WireFrame frame : frames) {
            System.arraycopy(frame.wire, 0, joined, at, frame.wire.length);
            at += frame.wire.length;
        }
        return new WireFrame(joined, payload);
    }

    /** The frame's text; null for frames {@linkplain #joined joined} into one write. */
    public String text() {
        return text;
    }

    /** The payload's length in bytes (UTF-8), summed over joined frames. */
    public int length() {
        return payloadBytes;
    }

    /** The whole frame, header and payload, as a fresh buffer over the shared bytes (never written to). */
    public ByteBuffer wire() {
        return ByteBuffer.wrap(wire);
    }
}
