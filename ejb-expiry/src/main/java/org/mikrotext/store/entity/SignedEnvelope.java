package org.mikrotext.store.entity;

/**
 * The fields a client sends for an envelope, already decoded and checked by the relay
 * (sizes, signature). {@code checkpoint} is null when absent.
 */
public record SignedEnvelope(int keyVersion, byte[] chainId, int chainIndex, byte[] checkpoint,
                             byte[] nonce, byte[] ciphertext, byte[] signature) {
}
