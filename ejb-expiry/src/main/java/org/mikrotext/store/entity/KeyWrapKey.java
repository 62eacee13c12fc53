package org.mikrotext.store.entity;

import java.io.Serializable;
import java.util.Objects;

/** Primary key of {@link KeyWrap}. */
public class KeyWrapKey implements Serializable {

    private static final long serialVersionUID = 1L;

    private String roomId;
    private String participantId;
    private int keyVersion;

    public KeyWrapKey() {
    }

    public KeyWrapKey(String roomId, String participantId, int keyVersion) {
        this.roomId = roomId;
        this.participantId = participantId;
        this.keyVersion = keyVersion;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyWrapKey other && keyVersion == other.keyVersion
                && Objects.equals(roomId, other.roomId) && Objects.equals(participantId, other.participantId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(roomId, participantId, keyVersion);
    }
}
