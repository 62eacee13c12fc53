package org.mikrotext.relay.limits.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long TEN_SECONDS = TimeUnit.SECONDS.toNanos(10);

    @Test
    void givesItsCapacityAtOnceThenRefillsEvenly() {
        TokenBucket bucket = new TokenBucket(20, TEN_SECONDS, 0);
        for (int i = 0; i < 20; i++) {
            assertEquals(0, bucket.tryTake(0), "token " + i);
        }
        long wait = bucket.tryTake(0);
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), wait, 1000, "one token every 500 ms");
        assertTrue(bucket.tryTake(TimeUnit.MILLISECONDS.toNanos(499)) > 0);
        assertEquals(0, bucket.tryTake(TimeUnit.MILLISECONDS.toNanos(500)));
    }

    @Test
    void neverHoldsMoreThanItsCapacity() {
        TokenBucket bucket = new TokenBucket(3, TEN_SECONDS, 0);
        long later = TimeUnit.HOURS.toNanos(1);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, bucket.tryTake(later));
        }
        assertTrue(bucket.tryTake(later) > 0);
        assertFalse(bucket.isFull(later));
        assertTrue(bucket.isFull(later + TEN_SECONDS));
    }
}
