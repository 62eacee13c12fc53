package org.mikrotext.store.control;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What a group commit tells the listeners of a PostgreSQL channel, in its own transaction ({@code pg_notify}), so
 * that they hear of it when, and only when, it commits: payloads made from each stored-to room's newest {@code seq}
 * in the batch. The relay instances sharing a database use it to tell each other of stored envelopes without a round
 * trip of its own after the commit (docs/deployment.md).
 */
public record Notices(String channel, Function<Map<String, Long>, List<String>> payloads) {

    /** Tells nobody. */
    public static final Notices NONE = new Notices(null, newest -> List.of());
}
