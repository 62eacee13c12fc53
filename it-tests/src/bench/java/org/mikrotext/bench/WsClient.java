package org.mikrotext.bench;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small non-blocking WebSocket client (RFC 6455, text frames, ping/pong, close) on a few selector threads, so
 * that one JVM can hold 20,000 sockets and still stamp every received frame with the time its bytes arrived.
 * A connection can stop reading altogether ({@link Conn#stopReading()}) to play a client that never reads.
 */
final class WsClient implements Closeable {

    /** Callbacks, all on the connection's selector thread. */
    interface Handler {
        /** The 101 answer arrived; the socket may send. */
        void onUpgraded(Conn conn);

        /** One complete text message; {@code bytes[off, off+len)} is valid only during the call. */
        void onText(Conn conn, byte[] bytes, int off, int len, long nanoTime);

        /** The connection ended: {@code code} is the server's close code, or -1 without a close frame. */
        void onClose(Conn conn, int code, String reason);
    }

    private final InetSocketAddress server;
    private final String hostHeader;
    private final String extraHeaders;
    private final Loop[] loops;
    private final AtomicInteger next = new AtomicInteger();

    /** {@code extraHeaders}: more request header lines for every handshake, each ending in CRLF. */
    WsClient(String host, int port, int threads, String extraHeaders) throws IOException {
        this.server = new InetSocketAddress(host, port);
        this.hostHeader = host + ":" + port;
        this.extraHeaders = extraHeaders;
        this.loops = new Loop[threads];
        for (int i = 0; i < threads; i++) {
            loops[i] = new Loop("ws-loop-" + i);
            loops[i].thread.start();
        }
    }

    /** Starts opening a socket to {@code path}; {@code receiveBuffer} &gt; 0 sets SO_RCVBUF before connecting. */
    Conn open(String path, Handler handler, Object attachment, int receiveBuffer) {
        Loop loop = loops[Math.floorMod(next.getAndIncrement(), loops.length)];
        Conn conn = new Conn(loop, path, handler, attachment);
        loop.submit(() -> conn.connect(receiveBuffer));
        return conn;
    }

    @Override
    public void close() {
        for (Loop loop : loops) {
            loop.running = false;
            loop.selector.wakeup();
        }
        for (Loop loop : loops) {
            try {
                loop.thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private final class Loop implements Runnable {
        final Selector selector;
        final Thread thread;
        final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        final ByteBuffer readBuffer = ByteBuffer.allocate(256 * 1024);
        volatile boolean running = true;

        Loop(String name) throws IOException {
            selector = Selector.open();
            thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        void submit(Runnable task) {
            tasks.add(task);
            selector.wakeup();
        }

        @Override
        public void run() {
            while (running) {
                try {
                    selector.select(100);
                } catch (IOException e) {
                    continue;
                }
                Runnable task;
                while ((task = tasks.poll()) != null) {
                    task.run();
                }
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey key = it.next();
                    it.remove();
                    Conn conn = (Conn) key.attachment();
                    try {
                        if (key.isValid() && key.isConnectable()) {
                            conn.finishConnect();
                        }
                        if (key.isValid() && key.isReadable()) {
                            conn.readable(readBuffer);
                        }
                    } catch (IOException | RuntimeException e) {
                        conn.ended(-1, e.getClass().getSimpleName() + ": " + e.getMessage());
                    }
                }
            }
            for (SelectionKey key : selector.keys()) {
                ((Conn) key.attachment()).ended(-1, "client stopped");
            }
            try {
                selector.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** One WebSocket connection. */
    final class Conn {
        private final Loop loop;
        private final String path;
        private final Handler handler;
        final Object attachment;
        final CompletableFuture<Conn> upgraded = new CompletableFuture<>();
        private SocketChannel channel;
        private SelectionKey key;
        private boolean upgradedFlag;
        private byte[] pending;
        private int pendingLength;
        private byte[] fragments;
        private int fragmentLength;
        private volatile boolean ended;
        private volatile boolean closing;

        Conn(Loop loop, String path, Handler handler, Object attachment) {
            this.loop = loop;
            this.path = path;
            this.handler = handler;
            this.attachment = attachment;
        }

        boolean isOpen() {
            return !ended;
        }

        private void connect(int receiveBuffer) {
            try {
                channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                if (receiveBuffer > 0) {
                    channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
                }
                key = channel.register(loop.selector, 0, this);
                if (channel.connect(server)) {
                    finishConnect();
                } else {
                    key.interestOps(SelectionKey.OP_CONNECT);
                }
            } catch (IOException | RuntimeException e) {
                ended(-1, "connect: " + e);
            }
        }

        private void finishConnect() throws IOException {
            if (channel.isConnectionPending() && !channel.finishConnect()) {
                return;
            }
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            String request = "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                    + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n"
                    + extraHeaders + "\r\n";
            write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            key.interestOps(SelectionKey.OP_READ);
        }

        /** Sends one text message (masked, as a client must). Thread-safe. */
        void sendText(byte[] utf8) throws IOException {
            sendFrame(0x1, utf8, 0, utf8.length);
        }

        /** Stops reading this socket for good: the server's frames pile up in the kernel and then in the server. */
        void stopReading() {
            loop.submit(() -> {
                if (key != null && key.isValid()) {
                    key.interestOps(0);
                }
            });
        }

        /** Closes with 1000 without waiting for the server's answer. */
        void close() {
            closing = true;
            loop.submit(() -> {
                if (ended) {
                    return;
                }
                try {
                    if (upgradedFlag) {
                        sendFrame(0x8, new byte[] {0x03, (byte) 0xe8}, 0, 2);
                    }
                } catch (IOException e) {
                    // closing anyway
                }
                ended(1000, "closed by the client");
            });
        }

        boolean isClosing() {
            return closing;
        }

        private synchronized void sendFrame(int opcode, byte[] payload, int off, int len) throws IOException {
            if (ended) {
                throw new ClosedChannelException();
            }
            int header = 2 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + 4;
            ByteBuffer frame = ByteBuffer.allocate(header + len);
            frame.put((byte) (0x80 | opcode));
            if (len < 126) {
                frame.put((byte) (0x80 | len));
            } else if (len < 65536) {
                frame.put((byte) (0x80 | 126)).putShort((short) len);
            } else {
                frame.put((byte) (0x80 | 127)).putLong(len);
            }
            int mask = ThreadLocalRandom.current().nextInt();
            frame.putInt(mask);
            byte[] m = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
            for (int i = 0; i < len; i++) {
                frame.put((byte) (payload[off + i] ^ m[i & 3]));
            }
            frame.flip();
            write(frame);
        }

        private synchronized void write(ByteBuffer buffer) throws IOException {
            long deadline = 0;
            while (buffer.hasRemaining()) {
                if (channel.write(buffer) == 0) {
                    long now = System.nanoTime();
                    if (deadline == 0) {
                        deadline = now + TimeUnit.SECONDS.toNanos(10);
                    } else if (now > deadline) {
                        throw new IOException("The server has not read for 10 s");
                    }
                    LockSupport.parkNanos(20_000);
                }
            }
        }

        private void readable(ByteBuffer buffer) throws IOException {
            for (int round = 0; round < 4; round++) {
                buffer.clear();
                int n = channel.read(buffer);
                if (n < 0) {
                    ended(-1, "connection ended without a close frame");
                    return;
                }
                if (n == 0) {
                    return;
                }
                bytes(buffer.array(), 0, n, System.nanoTime());
                if (ended || n < buffer.capacity()) {
                    return;
                }
            }
        }

        private void bytes(byte[] in, int off, int len, long now) throws IOException {
            byte[] src;
            int p;
            int end;
            if (pendingLength == 0) {
                src = in;
                p = off;
                end = off + len;
            } else {
                if (pending.length < pendingLength + len) {
                    pending = java.util.Arrays.copyOf(pending, Math.max(pendingLength + len, pending.length * 2));
                }
                System.arraycopy(in, off, pending, pendingLength, len);
                pendingLength += len;
                src = pending;
                p = 0;
                end = pendingLength;
            }
            if (!upgradedFlag) {
                int headEnd = indexOfCrlfCrlf(src, p, end);
                if (headEnd < 0) {
                    keep(src, p, end);
                    return;
                }
                String status = new String(src, p, Math.min(12, headEnd - p), StandardCharsets.US_ASCII);
                if (!status.startsWith("HTTP/1.1 101")) {
                    String line = new String(src, p, headEnd - p, StandardCharsets.US_ASCII).lines().findFirst()
                            .orElse("");
                    ended(-1, "handshake refused: " + line);
                    return;
                }
                upgradedFlag = true;
                p = headEnd + 4;
                handler.onUpgraded(this);
                upgraded.complete(this);
            }
            while (!ended && end - p >= 2) {
                int b0 = src[p] & 0xff;
                int b1 = src[p + 1] & 0xff;
                long length = b1 & 0x7f;
                int header = 2;
                if (length == 126) {
                    if (end - p < 4) {
                        break;
                    }
                    length = ((src[p + 2] & 0xff) << 8) | (src[p + 3] & 0xff);
                    header = 4;
                } else if (length == 127) {
                    if (end - p < 10) {
                        break;
                    }
                    length = ByteBuffer.wrap(src, p + 2, 8).getLong();
                    header = 10;
                }
                boolean masked = (b1 & 0x80) != 0;
                if (masked) {
                    header += 4;
                }
                if (end - p < header + length) {
                    break;
                }
                int start = p + header;
                int n = (int) length;
                if (masked) {
                    for (int i = 0; i < n; i++) {
                        src[start + i] ^= src[start - 4 + (i & 3)];
                    }
                }
                frame(b0, src, start, n, now);
                p = start + n;
            }
            keep(src, p, end);
        }

        private void keep(byte[] src, int p, int end) {
            int rest = end - p;
            if (rest == 0) {
                pending = null;
                pendingLength = 0;
            } else if (src == pending) {
                System.arraycopy(pending, p, pending, 0, rest);
                pendingLength = rest;
            } else {
                pending = new byte[Math.max(rest * 2, 4096)];
                System.arraycopy(src, p, pending, 0, rest);
                pendingLength = rest;
            }
        }

        private void frame(int b0, byte[] src, int start, int n, long now) throws IOException {
            boolean fin = (b0 & 0x80) != 0;
            int opcode = b0 & 0x0f;
            switch (opcode) {
                case 0x1, 0x0 -> {
                    if (opcode == 0x1 && fin && fragmentLength == 0) {
                        handler.onText(this, src, start, n, now);
                        return;
                    }
                    if (fragments == null || fragments.length < fragmentLength + n) {
                        fragments = java.util.Arrays.copyOf(fragments == null ? new byte[0] : fragments,
                                Math.max(fragmentLength + n, 8192));
                    }
                    System.arraycopy(src, start, fragments, fragmentLength, n);
                    fragmentLength += n;
                    if (fin) {
                        handler.onText(this, fragments, 0, fragmentLength, now);
                        fragments = null;
                        fragmentLength = 0;
                    }
                }
                case 0x9 -> sendFrame(0xA, src, start, n);
                case 0x8 -> {
                    int code = n >= 2 ? ((src[start] & 0xff) << 8) | (src[start + 1] & 0xff) : 1005;
                    String reason = n > 2 ? new String(src, start + 2, n - 2, StandardCharsets.UTF_8) : "";
                    try {
                        sendFrame(0x8, src, start, Math.min(n, 2));
                    } catch (IOException e) {
                        // the server may already be gone
                    }
                    ended(code, reason);
                }
                default -> {
                    // pong and reserved opcodes: nothing to do
                }
            }
        }

        private void ended(int code, String reason) {
            if (ended) {
                return;
            }
            ended = true;
            try {
                if (key != null) {
                    key.cancel();
                }
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException e) {
                // closing anyway
            }
            pending = null;
            upgraded.completeExceptionally(new IOException("closed before the upgrade: " + code + " " + reason));
            handler.onClose(this, code, reason);
        }

        private static int indexOfCrlfCrlf(byte[] a, int from, int to) {
            for (int i = from; i + 3 < to; i++) {
                if (a[i] == '\r' && a[i + 1] == '\n' && a[i + 2] == '\r' && a[i + 3] == '\n') {
                    return i;
                }
            }
            return -1;
        }
    }
}
