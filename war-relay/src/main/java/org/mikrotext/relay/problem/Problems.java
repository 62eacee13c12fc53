package org.mikrotext.relay.problem;

import org.mikrotext.relay.protocol.MalformedFieldException;
import org.mikrotext.store.boundary.StoreException;

/** Translates refusals of the stored state and of the protocol checks into problems. */
public final class Problems {

    private Problems() {
    }

    public static Problem of(StoreException e) {
        return switch (e.reason()) {
            case ROOM_NOT_FOUND -> Problem.roomNotFound();
            case PARTICIPANT_NOT_FOUND -> new Problem(404, "participant-not-found", "No such participant",
                    "The participant is not in this room");
            case INVITE_UNKNOWN -> new Problem(403, "invite-invalid", "Invite not valid",
                    "This invite is not valid for this room");
            case INVITE_USED -> new Problem(410, "invite-used", "Invite already used",
                    "This invite has already been used; ask for a new one");
            case INVITE_EXPIRED -> new Problem(410, "invite-expired", "Invite expired",
                    "This invite has expired; ask for a new one");
            case INVITE_EXISTS -> Problem.conflict("invite-exists", "Invite exists", "This invite token is already registered");
            case TOO_MANY_INVITES -> Problem.conflict("too-many-invites", "Too many open invites",
                    "The room has too many unused invites");
            case ROOM_FULL -> Problem.conflict("room-full", "Room is full", "The room has reached its participant limit");
            case TOO_MANY_JOINS -> Problem.conflict("too-many-joins", "Room has had too many participants",
                    "The room has had as many participants as it may have in its life; start a new room");
            case KEY_VERSION_MISMATCH -> Problem.conflict("key-version", "Stale key version",
                    "The key version is not the room's current one");
            case WRAPS_INCOMPLETE -> new Problem(400, "wraps-incomplete", "Key wraps do not match the participants",
                    "A rotation needs exactly one wrap for every current participant, the creator included");
            case REPLAY -> Problem.conflict("replay", "Replayed envelope",
                    "An envelope with this sender, key version, chain and index is already stored");
            case CREATOR_CANNOT_LEAVE -> Problem.conflict("creator-cannot-leave", "The creator cannot leave",
                    "The creator deletes the room instead of leaving it");
        };
    }

    public static Problem of(MalformedFieldException e) {
        return new Problem(400, "invalid-field", "A field is not valid", e.getMessage());
    }
}
