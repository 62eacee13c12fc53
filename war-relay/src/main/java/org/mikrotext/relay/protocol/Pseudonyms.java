package org.mikrotext.relay.protocol;

import java.text.Normalizer;

/**
 * Validates display pseudonyms: NFC, 1..max code points, no control characters (Cc), no bidi controls,
 * no unpaired surrogates, and no leading or trailing whitespace (never trimmed silently).
 */
public final class Pseudonyms {

    private static final String FIELD = "pseudonym";

    /**
     * Upper bound on UTF-16 units per code point accepted before normalization, so huge input is
     * rejected without normalizing it. NFC composes at most a few code points into one, so this is generous.
     */
    private static final int MAX_CHARS_PER_CODE_POINT = 16;

    private Pseudonyms() {
    }

    /**
     * @return the pseudonym in NFC, to be stored and shown
     * @throws MalformedFieldException with a user-facing message if the pseudonym is not acceptable
     */
    public static String normalize(String raw, int maxCodePoints) {
        if (maxCodePoints < 1) {
            throw new IllegalArgumentException("maxCodePoints must be at least 1");
        }
        if (raw == null || raw.isEmpty()) {
            throw new MalformedFieldException(FIELD, "Pseudonym must not be empty.");
        }
        String tooLong = "Pseudonym must be at most " + maxCodePoints + " characters.";
        if (raw.length() > (long) maxCodePoints * MAX_CHARS_PER_CODE_POINT) {
            throw new MalformedFieldException(FIELD, tooLong);
        }
        String s = Normalizer.normalize(raw, Normalizer.Form.NFC);
        if (s.codePointCount(0, s.length()) > maxCodePoints) {
            throw new MalformedFieldException(FIELD, tooLong);
        }
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (Character.getType(cp) == Character.CONTROL) {
                throw new MalformedFieldException(FIELD, "Pseudonym must not contain control characters.");
            }
            if (isBidiControl(cp)) {
                throw new MalformedFieldException(FIELD, "Pseudonym must not contain text-direction control characters.");
            }
            if (Character.getType(cp) == Character.SURROGATE) {
                throw new MalformedFieldException(FIELD, "Pseudonym is not valid text.");
            }
            i += Character.charCount(cp);
        }
        if (s.isBlank()) {
            throw new MalformedFieldException(FIELD, "Pseudonym must not be blank.");
        }
        if (!s.strip().equals(s)) {
            throw new MalformedFieldException(FIELD, "Pseudonym must not begin or end with a space.");
        }
        return s;
    }

    private static boolean isBidiControl(int cp) {
        return cp == 0x061C || cp == 0x200E || cp == 0x200F
                || (cp >= 0x202A && cp <= 0x202E)
                || (cp >= 0x2066 && cp <= 0x2069);
    }
}
