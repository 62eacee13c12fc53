package org.mikrotext.relay.json;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.protocol.Base64Url;
import org.mikrotext.relay.protocol.MalformedFieldException;

/**
 * Strict reading of request fields from JSON: the right type, the right size, base64url decoded strictly.
 * Every refusal names the field, never its value.
 */
public final class JsonFields {

    private JsonFields() {
    }

    public static String string(JsonObject json, String name) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            throw new MalformedFieldException(name, "The field '" + name + "' is required");
        }
        if (!(value instanceof JsonString s)) {
            throw new MalformedFieldException(name, "The field '" + name + "' must be a string");
        }
        return s.getString();
    }

    /** A string no longer than {@code maxChars} (checked before any further work on it). */
    public static String string(JsonObject json, String name, int maxChars) {
        String s = string(json, name);
        if (s.length() > maxChars) {
            throw new MalformedFieldException(name, "The field '" + name + "' is too long");
        }
        return s;
    }

    /** An array of at most {@code maxItems} items. */
    public static JsonArray array(JsonObject json, String name, int maxItems) {
        JsonValue value = json.get(name);
        if (!(value instanceof JsonArray array)) {
            throw new MalformedFieldException(name, "The field '" + name + "' must be an array");
        }
        if (array.size() > maxItems) {
            throw new MalformedFieldException(name, "The field '" + name + "' has more than " + maxItems + " items");
        }
        return array;
    }

    /** A base64url field of exactly {@code length} decoded bytes. */
    public static byte[] bytes(JsonObject json, String name, int length) {
        String s = string(json, name);
        try {
            return Base64Url.decode(s, length);
        } catch (MalformedFieldException e) {
            throw new MalformedFieldException(name,
                    "The field '" + name + "' must be " + length + " bytes of base64url without padding");
        }
    }

    /** A base64url field of exactly {@code length} decoded bytes, or null when absent or null. */
    public static byte[] optionalBytes(JsonObject json, String name, int length) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        return bytes(json, name, length);
    }

    /** A base64url field of 1 to {@code maxLength} decoded bytes; over the limit is 413. */
    public static byte[] boundedBytes(JsonObject json, String name, int maxLength) {
        String s = string(json, name);
        try {
            Base64Url.requireMaxEncodedLength(s, maxLength);
        } catch (MalformedFieldException e) {
            throw Problem.tooLarge("The field '" + name + "' is over " + maxLength + " bytes");
        }
        byte[] decoded;
        try {
            decoded = Base64Url.decode(s);
        } catch (MalformedFieldException e) {
            throw new MalformedFieldException(name, "The field '" + name + "' must be base64url without padding");
        }
        if (decoded.length == 0) {
            throw new MalformedFieldException(name, "The field '" + name + "' must not be empty");
        }
        return decoded;
    }

    /** An integer in {@code [min, max]}. */
    public static int integer(JsonObject json, String name, long min, long max) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            throw new MalformedFieldException(name, "The field '" + name + "' is required");
        }
        return (int) integerValue(value, name, min, Math.min(max, Integer.MAX_VALUE));
    }

    /** An optional integer in {@code [min, max]}, else {@code fallback}. */
    public static long optionalLong(JsonObject json, String name, long min, long max, long fallback) {
        JsonValue value = json.get(name);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return fallback;
        }
        return integerValue(value, name, min, max);
    }

    private static long integerValue(JsonValue value, String name, long min, long max) {
        if (!(value instanceof JsonNumber n) || !n.isIntegral()) {
            throw new MalformedFieldException(name, "The field '" + name + "' must be an integer");
        }
        long v;
        try {
            v = n.longValueExact();
        } catch (ArithmeticException e) {
            throw new MalformedFieldException(name, "The field '" + name + "' is out of range");
        }
        if (v < min || v > max) {
            throw new MalformedFieldException(name, "The field '" + name + "' must be between " + min + " and " + max);
        }
        return v;
    }
}
