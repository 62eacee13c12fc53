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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    @Test
    void verifiesValidSignature() {
        assertTrue(EnvelopeSignatures.verify(key, INPUT, signature));
    }

    @Test
    void thePreparedKeyIsTheSameKeyAndVerifiesTheSame() {
        ECPublicKey prepared = EnvelopeSignatures.verificationKey(key);
        assertArrayEquals(key.getEncoded(), prepared.getEncoded());
        assertEquals(key.getW(), prepared.getW());
        assertTrue(EnvelopeSignatures.verify(prepared, INPUT, signature));
        assertTrue(EnvelopeSignatures.verify(prepared, INPUT, signature), "again, with the key's tables kept");
        byte[] tampered = INPUT.clone();
        tampered[0] ^= 1;
        assertFalse(EnvelopeSignatures.verify(prepared, tampered, signature));
        byte[] otherSignature = signature.clone();
        otherSignature[40] ^= 1;
        assertFalse(EnvelopeSignatures.verify(prepared, INPUT, otherSignature));
    }

    @Test
    void rejectsWithoutThrowing() throws Exception {
        assertFalse(EnvelopeSignatures.verify(key, INPUT, Arrays.copyOf(signature, 63)));
        assertFalse(EnvelopeSignatures.verify(key, INPUT, Arrays.copyOf(signature, 65)));
        assertFalse(EnvelopeSignatures.verify(key, INPUT, new byte[0]));
        assertFalse(EnvelopeSignatures.verify(key, INPUT, new byte[64]));
        assertFalse(EnvelopeSignatures.verify(key, INPUT, null));
        assertFalse(EnvelopeSignatures.verify(null, INPUT, signature));
        assertFalse(EnvelopeSignatures.verify(key, null, signature));
        byte[] rIsN = signature.clone();
        System.arraycopy(N.toByteArray(), 1, rIsN, 0, 32);
        assertFalse(EnvelopeSignatures.verify(key, INPUT, rIsN));
        byte[] allOnes = new byte[64];
        Arrays.fill(allOnes, (byte) 0xff);
        assertFalse(EnvelopeSignatures.verify(key, INPUT, allOnes));

        // A DER signature (the JDK's default form) is not accepted.
        Signature der = Signature.getInstance("SHA256withECDSA");
        der.initSign(pair.getPrivate());
        der.update(INPUT);
        assertFalse(EnvelopeSignatures.verify(key, INPUT, der.sign()));

        byte[] tampered = INPUT.clone();
        tampered[tampered.length - 1] ^= 1;
        assertFalse(EnvelopeSignatures.verify(key, tampered, signature));
    }

    @Test
    void isSafeToCallConcurrently() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = pool.invokeAll(Collections.nCopies(200,
                    () -> EnvelopeSignatures.verify(key, INPUT, signature)
                            && !EnvelopeSignatures.verify(key, INPUT, new byte[64])));
            for (Future<Boolean> r : results) {
                assertTrue(r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
