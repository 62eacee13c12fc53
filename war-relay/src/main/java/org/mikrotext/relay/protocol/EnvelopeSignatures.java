package org.mikrotext.relay.protocol;

import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.KeyFactory;
import java.security.Provider;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Verifies MTX1 envelope signatures: ECDSA P-256 with SHA-256 in IEEE P1363 form (64 bytes {@code r||s}).
 *
 * <p>Verification decides the relay's ceiling: the JDK's SunEC manages about 800 verifications a second per core on
 * the reference machine, where BouncyCastle's pure-Java implementation manages several times more
 * (docs/performance.md). BouncyCastle is used as a provider instance passed to {@link Signature#getInstance(String,
 * Provider)}, never registered globally, so nothing else in the application server changes.
 */
public final class EnvelopeSignatures {

    /** BouncyCastle's name for ECDSA with SHA-256 and a plain {@code r||s} signature (the JDK's ...inP1363Format). */
    private static final String ALGORITHM = "SHA256withPLAIN-ECDSA";
    private static final Provider PROVIDER = new BouncyCastleProvider();
    private static final int SIGNATURE_LENGTH = 64;

    private EnvelopeSignatures() {
    }

    /**
     * The same key as the provider's own key object, to keep for many verifications: given a key of another
     * provider, BouncyCastle converts it on every {@code initVerify} and recomputes its tables for the key's point;
     * with its own object it keeps them (about three times as many verifications per second, measured).
     *
     * @param key a key from {@link SigningKeys#parseSpki}
     */
    public static ECPublicKey verificationKey(ECPublicKey key) {
        try {
            return (ECPublicKey) KeyFactory.getInstance("EC", PROVIDER)
                    .generatePublic(new X509EncodedKeySpec(key.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("A validated P-256 key could not be converted", e);
        }
    }

    /**
     * @param key            the sender's registered signing key (from {@link SigningKeys#parseSpki}, best through
     *                       {@link #verificationKey})
     * @param signingInput   {@link Frame#envelopeSigningInput}
     * @param signatureP1363 the 64-byte signature
     * @return whether the signature is valid; false (never an exception) for a null argument,
     *         a signature that is not 64 bytes, or an invalid signature
     */
    public static boolean verify(ECPublicKey key, byte[] signingInput, byte[] signatureP1363) {
        if (key == null || signingInput == null || signatureP1363 == null
                || signatureP1363.length != SIGNATURE_LENGTH) {
            return false;
        }
        Signature verifier;
        try {
            verifier = Signature.getInstance(ALGORITHM, PROVIDER);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(ALGORITHM + " is not available from " + PROVIDER.getName(), e);
        }
        try {
            verifier.initVerify(key);
            verifier.update(signingInput);
            return verifier.verify(signatureP1363);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
