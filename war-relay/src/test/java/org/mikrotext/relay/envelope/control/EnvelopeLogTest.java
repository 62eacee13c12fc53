package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.enterprise.concurrent.ManagedThreadFactory;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import org.junit.jupiter.api.Test;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.SignedEnvelope;

class EnvelopeLogTest {

    @Test
    void aUniqueViolationAnywhereInTheChainIsAReplay() {
        SQLException duplicate = new SQLException("duplicate key value violates unique constraint", "23505");
        assertTrue(EnvelopeLog.isUniqueViolation(new RuntimeException(new IllegalStateException(duplicate))));

        BatchUpdateException batch = new BatchUpdateException("batch entry 3 was aborted", null, 0, new int[0]);
        batch.setNextException(duplicate);
        assertTrue(EnvelopeLog.isUniqueViolation(new RuntimeException(batch)), "the batch's next exception counts");
    }

    @Test
    void otherDatabaseFailuresAreNot() {
        assertFalse(EnvelopeLog.isUniqueViolation(new RuntimeException(new SQLException("refused", "08001"))));
        assertFalse(EnvelopeLog.isUniqueViolation(new RuntimeException("no SQL at all")));
    }

    @Test
    void aPublisherTakesEveryBatchWaitingUpToTheLimitInCommitOrder() {
        ArrayDeque<List<Integer>> queue = new ArrayDeque<>(List.of(batch(3, 1), batch(5, 2), batch(250, 3),
                batch(2, 4)));

        assertEquals(List.of(batch(3, 1), batch(5, 2)), EnvelopeLog.takeUpTo(queue, 256),
                "the third would pass 256 envelopes: it waits for the next round");
        assertEquals(List.of(batch(250, 3), batch(2, 4)), EnvelopeLog.takeUpTo(queue, 256));
        assertTrue(queue.isEmpty());
    }

    @Test
    void aBatchOverTheLimitIsStillTakenAloneAndOneWaitingAloneIsTakenAlone() {
        ArrayDeque<List<Integer>> queue = new ArrayDeque<>(List.of(batch(300, 1), batch(1, 2)));

        assertEquals(List.of(batch(300, 1)), EnvelopeLog.takeUpTo(queue, 256));
        assertEquals(List.of(batch(1, 2)), EnvelopeLog.takeUpTo(queue, 256));
        assertEquals(List.of(), EnvelopeLog.takeUpTo(queue, 256));
    }

    @Test
    void theBoundsRefuseAsBusyAtTheirLimitAndAStoppingRelayAlways() {
        EnvelopeLog.refuseIfBusy(EnvelopeLog.MAX_IN_FLIGHT - 1, EnvelopeLog.MAX_IN_FLIGHT_BYTES - 1, false);

        Problem full = assertThrows(Problem.class,
                () -> EnvelopeLog.refuseIfBusy(EnvelopeLog.MAX_IN_FLIGHT, 0, false));
        assertEquals(503, full.status());
        assertEquals("relay-busy", full.shortType());
        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> EnvelopeLog.refuseIfBusy(0, EnvelopeLog.MAX_IN_FLIGHT_BYTES, false)).shortType());
        assertEquals("relay-busy", assertThrows(Problem.class, () -> EnvelopeLog.refuseIfBusy(0, 0, true)).shortType());
    }

    @Test
    void anEnvelopeCountsInFlightUntilItEndsAndTheCountBoundsWhatIsTaken() {
        EnvelopeLog log = stalledLog();
        List<CompletableFuture<Envelope>> taken = new ArrayList<>();
        for (int i = 0; i < EnvelopeLog.MAX_IN_FLIGHT; i++) {
            taken.add(log.append("room", "participant", envelope(16)));
        }
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT, log.inFlight());

        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> log.append("room", "participant", envelope(16))).shortType());
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT, log.inFlight(), "a refused envelope is not counted");
        assertEquals("relay-busy", assertThrows(Problem.class, log::admit).shortType());

        log.stop();
        assertEquals(0, log.inFlight(), "every envelope ends when the relay stops");
        assertEquals(0, log.inFlightBytes());
        assertTrue(taken.stream().allMatch(CompletableFuture::isCompletedExceptionally));
    }

    @Test
    void theCiphertextInFlightIsBoundedToo() {
        EnvelopeLog log = stalledLog();
        int largest = 64 * 1024;
        for (long i = 0; i < EnvelopeLog.MAX_IN_FLIGHT_BYTES / largest; i++) {
            log.append("room", "participant", envelope(largest));
        }
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT_BYTES, log.inFlightBytes());

        assertEquals("relay-busy", assertThrows(Problem.class,
                () -> log.append("room", "participant", envelope(1))).shortType());
        assertEquals(EnvelopeLog.MAX_IN_FLIGHT_BYTES / largest, log.inFlight(),
                "1,024 envelopes of 64 KiB, where 20,000 small ones fit");
    }

    /** A log whose writer and publishers never run: what it takes stays in flight until it stops. */
    static EnvelopeLog stalledLog() {
        EnvelopeLog log = new EnvelopeLog();
        log.threads = new ManagedThreadFactory() {
            public Thread newThread(Runnable loop) {
                return new Thread(() -> { });
            }

            public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
                throw new UnsupportedOperationException();
            }
        };
        return log;
    }

    static SignedEnvelope envelope(int ciphertextBytes) {
        return new SignedEnvelope(1, new byte[16], 1, null, new byte[12], new byte[ciphertextBytes], new byte[64]);
    }

    private static List<Integer> batch(int size, int value) {
        return Collections.nCopies(size, value);
    }
}
