package org.mikrotext.relay.protocol;

/**
 * A client-supplied field that does not meet the MTX1 wire format (answered with 400).
 * The message names what is wrong and never contains the offending value.
 */
public final class MalformedFieldException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;

    /**
     * @param field   name of the offending field, e.g. {@code "chainId"}
     * @param message user-facing description of the problem; must not contain the value
     */
    public MalformedFieldException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** @return name of the offending field */
    public String field() {
        return field;
    }
}
