package org.mikrotext.store.boundary;

import jakarta.ejb.ApplicationException;

/** A request the stored state refuses; the transaction is rolled back and the caller maps the reason. */
@ApplicationException(rollback = true)
public class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public enum Reason {
        ROOM_NOT_FOUND,
        PARTICIPANT_NOT_FOUND,
        INVITE_UNKNOWN,
        INVITE_USED,
        INVITE_EXPIRED,
        INVITE_EXISTS,
        TOO_MANY_INVITES,
        ROOM_FULL,
        TOO_MANY_JOINS,
        KEY_VERSION_MISMATCH,
        WRAPS_INCOMPLETE,
        REPLAY,
        CREATOR_CANNOT_LEAVE
    }

    private final Reason reason;

    public StoreException(Reason reason) {
        super(reason.name(), null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
