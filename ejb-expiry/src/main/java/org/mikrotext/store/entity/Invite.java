package org.mikrotext.store.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;

/**
 * A one-time invite, keyed by the SHA-256 of its token. It holds the wrapped room key until it is spent;
 * a spent invite keeps only its hash (a tombstone) until it expires, so that a second use is told apart
 * from an unknown invite.
 */
@Entity
@Table(name = "invites")
@NamedQuery(name = Invite.COUNT_OPEN_BY_ROOM,
        query = "SELECT COUNT(i) FROM Invite i WHERE i.roomId = :roomId AND i.spent = FALSE AND i.expiresAt > :now")
@NamedQuery(name = Invite.DELETE_EXPIRED,
        query = "DELETE FROM Invite i WHERE i.expiresAt <= :now")
@NamedQuery(name = Invite.DELETE_BY_ROOMS,
        query = "DELETE FROM Invite i WHERE i.roomId IN :roomIds")
@NamedQuery(name = Invite.REVOKE_OPEN_BY_ROOM,
        query = "DELETE FROM Invite i WHERE i.roomId = :roomId AND i.spent = FALSE")
public class Invite {

    public static final String COUNT_OPEN_BY_ROOM = "Invite.countOpenByRoom";
    public static final String DELETE_EXPIRED = "Invite.deleteExpired";
    public static final String DELETE_BY_ROOMS = "Invite.deleteByRooms";
    public static final String REVOKE_OPEN_BY_ROOM = "Invite.revokeOpenByRoom";

    @Id
    @Column(name = "token_hash")
    private String tokenHash;

    @Column(name = "room_id", nullable = false, length = 22)
    private String roomId;

    @Column(name = "key_version", nullable = false)
    private int keyVersion;

    @Column(name = "wrapped_room_key")
    private byte[] wrappedRoomKey;

    @Column(name = "spent", nullable = false)
    private boolean spent;

    @Column(name = "expires_at", nullable = false)
    private long expiresAt;

    protected Invite() {
    }

    public Invite(String tokenHash, String roomId, int keyVersion, byte[] wrappedRoomKey, long expiresAt) {
        this.tokenHash = tokenHash;
        this.roomId = roomId;
        this.keyVersion = keyVersion;
        this.wrappedRoomKey = wrappedRoomKey.clone();
        this.spent = false;
        this.expiresAt = expiresAt;
    }

    /** Spends the invite: hands back the wrapped room key once and forgets it. */
    public byte[] spend() {
        byte[] wrapped = wrappedRoomKey;
        wrappedRoomKey = null;
        spent = true;
        return wrapped;
    }

    public String getRoomId() {
        return roomId;
    }

    public int getKeyVersion() {
        return keyVersion;
    }

    public boolean isSpent() {
        return spent;
    }

    public long getExpiresAt() {
        return expiresAt;
    }
}
