package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

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

    private static List<Integer> batch(int size, int value) {
        return Collections.nCopies(size, value);
    }
}
