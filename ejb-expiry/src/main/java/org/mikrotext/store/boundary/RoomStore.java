package org.mikrotext.store.boundary;

import jakarta.ejb.Stateless;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.PersistenceContext;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.mikrotext.store.boundary.StoreException.Reason;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.Invite;
import org.mikrotext.store.entity.KeyWrap;
import org.mikrotext.store.entity.KeyWrapKey;
import org.mikrotext.store.entity.Participant;
import org.mikrotext.store.entity.Room;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * The stored state of rooms: every read and write of rooms, participants, invites and envelopes, each method one
 * transaction. Operations that must be serialised per room (joins, envelopes, invites) take the room's row lock
 * first, always in the order room, then invite.
 */
@Stateless
public class RoomStore {

    @PersistenceContext(unitName = "mikrotext")
    EntityManager em;

    /**
     * A room as one participant sees it: the current participants, those who left (whose keys still verify what
     * they wrote), and {@code wrapped}, this participant's key wrap for the current version.
     */
    public record RoomView(Room room, List<Participant> participants, List<Participant> departed, byte[] wrapped) {
    }

    /** A room's participants: the present in the order they joined, the departed in the order they left. */
    public record Members(List<Participant> present, List<Participant> departed) {
    }

    /** A socket's {@code hello} answered: the participant its session token belongs to, and the room as it sees it. */
    public record Greeting(Participant participant, RoomView view) {
    }

    /** The outcome of a join: the new participant and what the invite handed over. */
    public record Joined(Participant participant, Room room, int keyVersion, byte[] wrappedRoomKey) {
    }

    public void createRoom(Room room, Participant creator) {
        em.persist(room);
        em.flush();
        em.persist(creator);
    }

    /**
     * The present participant of {@code roomId} whose session token hashes to {@code tokenHash}, read in one
     * transaction with the room's check; empty if none (another room's token included).
     *
     * @throws StoreException {@code ROOM_NOT_FOUND} if the room does not exist or has expired
     */
    public Optional<Participant> session(String roomId, String tokenHash, long now) {
        room(roomId, now).orElseThrow(() -> new StoreException(Reason.ROOM_NOT_FOUND));
        return em.createNamedQuery(Participant.FIND_BY_TOKEN_HASH, Participant.class)
                .setParameter("tokenHash", tokenHash)
                .getResultStream()
                .filter(p -> p.getRoomId().equals(roomId))
                .findFirst();
    }

    public Optional<Room> room(String roomId, long now) {
        return Optional.ofNullable(em.find(Room.class, roomId)).filter(r -> !r.isExpiredAt(now));
    }

    public RoomView view(String roomId, String participantId, long now) {
        Room room = room(roomId, now).orElseThrow(() -> new StoreException(Reason.ROOM_NOT_FOUND));
        return view(room, everyone(roomId), participantId);
    }

    /**
     * A socket's {@code hello} in one transaction of three reads (the room, everyone who is or was in it, the key
     * wrap): the present participant of {@code roomId} whose session token hashes to {@code tokenHash}, with the room
     * as it sees it; empty if none has that token (departed participants have none).
     *
     * @throws StoreException {@code ROOM_NOT_FOUND} if the room does not exist or has expired
     */
    public Optional<Greeting> greet(String roomId, String tokenHash, long now) {
        Room room = room(roomId, now).orElseThrow(() -> new StoreException(Reason.ROOM_NOT_FOUND));
        List<Participant> everyone = everyone(roomId);
        return everyone.stream()
                .filter(p -> p.holdsToken(tokenHash))
                .findFirst()
                .map(p -> new Greeting(p, view(room, everyone, p.getId())));
    }

    /** Everyone who is or was in the room, in the order they joined. */
    private List<Participant> everyone(String roomId) {
        return em.createNamedQuery(Participant.FIND_ALL_BY_ROOM, Participant.class)
                .setParameter("roomId", roomId)
                .getResultList();
    }

    /** The view from one read of everyone. */
    private RoomView view(Room room, List<Participant> everyone, String participantId) {
        Members members = members(everyone);
        return new RoomView(room, members.present(), members.departed(),
                wrapped(room.getId(), participantId, room.getKeyVersion()));
    }

    /** The room's participants, present and departed, from one read. */
    public Members members(String roomId) {
        return members(everyone(roomId));
    }

