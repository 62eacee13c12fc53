package org.mikrotext.expiry.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExpirySweeperTest {

    @Test
    void theDefaultsAreUsableAndASweepThatWouldNeverForgetARoomIsNamed() {
        assertEquals(List.of(), ExpirySweeper.problems(Duration.ofSeconds(30), 500));
        assertEquals(List.of(), ExpirySweeper.problems(Duration.ofMillis(1), 1));
        assertEquals(List.of("mikrotext.expiry.sweep-interval must be a positive duration (it is PT0S)",
                "mikrotext.expiry.batch-size must be at least 1 (it is 0)"),
                ExpirySweeper.problems(Duration.ZERO, 0));
        assertEquals(List.of("mikrotext.expiry.batch-size must be at least 1 (it is -5)"),
                ExpirySweeper.problems(Duration.ofSeconds(30), -5));
    }

    @Test
    void theSweeperRefusesToStartBeforeItSchedulesAnything() {
        ExpirySweeper sweeper = new ExpirySweeper();
        sweeper.interval = Duration.ofSeconds(30);
        sweeper.batchSize = 0;
        // No timer service is set: the check must come first.
        IllegalStateException refused = assertThrows(IllegalStateException.class, sweeper::start);
        assertTrue(refused.getMessage().contains("mikrotext.expiry.batch-size must be at least 1 (it is 0)"),
                refused.getMessage());
    }
}
