package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mikrotext.relay.json.JsonIO;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.limits.control.RateLimiter;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.problem.ProblemMapper;

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
    void aRelayThatCannotStoreMoreRefusesAsBusyAndOnlyThen() {
        EnvelopeLog.refuseIfBusy(EnvelopeLog.MAX_WAITING / EnvelopeLog.WRITERS - 1, false);

        Problem full = assertThrows(Problem.class,
                () -> EnvelopeLog.refuseIfBusy(EnvelopeLog.MAX_WAITING / EnvelopeLog.WRITERS, false));
        assertEquals(503, full.status());
        assertEquals("relay-busy", full.shortType());
        assertEquals("relay-busy", assertThrows(Problem.class, () -> EnvelopeLog.refuseIfBusy(0, true)).shortType());
    }

    @Test
    void aBusyRelayRefusesASendBeforeReadingOrVerifyingIt() {
        Envelopes envelopes = new Envelopes();
        envelopes.rates = new RateLimiter() {
            @Override
            public void take(Kind kind, String key) {
                // within its rate
            }
        };
        envelopes.limits = new Limits() {
            @Override
            public int maxCiphertextBytes() {
                return 65_536;
            }
        };
        envelopes.log = new EnvelopeLog();
        Sender sender = new Sender("room", "participant", null); // no key: a verification would fail on it
        var unreadable = JsonIO.object().add("type", "send").add("nonce", "not base64url!").build();

        RuntimeException read = assertThrows(RuntimeException.class, () -> envelopes.accept(sender, unreadable));
        assertEquals(400, ProblemMapper.problemOf(read).status(),
                "while the relay can store it, the envelope is read and refused for its fields");
        envelopes.log.stop();
        Problem busy = assertThrows(Problem.class, () -> envelopes.accept(sender, unreadable));
        assertEquals("relay-busy", busy.shortType(), "once it cannot, nothing is read or verified first");
    }

    private static List<Integer> batch(int size, int value) {
        return Collections.nCopies(size, value);
    }
}
