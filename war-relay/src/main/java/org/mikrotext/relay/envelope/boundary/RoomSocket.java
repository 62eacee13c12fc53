package org.mikrotext.relay.envelope.boundary;

import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.websocket.CloseReason;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.PathParam;
import jakarta.websocket.server.ServerEndpoint;
import java.util.concurrent.ScheduledFuture;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.mikrotext.relay.envelope.control.CloseCodes;
import org.mikrotext.relay.envelope.control.Outbox;
import org.mikrotext.relay.envelope.control.RoomChannels;
import org.mikrotext.relay.envelope.control.Sender;
import org.mikrotext.relay.json.JsonFields;
import org.mikrotext.relay.limits.control.TokenBucket;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.problem.ProblemMapper;
import org.mikrotext.relay.protocol.MalformedFieldException;
import org.mikrotext.relay.room.control.RoomJson;
import org.mikrotext.store.boundary.RoomStore.Greeting;
import org.mikrotext.store.entity.Participant;
import org.mikrotext.store.entity.Room;
import org.mikrotext.relay.json.JsonIO;

/**
 * {@code /ws/rooms/{roomId}}: the authenticated push of a room's envelopes. The token arrives in the first frame
 * ({@code hello}) only, within the hello timeout; then {@code ready}, every retained envelope after the client's
 * {@code after}, and the live ones. {@code send} frames are answered by {@code ack} or {@code error}.
 */
@ServerEndpoint(value = "/ws/rooms/{roomId}", configurator = RoomSocketConfigurator.class)
public class RoomSocket {

    private static final Logger LOG = Logger.getLogger(RoomSocket.class.getName());
    private static final int MAX_ID_CHARS = 64;

    private final SocketServices services;

    private Session session;
    private String roomId;
    /** A frame arriving in fragments, until its last one; null between frames. */
    private StringBuilder partial;
    private long partialBytes;
    private TokenBucket floodBudget;
    private TokenBucket frameBudget;
    /** Set by a valid hello. */
    private volatile Sender sender;
    private volatile Outbox outbox;
    private volatile ScheduledFuture<?> helloTimer;

    /** Made by {@link RoomSocketConfigurator}, one per socket. */
    RoomSocket(SocketServices services) {
        this.services = services;
    }

    @OnOpen
    public void open(Session session, @PathParam("roomId") String roomId) {
        this.session = session;
        this.roomId = roomId;
        TyrusIdleTimer.apply(session);
        this.helloTimer = services.channels().schedule(() -> {
            if (sender == null) {
                closeQuietly(CloseCodes.NO_HELLO, "no hello in time");
            }
        }, services.limits().helloTimeout());
    }

    @OnMessage
    public void message(String part, boolean last) {
        partialBytes += utf8Length(part);
        if (partialBytes > services.limits().maxFrameBytes()) {
            partial = null;
            closeQuietly(CloseCodes.FRAME_TOO_LARGE, "frame over the limit");
            return;
        }
        if (partial == null) {
            if (last) {
                // The whole frame in one part, as browsers send them: no copy.
                partialBytes = 0;
                handle(part);
                return;
            }
            partial = new StringBuilder();
        }
        partial.append(part);
        if (!last) {
            return;
        }
        String text = partial.toString();
        partial = null;
        partialBytes = 0;
        handle(text);
    }

    @OnMessage
    public void pong(PongMessage pong) {
        Outbox current = outbox;
        if (current != null) {
            current.pong(pong.getApplicationData());
        }
    }

    @OnClose
    public void close(CloseReason reason) {
        cancelHelloTimer();
        Outbox current = outbox;
        if (current != null) {
            services.channels().detach(roomId, current);
        }
    }

    @OnError
    public void error(Throwable error) {
        if (error instanceof java.io.IOException) {
            LOG.log(Level.FINE, "Socket I/O error: {0}", error.getClass().getName());
        } else {
            LOG.log(Level.WARNING, "Socket handler failed", error);
        }
    }

    private void handle(String text) {
        if (sender != null) {
            long wait = frameBudget().tryTake(System.nanoTime());
            if (wait > 0) { // before any parsing: pings and unknown frames are work too
                reject(Problem.rateLimitedFor(wait), null);
                return;
            }
        }
        JsonObject frame;
        try {
            frame = JsonIO.readObject(text);
        } catch (JsonException e) {
            if (sender == null) {
                closeQuietly(CloseCodes.BAD_TOKEN, "the first frame must be hello");
            } else {
                outbox.offer(errorFrame(400, "The frame is not a JSON object", 0, null));
            }
            return;
        }
        String type = frame.get("type") instanceof JsonString s ? s.getString() : "";
        if (sender == null) {
            if ("hello".equals(type)) {
                hello(frame);
            } else {
                closeQuietly(CloseCodes.BAD_TOKEN, "the first frame must be hello");
            }
            return;
        }
        JsonValue id = frameId(frame);
        switch (type) {
            case "send" -> send(frame, id);
            case "ping" -> outbox.offer(withId(JsonIO.object().add("type", "pong"), id).build().toString());
            case "hello" -> outbox.offer(errorFrame(400, "Already authenticated", 0, id));
            default -> outbox.offer(errorFrame(400, "Unknown frame type", 0, id));
        }
    }