    private static Members members(List<Participant> everyone) {
        return new Members(everyone.stream().filter(Participant::isPresent).toList(),
                everyone.stream().filter(p -> !p.isPresent())
                        .sorted(Comparator.comparing(Participant::getLeftAt).thenComparing(Participant::getId))
                        .toList());
    }

    /** This participant's wrap of the room key of {@code keyVersion}, or null if it has none. */
    public byte[] wrapped(String roomId, String participantId, int keyVersion) {
        KeyWrap wrap = em.find(KeyWrap.class, new KeyWrapKey(roomId, participantId, keyVersion));
        return wrap == null ? null : wrap.getWrapped();
    }

    /** Every participant's wrap of the room key of {@code keyVersion} (participant id to wrap); empty if none. */
    public Map<String, byte[]> wraps(String roomId, int keyVersion) {
        Map<String, byte[]> wraps = new HashMap<>();
        em.createNamedQuery(KeyWrap.FIND_BY_VERSION, KeyWrap.class)
                .setParameter("roomId", roomId)
                .setParameter("keyVersion", keyVersion)
                .getResultList()
                .forEach(w -> wraps.put(w.getParticipantId(), w.getWrapped()));
        return wraps;
    }

    /** Rooms that exist and have not expired. */
    public long countActiveRooms(long now) {
        return em.createNamedQuery(Room.COUNT_ACTIVE, Long.class).setParameter("now", now).getSingleResult();
    }

    /** Stores an invite and returns its expiry, capped at the room's. */
    public long addInvite(String roomId, String tokenHash, int keyVersion, byte[] wrappedRoomKey, long expiresAt,
                          long now, int maxOpenInvites) {
        Room room = lockRoom(roomId, now);
        if (keyVersion != room.getKeyVersion()) {
            throw new StoreException(Reason.KEY_VERSION_MISMATCH);
        }
        long open = em.createNamedQuery(Invite.COUNT_OPEN_BY_ROOM, Long.class)
                .setParameter("roomId", roomId)
                .setParameter("now", now)
                .getSingleResult();
        if (open >= maxOpenInvites) {
            throw new StoreException(Reason.TOO_MANY_INVITES);
        }
        if (em.find(Invite.class, tokenHash) != null) {
            throw new StoreException(Reason.INVITE_EXISTS);
        }
        long capped = Math.min(expiresAt, room.getExpiresAt());
        em.persist(new Invite(tokenHash, roomId, keyVersion, wrappedRoomKey, capped));
        return capped;
    }

    /**
     * Spends the invite and adds the participant in one transaction. Concurrent joins with the same invite
     * serialise on the room's and the invite's row locks: exactly one succeeds, the others see it spent. A room holds
     * at most {@code maxParticipants} at once, and {@code maxJoins} in its life: those who left keep their rows (their
     * keys verify what they wrote) and every participant list carries them.
     */
    public Joined join(String roomId, String inviteTokenHash, Participant newcomer, long now, int maxParticipants,
                       int maxJoins) {
        Room room = lockRoom(roomId, now);
        Invite invite = em.find(Invite.class, inviteTokenHash, LockModeType.PESSIMISTIC_WRITE);
        if (invite == null || !invite.getRoomId().equals(roomId) || invite.getKeyVersion() != room.getKeyVersion()) {
            throw new StoreException(Reason.INVITE_UNKNOWN);
        }
        if (invite.isSpent()) {
            throw new StoreException(Reason.INVITE_USED);
        }
        if (invite.getExpiresAt() <= now) {
            throw new StoreException(Reason.INVITE_EXPIRED);
        }
        if (count(Participant.COUNT_BY_ROOM, roomId) >= maxParticipants) {
            throw new StoreException(Reason.ROOM_FULL);
        }
        if (count(Participant.COUNT_EVER_BY_ROOM, roomId) >= maxJoins) {
            throw new StoreException(Reason.TOO_MANY_JOINS);
        }
        byte[] wrapped = invite.spend();
        em.persist(newcomer);
        return new Joined(newcomer, room, invite.getKeyVersion(), wrapped);
    }

    /** One envelope to append to a room on behalf of one of its participants. */
    public record Append(String roomId, String senderId, SignedEnvelope fields) {
    }

    /** What became of one {@link Append}: the stored envelope, or the reason it was refused (see EnvelopeBatch). */
    public record Appended(Envelope envelope, Reason refused) {
    }

