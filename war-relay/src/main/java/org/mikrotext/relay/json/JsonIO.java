package org.mikrotext.relay.json;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonBuilderFactory;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import java.io.StringReader;
import java.util.Map;

/**
 * JSON builders and readers from factories made once. {@code Json.createObjectBuilder()} and friends look the JSON
 * provider up through a {@code ServiceLoader} on every call, which under load costs more than the JSON itself and
 * serialises threads on the class loader.
 */
public final class JsonIO {

    private static final JsonBuilderFactory BUILDERS = Json.createBuilderFactory(Map.of());
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());

    private JsonIO() {
    }

    public static JsonObjectBuilder object() {
        return BUILDERS.createObjectBuilder();
    }

    public static JsonObjectBuilder object(JsonObject copy) {
        return BUILDERS.createObjectBuilder(copy);
    }

    public static JsonArrayBuilder array() {
        return BUILDERS.createArrayBuilder();
    }

    /**
     * Parses a JSON object; anything else (or malformed JSON) throws {@link JsonException}. Parsson refuses some input
     * with other exceptions (nesting past its depth limit, a number too long or with an exponent out of range): they
     * are JsonExceptions here too, so that every caller answers them as bad input.
     */
    public static JsonObject readObject(String text) {
        try (JsonReader reader = READERS.createReader(new StringReader(text))) {
            return reader.readObject();
        } catch (JsonException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new JsonException("Not a single JSON object", e);
        }
    }
}
