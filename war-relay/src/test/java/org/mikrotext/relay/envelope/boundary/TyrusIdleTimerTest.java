package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.glassfish.tyrus.core.TyrusSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TyrusIdleTimerTest {

    private final ScheduledThreadPoolExecutor container = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void stop() {
        container.shutdownNow();
    }

    @Test
    void skipsTheIdleTimerOnlyWhileThereIsNoIdleTimeout() throws Exception {
        container.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        TyrusSession session = new TyrusSession(container);

        assertTrue(TyrusIdleTimer.apply(session));
        assertTrue(TyrusIdleTimer.apply(session), "applying twice keeps one wrapper");
        assertTrue(session.scheduler() instanceof TyrusIdleTimer.SkipIdleTimer);

        for (int i = 0; i < 1000; i++) {
            session.restartIdleTimeoutExecutor();
        }
        assertEquals(0, container.getTaskCount(), "no-op idle-timer tasks never reach the container");

        session.setMaxIdleTimeout(60_000);
        session.restartIdleTimeoutExecutor();
        assertEquals(1, container.getQueue().size(), "with an idle timeout, the timer is the container's again");
    }

    @Test
    void otherTasksStillRunOnTheContainer() throws Exception {
        TyrusSession session = new TyrusSession(container);
        TyrusIdleTimer.apply(session);
        boolean[] ran = new boolean[1];
        session.scheduler().schedule(() -> ran[0] = true, 0, TimeUnit.MILLISECONDS).get(5, TimeUnit.SECONDS);
        assertTrue(ran[0]);
        assertEquals(1, container.getTaskCount(), "scheduled on the container");
    }

    @Test
    void leavesOtherSessionsAlone() {
        assertFalse(TyrusIdleTimer.apply(new org.mikrotext.relay.envelope.boundary.TyrusIdleTimerTest.Other()));
    }

    /** A session of another WebSocket implementation. */
    static final class Other extends TyrusSession {
        Other() {
            super(null);
        }
    }
}
