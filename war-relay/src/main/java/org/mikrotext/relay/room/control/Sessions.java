package org.mikrotext.relay.room.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.BiFunction;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.protocol.MalformedFieldException;
import org.mikrotext.relay.protocol.Tokens;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.boundary.RoomStore.Greeting;
import org.mikrotext.store.boundary.StoreException;
import org.mikrotext.store.entity.Participant;

/**
 * Authenticates a participant of one room by its session token. The room is checked first (404 only for a room
 * that does not exist); then a missing or malformed token, an unknown one, or one of another room is 401.
 */
@ApplicationScoped
public class Sessions {

    private static final String BEARER = "Bearer ";

    @Inject
    RoomStore store;

    private final Clock clock = Clock.systemUTC();

    /** The participant that the {@code Authorization: Bearer} header authenticates in {@code roomId}. */
    public Participant fromAuthorization(String roomId, String authorization) {
        if (authorization == null || !authorization.startsWith(BEARER)) {
            requireRoom(roomId);
            throw Problem.unauthorized();
        }
        return authenticate(roomId, authorization.substring(BEARER.length()).strip());
    }

    /** The participant that {@code sessionToken} authenticates in {@code roomId}: one transaction, two reads. */
    public Participant authenticate(String roomId, String sessionToken) {
        return inRoom(roomId, sessionToken, (hash, now) -> store.session(roomId, hash, now));
    }

    /**
     * A socket's {@code hello}: the participant that {@code sessionToken} authenticates in {@code roomId}, with the
     * room as it sees it, from one transaction; the same refusals as {@link #authenticate}, in the same order.
     */
    public Greeting greet(String roomId, String sessionToken) {
        return inRoom(roomId, sessionToken, (hash, now) -> store.greet(roomId, hash, now));
    }

    /**
     * What {@code read} finds in one transaction for the hash of {@code sessionToken} at this instant: 404 for a
     * room that does not exist (checked first), then 401 for a malformed token or one that read does not find.
     */
    private <T> T inRoom(String roomId, String sessionToken, BiFunction<String, Long, Optional<T>> read) {
        if (!RoomIds.isWellFormed(roomId)) {
            throw Problem.roomNotFound();
        }
        String hash;
        try {
            hash = hashOf(sessionToken);
        } catch (MalformedFieldException e) {
            requireRoom(roomId);
            throw Problem.unauthorized();
        }
        try {
            return read.apply(hash, clock.instant().getEpochSecond()).orElseThrow(Problem::unauthorized);
        } catch (StoreException e) {
            if (e.reason() != StoreException.Reason.ROOM_NOT_FOUND) {
                throw e;
            }
            throw Problem.roomNotFound();
        }
    }

    /** SHA-256 of a token's 32 decoded bytes, as stored. */
    public static String hashOf(String tokenB64u) {
        if (tokenB64u == null || tokenB64u.length() != 43) {
            throw new MalformedFieldException("token", "A token is 32 bytes of base64url");
        }
        return HexFormat.of().formatHex(Tokens.hashToken(tokenB64u));
    }

    private void requireRoom(String roomId) {
        if (!RoomIds.isWellFormed(roomId) || store.room(roomId, clock.instant().getEpochSecond()).isEmpty()) {
            throw Problem.roomNotFound();
        }
    }
}
