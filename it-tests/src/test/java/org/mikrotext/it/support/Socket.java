package org.mikrotext.it.support;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/** A WebSocket client (the JDK's) that collects the relay's frames and its close code. */
public final class Socket implements WebSocket.Listener, AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket webSocket;

    private Socket() {
    }

    /** Opens a socket; {@code origin} may be null (a non-browser client). Throws if the handshake is refused. */
    public static Socket open(URI uri, String origin) {
        Socket socket = new Socket();
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (origin != null) {
            builder.header("Origin", origin);
        }
        try {
            socket.webSocket = builder.buildAsync(uri, socket).get(15, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Handshake failed", e.getCause() == null ? e : e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return socket;
    }

    public void send(JsonObject frame) {
        sendText(frame.toString());
    }

    public void sendText(String text) {
        webSocket.sendText(text, true).join();
    }

    /** One text frame sent as WebSocket fragments (a first frame and continuation frames), one per part. */
    public void sendFragments(String... parts) {
        for (int i = 0; i < parts.length; i++) {
            webSocket.sendText(parts[i], i == parts.length - 1).join();
        }
    }

    /** The next frame, failing after {@code seconds}. */
    public JsonObject next(int seconds) {
        try {
            JsonObject frame = frames.poll(seconds, TimeUnit.SECONDS);
            if (frame == null) {
                throw new AssertionError("No frame within " + seconds + " s (closed: " + closed.getNow(null) + ")");
            }
            return frame;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next frame of a type, skipping others (which are collected into {@code skipped}, if given). */
    public JsonObject next(String type, int seconds, List<JsonObject> skipped) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("No '" + type + "' frame within " + seconds + " s");
            }
            JsonObject frame = next((int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(left)));
            if (type.equals(frame.getString("type", ""))) {
                return frame;
            }
            if (skipped != null) {
                skipped.add(frame);
            }
        }
    }

    public JsonObject next(String type) {
        return next(type, 10, null);
    }

    /** Frames matching {@code filter} until {@code count} have arrived. */
    public List<JsonObject> collect(Predicate<JsonObject> filter, int count, int seconds) {
        List<JsonObject> out = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (out.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("Only " + out.size() + " of " + count + " frames within " + seconds + " s");
            }
            try {
                JsonObject frame = frames.poll(left, TimeUnit.NANOSECONDS);
                if (frame != null && filter.test(frame)) {
                    out.add(frame);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        return out;
    }

    /** Frames that arrive within {@code millis} (for asserting that nothing more comes). */
    public List<JsonObject> drain(long millis) {
        List<JsonObject> out = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                JsonObject frame = left <= 0 ? null : frames.poll(left, TimeUnit.NANOSECONDS);
                if (frame == null) {
                    return out;
                }
                out.add(frame);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return out;
        }
    }

    /** The close code the relay sent, waiting up to {@code seconds}. */
    public int closeCode(int seconds) {
        try {
            return closed.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("The socket was not closed within " + seconds + " s");
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    public boolean isClosed() {
        return closed.isDone();
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            try (JsonReader reader = Json.createReader(new StringReader(partial.toString()))) {
                frames.add(reader.readObject());
            }
            partial.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        closed.complete(-1);
    }

    @Override
    public void close() {
        if (!closed.isDone()) {
            try {
                webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                webSocket.abort();
            }
        }
    }
}
