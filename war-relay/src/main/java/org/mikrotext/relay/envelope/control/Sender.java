package org.mikrotext.relay.envelope.control;

import java.security.interfaces.ECPublicKey;
import org.mikrotext.relay.protocol.EnvelopeSignatures;
import org.mikrotext.relay.protocol.SigningKeys;
import org.mikrotext.store.entity.Participant;

/**
 * An authenticated participant as far as sending needs it: its room, its id, and its registered signing key, parsed
 * and prepared for verification once. A socket keeps this for its lifetime rather than the participant entity, which
 * would keep its persistence context alive.
 */
public record Sender(String roomId, String participantId, ECPublicKey signingKey) {

    public static Sender of(Participant participant) {
        return new Sender(participant.getRoomId(), participant.getId(),
                EnvelopeSignatures.verificationKey(SigningKeys.parseSpki(participant.getSigningKey())));
    }
}