    private void hello(JsonObject frame) {
        Greeting greeting;
        long after;
        // Before the room is read: tells the catch-up whether the list in ready is still current when it goes live.
        long participantsVersion = services.channels().participantsVersion(roomId);
        try {
            String token = JsonFields.string(frame, "token", 64);
            after = JsonFields.optionalLong(frame, "after", 0, Long.MAX_VALUE, 0);
            greeting = services.sessions().greet(roomId, token);
        } catch (Problem p) {
            closeQuietly(p.status() == 404 ? CloseCodes.NO_SUCH_ROOM : CloseCodes.BAD_TOKEN, p.title());
            return;
        } catch (MalformedFieldException e) {
            closeQuietly(CloseCodes.BAD_TOKEN, "hello needs a token");
            return;
        } catch (RuntimeException e) {
            Problem p = ProblemMapper.problemOf(e);
            closeQuietly(CloseCodes.TOO_SLOW, p.title());
            return;
        }
        cancelHelloTimer();
        TyrusHandshakeState.release(TyrusRawFrames.webSocket(session));
        Participant authenticated = greeting.participant();
        Outbox box = new Outbox(session, TyrusRawFrames.writer(session), authenticated.getId(),
                services.limits().maxQueuedBytes(), services.channels().socketTasks());
        this.outbox = box;
        this.sender = Sender.of(authenticated);
        Room room = greeting.view().room();
        JsonObject view = RoomJson.view(greeting.view()).build();
        box.offer(JsonIO.object()
                .add("type", "ready")
                .add("participantId", authenticated.getId())
                .add("room", view)
                .add("lastSeq", room.getLastSeq())
                .build().toString());
        services.channels().resume(roomId, box, after, new RoomChannels.Ready(room.getKeyVersion(), room.getLastSeq(),
                participantsVersion, RoomChannels.participantsFrame(view.get("participants"), view.get("departed"))));
    }

    private void send(JsonObject frame, JsonValue id) {
        try {
            services.envelopes().accept(sender, frame).whenComplete((stored, failure) -> {
                if (failure == null) {
                    outbox.offer(withId(JsonIO.object().add("type", "ack"), id)
                            .add("seq", stored.getSeq()).build().toString());
                } else {
                    refused(failure, id);
                }
            });
        } catch (RuntimeException e) {
            refused(e, id);
        }
    }

    private void refused(Throwable failure, JsonValue id) {
        Problem p = ProblemMapper.problemOf(failure);
        if (p.status() == 404 && "participant-not-found".equals(p.shortType())) {
            // removed while the send was on its way (news of it can reach this socket, or instance, later)
            outbox.close(CloseCodes.REMOVED, "removed from the room");
            return;
        }
        if (p.status() == 404) {
            outbox.close(CloseCodes.ROOM_ENDED, "the room has ended");
            return;
        }
        reject(p, id);
    }

    private void reject(Problem problem, JsonValue id) {
        services.metrics().rejected(problem.shortType());
        outbox.offer(errorFrame(problem.status(), problem.detail(), problem.retryAfterSeconds(), id));
        if (problem.status() == 429 && floodBudget().tryTake(System.nanoTime()) > 0) {
            outbox.close(CloseCodes.FLOODING, "too many frames after being told to slow down");
        }
    }

    /**
     * How many frames of any kind an authenticated socket may send per send period: three times the sends it may make
     * (at least ten), so that only a flood, never a client within its send rate and its pings, meets it. Frames past it
     * are refused (429) unread, and count towards the flood close like refused sends.
     */
    private synchronized TokenBucket frameBudget() {
        if (frameBudget == null) {
            long frames = Math.max(10, Math.min(Integer.MAX_VALUE, 3L * services.limits().sendCapacity()));
            frameBudget = new TokenBucket((int) frames, services.limits().sendPeriod().toNanos(), System.nanoTime());
        }
        return frameBudget;
    }

    /** How many rate-limited frames a socket may send per rate period before it is closed as a flood. */
    private synchronized TokenBucket floodBudget() {
        if (floodBudget == null) {
            floodBudget = new TokenBucket(services.limits().floodCloseAfter(), services.limits().sendPeriod().toNanos(), System.nanoTime());
        }
        return floodBudget;
    }

    /** An {@code error}; {@code retryAfter} (seconds) when the refusal names one, as REST's {@code Retry-After}. */
    private static String errorFrame(int code, String message, long retryAfterSeconds, JsonValue id) {
        JsonObjectBuilder frame = JsonIO.object().add("type", "error").add("code", code)
                .add("message", message == null ? "" : message);
        if (retryAfterSeconds > 0) {
            frame.add("retryAfter", retryAfterSeconds);
        }
        return withId(frame, id).build().toString();
    }

    private static JsonObjectBuilder withId(JsonObjectBuilder builder, JsonValue id) {
        return id == null ? builder : builder.add("id", id);
    }

    /** The client's {@code id} (a short string or an integer), echoed in the answer; anything else is ignored. */
    private static JsonValue frameId(JsonObject frame) {
        JsonValue id = frame.get("id");
        if (id instanceof JsonString s && s.getString().length() <= MAX_ID_CHARS) {
            return id;
        }
        if (id instanceof JsonNumber n && n.isIntegral()) {
            return id;
        }
        return null;
    }

    private void closeQuietly(int code, String phrase) {
        Outbox current = outbox;
        if (current != null) {
            current.close(code, phrase);
            return;
        }
        try {
            if (session.isOpen()) {
                session.close(CloseCodes.reason(code, phrase));
            }
        } catch (Exception e) {
            LOG.log(Level.FINE, "Closing a socket failed", e);
        }
    }

    private void cancelHelloTimer() {
        ScheduledFuture<?> timer = helloTimer;
        if (timer != null) {
            timer.cancel(false);
            helloTimer = null;
        }
    }

    private static long utf8Length(String s) {
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
