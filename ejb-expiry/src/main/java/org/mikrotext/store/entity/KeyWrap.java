package org.mikrotext.store.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;

/** A rotated room key wrapped for one participant (ciphertext under a key the relay never holds). */
@Entity
@Table(name = "key_wraps")
@IdClass(KeyWrapKey.class)
@NamedQuery(name = KeyWrap.DELETE_BY_ROOMS,
        query = "DELETE FROM KeyWrap w WHERE w.roomId IN :roomIds")
@NamedQuery(name = KeyWrap.FIND_BY_VERSION,
        query = "SELECT w FROM KeyWrap w WHERE w.roomId = :roomId AND w.keyVersion = :keyVersion")
public class KeyWrap {

    public static final String DELETE_BY_ROOMS = "KeyWrap.deleteByRooms";
    public static final String FIND_BY_VERSION = "KeyWrap.findByVersion";

    @Id
    @Column(name = "room_id", length = 22)
    private String roomId;

    @Id
    @Column(name = "participant_id", length = 22)
    private String participantId;

    @Id
    @Column(name = "key_version")
    private int keyVersion;

    @Column(name = "wrapped", nullable = false)
    private byte[] wrapped;

    protected KeyWrap() {
    }

    public KeyWrap(String roomId, String participantId, int keyVersion, byte[] wrapped) {
        this.roomId = roomId;
        this.participantId = participantId;
        this.keyVersion = keyVersion;
        this.wrapped = wrapped.clone();
    }

    public String getParticipantId() {
        return participantId;
    }

    public byte[] getWrapped() {
        return wrapped.clone();
    }
}
