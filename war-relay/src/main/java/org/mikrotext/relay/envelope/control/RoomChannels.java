package org.mikrotext.relay.envelope.control;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.concurrent.ManagedScheduledExecutorService;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.inject.Inject;
import jakarta.json.JsonValue;
import jakarta.persistence.PersistenceException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.mikrotext.relay.cluster.control.ClusterBus;
import org.mikrotext.relay.cluster.control.ClusterNews;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.protocol.Base64Url;
import org.mikrotext.relay.room.control.RoomJson;
import org.mikrotext.store.boundary.RoomEndings;
import org.mikrotext.store.boundary.Migrations;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.control.EnvelopeReads;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.Room;
import org.mikrotext.relay.json.JsonIO;

/**
 * The open sockets of each room and the order in which envelopes reach them. Committed envelopes are handed to the
 * sockets by one thread, in {@code seq} order, under the room's lock; a socket that resumes reads the retained
 * envelopes first and joins the live stream under the same lock, with no gap and no duplicate. With other relay
 * instances on the same database ({@link ClusterBus}) the same holds for what they store: it is read from the database
 * and handed out in {@code seq} order with this instance's own, and their removals, rotations and endings reach the
 * sockets here as this instance's own do.
 */
@ApplicationScoped
public class RoomChannels {

    private static final Logger LOG = Logger.getLogger(RoomChannels.class.getName());
    private static final int PAGE = 200;
    private static final long CATCH_UP_WAIT_MILLIS = 30_000;
    private static final int MAX_CATCH_UP_PASSES = 50;
    private static final long UNKNOWN_VERSION = -1;

    @Inject
    RoomStore store;

    @Inject
    RoomEndings endings;

    @Inject
    RelayMetrics metrics;

    @Inject
    ClusterBus cluster;

    @Inject
    Limits limits;

    @Resource
    ManagedExecutorService executor;

    @Resource
    ManagedScheduledExecutorService scheduler;

    @Resource
    ManagedThreadFactory threads;

