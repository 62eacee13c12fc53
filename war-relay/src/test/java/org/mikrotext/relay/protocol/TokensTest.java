package org.mikrotext.relay.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokensTest {

    @Test
    void tokensAreFreshAndOf32Bytes() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            byte[] token = Tokens.newToken();
            assertEquals(32, token.length);
            assertFalse(Arrays.equals(new byte[32], token));
            seen.add(Base64Url.encode(token));
        }
        assertEquals(100, seen.size());
    }

    @Test
    void idsAre22CharsOf16Bytes() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String id = Tokens.newId();
            assertEquals(22, id.length());
            assertEquals(16, Base64Url.decode(id, 16).length);
            seen.add(id);
        }
        assertEquals(100, seen.size());
    }

    @Test
    void sha256() {
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                HexFormat.of().formatHex(Tokens.sha256("abc".getBytes(StandardCharsets.US_ASCII))));
    }

    @Test
    void hashTokenHashesDecodedBytes() {
        byte[] token = Tokens.newToken();
        assertArrayEquals(Tokens.sha256(token), Tokens.hashToken(Base64Url.encode(token)));
    }

    @Test
    void hashTokenRejectsMalformedTokens() {
        String valid = Base64Url.encode(new byte[32]);
        for (String bad : new String[] {null, "", Base64Url.encode(new byte[31]), Base64Url.encode(new byte[33]),
                valid + "=", "+" + valid.substring(1), valid.substring(0, 42) + "B"}) {
            MalformedFieldException e = assertThrows(MalformedFieldException.class, () -> Tokens.hashToken(bad));
            assertEquals("token", e.field());
        }
    }
}
