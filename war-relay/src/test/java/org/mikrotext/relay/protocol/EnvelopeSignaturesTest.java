package org.mikrotext.relay.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EnvelopeSignaturesTest {

    private static final BigInteger N = new BigInteger(
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 16);

    private static KeyPair pair;
    private static ECPublicKey key;
    private static final byte[] INPUT = Frame.envelopeSigningInput("room", "sender", 1, new byte[16], 0,
            new byte[60], new byte[12], new byte[32]);
    private static byte[] signature;

    @BeforeAll
    static void sign() throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        pair = gen.generateKeyPair();
        key = SigningKeys.parseSpki(pair.getPublic().getEncoded());
        Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
        signer.initSign(pair.getPrivate());
        signer.update(INPUT);
        signature = signer.sign();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verifiers")
    void verifiesValidSignature(EnvelopeSignatures.Verifier v) {
        assertTrue(v.verify(key, INPUT, signature));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verifiers")
    void thePreparedKeyIsTheSameKeyAndVerifiesTheSame(EnvelopeSignatures.Verifier v) {
        ECPublicKey prepared = v.key(key);
        assertArrayEquals(key.getEncoded(), prepared.getEncoded());
        assertEquals(key.getW(), prepared.getW());
        assertTrue(v.verify(prepared, INPUT, signature));
        assertTrue(v.verify(prepared, INPUT, signature), "again, with the key's tables kept");
        byte[] tampered = INPUT.clone();
        tampered[0] ^= 1;
        assertFalse(v.verify(prepared, tampered, signature));
        byte[] otherSignature = signature.clone();
        otherSignature[40] ^= 1;
        assertFalse(v.verify(prepared, INPUT, otherSignature));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verifiers")
    void rejectsWithoutThrowing(EnvelopeSignatures.Verifier v) throws Exception {
        assertFalse(v.verify(key, INPUT, Arrays.copyOf(signature, 63)));
        assertFalse(v.verify(key, INPUT, Arrays.copyOf(signature, 65)));
        assertFalse(v.verify(key, INPUT, new byte[0]));
        assertFalse(v.verify(key, INPUT, new byte[64]));
        assertFalse(v.verify(key, INPUT, null));
        assertFalse(v.verify(null, INPUT, signature));
        assertFalse(v.verify(key, null, signature));
        byte[] rIsN = signature.clone();
        System.arraycopy(N.toByteArray(), 1, rIsN, 0, 32);
        assertFalse(v.verify(key, INPUT, rIsN));
        byte[] allOnes = new byte[64];
        Arrays.fill(allOnes, (byte) 0xff);
        assertFalse(v.verify(key, INPUT, allOnes));

        // A DER signature (the JDK's default form) is not accepted.
        Signature der = Signature.getInstance("SHA256withECDSA");
        der.initSign(pair.getPrivate());
        der.update(INPUT);
        assertFalse(v.verify(key, INPUT, der.sign()));

        byte[] tampered = INPUT.clone();
        tampered[tampered.length - 1] ^= 1;
        assertFalse(v.verify(key, tampered, signature));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verifiers")
    void isSafeToCallConcurrently(EnvelopeSignatures.Verifier v) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = pool.invokeAll(Collections.nCopies(200,
                    () -> v.verify(key, INPUT, signature)
                            && !v.verify(key, INPUT, new byte[64])));
            for (Future<Boolean> r : results) {
                assertTrue(r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Every test above runs for BouncyCastle and for the provider the relay prefers here. */
    static Stream<EnvelopeSignatures.Verifier> verifiers() {
        return Stream.of(EnvelopeSignatures.BOUNCY_CASTLE, EnvelopeSignatures.preferred(true));
    }

    @Test
    void onLinuxX86TheNativeProviderIsPreferredAndWithoutItBouncyCastle() {
        boolean linuxX86 = System.getProperty("os.name").startsWith("Linux")
                && System.getProperty("os.arch").equals("amd64");
        assertEquals(linuxX86 ? "AmazonCorrettoCryptoProvider" : "BC",
                EnvelopeSignatures.preferred(true).provider().getName());
        assertEquals("BC", EnvelopeSignatures.preferred(false).provider().getName());
    }

    @Test
    void configureSwitchesTheProviderOfTheStaticCalls() {
        try {
            EnvelopeSignatures.configure(false);
            assertTrue(EnvelopeSignatures.provider().startsWith("BC "), EnvelopeSignatures.provider());
            assertTrue(EnvelopeSignatures.verify(EnvelopeSignatures.verificationKey(key), INPUT, signature));
        } finally {
            EnvelopeSignatures.configure(true);
        }
        assertTrue(EnvelopeSignatures.verify(EnvelopeSignatures.verificationKey(key), INPUT, signature));
        assertFalse(EnvelopeSignatures.verify(EnvelopeSignatures.verificationKey(key), INPUT, new byte[64]));
    }
}
