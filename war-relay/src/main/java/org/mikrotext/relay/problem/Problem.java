package org.mikrotext.relay.problem;

import java.util.concurrent.TimeUnit;

/**
 * A refusal with an HTTP status and a stable problem type, rendered as RFC 9457 {@code application/problem+json}
 * over REST and as an {@code error} frame (or a close code) over WebSocket. Details never echo secrets or input.
 */
public class Problem extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public static final String TYPE_BASE = "https://mikrotext.org/problems/";

    private final int status;
    private final String type;
    private final String title;
    private final long retryAfterSeconds;

    public Problem(int status, String type, String title, String detail) {
        this(status, type, title, detail, 0);
    }

    public Problem(int status, String type, String title, String detail, long retryAfterSeconds) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static Problem badRequest(String detail) {
        return new Problem(400, "invalid-request", "The request is not valid", detail);
    }

    public static Problem unauthorized() {
        return new Problem(401, "unauthorized", "Not authenticated for this room",
                "A valid session token of this room is required");
    }

    public static Problem forbidden(String detail) {
        return new Problem(403, "forbidden", "Not allowed", detail);
    }

    public static Problem roomNotFound() {
        return new Problem(404, "room-not-found", "No such room", "The room does not exist, has expired or was deleted");
    }

    public static Problem conflict(String type, String title, String detail) {
        return new Problem(409, type, title, detail);
    }

    public static Problem tooLarge(String detail) {
        return new Problem(413, "too-large", "Too large", detail);
    }

    /** The relay is storing too many envelopes at once, or shutting down: retry in a second. */
    public static Problem relayBusy(String detail) {
        return new Problem(503, "relay-busy", "Temporarily unavailable", detail, 1);
    }

    public static Problem rateLimited(long retryAfterSeconds) {
        return new Problem(429, "rate-limited", "Too many requests", "Slow down and retry later", retryAfterSeconds);
    }

    /** {@link #rateLimited(long)} after a token bucket's wait: whole seconds, rounded up, at least one. */
    public static Problem rateLimitedFor(long waitNanos) {
        return rateLimited(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos + 999_999_999L)));
    }

    public int status() {
        return status;
    }

    /** The problem type's URI. */
    public String type() {
        return TYPE_BASE + type;
    }

    /** The problem type's last segment, e.g. {@code bad-signature}. */
    public String shortType() {
        return type;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return getMessage();
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
