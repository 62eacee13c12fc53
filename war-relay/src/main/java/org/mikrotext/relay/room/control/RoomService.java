package org.mikrotext.relay.room.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.envelope.control.RoomChannels;
import org.mikrotext.relay.json.JsonFields;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.protocol.Base64Url;
import org.mikrotext.relay.protocol.MalformedFieldException;
import org.mikrotext.relay.protocol.Pseudonyms;
import org.mikrotext.relay.protocol.SigningKeys;
import org.mikrotext.relay.protocol.Tokens;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.boundary.RoomStore.Joined;
import org.mikrotext.store.boundary.RoomStore.RoomView;
import org.mikrotext.store.entity.Participant;
import org.mikrotext.store.entity.Participant.Role;
import org.mikrotext.store.control.RoomLog;
import org.mikrotext.store.control.RoomLog.Event;
import org.mikrotext.store.entity.Room;
import org.mikrotext.relay.json.JsonIO;

/** Rooms, invites and membership: every check of PROTOCOL.md's REST rows before the stored state is touched. */
@ApplicationScoped
public class RoomService {

    static final int SPKI_LENGTH = 91;
    static final int WRAPPED_KEY_LENGTH = 60;
    static final int TOKEN_LENGTH = 32;

    @Inject
    RoomStore store;

    @Inject
    Limits limits;

    @Inject
    RoomChannels channels;

    private final Clock clock = Clock.systemUTC();

    /** A new participant's identity as the client proposes it, checked. */
    record Identity(String pseudonym, byte[] signingKey, byte[] exchangeKey) {
    }

    /** The answer to room creation and joins; the raw session token appears only here, once. */
    public record Admission(Participant participant, Room room, int keyVersion, String sessionToken,
                            byte[] wrappedRoomKey) {

        public JsonObject toJson() {
            var json = JsonIO.object()
                    .add("roomId", room.getId())
                    .add("participantId", participant.getId())
                    .add("sessionToken", sessionToken)
                    .add("expiresAt", RoomJson.time(room.getExpiresAt()))
                    .add("keyVersion", keyVersion);
            if (wrappedRoomKey != null) {
                json.add("wrappedRoomKey", Base64Url.encode(wrappedRoomKey));
            }
            return json.build();
        }
    }

    public Admission create(JsonObject body) {
        long ttl = JsonFields.optionalLong(body, "ttlSeconds", limits.minTtl().toSeconds(),
                limits.maxTtl().toSeconds(), limits.defaultTtl().toSeconds());
        Identity identity = identity(body);
        long now = now();
        Room room = new Room(Tokens.newId(), now, now + ttl);
        String token = Base64Url.encode(Tokens.newToken());
        Participant creator = new Participant(Tokens.newId(), room.getId(), identity.pseudonym(),
                identity.signingKey(), identity.exchangeKey(), Role.CREATOR, Sessions.hashOf(token), now);
        store.createRoom(room, creator);
        RoomLog.log(Event.CREATED, room.getId());
        return new Admission(creator, room, room.getKeyVersion(), token, null);
    }

    public RoomView view(Participant participant) {
        return store.view(participant.getRoomId(), participant.getId(), now());
    }

    /** Registers an invite; returns its expiry (default and cap: the room's). */
    public long invite(Participant inviter, JsonObject body) {
        byte[] inviteToken = JsonFields.bytes(body, "inviteToken", TOKEN_LENGTH);
        int keyVersion = JsonFields.integer(body, "keyVersion", 1, Integer.MAX_VALUE);
        byte[] wrapped = JsonFields.bytes(body, "wrappedRoomKey", WRAPPED_KEY_LENGTH);
        long now = now();
        long ttl = JsonFields.optionalLong(body, "ttlSeconds", 1, limits.maxTtl().toSeconds(),
                limits.maxTtl().toSeconds());
        return store.addInvite(inviter.getRoomId(), hex(Tokens.sha256(inviteToken)), keyVersion, wrapped, now + ttl,
                now, limits.maxOpenInvites());
    }

