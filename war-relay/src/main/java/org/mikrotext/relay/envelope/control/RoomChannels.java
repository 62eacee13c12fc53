package org.mikrotext.relay.envelope.control;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.concurrent.ManagedScheduledExecutorService;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.protocol.Base64Url;
import org.mikrotext.relay.room.control.RoomJson;
import org.mikrotext.store.boundary.RoomEndings;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.relay.json.JsonIO;

/**
 * The open sockets of each room and the order in which envelopes reach them. Appending an envelope and handing
 * it to the sockets happen under the room's lock, after the append's transaction has committed, so every socket
 * receives a room's envelopes in {@code seq} order; a socket that resumes reads the retained envelopes first and
 * joins the live stream under the same lock, with no gap and no duplicate.
 */
@ApplicationScoped
public class RoomChannels {

    private static final int PAGE = 200;
    private static final long CATCH_UP_WAIT_MILLIS = 30_000;

    @Inject
    RoomStore store;

    @Inject
    RoomEndings endings;

    @Inject
    RelayMetrics metrics;

    @Resource
    ManagedExecutorService executor;

    @Resource
    ManagedScheduledExecutorService scheduler;

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();
    private final Consumer<Collection<String>> endingListener = this::ended;

    /** One room's lock and open sockets. */
    private static final class Channel {
        final ReentrantLock lock = new ReentrantLock(true);
        final Set<Outbox> members = ConcurrentHashMap.newKeySet();
    }

    void onStart(@Observes @Initialized(ApplicationScoped.class) Object ignored) {
        endings.register(endingListener);
    }

    @PreDestroy
    void stop() {
        endings.unregister(endingListener);
    }

    public ManagedExecutorService executor() {
        return executor;
    }

    public ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        return scheduler.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs {@code append} (one committed transaction) and pushes its envelope, both under the room's lock. */
    public Envelope appendAndPublish(String roomId, Supplier<Envelope> append) {
        Channel channel = channel(roomId);
        channel.lock.lock();
        try {
            Envelope envelope = append.get();
            if (!channel.members.isEmpty()) {
                String frame = EnvelopeJson.frame(envelope);
                channel.members.forEach(outbox -> outbox.offer(frame));
                metrics.delivered(channel.members.size());
            }
            return envelope;
        } finally {
            channel.lock.unlock();
        }
    }

    /**
     * Runs a key rotation (one committed transaction) and tells each open socket of the room its own wrap of the new
     * key, under the room's lock, so that no envelope of the new version reaches a socket before its key does.
     */
    public void rotateAndAnnounce(String roomId, int keyVersion, Map<String, byte[]> wraps, Runnable rotation) {
        Channel channel = channel(roomId);
        channel.lock.lock();
        try {
            rotation.run();
            for (Outbox outbox : channel.members) {
                byte[] wrapped = wraps.get(outbox.participantId());
                if (wrapped != null) {
                    outbox.offer(JsonIO.object()
                            .add("type", "key-rotated")
                            .add("keyVersion", keyVersion)
                            .add("wrapped", Base64Url.encode(wrapped))
                            .build().toString());
                }
            }
        } finally {
            channel.lock.unlock();
        }
    }

    /**
     * Sends every retained envelope with {@code seq > after}, then adds the socket to the live stream. Blocks while
     * the socket drains; call it off the socket's own thread.
     */
    public void attach(String roomId, Outbox outbox, long after) throws InterruptedException {
        long cursor = after;
        List<Envelope> page;
        do {
            page = store.envelopesAfter(roomId, cursor, PAGE);
            for (Envelope envelope : page) {
                outbox.offerWhenRoom(EnvelopeJson.frame(envelope), CATCH_UP_WAIT_MILLIS);
                cursor = envelope.getSeq();
            }
            metrics.delivered(page.size());
            if (outbox.isClosed()) {
                return;
            }
        } while (page.size() == PAGE);
        Channel channel = channel(roomId);
        channel.lock.lock();
        try {
            List<Envelope> tail = store.envelopesAfter(roomId, cursor, Integer.MAX_VALUE);
            tail.forEach(envelope -> outbox.offer(EnvelopeJson.frame(envelope)));
            metrics.delivered(tail.size());
            channel.members.add(outbox);
        } finally {
            channel.lock.unlock();
        }
        outbox.offer(participantsFrame(roomId));
    }

    /** Sockets that are authenticated and receiving their room's live envelopes. */
    public long openSockets() {
        return channels.values().stream().mapToLong(channel -> channel.members.size()).sum();
    }

    public void detach(String roomId, Outbox outbox) {
        Channel channel = channels.get(roomId);
        if (channel != null) {
            channel.members.remove(outbox);
        }
    }

    /** Pushes the room's current participant list to its sockets. */
    public void participantsChanged(String roomId) {
        Channel channel = channels.get(roomId);
        if (channel == null || channel.members.isEmpty()) {
            return;
        }
        String frame = participantsFrame(roomId);
        channel.members.forEach(outbox -> outbox.offer(frame));
    }

    /** Closes the sockets of a removed participant (4403). */
    public void removed(String roomId, String participantId) {
        Channel channel = channels.get(roomId);
        if (channel == null) {
            return;
        }
        channel.members.removeIf(outbox -> {
            if (outbox.participantId().equals(participantId)) {
                outbox.close(CloseCodes.REMOVED, "removed from the room");
                return true;
            }
            return false;
        });
    }

    /** Closes every socket of rooms that expired or were deleted (4410) and forgets the rooms. */
    public void ended(Collection<String> roomIds) {
        for (String roomId : roomIds) {
            Channel channel = channels.remove(roomId);
            if (channel != null) {
                channel.members.forEach(outbox -> outbox.close(CloseCodes.ROOM_ENDED, "the room has ended"));
                channel.members.clear();
            }
        }
    }

    private String participantsFrame(String roomId) {
        return JsonIO.object()
                .add("type", "participants")
                .add("participants", RoomJson.participants(store.participants(roomId)))
                .add("departed", RoomJson.departed(store.departed(roomId)))
                .build().toString();
    }

    private Channel channel(String roomId) {
        return channels.computeIfAbsent(roomId, id -> new Channel());
    }
}
