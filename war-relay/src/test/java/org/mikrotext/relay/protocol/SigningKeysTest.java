package org.mikrotext.relay.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class SigningKeysTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final String PREFIX = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
    /** alice's signing key from mtx1-vectors.json. */
    private static final byte[] ALICE = HEX.parseHex(PREFIX
            + "0402dde5ef86d3e0bd35dfdc7b114715cc96b340972ec0d1effa4d987c3a91d93a"
            + "5614a096a7450c33fe3116f3204bb0c64717deda101ba571e69ab8ab05d2343e");
    private static final BigInteger P = new BigInteger(
            "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", 16);
    private static final BigInteger B = new BigInteger(
            "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b", 16);

    @Test
    void parsesVectorKey() {
        ECPublicKey key = SigningKeys.parseSpki(ALICE);
        assertEquals(new BigInteger("02dde5ef86d3e0bd35dfdc7b114715cc96b340972ec0d1effa4d987c3a91d93a", 16),
                key.getW().getAffineX());
        assertArrayEquals(ALICE, key.getEncoded());
    }

    @Test
    void parsesFreshlyGeneratedKeys() throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        for (int i = 0; i < 20; i++) {
            byte[] spki = gen.generateKeyPair().getPublic().getEncoded();
            assertArrayEquals(spki, SigningKeys.parseSpki(spki).getEncoded());
        }
    }

    @Test
    void rejectsWrongLengths() {
        rejects(null);
        rejects(new byte[0]);
        rejects(Arrays.copyOf(ALICE, 90));
        rejects(Arrays.copyOf(ALICE, 92));
    }

    @Test
    void rejectsOtherCurvesAndAlgorithms() throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp384r1"));
        rejects(gen.generateKeyPair().getPublic().getEncoded());
        // secp256k1 (1.3.132.0.10) with alice's coordinates: 88 bytes.
        rejects(HEX.parseHex("3056301006072a8648ce3d020106052b8104000a034200" + HEX.formatHex(ALICE, 26, 91)));
        // Same length, different curve OID (…3.1.7 -> …3.1.8) and different algorithm OID (…2.1 -> …2.2).
        rejects(withByte(ALICE, 24, 0x08));
        rejects(withByte(ALICE, 13, 0x02));
        // Unused-bits byte of the BIT STRING must be zero.
        rejects(withByte(ALICE, 25, 0x01));
    }

    @Test
    void rejectsCompressedAndHybridPoints() {
        rejects(HEX.parseHex("3039301306072a8648ce3d020106082a8648ce3d030107032200" + "02"
                + HEX.formatHex(ALICE, 27, 59)));
        rejects(withByte(ALICE, 26, 0x02));
        rejects(withByte(ALICE, 26, 0x03));
        rejects(withByte(ALICE, 26, 0x06));
    }

    @Test
    void rejectsPointsOffTheCurve() {
        rejects(withByte(ALICE, 90, ALICE[90] ^ 0x01));        // flip a bit of y
        rejects(withByte(ALICE, 40, ALICE[40] ^ 0x80));        // flip a bit of x
        byte[] zero = ALICE.clone();
        Arrays.fill(zero, 27, 91, (byte) 0);                      // (0, 0): no encoding of infinity
        rejects(zero);
    }

    @Test
    void rejectsUnreducedCoordinates() {
        // Find a valid point with a small x, then encode x + p (< 2^256): on the curve mod p but not reduced.
        for (BigInteger x = BigInteger.ONE; ; x = x.add(BigInteger.ONE)) {
            BigInteger rhs = x.pow(3).subtract(x.multiply(BigInteger.valueOf(3))).add(B).mod(P);
            BigInteger y = rhs.modPow(P.add(BigInteger.ONE).shiftRight(2), P);
            if (y.multiply(y).mod(P).equals(rhs)) {
                SigningKeys.parseSpki(spki(x, y));                // the reduced point is fine
                rejects(spki(x.add(P), y));
                return;
            }
        }
    }

    @Test
    void messageDoesNotEchoInput() {
        MalformedFieldException e = assertThrows(MalformedFieldException.class,
                () -> SigningKeys.parseSpki(withByte(ALICE, 90, ALICE[90] ^ 0x01)));
        assertFalse(e.getMessage().toLowerCase().contains("3059"));
        assertEquals("publicKey", e.field());
    }

    private static byte[] spki(BigInteger x, BigInteger y) {
        return HEX.parseHex(PREFIX + "04" + String.format("%064x%064x", x, y));
    }

    private static byte[] withByte(byte[] b, int index, int value) {
        byte[] copy = b.clone();
        copy[index] = (byte) value;
        return copy;
    }

    private static void rejects(byte[] spki) {
        assertThrows(MalformedFieldException.class, () -> SigningKeys.parseSpki(spki));
    }
}
