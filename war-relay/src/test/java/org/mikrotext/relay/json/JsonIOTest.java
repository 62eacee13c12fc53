package org.mikrotext.relay.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import jakarta.json.JsonException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonIOTest {

    /** Input Parsson refuses with exceptions other than JsonException is still bad input, never a failure of ours. */
    @ParameterizedTest
    @ValueSource(strings = {
        "{\"ttlSeconds\":1e9999999999}",
        "DEEP",
        "LONG",
        "[1]",
        "{\"a\":",
        ""})
    void inputThatIsNotOneJsonObjectThrowsJsonException(String input) {
        String text = switch (input) {
            case "DEEP" -> "{\"a\":" + "[".repeat(1_001) + "]".repeat(1_001) + "}";
            case "LONG" -> "{\"a\":" + "9".repeat(1_200) + "}";
            default -> input;
        };
        assertThrows(JsonException.class, () -> JsonIO.readObject(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"ttlSeconds\":1e400}", "{\"a\":[[[1]]]}"})
    void oneJsonObjectIsRead(String input) {
        assertEquals(1, JsonIO.readObject(input).size());
    }
}
