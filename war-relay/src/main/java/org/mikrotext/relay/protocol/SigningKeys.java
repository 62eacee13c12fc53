package org.mikrotext.relay.protocol;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EllipticCurve;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Parses MTX1 public keys: the 91-byte SPKI DER of an uncompressed P-256 point (WebCrypto
 * {@code exportKey('spki')}), used for both ECDSA signing keys and ECDH exchange keys.
 */
public final class SigningKeys {

    /** SPKI length: 26-byte prefix, 0x04, then 32-byte x and 32-byte y. */
    private static final int SPKI_LENGTH = 91;

    private static final String FIELD = "publicKey";

    /** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes, 0 unused bits) }. */
    private static final byte[] PREFIX =
            HexFormat.of().parseHex("3059301306072a8648ce3d020106082a8648ce3d030107034200");

    private static final ECParameterSpec P256;
    private static final BigInteger P;
    private static final BigInteger A;
    private static final BigInteger B;

    static {
        try {
            AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
            params.init(new ECGenParameterSpec("secp256r1"));
            P256 = params.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
        EllipticCurve curve = P256.getCurve();
        P = ((ECFieldFp) curve.getField()).getP();
        A = curve.getA(); // p - 3
        B = curve.getB();
    }

    private SigningKeys() {
    }

    /**
     * Parses and validates an SPKI.
     *
     * @throws MalformedFieldException on any other length, algorithm, curve, point encoding, or a point off the curve
     */
    public static ECPublicKey parseSpki(byte[] spki) {
        if (spki == null) {
            throw new MalformedFieldException(FIELD, "public key is missing");
        }
        if (spki.length != SPKI_LENGTH) {
            throw new MalformedFieldException(FIELD, "public key must be a 91-byte P-256 SPKI");
        }
        if (!Arrays.equals(spki, 0, PREFIX.length, PREFIX, 0, PREFIX.length)) {
            throw new MalformedFieldException(FIELD, "public key must be an EC key on curve P-256");
        }
        if (spki[PREFIX.length] != 0x04) {
            throw new MalformedFieldException(FIELD, "public key must be an uncompressed point");
        }
        int xAt = PREFIX.length + 1;
        BigInteger x = new BigInteger(1, Arrays.copyOfRange(spki, xAt, xAt + 32));
        BigInteger y = new BigInteger(1, Arrays.copyOfRange(spki, xAt + 32, xAt + 64));
        if (!onCurve(x, y)) {
            throw new MalformedFieldException(FIELD, "public key is not a point on curve P-256");
        }
        try {
            return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), P256));
        } catch (GeneralSecurityException e) {
            throw new MalformedFieldException(FIELD, "public key is not a valid P-256 key");
        }
    }

    /** y² ≡ x³ + ax + b (mod p) with both coordinates reduced; P-256 has cofactor 1, so this is the whole check. */
    private static boolean onCurve(BigInteger x, BigInteger y) {
        if (x.compareTo(P) >= 0 || y.compareTo(P) >= 0) {
            return false;
        }
        BigInteger left = y.multiply(y).mod(P);
        BigInteger right = x.multiply(x).multiply(x).add(A.multiply(x)).add(B).mod(P);
        return left.equals(right);
    }
}
