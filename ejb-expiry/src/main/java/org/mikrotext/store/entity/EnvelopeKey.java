package org.mikrotext.store.entity;

import java.io.Serializable;
import java.util.Objects;

/** Primary key of {@link Envelope}: the room and the envelope's sequence number in it. */
public class EnvelopeKey implements Serializable {

    private static final long serialVersionUID = 1L;

    private String roomId;
    private long seq;

    public EnvelopeKey() {
    }

    public EnvelopeKey(String roomId, long seq) {
        this.roomId = roomId;
        this.seq = seq;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnvelopeKey other && seq == other.seq && Objects.equals(roomId, other.roomId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(roomId, seq);
    }
}
