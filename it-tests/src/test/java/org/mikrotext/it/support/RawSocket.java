package org.mikrotext.it.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client on a bare TCP socket with a tiny receive buffer, for playing a browser that stops reading:
 * it performs the handshake, says hello, and then reads nothing until the test asks it to.
 */
public final class RawSocket implements AutoCloseable {

    private final java.net.Socket socket = new java.net.Socket();
    private final DataInputStream in;
    private final OutputStream out;

    public RawSocket(URI ws) throws IOException {
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress(ws.getHost(), ws.getPort()), 10_000);
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
        String key = Wire.b64(Wire.random(16)) + "==";
        out.write(("GET " + ws.getRawPath() + " HTTP/1.1\r\nHost: " + ws.getHost() + ":" + ws.getPort()
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
                + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = readHead();
        if (!head.startsWith("HTTP/1.1 101")) {
            throw new IOException("Handshake refused: " + head.lines().findFirst().orElse(""));
        }
    }

    /** Sends one masked text frame. */
    public void sendText(String text) throws IOException {
        send(0x1, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends one masked, unfragmented frame of {@code opcode}. */
    private void send(int opcode, byte[] payload) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x80 | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        }
        byte[] mask = Wire.random(4);
        frame.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        out.write(frame.toByteArray());
        out.flush();
    }

    /**
     * Starts a masked text frame that declares {@code declaredLength} bytes of payload and sends only the first
     * {@code sentBytes} of them, as a client that makes the relay hold a large frame would.
     */
    public void sendUnfinishedFrame(long declaredLength, int sentBytes) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x81);
        frame.write(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            frame.write((int) (declaredLength >>> shift) & 0xff);
        }
        byte[] mask = Wire.random(4);
        frame.writeBytes(mask);
        for (int i = 0; i < sentBytes; i++) {
            frame.write('x' ^ mask[i % 4]);
        }
        out.write(frame.toByteArray());
        out.flush();
    }

    /** Reads frames until a close frame, and returns its code (or -1 if the connection just ended). */
    public int readUntilClose() throws IOException {
        try {
            while (true) {
                Frame frame = readFrame();
                if (frame.opcode() == 0x8) {
                    return closeCode(frame);
                }
            }
        } catch (EOFException e) {
            return -1;
        }
    }

    /**
     * Reads the next text frame (the relay sends each message in one frame), answering pings as a browser does (the
     * relay measures how far behind a socket is by them); a close frame is an error.
     */
    public String readText() throws IOException {
        while (true) {
            Frame frame = readFrame();
            if (frame.opcode() == 0x1) {
                return new String(frame.payload(), StandardCharsets.UTF_8);
            }
            if (frame.opcode() == 0x9) {
                send(0xA, frame.payload());
            }
            if (frame.opcode() == 0x8) {
                throw new EOFException("The relay closed the socket: " + closeCode(frame) + " "
                        + new String(frame.payload(), StandardCharsets.UTF_8).substring(Math.min(2,
                        frame.payload().length)));
            }
        }
    }

    private record Frame(int opcode, byte[] payload) {
    }

    private static int closeCode(Frame close) {
        byte[] payload = close.payload();
        return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }

    private Frame readFrame() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        long length = b1 & 0x7f;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return new Frame(b0 & 0x0f, payload);
    }

    private String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("Connection closed during the handshake");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
