package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CatchUpPoolTest {

    private final CatchUpPool pool = new CatchUpPool(Thread::new, 2, 100);

    @AfterEach
    void stop() {
        pool.shutdown();
    }

    @Test
    void aBurstLargerThanThePoolWaitsItsTurnAndEveryTaskRuns() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch bothRunning = new CountDownLatch(2);
        CountDownLatch done = new CountDownLatch(50);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        Set<String> threadNames = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 50; i++) {
            pool.execute(() -> {
                mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                threadNames.add(Thread.currentThread().getName());
                bothRunning.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                running.decrementAndGet();
                done.countDown();
            });
        }
        assertTrue(bothRunning.await(10, TimeUnit.SECONDS), "two catch-ups started");
        assertEquals(48, pool.waiting(), "the two threads are busy, the rest wait");
        release.countDown();
        assertTrue(done.await(10, TimeUnit.SECONDS), "every queued catch-up ran");
        assertEquals(2, mostAtOnce.get());
        assertTrue(threadNames.stream().allMatch(name -> name.startsWith("mikrotext-catch-up-")), threadNames::toString);
    }

    @Test
    void onlyAFullQueueRefuses() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        Runnable blocked = () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        for (int i = 0; i < 102; i++) { // two running, a hundred waiting
            pool.execute(blocked);
        }
        assertThrows(RejectedExecutionException.class, () -> pool.execute(blocked));
        release.countDown();
    }
}
