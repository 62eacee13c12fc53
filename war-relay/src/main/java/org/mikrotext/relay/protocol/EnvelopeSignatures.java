package org.mikrotext.relay.protocol;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Verifies MTX1 envelope signatures: ECDSA P-256 with SHA-256 in IEEE P1363 form (64 bytes {@code r||s}).
 *
 * <p>Verification decides much of the relay's ceiling. The JDK's SunEC manages about 1,100 verifications a second
 * per core on the reference machine; BouncyCastle (pure Java) about 12,000 with its own key object, allocating some
 * 80 KB per verification; the Amazon Corretto Crypto Provider (AWS-LC, native) about 1.7 times BouncyCastle's rate
 * with under 2 KB allocated (docs/performance.md, after 6). The native provider is used where its library loads on
 * this platform (Linux x86-64), passes its own self-tests and verifies a signature made by the JDK here, unless
 * {@code mikrotext.signatures.native} is {@code false}; otherwise BouncyCastle. Either is a provider instance passed
 * to {@link Signature#getInstance(String, Provider)}, never registered globally, so nothing else in the application
 * server changes.
 */
public final class EnvelopeSignatures {

    private static final Logger LOG = Logger.getLogger(EnvelopeSignatures.class.getName());
    private static final int SIGNATURE_LENGTH = 64;

    /** A provider of ECDSA P-256 with SHA-256, and its name for the plain {@code r||s} form. */
    record Verifier(Provider provider, String algorithm) {

        /** The key as this provider's own key object (BouncyCastle keeps its point tables in it). */
        ECPublicKey key(ECPublicKey key) {
            try {
                return (ECPublicKey) KeyFactory.getInstance("EC", provider)
                        .generatePublic(new X509EncodedKeySpec(key.getEncoded()));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("A validated P-256 key could not be converted", e);
            }
        }

        boolean verify(ECPublicKey key, byte[] signingInput, byte[] signatureP1363) {
            if (key == null || signingInput == null || signatureP1363 == null
                    || signatureP1363.length != SIGNATURE_LENGTH) {
                return false;
            }
            Signature verifier;
            try {
                verifier = Signature.getInstance(algorithm, provider);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(algorithm + " is not available from " + provider.getName(), e);
            }
            try {
                verifier.initVerify(key);
                verifier.update(signingInput);
                return verifier.verify(signatureP1363);
            } catch (GeneralSecurityException | RuntimeException e) {
                return false;
            }
        }

        String describe() {
            return provider.getName() + " " + provider.getVersionStr();
        }
    }

    /** BouncyCastle's name for the JDK's {@code SHA256withECDSAinP1363Format}. */
    static final Verifier BOUNCY_CASTLE = new Verifier(new BouncyCastleProvider(), "SHA256withPLAIN-ECDSA");

    /** Chosen by {@link #configure} at the relay's start; on first use if nothing chose before (tests, tools). */
    private static volatile Verifier current;

    private EnvelopeSignatures() {
    }

    /**
     * Chooses the provider at the relay's start and says which in one log line: the native one if {@code allowNative}
     * and it works here, else BouncyCastle.
     */
    public static void configure(boolean allowNative) {
        Verifier chosen = preferred(allowNative);
        current = chosen;
        LOG.log(Level.INFO, "Envelope signatures are verified by {0}", chosen.describe());
    }

    /** The provider now in use, by name and version. */
    public static String provider() {
        return current().describe();
    }

    private static Verifier current() {
        Verifier chosen = current;
        if (chosen == null) {
            synchronized (EnvelopeSignatures.class) {
                if (current == null) {
                    current = preferred(true);
                }
                chosen = current;
            }
        }
        return chosen;
    }

    /**
     * The same key as the provider's own key object, to keep for many verifications: given a key of another
     * provider, BouncyCastle converts it on every {@code initVerify} and recomputes its tables for the key's point;
     * with its own object it keeps them (about three times as many verifications per second, measured).
     *
     * @param key a key from {@link SigningKeys#parseSpki}
     */
    public static ECPublicKey verificationKey(ECPublicKey key) {
        return current().key(key);
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
        return current().verify(key, signingInput, signatureP1363);
    }

    static Verifier preferred(boolean allowNative) {
        if (!allowNative) {
            return BOUNCY_CASTLE;
        }
        try {
            AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
            if (accp.getLoadingError() != null) {
                LOG.log(Level.INFO, "The native signature provider does not load here ({0}); using BouncyCastle",
                        accp.getLoadingError().toString());
                return BOUNCY_CASTLE;
            }
            accp.assertHealthy();
            Verifier verifier = new Verifier(accp, "SHA256withECDSAinP1363Format");
            if (!agreesWithTheJdk(verifier)) {
                LOG.warning("The native signature provider disagreed with the JDK on a test signature; using "
                        + "BouncyCastle");
                return BOUNCY_CASTLE;
            }
            return verifier;
        } catch (GeneralSecurityException | RuntimeException | LinkageError e) {
            LOG.log(Level.INFO, "The native signature provider is not usable here ({0}); using BouncyCastle",
                    e.toString());
            return BOUNCY_CASTLE;
        }
    }

    /** A signature made by the JDK's own provider verifies, and the same signature over other bytes does not. */
    private static boolean agreesWithTheJdk(Verifier verifier) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        byte[] input = "MTX1 provider check".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
        signer.initSign(pair.getPrivate());
        signer.update(input);
        byte[] signature = signer.sign();
        ECPublicKey key = verifier.key((ECPublicKey) pair.getPublic());
        byte[] other = input.clone();
        other[0] ^= 1;
        return verifier.verify(key, input, signature) && !verifier.verify(key, other, signature);
    }
}
