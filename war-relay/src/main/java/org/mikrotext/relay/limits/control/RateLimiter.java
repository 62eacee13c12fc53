package org.mikrotext.relay.limits.control;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.problem.Problem;

/**
 * Token-bucket rate limits: sending per participant, room creation and joins per client address, and all API
 * calls and socket handshakes per client address. Buckets that have refilled are forgotten.
 */
@ApplicationScoped
public class RateLimiter {

    /** What is being limited; each kind has its own buckets. */
    public enum Kind { SEND, JOIN, API }

    private static final long CLEANUP_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    @Inject
    Limits limits;

    private final Map<Kind, Map<String, TokenBucket>> buckets = new ConcurrentHashMap<>();
    private final AtomicLong lastCleanup = new AtomicLong(System.nanoTime());

    @PostConstruct
    void init() {
        for (Kind kind : Kind.values()) {
            buckets.put(kind, new ConcurrentHashMap<>());
        }
    }

    /** Takes one token for {@code key}, or throws a 429 problem with the seconds to wait. */
    public void take(Kind kind, String key) {
        long now = System.nanoTime();
        long waitNanos = buckets.get(kind)
                .computeIfAbsent(key, k -> newBucket(kind, now))
                .tryTake(now);
        cleanupIfDue(now);
        if (waitNanos > 0) {
            throw Problem.rateLimitedFor(waitNanos);
        }
    }

    private TokenBucket newBucket(Kind kind, long now) {
        return switch (kind) {
            case SEND -> new TokenBucket(limits.sendCapacity(), nanos(limits.sendPeriod()), now);
            case JOIN -> new TokenBucket(limits.joinCapacity(), nanos(limits.joinPeriod()), now);
            case API -> new TokenBucket(limits.apiCapacity(), nanos(limits.apiPeriod()), now);
        };
    }

    private void cleanupIfDue(long now) {
        long last = lastCleanup.get();
        if (now - last > CLEANUP_EVERY_NANOS && lastCleanup.compareAndSet(last, now)) {
            for (Map<String, TokenBucket> map : buckets.values()) {
                map.values().removeIf(bucket -> bucket.isFull(now));
            }
        }
    }

    private static long nanos(Duration d) {
        return Math.max(1, d.toNanos());
    }
}
