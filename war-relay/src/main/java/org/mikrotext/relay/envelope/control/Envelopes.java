package org.mikrotext.relay.envelope.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import java.time.Clock;
import java.util.List;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.limits.control.RateLimiter;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.protocol.EnvelopeSignatures;
import org.mikrotext.relay.protocol.Frame;
import org.mikrotext.relay.protocol.SigningKeys;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.Participant;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * Accepts envelopes: rate, size and fields first, then the signature against the sender's registered key, then one
 * transaction that assigns the next {@code seq}; only after the commit is the envelope pushed to the room's sockets.
 */
@ApplicationScoped
public class Envelopes {

    public static final int CHECKPOINT_INTERVAL = 16;

    @Inject
    RoomStore store;

    @Inject
    Limits limits;

    @Inject
    RateLimiter rates;

    @Inject
    RoomChannels channels;

    @Inject
    RelayMetrics metrics;

    private final Clock clock = Clock.systemUTC();

    /** Checks, stores and fans out one envelope from {@code sender}; returns the stored envelope. */
    public Envelope accept(Participant sender, JsonObject fields) {
        rates.take(RateLimiter.Kind.SEND, sender.getId());
        SignedEnvelope envelope = EnvelopeJson.read(fields, limits.maxCiphertextBytes());
        if (envelope.chainIndex() % CHECKPOINT_INTERVAL == 0 && envelope.checkpoint() == null) {
            throw Problem.badRequest("An envelope at a chain index divisible by 16 must carry a checkpoint");
        }
        byte[] signingInput = Frame.envelopeSigningInput(sender.getRoomId(), sender.getId(), envelope.keyVersion(),
                envelope.chainId(), envelope.chainIndex(), envelope.checkpoint(), envelope.nonce(),
                envelope.ciphertext());
        if (!EnvelopeSignatures.verify(SigningKeys.parseSpki(sender.getSigningKey()), signingInput,
                envelope.signature())) {
            throw new Problem(400, "bad-signature", "Bad signature",
                    "The signature does not verify with the sender's registered signing key");
        }
        Envelope stored = channels.appendAndPublish(sender.getRoomId(),
                () -> store.append(sender.getRoomId(), sender.getId(), envelope, clock.instant().getEpochSecond(),
                        limits.maxEnvelopes()));
        metrics.accepted();
        return stored;
    }

    /** Stored envelopes with {@code seq > after}, in order. */
    public List<Envelope> after(String roomId, long after, int limit) {
        return store.envelopesAfter(roomId, after, limit);
    }
}