    @Resource(lookup = Migrations.DATA_SOURCE)
    DataSource dataSource;

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();
    private CatchUpPool catchUps;
    /**
     * Catch-ups that may wait for their socket's reader at once ({@code mikrotext.ws.max-slow-catch-ups}): a socket that
     * reads nothing holds its catch-up's thread while it waits, so without a bound a few such sockets would hold every
     * catch-up thread and no other socket would go live. The threads beyond it stay for readers that keep up.
     */
    private Semaphore slowCatchUps;
    /**
     * Each socket's hello deadline: one thread of the container's factory. The container's scheduled executor captures
     * the caller's context (naming, security, class loader) for every task, which was 4 % of the relay's CPU while
     * thousands of sockets opened; a deadline only closes a socket and needs none of it.
     */
    private ScheduledThreadPoolExecutor deadlines;
    /**
     * Short socket tasks (a send continued off a deep stack, a close): the container's executor, or its scheduler's
     * queue when the executor refuses them (it hands a task only to a thread free at that instant).
     */
    private final Executor socketTasks = task -> {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            scheduler.execute(task);
        }
    };
    private final Consumer<Collection<String>> endingListener = this::ended;
    /** Other relay instances store envelopes in the same rooms ({@link ClusterBus}). */
    private boolean shared;

    /**
     * One room's lock, open sockets, the last seq handed to them, the last key rotation announced to them (its
     * version, 0 before any, and each participant's wrap), guarded by the lock, and the participants removed since
     * the channel opened and how many times its participant list has changed (both written under the lock, read
     * without it too).
     */
    private static final class Channel {
        final ReentrantLock lock = new ReentrantLock();
        final Set<Outbox> members = ConcurrentHashMap.newKeySet();
        final Set<String> removed = ConcurrentHashMap.newKeySet();
        /**
         * Sockets of the room catching up here ({@link #attach}), not yet live: while there are any, news of envelopes
         * stored elsewhere is kept, and a removal closes them at once, not at their catch-up's next step.
         */
        final Set<Outbox> catchingUp = ConcurrentHashMap.newKeySet();
        /** Written under the lock; read without it only to choose what to read from the database. */
        volatile long published;
        int rotatedTo;
        Map<String, byte[]> rotationWraps = Map.of();
        volatile long participantsVersion;
        /** The last {@code participants} frame pushed to the room's sockets here, or null. */
        volatile String lastParticipants;
    }

    /**
     * What a socket's {@code ready} told it, for its catch-up: the room's key version and last {@code seq}, and its
     * participant list as a {@code participants} frame, read after {@link #participantsVersion} was.
     */
    public record Ready(int keyVersion, long lastSeq, long participantsVersion, String participantsFrame) {
    }

    @PostConstruct
    void init() {
        shared = cluster.enabled();
        catchUps = new CatchUpPool(threads, CatchUpPool.THREADS, CatchUpPool.MAX_WAITING);
        slowCatchUps = new Semaphore(limits.maxSlowCatchUps());
        deadlines = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = threads.newThread(task);
            thread.setName("mikrotext-deadlines");
            return thread;
        });
        deadlines.setRemoveOnCancelPolicy(true);
    }

    void onStart(@Observes @Initialized(ApplicationScoped.class) Object ignored) {
        endings.register(endingListener);
    }

    @PreDestroy
    void stop() {
        endings.unregister(endingListener);
        catchUps.shutdown();
        deadlines.shutdownNow();
    }

    /** Where an {@link Outbox} runs its short tasks; it never refuses one while the relay runs. */
    public Executor socketTasks() {
        return socketTasks;
    }

    /**
     * How many times the room's participant list has changed while its channel has been open; {@value #UNKNOWN_VERSION}
     * without a channel. Read before the list itself, it tells {@link #attach} whether the list a socket's
     * {@code ready} carried is still the current one when the socket goes live.
     */
    public long participantsVersion(String roomId) {
        Channel channel = channels.get(roomId);
        return channel == null ? UNKNOWN_VERSION : channel.participantsVersion;
    }

    /** Runs a socket's deadline task after {@code delay}, unless cancelled first (it is then dropped at once). */
    public ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        return deadlines.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Hands a committed envelope to the room's open sockets. Called by one thread only ({@link EnvelopeLog}'s
     * publisher), in commit order, so every socket receives a room's envelopes in {@code seq} order.
     */
    public void publish(Envelope envelope) {
        Channel channel = channels.get(envelope.getRoomId());
        if (channel == null) {
            return;
        }
        channel.lock.lock();
        try {
            if (shared) {
                if (envelope.getSeq() <= channel.published) {
                    return; // handed out already, read from the database after another instance's news
                }
                if (!channel.members.isEmpty()) {
                    handOutStored(channel, envelope.getRoomId(), envelope.getSeq() - 1); // stored by other instances
                    keyBefore(channel, envelope.getRoomId(), envelope.getKeyVersion());
                }
            }
            channel.published = envelope.getSeq();
            if (!channel.members.isEmpty()) {
                handOut(channel, envelope.getSeq(), EnvelopeJson.frame(envelope));
            }
        } finally {
            channel.lock.unlock();
        }
    }

    /** Offers an envelope's frame to every live socket of the room; called under the room's lock. */
    private void handOut(Channel channel, long seq, WireFrame frame) {
        for (Outbox outbox : channel.members) {
            try {
                outbox.offerEnvelope(seq, frame);
            } catch (RuntimeException e) {
                // This socket misses the envelope: close it, so that it resumes by seq.
                channel.members.remove(outbox);
                outbox.close(1011, "delivery failed; resume by seq");
            }
        }
        metrics.delivered(channel.members.size());
    }

    /**
     * Hands out, from the database, the envelopes stored after the last one handed out, up to {@code upTo}: those
     * that other instances stored. Under the room's lock, so they reach the sockets in {@code seq} order with this
     * instance's own; each new key version is announced before its first envelope.
     */
    private void handOutStored(Channel channel, String roomId, long upTo) {
        while (channel.published < upTo) {
            List<Envelope> page = store.envelopesAfter(roomId, channel.published, PAGE);
            for (Envelope envelope : page) {
                if (envelope.getSeq() > upTo) {
                    return;
                }
                handOutRead(channel, roomId, envelope);
            }
            if (page.size() < PAGE) {
                return;
            }
        }
    }

    /** Hands out an envelope read from the database, its key version announced first; under the room's lock. */
    private void handOutRead(Channel channel, String roomId, Envelope envelope) {
        keyBefore(channel, roomId, envelope.getKeyVersion());
        channel.published = envelope.getSeq();
        handOut(channel, envelope.getSeq(), EnvelopeJson.frame(envelope));
    }

    /**
     * Hands out, for each room with sockets here (live, or catching up), the envelopes other instances stored after
     * the last one handed out, up to the room's {@code seq} in {@code upTo}: all rooms read in one statement, then
     * each handed out under its lock as {@link #handOutStored(Channel, String, long)} does (what was handed out
     * meanwhile is skipped, and what one statement's page left is read on). Whoever is live then gets them; with
     * nobody live, the channel's position still advances, so that a socket catching up reads again before it goes
     * live. If the one statement fails, each room is read on its own.
     */
    public void handOutStored(Map<String, Long> upTo) {
        List<EnvelopeReads.Range> ranges = new ArrayList<>();
        upTo.forEach((roomId, seq) -> {
            Channel channel = channels.get(roomId);
            if (channel != null && (!channel.members.isEmpty() || !channel.catchingUp.isEmpty())
                    && channel.published < seq) {
                ranges.add(new EnvelopeReads.Range(roomId, channel.published, seq));
            }
        });
        if (ranges.isEmpty()) {
            return;
        }
        Map<String, List<Envelope>> stored;
        try {
            stored = storedBetween(ranges);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "Reading envelopes stored by other instances failed ({0}); reading room by room",
                    e.getClass().getName());
            stored = Map.of();
        }
        RuntimeException failure = null;
        for (EnvelopeReads.Range range : ranges) {
            List<Envelope> read = stored.getOrDefault(range.roomId(), List.of());
            try {
                ifOpen(range.roomId(), channel -> {
                    for (Envelope envelope : read) {
                        if (envelope.getSeq() > channel.published) {
                            handOutRead(channel, range.roomId(), envelope);
                        }
                    }
                    handOutStored(channel, range.roomId(), range.upTo());
                });
            } catch (RuntimeException e) {
                failure = e; // the other rooms still get theirs
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private Map<String, List<Envelope>> storedBetween(List<EnvelopeReads.Range> ranges) {
        try (Connection connection = dataSource.getConnection()) {
            return EnvelopeReads.between(connection, ranges, PAGE);
        } catch (SQLException e) {
            throw new PersistenceException("Reading envelopes stored by other instances failed", e);
        }
    }

    /** Announces a key version another instance rotated to (as stored), before an envelope of it; under the lock. */
    private void keyBefore(Channel channel, String roomId, int keyVersion) {
        if (keyVersion > Math.max(1, channel.rotatedTo)) {
            Map<String, byte[]> wraps = store.wraps(roomId, keyVersion);
            if (!wraps.isEmpty()) { // none: the room has no such version
                announce(channel, keyVersion, wraps);
            }
        }
    }

    /**
     * Runs a key rotation (one committed transaction) and tells each open socket of the room its own wrap of the new
     * key, under the room's lock, so that no envelope of the new version reaches a socket before its key does. The
     * channel keeps the announcement for the sockets still catching up ({@link #attach}).
     */
    public void rotateAndAnnounce(String roomId, int keyVersion, Map<String, byte[]> wraps, Runnable rotation) {
        Channel channel = channel(roomId);
        channel.lock.lock();
        try {
            rotation.run();
            announce(channel, keyVersion, wraps);
        } finally {
            channel.lock.unlock();
        }
        cluster.tell(List.of(ClusterNews.rotated(roomId, keyVersion)));
    }

    /** Tells each live socket of the room its own wrap of the key of {@code keyVersion}; under the room's lock. */
    private static void announce(Channel channel, int keyVersion, Map<String, byte[]> wraps) {
        channel.rotatedTo = keyVersion;
        channel.rotationWraps = Map.copyOf(wraps);
        for (Outbox outbox : channel.members) {
            byte[] wrapped = wraps.get(outbox.participantId());
            if (wrapped != null) {
                outbox.offer(keyRotated(keyVersion, wrapped));
            }
        }
    }

    private static String keyRotated(int keyVersion, byte[] wrapped) {
        return JsonIO.object()
                .add("type", "key-rotated")
                .add("keyVersion", keyVersion)
                .add("wrapped", Base64Url.encode(wrapped))
                .build().toString();
    }

    /**
     * Catches a socket that has just said hello up on its own thread ({@link #attach}); in a burst of hellos it waits
     * for a free catch-up thread. With thousands already waiting, the socket is closed (1013) and resumes later.
     * {@code ready} is what the socket's {@code ready} told it.
     */
    public void resume(String roomId, Outbox outbox, long after, Ready ready) {
        try {
            catchUps.execute(() -> {
                try {
                    attach(roomId, outbox, after, ready);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    outbox.close(CloseCodes.TOO_SLOW, "interrupted; resume by seq");
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "Catch-up failed: {0}", e.getClass().getName());
                    outbox.close(1011, "catch-up failed; resume by seq");
                }
            });
        } catch (RejectedExecutionException e) {
            outbox.close(CloseCodes.TOO_SLOW, "the relay is busy; resume by seq");
        }
    }

    /**
     * Sends every retained envelope with {@code seq > after}, then adds the socket to the live stream. Blocks while
     * the socket drains; call it off the socket's own thread.
     *
     * <p>The stored envelopes are read without the room's lock. The socket joins the live stream, under the lock, only
     * once nothing has been published beyond what it has read; otherwise it reads again (at most
     * {@value #MAX_CATCH_UP_PASSES} times; then it is closed with 1011 and resumes later). Envelopes committed but not
     * yet published when it joins reach it twice (read, then published); the outbox drops the second by its seq.
     *
     * <p>The room key may be rotated meanwhile ({@code keyVersion} is the version the socket's {@code ready} named),
     * and the rotation is announced only to sockets that have joined. So the socket gets {@code key-rotated} with its
     * own wrap before the first envelope it reads of a newer version, and when it joins, under the lock, the last
     * rotation announced to the room if it has not had that version yet: its key always comes before any envelope of
     * the new version, as for the sockets that were already live.
     *
     * <p>What the {@code ready} read saves two reads here. Nothing was stored beyond its {@code lastSeq} then, so with
     * {@code after} at or beyond it the first read is skipped (what was stored since has been published, and the check
     * under the lock finds it); not with rooms shared between instances, where what another instance stored after the
     * {@code ready} read and before this catch-up began is known only to the database. An {@code after} beyond the
     * room's {@code lastSeq} counts as that {@code lastSeq}: a client cannot have seen envelopes that did not exist,
     * and with rooms shared its position becomes the channel's while it is the room's only socket here. And unless the
     * participant list changed since the {@code ready} read it (the channel's {@link #participantsVersion}, compared
     * under the lock, which a change also takes), the {@code participants} frame that follows going live is the
     * {@code ready}'s list; otherwise it is read again, after going live, so that a later change reaches the socket as
     * a frame of its own.
     *
     * <p>A room may end between a socket's {@code hello} and its catch-up (which can wait for a thread); then
     * {@link #ended} has no channel to close yet. So the socket that opens a room's channel checks, after opening it,
     * that the room is still there: if it is gone, the room is ended here (the channel dropped, with any socket that
     * went live in it meanwhile) and the socket closed (4410); if it ends later, {@link #ended} finds the channel.
     */
    public void attach(String roomId, Outbox outbox, long after, Ready ready) throws InterruptedException {
        boolean opens = !channels.containsKey(roomId);
        Channel channel = channel(roomId);
        // Before any read (news of envelopes stored elsewhere is then kept) and before the first check for a removal.
        channel.catchingUp.add(outbox);
        try {
            catchUp(channel, roomId, outbox, after, ready, opens);
        } finally {
            channel.catchingUp.remove(outbox);
        }
    }

    private void catchUp(Channel channel, String roomId, Outbox outbox, long after, Ready ready, boolean opens)
            throws InterruptedException {
        if (opens && store.room(roomId, Instant.now().getEpochSecond()).isEmpty()) {
            ended(List.of(roomId)); // with any socket that went live in the channel meanwhile
            outbox.close(CloseCodes.ROOM_ENDED, "the room has ended");
            return;
        }
        long cursor = Math.min(after, ready.lastSeq());
        int known = ready.keyVersion();
        long storedUpTo = shared ? Long.MAX_VALUE : ready.lastSeq();
        boolean listCurrent = false;
        for (int pass = 0; ; pass++) {
            if (pass == MAX_CATCH_UP_PASSES) {
                // Envelopes keep being published beyond what is stored: the room is being deleted. Resume later.
                outbox.close(1011, "catch-up did not settle; resume by seq");
                return;
            }
            List<Envelope> page;
            do {
                if (closedIfRemoved(channel, outbox)) {
                    return;
                }
                page = cursor >= storedUpTo ? List.of() : store.envelopesAfter(roomId, cursor, PAGE);
                storedUpTo = Long.MAX_VALUE; // only the first read may be skipped
                for (Envelope envelope : page) {
                    if (envelope.getKeyVersion() > known) {
                        known = envelope.getKeyVersion();
                        byte[] wrapped = store.wrapped(roomId, outbox.participantId(), known);
                        if (wrapped != null) {
                            outbox.offerWhenRoom(WireFrame.text(keyRotated(known, wrapped)), CATCH_UP_WAIT_MILLIS,
                                    slowCatchUps);
                        }
                    }
                    outbox.offerEnvelopeWhenRoom(envelope.getSeq(), EnvelopeJson.frame(envelope),
                            CATCH_UP_WAIT_MILLIS, slowCatchUps);
                    cursor = envelope.getSeq();
                }
                metrics.delivered(page.size());
                if (outbox.isClosed()) {
                    return;
                }
            } while (page.size() == PAGE);
            channel.lock.lock();
            try {
                if (channels.get(roomId) != channel) {
                    outbox.close(CloseCodes.ROOM_ENDED, "the room has ended");
                    return;
                }
                if (closedIfRemoved(channel, outbox)) {
                    return;
                }
                // Everything published so far has been read: what is published from now on reaches this socket.
                if (channel.published <= cursor) {
                    byte[] wrapped = channel.rotationWraps.get(outbox.participantId());
                    if (channel.rotatedTo > known && wrapped != null) {
                        outbox.offer(keyRotated(channel.rotatedTo, wrapped));
                    }
                    if (shared && channel.members.isEmpty()) {
                        channel.published = cursor; // no other socket here waits for what this one has read
                    }
                    channel.members.add(outbox);
                    listCurrent = channel.participantsVersion == ready.participantsVersion();
                    break;
                }
            } finally {
                channel.lock.unlock();
            }
        }
        if (outbox.isClosed()) {
            detach(roomId, outbox);
            return;
        }
        outbox.offer(listCurrent ? ready.participantsFrame() : participantsFrame(roomId));
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

    /**
     * Pushes the room's current participant list to its sockets. The version is counted under the lock, so a socket
     * going live either sees the new count (and reads the list again) or is already a member when the list is sent.
     */
    public void participantsChanged(String roomId) {
        pushParticipants(roomId);
        cluster.tell(List.of(ClusterNews.participants(roomId)));
    }

    private void pushParticipants(String roomId) {
        pushParticipants(roomId, () -> participantsFrame(roomId));
    }

    /**
     * Counts a change of the room's list and sends {@code list} (read only if a socket is live here) to its sockets.
     */
    private void pushParticipants(String roomId, Supplier<String> list) {
        Channel channel = channels.get(roomId);
        if (channel == null) {
            return;
        }
        channel.lock.lock();
        try {
            channel.participantsVersion++;
        } finally {
            channel.lock.unlock();
        }
        if (channel.members.isEmpty()) {
            channel.lastParticipants = null;
            return;
        }
        channel.lastParticipants = list.get();
        WireFrame frame = WireFrame.text(channel.lastParticipants);
        channel.members.forEach(outbox -> outbox.offer(frame));
    }

    /**
     * Closes the sockets of a removed participant (4403), live ones at once and those still catching up before their
     * next page or when they would go live: under the room's lock, so that none joins the live stream after this.
     */
    public void removed(String roomId, String participantId) {
        closeRemoved(roomId, participantId);
        cluster.tell(List.of(ClusterNews.removed(roomId, participantId)));
    }

    private void closeRemoved(String roomId, String participantId) {
        Channel channel = channel(roomId);
        channel.lock.lock();
        try {
            channel.removed.add(participantId);
            channel.members.removeIf(outbox -> closedIfRemoved(channel, outbox));
            // A catch-up waiting for a slow reader would otherwise go on sending the room's envelopes to the removed
            // participant until its next page; closing the socket wakes it, and it stops.
            channel.catchingUp.forEach(outbox -> closedIfRemoved(channel, outbox));
        } finally {
            channel.lock.unlock();
        }
    }

    /** Closes {@code outbox} with 4403 if its participant has been removed from the room; true if so. */
    private static boolean closedIfRemoved(Channel channel, Outbox outbox) {
        if (!channel.removed.contains(outbox.participantId())) {
            return false;
        }
        outbox.close(CloseCodes.REMOVED, "removed from the room");
        return true;
    }

    /**
     * Closes every socket of rooms that expired or were deleted (4410) and forgets the rooms, here and in the other
     * instances.
     */
    public void ended(Collection<String> roomIds) {
        closeEnded(roomIds);
        cluster.tell(roomIds.stream().map(ClusterNews::ended).toList());
    }

    private void closeEnded(Collection<String> roomIds) {
        for (String roomId : roomIds) {
            Channel channel = channels.remove(roomId);
            if (channel != null) {
                // Under the lock, so that a socket joining meanwhile either is closed here or sees the room gone.
                channel.lock.lock();
                try {
                    channel.members.forEach(outbox -> outbox.close(CloseCodes.ROOM_ENDED, "the room has ended"));
                    channel.members.clear();
                } finally {
                    channel.lock.unlock();
                }
            }
        }
    }

    /**
     * News from another relay instance that shares the database ({@link ClusterBus}); it is not told on. News is only
     * a cue to look: what is done follows what the database holds (the envelopes stored, the participant who left, the
     * wraps of the new version, the room gone), so a notification another database user forges can make this
     * instance read, but never close a socket, skip an envelope or announce a key that does not exist.
     */
    public void elsewhere(List<ClusterNews> told) {
        Map<String, Long> stored = new LinkedHashMap<>();
        for (ClusterNews news : told) {
            if (news.kind() == ClusterNews.Kind.STORED) {
                stored.merge(news.roomId(), news.seq(), Math::max);
            } else {
                storedElsewhere(stored);
                stored.clear();
                try {
                    elsewhere(news);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "News from another relay instance could not be handled: {0}",
                            e.getClass().getName());
                }
            }
        }
        storedElsewhere(stored);
    }

    /** Envelopes other instances stored, up to each room's {@code seq}: {@link #handOutStored(Map)}. */
    private void storedElsewhere(Map<String, Long> upTo) {
        if (upTo.isEmpty()) {
            return;
        }
        try {
            handOutStored(upTo);
        } catch (RuntimeException e) {
            // The next envelope of the room here, or the catch-up within a minute, hands them out.
            LOG.log(Level.WARNING, "Envelopes stored by another relay instance could not be handed out: {0}",
                    e.getClass().getName());
        }
    }

    /** One piece of news other than stored envelopes; see {@link #elsewhere(List)}. */
    private void elsewhere(ClusterNews news) {
        String roomId = news.roomId();
        switch (news.kind()) {
            case PARTICIPANTS -> pushParticipants(roomId);
            case REMOVED -> {
                if (store.members(roomId).departed().stream().anyMatch(p -> p.getId().equals(news.argument()))) {
                    closeRemoved(roomId, news.argument());
                }
            }
            case ROTATED -> ifOpen(roomId, channel -> keyBefore(channel, roomId, news.keyVersion()));
            case ENDED -> {
                if (channels.containsKey(roomId) && store.room(roomId, Instant.now().getEpochSecond()).isEmpty()) {
                    closeEnded(List.of(roomId));
                }
            }
        }
    }

    /** Runs {@code action} under the room's lock, if the room has sockets (or a socket catching up) here. */
    private void ifOpen(String roomId, Consumer<Channel> action) {
        Channel channel = channels.get(roomId);
        if (channel == null) {
            return;
        }
        channel.lock.lock();
        try {
            action.accept(channel);
        } finally {
            channel.lock.unlock();
        }
    }

    /**
     * Brings every room with sockets here up to the database, for news this instance may have missed ({@link
     * ClusterBus}: after it listens again, and once a minute for news whose notification was lost): rooms that ended
     * are closed, the sockets of those who left closed, envelopes stored elsewhere handed out with any newer key
     * before them, and the participant list sent again if it is not the one last sent.
     */
    public void catchUpEverywhere() {
        long now = Instant.now().getEpochSecond();
        for (String roomId : List.copyOf(channels.keySet())) {
            Optional<Room> room = store.room(roomId, now);
            if (room.isEmpty()) {
                closeEnded(List.of(roomId));
                continue;
            }
            RoomStore.Members members = store.members(roomId);
            ifOpen(roomId, channel -> {
                // Only those who left: someone who joined since the list was read is no stranger.
                members.departed().forEach(p -> channel.removed.add(p.getId()));
                channel.members.removeIf(outbox -> closedIfRemoved(channel, outbox));
                if (channel.members.isEmpty()) {
                    channel.published = Math.max(channel.published, room.get().getLastSeq());
                } else {
                    handOutStored(channel, roomId, Long.MAX_VALUE);
                }
                keyBefore(channel, roomId, room.get().getKeyVersion());
            });
            String list = participantsFrame(members);
            Channel channel = channels.get(roomId);
            if (channel != null && !channel.members.isEmpty() && !list.equals(channel.lastParticipants)) {
                pushParticipants(roomId, () -> list);
            }
        }
    }

    private String participantsFrame(String roomId) {
        return participantsFrame(store.members(roomId));
    }

    private static String participantsFrame(RoomStore.Members members) {
        return participantsFrame(RoomJson.participants(members.present()), RoomJson.departed(members.departed()));
    }

    /** A {@code participants} frame of these lists ({@link RoomJson#participants}, {@link RoomJson#departed}). */
    public static String participantsFrame(JsonValue participants, JsonValue departed) {
        return JsonIO.object()
                .add("type", "participants")
                .add("participants", participants)
                .add("departed", departed)
                .build().toString();
    }

    private Channel channel(String roomId) {
        return channels.computeIfAbsent(roomId, id -> new Channel());
    }
}
