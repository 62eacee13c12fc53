package org.mikrotext.relay.envelope.control;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One text frame for the relay's sockets, encoded once: its text, and the same frame as the bytes a server puts on
 * the wire (RFC 6455 section 5.2: FIN and the text opcode, no mask, the payload length in 7, 16 or 64 bits, then the
 * UTF-8 payload). An envelope goes to every socket of its room as one {@code WireFrame}, so it is serialised and
 * framed once per envelope, not once per socket.
 *
 * <p>Frames {@linkplain #joined joined} for one write are built in an array that the building thread lends: once the
 * writer says the container is done with the bytes ({@link #bytesTaken()}), the thread builds its next joined frames
 * in the same array, so a publisher thread does not allocate an array per socket per batch.
 */
public final class WireFrame {

    /** Joined frames up to this size are built in the building thread's reusable array. */
    static final int MAX_REUSED = 64 * 1024;
    private static final int MIN_REUSED = 4096;
    private static final int FIN_TEXT = 0x81;
    /** Per thread: the array the next joined frame may be built in, or null while it is lent out. */
    private static final ThreadLocal<byte[][]> REUSABLE = ThreadLocal.withInitial(() -> new byte[1][]);

    private final String text;
    private final byte[] wire;
    private final int size;
    private final int payloadBytes;
    /** The thread whose reusable array holds this frame's bytes, until they are taken; else null. */
    private Thread lender;

    private WireFrame(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        int length = payload.length;
        int header = length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10;
        this.text = text;
        this.payloadBytes = length;
        this.wire = new byte[header + length];
        this.size = wire.length;
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

    private WireFrame(byte[] wire, int size, int payloadBytes, Thread lender) {
        this.text = null;
        this.wire = wire;
        this.size = size;
        this.payloadBytes = payloadBytes;
        this.lender = lender;
    }

    public static WireFrame text(String text) {
        return new WireFrame(text);
    }

    /**
     * Several frames (or one), one after the other, to go out in one write; it has bytes only, no {@link #text()}. Up
     * to {@link #MAX_REUSED} bytes they are built in this thread's reusable array, lent to this frame until
     * {@link #bytesTaken()}; a single larger frame is returned as it is.
     */
    public static WireFrame joined(List<WireFrame> frames) {
        int size = 0;
        int payload = 0;
        for (WireFrame frame : frames) {
            size += frame.size;
            payload += frame.payloadBytes;
        }
        byte[] joined;
        Thread lender = null;
        if (size <= MAX_REUSED) {
            byte[][] slot = REUSABLE.get();
            joined = slot[0];
            slot[0] = null;
            if (joined == null || joined.length < size) {
                joined = new byte[Math.min(MAX_REUSED, Math.max(MIN_REUSED, Integer.highestOneBit(size - 1) << 1))];
            }
            lender = Thread.currentThread();
        } else if (frames.size() == 1) {
            return frames.get(0); // too large to reuse an array for: a copy would only cost
        } else {
            joined = new byte[size];
        }
        int at = 0;
        for (WireFrame frame : frames) {
            System.arraycopy(frame.wire, 0, joined, at, frame.size);
            at += frame.size;
        }
        return new WireFrame(joined, size, payload, lender);
    }

    /**
     * The writer is done with this frame's bytes (written, or copied by the container): if they are in the reusable
     * array of the thread calling this, which built them, it may build its next joined frames there. Called only
     * where nothing refers to the bytes any more; a frame whose bytes the container keeps is never given back.
     */
    public void bytesTaken() {
        if (lender != Thread.currentThread()) {
            return;
        }
        lender = null;
        byte[][] slot = REUSABLE.get();
        if (slot[0] == null || slot[0].length < wire.length) {
            slot[0] = wire;
        }
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
        return ByteBuffer.wrap(wire, 0, size);
    }
}
