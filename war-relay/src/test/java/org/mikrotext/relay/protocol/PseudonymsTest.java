package org.mikrotext.relay.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PseudonymsTest {

    private static final int MAX = 40;

    @Test
    void normalizesToNfcAndCountsCodePoints() {
        String decomposed = "e\u0301";
        assertEquals("\u00e9", Pseudonyms.normalize(decomposed, MAX));
        assertEquals("\u00e9", Pseudonyms.normalize(decomposed, 1));
        assertEquals("Zo\u00eb B.", Pseudonyms.normalize("Zoe\u0308 B.", MAX));
    }

    @Test
    void countsCodePointsNotUtf16Units() {
        String emoji = "\uD83D\uDE00"; // U+1F600, two UTF-16 units
        assertEquals(emoji.repeat(40), Pseudonyms.normalize(emoji.repeat(40), MAX));
        assertThrows(MalformedFieldException.class, () -> Pseudonyms.normalize(emoji.repeat(41), MAX));
        assertEquals("a".repeat(40), Pseudonyms.normalize("a".repeat(40), MAX));
        assertThrows(MalformedFieldException.class, () -> Pseudonyms.normalize("a".repeat(41), MAX));
        // Zero-width joiner (Cf) is allowed: family emoji sequences are ordinary text.
        String family = "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67";
        assertEquals(family, Pseudonyms.normalize(family, MAX));
    }

    @Test
    void rejectsHugeInputBeforeNormalizing() {
        assertThrows(MalformedFieldException.class, () -> Pseudonyms.normalize("\u0301".repeat(1_000_000), MAX));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "   ", "\u3000", " Alice", "Alice ", "Alice\n", "\tAlice",
            "Al\u0000ice", "Al\u007fice", "Al\u0085ice", "Al\u001bice",
            "Al\u061Cice", "Al\u200Eice", "Al\u200Fice", "Al\u202Aice", "Al\u202Eice", "Al\u2066ice", "Al\u2069ice",
            "Al\uD800ice"})
    void rejects(String raw) {
        MalformedFieldException e = assertThrows(MalformedFieldException.class, () -> Pseudonyms.normalize(raw, MAX));
        assertEquals("pseudonym", e.field());
        assertFalse(e.getMessage().isBlank());
    }

    @Test
    void rejectsNull() {
        assertThrows(MalformedFieldException.class, () -> Pseudonyms.normalize(null, MAX));
    }

    @Test
    void acceptsInnerSpacesAndNonLatinScripts() {
        assertEquals("Alice B", Pseudonyms.normalize("Alice B", MAX));
        assertEquals("\u0645\u0631\u064a\u0645", Pseudonyms.normalize("\u0645\u0631\u064a\u0645", MAX));
        assertEquals("\u5c0f\u660e", Pseudonyms.normalize("\u5c0f\u660e", MAX));
    }

    @Test
    void messageNeverEchoesInput() {
        String evil = "<script>x</script>\u202E";
        MalformedFieldException e = assertThrows(MalformedFieldException.class, () -> Pseudonyms.normalize(evil, MAX));
        assertFalse(e.getMessage().contains("script"));
        assertFalse(e.getMessage().contains("\u202E"));
        e = assertThrows(MalformedFieldException.class, () -> Pseudonyms.normalize("secret".repeat(10), MAX));
        assertFalse(e.getMessage().contains("secret"));
    }
}
