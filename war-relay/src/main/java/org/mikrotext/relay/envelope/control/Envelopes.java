package org.mikrotext.relay.envelope.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.limits.control.RateLimiter;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.protocol.EnvelopeSignatures;
import org.mikrotext.relay.protocol.Frame;
import org.mikrotext.store.boundary.RoomStore;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.Participant;
import org.mikrotext.store.entity.SignedEnvelope;

/**
 * Accepts envelopes: rate, whether the relay can store more now, size and fields first, then the signature against the
 * sender's registered key, on the caller's thread; then {@link EnvelopeLog} assigns the next {@code seq} by group
 * commit, and only after the commit is the envelope pushed to the room's sockets and acknowledged.
 */
@ApplicationScoped
public class Envelopes {

    public static final int CHECKPOINT_INTERVAL = 16;
    private static final long STORE_WAIT_SECONDS = 30;

    @Inject
    RoomStore store;

    @Inject
    Limits limits;

    @Inject
    RateLimiter rates;

    @Inject
    EnvelopeLog log;

    /**
     * Checks one envelope from {@code sender} (its rate, whether the relay can take it now, its fields, and the
     * signature against the sender's registered key) and queues it for storage; the future completes with the stored
     * envelope once it is committed and handed to the room's sockets, or fails with the refusal.
     */
    public CompletableFuture<Envelope> accept(Sender sender, JsonObject fields) {
        admit(sender.participantId());
        return checkAndQueue(sender, fields);
    }

    /** The checks that cost almost nothing, before any work on the envelope: the sender's rate, then the relay's. */
    private void admit(String participantId) {
        rates.take(RateLimiter.Kind.SEND, participantId);
        log.admit();
    }

    private CompletableFuture<Envelope> checkAndQueue(Sender sender, JsonObject fields) {
        SignedEnvelope envelope = EnvelopeJson.read(fields, limits.maxCiphertextBytes());
        if (envelope.chainIndex() % CHECKPOINT_INTERVAL == 0 && envelope.checkpoint() == null) {
            throw Problem.badRequest("An envelope at a chain index divisible by 16 must carry a checkpoint");
        }
        byte[] signingInput = Frame.envelopeSigningInput(sender.roomId(), sender.participantId(),
                envelope.keyVersion(), envelope.chainId(), envelope.chainIndex(), envelope.checkpoint(),
                envelope.nonce(), envelope.ciphertext());
        if (!EnvelopeSignatures.verify(sender.signingKey(), signingInput, envelope.signature())) {
            throw new Problem(400, "bad-signature", "Bad signature",
                    "The signature does not verify with the sender's registered signing key");
        }
        return log.append(sender.roomId(), sender.participantId(), envelope);
    }

    /** {@link #accept}, waiting for the outcome: for callers that answer only once the envelope is stored. */
    public Envelope acceptAndWait(Participant sender, JsonObject fields) {
        admit(sender.getId()); // before the signing key is parsed
        CompletableFuture<Envelope> stored = checkAndQueue(Sender.of(sender), fields);
        try {
            return stored.get(STORE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Problem.relayBusy("Interrupted; retry");
        } catch (TimeoutException e) {
            throw Problem.relayBusy(
                    "The envelope was not stored in time; it may still be stored, so resume by seq before resending");
        }
    }

    /** Stored envelopes with {@code seq > after}, in order. */
    public List<Envelope> after(String roomId, long after, int limit) {
        return store.envelopesAfter(roomId, after, limit);
    }
}
