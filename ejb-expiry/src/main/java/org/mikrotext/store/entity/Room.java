package org.mikrotext.store.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;

/** A room: its id, current key version, last assigned envelope sequence number and lifetime. */
@Entity
@Table(name = "rooms")
@NamedQuery(name = Room.FIND_EXPIRED_IDS,
        query = "SELECT r.id FROM Room r WHERE r.expiresAt <= :now ORDER BY r.expiresAt")
@NamedQuery(name = Room.COUNT_ACTIVE,
        query = "SELECT COUNT(r) FROM Room r WHERE r.expiresAt > :now")
@NamedQuery(name = Room.DELETE_BY_IDS,
        query = "DELETE FROM Room r WHERE r.id IN :roomIds")
public class Room {

    public static final String FIND_EXPIRED_IDS = "Room.findExpiredIds";
    public static final String DELETE_BY_IDS = "Room.deleteByIds";
    public static final String COUNT_ACTIVE = "Room.countActive";

    @Id
    @Column(name = "id", length = 22)
    private String id;

    @Column(name = "key_version", nullable = false)
    private int keyVersion;

    @Column(name = "last_seq", nullable = false)
    private long lastSeq;

    @Column(name = "created_at", nullable = false)
    private long createdAt;

    @Column(name = "expires_at", nullable = false)
    private long expiresAt;

    protected Room() {
    }

    public Room(String id, long createdAt, long expiresAt) {
        this.id = id;
        this.keyVersion = 1;
        this.lastSeq = 0;
        this.createdAt = createdAt;
        this.expiresAt = expiresAt;
    }

    /** Assigns the next per-room sequence number; the caller holds the room's row lock. */
    public long nextSeq() {
        return ++lastSeq;
    }

    public boolean isExpiredAt(long epochSecond) {
        return expiresAt <= epochSecond;
    }

    public void rotateTo(int newKeyVersion) {
        this.keyVersion = newKeyVersion;
    }

    public String getId() {
        return id;
    }

    public int getKeyVersion() {
        return keyVersion;
    }

    public long getLastSeq() {
        return lastSeq;
    }

    public long getCreatedAt() {
        return createdAt;
    }

    public long getExpiresAt() {
        return expiresAt;
    }
}
