package org.mikrotext.store.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;

/** A signed ciphertext envelope as the relay stores it: opaque bytes plus the server-assigned seq and sender. */
@Entity
@Table(name = "envelopes")
@IdClass(EnvelopeKey.class)
@NamedQuery(name = Envelope.FIND_AFTER,
        query = "SELECT e FROM Envelope e WHERE e.roomId = :roomId AND e.seq > :after ORDER BY e.seq")
@NamedQuery(name = Envelope.DELETE_BY_ROOMS,
        query = "DELETE FROM Envelope e WHERE e.roomId IN :roomIds")
public class Envelope {

    public static final String FIND_AFTER = "Envelope.findAfter";
    public static final String DELETE_BY_ROOMS = "Envelope.deleteByRooms";

    @Id
    @Column(name = "room_id", length = 22)
    private String roomId;

    @Id
    @Column(name = "seq")
    private long seq;

    @Column(name = "sender_id", nullable = false, length = 22)
    private String senderId;

    @Column(name = "key_version", nullable = false)
    private int keyVersion;

    @Column(name = "chain_id", nullable = false)
    private byte[] chainId;

    @Column(name = "chain_index", nullable = false)
    private int chainIndex;

    @Column(name = "checkpoint")
    private byte[] checkpoint;

    @Column(name = "nonce", nullable = false)
    private byte[] nonce;

    @Column(name = "ciphertext", nullable = false)
    private byte[] ciphertext;

    @Column(name = "signature", nullable = false)
    private byte[] signature;

    @Column(name = "created_at", nullable = false)
    private long createdAt;

    @Column(name = "expires_at", nullable = false)
    private long expiresAt;

    protected Envelope() {
    }

    public Envelope(String roomId, long seq, String senderId, SignedEnvelope fields, long createdAt, long expiresAt) {
        this.roomId = roomId;
        this.seq = seq;
        this.senderId = senderId;
        this.keyVersion = fields.keyVersion();
        this.chainId = fields.chainId();
        this.chainIndex = fields.chainIndex();
        this.checkpoint = fields.checkpoint();
        this.nonce = fields.nonce();
        this.ciphertext = fields.ciphertext();
        this.signature = fields.signature();
        this.createdAt = createdAt;
        this.expiresAt = expiresAt;
    }

    public String getRoomId() {
        return roomId;
    }

    public long getSeq() {
        return seq;
    }

    public String getSenderId() {
        return senderId;
    }

    public int getKeyVersion() {
        return keyVersion;
    }

    public byte[] getChainId() {
        return chainId;
    }

    public int getChainIndex() {
        return chainIndex;
    }

    public byte[] getCheckpoint() {
        return checkpoint;
    }

    public byte[] getNonce() {
        return nonce;
    }

    public byte[] getCiphertext() {
        return ciphertext;
    }

    public byte[] getSignature() {
        return signature;
    }

    public long getCreatedAt() {
        return createdAt;
    }

    public long getExpiresAt() {
        return expiresAt;
    }
}
