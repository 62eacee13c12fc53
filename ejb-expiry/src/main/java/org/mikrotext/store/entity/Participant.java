package org.mikrotext.store.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** A participant of a room: pseudonym, public keys, role and the SHA-256 of its session token. */
@Entity
@Table(name = "participants")
@NamedQuery(name = Participant.FIND_BY_TOKEN_HASH,
        query = "SELECT p FROM Participant p WHERE p.tokenHash = :tokenHash")
@NamedQuery(name = Participant.FIND_ALL_BY_ROOM,
        query = "SELECT p FROM Participant p WHERE p.roomId = :roomId ORDER BY p.joinedAt, p.id")
@NamedQuery(name = Participant.COUNT_BY_ROOM,
        query = "SELECT COUNT(p) FROM Participant p WHERE p.roomId = :roomId AND p.leftAt IS NULL")
@NamedQuery(name = Participant.COUNT_EVER_BY_ROOM,
        query = "SELECT COUNT(p) FROM Participant p WHERE p.roomId = :roomId")
@NamedQuery(name = Participant.DELETE_BY_ROOMS,
        query = "DELETE FROM Participant p WHERE p.roomId IN :roomIds")
public class Participant {

    public static final String FIND_BY_TOKEN_HASH = "Participant.findByTokenHash";
    public static final String FIND_ALL_BY_ROOM = "Participant.findAllByRoom";
    public static final String COUNT_BY_ROOM = "Participant.countByRoom";
    public static final String COUNT_EVER_BY_ROOM = "Participant.countEverByRoom";
    public static final String DELETE_BY_ROOMS = "Participant.deleteByRooms";

    public enum Role { CREATOR, MEMBER }

    @Id
    @Column(name = "id", length = 22)
    private String id;

    @Column(name = "room_id", nullable = false, length = 22)
    private String roomId;

    @Column(name = "pseudonym", nullable = false)
    private String pseudonym;

    @Column(name = "signing_key", nullable = false)
    private byte[] signingKey;

    @Column(name = "exchange_key", nullable = false)
    private byte[] exchangeKey;

    @Enumerated(EnumType.STRING)
    @Column(name = "role", nullable = false)
    private Role role;

    /** SHA-256 of the session token; null once the participant has left. */
    @Column(name = "token_hash")
    private String tokenHash;

    @Column(name = "joined_at", nullable = false)
    private long joinedAt;

    @Column(name = "left_at")
    private Long leftAt;

    protected Participant() {
    }

    public Participant(String id, String roomId, String pseudonym, byte[] signingKey, byte[] exchangeKey,
                       Role role, String tokenHash, long joinedAt) {
        this.id = id;
        this.roomId = roomId;
        this.pseudonym = pseudonym;
        this.signingKey = signingKey.clone();
        this.exchangeKey = exchangeKey.clone();
        this.role = role;
        this.tokenHash = tokenHash;
        this.joinedAt = joinedAt;
    }

    /** Leaves the room: the session is revoked; the public keys stay so that what it wrote can be verified. */
    public void leave(long epochSecond) {
        tokenHash = null;
        leftAt = epochSecond;
    }

    /** Whether its session token hashes to {@code hash} (compared in constant time); never once it has left. */
    public boolean holdsToken(String hash) {
        return tokenHash != null && hash != null && MessageDigest.isEqual(
                tokenHash.getBytes(StandardCharsets.US_ASCII), hash.getBytes(StandardCharsets.US_ASCII));
    }

    public boolean isPresent() {
        return leftAt == null;
    }

    public Long getLeftAt() {
        return leftAt;
    }

    public boolean isCreator() {
        return role == Role.CREATOR;
    }

    public String getId() {
        return id;
    }

    public String getRoomId() {
        return roomId;
    }

    public String getPseudonym() {
        return pseudonym;
    }

    public byte[] getSigningKey() {
        return signingKey.clone();
    }

    public byte[] getExchangeKey() {
        return exchangeKey.clone();
    }

    public Role getRole() {
        return role;
    }

    public long getJoinedAt() {
        return joinedAt;
    }
}