    public Admission join(String roomId, JsonObject body) {
        if (!RoomIds.isWellFormed(roomId)) {
            throw Problem.roomNotFound();
        }
        byte[] inviteToken = JsonFields.bytes(body, "inviteToken", TOKEN_LENGTH);
        Identity identity = identity(body);
        long now = now();
        String token = Base64Url.encode(Tokens.newToken());
        Participant newcomer = new Participant(Tokens.newId(), roomId, identity.pseudonym(), identity.signingKey(),
                identity.exchangeKey(), Role.MEMBER, Sessions.hashOf(token), now);
        Joined joined = store.join(roomId, hex(Tokens.sha256(inviteToken)), newcomer, now, limits.maxParticipants(),
                limits.maxJoins());
        RoomLog.log(Event.INVITE_SPENT, roomId);
        RoomLog.log(Event.JOINED, roomId);
        channels.participantsChanged(roomId);
        return new Admission(joined.participant(), joined.room(), joined.keyVersion(), token, joined.wrappedRoomKey());
    }

    /** A participant leaves, or the creator removes someone; their sockets are closed with 4403. */
    public void remove(Participant actor, String participantId) {
        if (!actor.getId().equals(participantId) && !actor.isCreator()) {
            throw Problem.forbidden("Only the creator can remove another participant");
        }
        store.removeParticipant(actor.getRoomId(), participantId, now());
        RoomLog.log(actor.getId().equals(participantId) ? Event.LEFT : Event.REMOVED, actor.getRoomId());
        channels.removed(actor.getRoomId(), participantId);
        channels.participantsChanged(actor.getRoomId());
    }

    /**
     * The creator rotates the room key: a wrap of the new key for every current participant (the creator included),
     * under keys the relay never holds. Outstanding invites are revoked; open sockets get {@code key-rotated}.
     */
    public int rotate(Participant actor, JsonObject body) {
        if (!actor.isCreator()) {
            throw Problem.forbidden("Only the creator can rotate the room key");
        }
        int keyVersion = JsonFields.integer(body, "keyVersion", 2, Integer.MAX_VALUE);
        JsonArray list = JsonFields.array(body, "wraps", limits.maxParticipants());
        Map<String, byte[]> wraps = new LinkedHashMap<>();
        for (JsonValue item : list) {
            if (!(item instanceof JsonObject wrap)) {
                throw Problem.badRequest("Each wrap must be an object with participantId and wrapped");
            }
            String participantId = JsonFields.string(wrap, "participantId", 22);
            if (!RoomIds.isWellFormed(participantId)
                    || wraps.put(participantId, JsonFields.bytes(wrap, "wrapped", WRAPPED_KEY_LENGTH)) != null) {
                throw Problem.badRequest("Each wrap names one participant, once");
            }
        }
        String roomId = actor.getRoomId();
        channels.rotateAndAnnounce(roomId, keyVersion, wraps, () -> store.rotate(roomId, keyVersion, wraps, now()));
        RoomLog.log(Event.ROTATED, roomId);
        return keyVersion;
    }

    /** The creator deletes the room now; its sockets are closed with 4410. */
    public void delete(Participant actor) {
        if (!actor.isCreator()) {
            throw Problem.forbidden("Only the creator can delete the room");
        }
        if (store.deleteRoom(actor.getRoomId())) {
            RoomLog.log(Event.BURNED, actor.getRoomId());
            channels.ended(List.of(actor.getRoomId()));
        }
    }

    private Identity identity(JsonObject body) {
        String pseudonym = Pseudonyms.normalize(JsonFields.string(body, "pseudonym", 400),
                limits.maxPseudonymCodePoints());
        return new Identity(pseudonym, p256Key(body, "signingKey"), p256Key(body, "exchangeKey"));
    }

    /** An SPKI field that must hold an uncompressed P-256 point on the curve. */
    private static byte[] p256Key(JsonObject body, String name) {
        byte[] spki = JsonFields.bytes(body, name, SPKI_LENGTH);
        try {
            SigningKeys.parseSpki(spki);
        } catch (MalformedFieldException e) {
            throw new MalformedFieldException(name, "The field '" + name + "' must be the SPKI of a P-256 public key");
        }
        return spki;
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