    /**
     * Rotates the room key: {@code keyVersion} must be the current one plus one, and {@code wraps} (participant id to
     * wrapped key) must cover exactly the current participants. Outstanding invites are revoked. Returns the
     * participants, whose sockets get their wrap.
     */
    public List<Participant> rotate(String roomId, int keyVersion, Map<String, byte[]> wraps, long now) {
        Room room = lockRoom(roomId, now);
        if (keyVersion != room.getKeyVersion() + 1) {
            throw new StoreException(Reason.KEY_VERSION_MISMATCH);
        }
        List<Participant> current = members(roomId).present();
        Set<String> ids = current.stream().map(Participant::getId).collect(Collectors.toSet());
        if (!ids.equals(wraps.keySet())) {
            throw new StoreException(Reason.WRAPS_INCOMPLETE);
        }
        room.rotateTo(keyVersion);
        wraps.forEach((participantId, wrapped) -> em.persist(new KeyWrap(roomId, participantId, keyVersion, wrapped)));
        em.createNamedQuery(Invite.REVOKE_OPEN_BY_ROOM).setParameter("roomId", roomId).executeUpdate();
        return current;
    }

    /** Envelopes of a room with {@code seq > after}, in order, at most {@code limit}. */
    public List<Envelope> envelopesAfter(String roomId, long after, int limit) {
        return em.createNamedQuery(Envelope.FIND_AFTER, Envelope.class)
                .setParameter("roomId", roomId)
                .setParameter("after", after)
                .setMaxResults(limit)
                .getResultList();
    }

    /**
     * A participant leaves, or is removed: its session is revoked at once, its public keys stay until the room ends.
     * The creator cannot leave (it deletes the room instead).
     */
    public void removeParticipant(String roomId, String participantId, long now) {
        lockRoom(roomId, now);
        Participant participant = em.find(Participant.class, participantId);
        if (participant == null || !participant.getRoomId().equals(roomId) || !participant.isPresent()) {
            throw new StoreException(Reason.PARTICIPANT_NOT_FOUND);
        }
        if (participant.isCreator()) {
            throw new StoreException(Reason.CREATOR_CANNOT_LEAVE);
        }
        participant.leave(now);
    }

    /** Deletes a room and everything in it; false if there was no such room. */
    public boolean deleteRoom(String roomId) {
        Room room = em.find(Room.class, roomId, LockModeType.PESSIMISTIC_WRITE);
        if (room == null) {
            return false;
        }
        deleteRooms(List.of(roomId));
        return true;
    }

    /** What one sweep batch deleted: the rooms, and the rows of every table together. */
    public record Swept(List<String> roomIds, int rows) {
    }

    /** Deletes one batch of expired rooms with all their rows, and expired invites. */
    public Swept deleteExpired(long now, int batchSize) {
        List<String> ids = em.createNamedQuery(Room.FIND_EXPIRED_IDS, String.class)
                .setParameter("now", now)
                .setMaxResults(batchSize)
                .getResultList();
        int rows = ids.isEmpty() ? 0 : deleteRooms(ids);
        rows += em.createNamedQuery(Invite.DELETE_EXPIRED).setParameter("now", now).executeUpdate();
        return new Swept(ids, rows);
    }

    /** Deletes rooms with everything in them; returns the number of rows deleted. */
    private int deleteRooms(List<String> ids) {
        int rows = 0;
        for (String query : List.of(Envelope.DELETE_BY_ROOMS, Invite.DELETE_BY_ROOMS, KeyWrap.DELETE_BY_ROOMS,
                Participant.DELETE_BY_ROOMS, Room.DELETE_BY_IDS)) {
            rows += em.createNamedQuery(query).setParameter("roomIds", ids).executeUpdate();
        }
        return rows;
    }

    /** A room's participants by one of {@link Participant}'s count queries. */
    private long count(String countQuery, String roomId) {
        return em.createNamedQuery(countQuery, Long.class)
                .setParameter("roomId", roomId)
                .getSingleResult();
    }

    private Room lockRoom(String roomId, long now) {
        Room room = em.find(Room.class, roomId, LockModeType.PESSIMISTIC_WRITE);
        if (room == null || room.isExpiredAt(now)) {
            throw new StoreException(Reason.ROOM_NOT_FOUND);
        }
        return room;
    }
}
