package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
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
}
