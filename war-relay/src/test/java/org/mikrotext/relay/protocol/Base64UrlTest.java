package org.mikrotext.relay.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Base64UrlTest {

    @Test
    void roundTripsAgainstJdkEncoder() {
        Random random = new Random(42);
        for (int n = 0; n <= 100; n++) {
            byte[] b = new byte[n];
            random.nextBytes(b);
            String expected = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
            assertEquals(expected, Base64Url.encode(b));
            assertArrayEquals(b, Base64Url.decode(expected));
            assertArrayEquals(b, Base64Url.decode(expected, n));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"AA==", "AAA=", "AB==", "A===", "AAAA+A", "AAAA/A", "AB+/", "AA AA", " AAAA", "AAAA\n",
            "AA\tAA", "AAAA\r\n", "A", "AAAAA", "AR", "AAB", "AAAAAR", "_w=", "AA.A", "AA*A", "\u00c0AAA", "\uff21AAA",
            "AA\u0000A"})
    void rejectsNonCanonicalInput(String s) {
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode(s));
    }

    @Test
    void trailingBitsMustBeZero() {
        assertArrayEquals(new byte[] {0x01}, Base64Url.decode("AQ"));
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode("AR"));
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode("AT"));
        assertArrayEquals(new byte[] {0x00, 0x04}, Base64Url.decode("AAQ"));
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode("AAR"));
    }

    @Test
    void rejectsNull() {
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode(null));
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode(null, 16));
    }

    @Test
    void checksExpectedLength() {
        String sixteen = Base64Url.encode(new byte[16]);
        assertEquals(22, sixteen.length());
        assertEquals(16, Base64Url.decode(sixteen, 16).length);
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode(sixteen, 15));
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode(sixteen, 17));
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode(sixteen, 32));
        // Right length but a bad character still fails.
        assertThrows(MalformedFieldException.class, () -> Base64Url.decode("+" + sixteen.substring(1), 16));
    }

    @Test
    void requireMaxEncodedLength() {
        String token = Base64Url.encode(new byte[32]);
        assertEquals(43, token.length());
        assertDoesNotThrow(() -> Base64Url.requireMaxEncodedLength(token, 32));
        assertDoesNotThrow(() -> Base64Url.requireMaxEncodedLength("", 0));
        assertThrows(MalformedFieldException.class, () -> Base64Url.requireMaxEncodedLength(token + "A", 32));
        assertThrows(MalformedFieldException.class, () -> Base64Url.requireMaxEncodedLength(token, 31));
        assertThrows(MalformedFieldException.class, () -> Base64Url.requireMaxEncodedLength("A", 0));
        assertThrows(MalformedFieldException.class, () -> Base64Url.requireMaxEncodedLength(null, 32));

        int max = 64 * 1024;
        String full = Base64Url.encode(new byte[max]);
        assertDoesNotThrow(() -> Base64Url.requireMaxEncodedLength(full, max));
        assertThrows(MalformedFieldException.class, () -> Base64Url.requireMaxEncodedLength(full + "AA", max));
        // No overflow for huge limits.
        assertDoesNotThrow(() -> Base64Url.requireMaxEncodedLength(full, Integer.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> Base64Url.requireMaxEncodedLength("", -1));
    }

    @Test
    void messageNeverEchoesInput() {
        MalformedFieldException e = assertThrows(MalformedFieldException.class,
                () -> Base64Url.decode("SECRETSECRET+"));
        assertFalse(e.getMessage().contains("SECRET"));
        assertEquals("base64url", e.field());
        e = assertThrows(MalformedFieldException.class, () -> Base64Url.decode("SECRETSECRET", 3));
        assertFalse(e.getMessage().contains("SECRET"));
    }
}
