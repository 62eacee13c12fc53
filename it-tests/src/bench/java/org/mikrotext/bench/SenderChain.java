package org.mikrotext.bench;

import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One member's MTX1 sender chain for one load phase, prepared before timing starts: a fresh {@code chainId} and
 * {@code CK_0}; for each index the message key from the chain, the padded JSON body under AES-256-GCM with the
 * MTX1-MESSAGE AAD, a checkpoint every 16 messages, and the ECDSA P-256 signature over the MTX1-ENVELOPE frame.
 * Each envelope is kept as the exact {@code send} frame to write, and the time it was written is stamped into
 * {@link #sentAt} by the sender thread.
 */
final class SenderChain {

    static final int CHECKPOINT_INTERVAL = 16;

    final Population.Member member;
    final LoadPhase phase;
    final int phaseNumber;
    final byte[] chainId;
    final String chainIdB64;
    final byte[][] frames;
    final AtomicLongArray sentAt;
    /** Next index to send (only the sender thread touches it). */
    int next;

    SenderChain(Population.Member member, LoadPhase phase, int phaseNumber, int count, int textBytes) {
        this.member = member;
        this.phase = phase;
        this.phaseNumber = phaseNumber;
        this.chainId = Mtx1.random(16);
        this.chainIdB64 = Mtx1.b64(chainId);
        this.frames = new byte[count][];
        this.sentAt = new AtomicLongArray(count);
        String roomId = member.room.roomId;
        String senderId = member.participantId;
        int kv = Population.KEY_VERSION;
        byte[] cpk = Mtx1.checkpointKey(member.roomKey, roomId, kv);
        byte[] chainKey = Mtx1.random(32);
        Signature signer = Mtx1.signer();
        String filler = "x".repeat(Math.max(0, textBytes - 40));
        for (int i = 0; i < count; i++) {
            byte[] messageKey = Mtx1.messageKey(chainKey);
            byte[] checkpoint = null;
            if (i % CHECKPOINT_INTERVAL == 0) {
                checkpoint = Mtx1.checkpoint(cpk, Mtx1.random(12), chainKey,
                        Mtx1.checkpointAad(roomId, senderId, kv, chainId, i));
            }
            String text = "{\"text\":\"bench " + member.room.index + "/" + member.index + " #" + i + " " + filler
                    + "\"}";
            byte[] nonce = Mtx1.random(12);
            byte[] ciphertext = Mtx1.encrypt(messageKey, nonce, Mtx1.pad(text.getBytes(StandardCharsets.UTF_8)),
                    Mtx1.messageAad(roomId, senderId, kv, chainId, i));
            byte[] signature = Mtx1.sign(signer, member.signing.getPrivate(),
                    Mtx1.envelopeSigningInput(roomId, senderId, kv, chainId, i, checkpoint, nonce, ciphertext));
            StringBuilder json = new StringBuilder(160 + ciphertext.length * 4 / 3);
            json.append("{\"type\":\"send\",\"id\":").append(id(phaseNumber, i))
                    .append(",\"keyVersion\":").append(kv)
                    .append(",\"chainId\":\"").append(chainIdB64)
                    .append("\",\"chainIndex\":").append(i)
                    .append(",\"checkpoint\":").append(checkpoint == null ? "null" : "\"" + Mtx1.b64(checkpoint) + "\"")
                    .append(",\"nonce\":\"").append(Mtx1.b64(nonce))
                    .append("\",\"ciphertext\":\"").append(Mtx1.b64(ciphertext))
                    .append("\",\"signature\":\"").append(Mtx1.b64(signature))
                    .append("\"}");
            frames[i] = json.toString().getBytes(StandardCharsets.US_ASCII);
            chainKey = Mtx1.nextChainKey(chainKey);
        }
    }

    /** The {@code id} of a send frame: phase and chain index in one integer, echoed in {@code ack} and {@code error}. */
    static long id(int phaseNumber, int index) {
        return phaseNumber * 10_000_000L + index;
    }

    static int phaseOf(long id) {
        return (int) (id / 10_000_000L);
    }

    static int indexOf(long id) {
        return (int) (id % 10_000_000L);
    }
}
