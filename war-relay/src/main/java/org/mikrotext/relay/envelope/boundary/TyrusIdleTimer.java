package org.mikrotext.relay.envelope.boundary;

import jakarta.websocket.Session;
import java.lang.reflect.Field;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Stops Tyrus (Payara's WebSocket implementation) from re-arming an idle timer that does nothing.
 *
 * <p>Tyrus re-arms a session's idle timer on every frame it receives and every frame it sends, by scheduling a
 * task on the container's {@code ManagedScheduledExecutorService}, whether or not the session has an idle timeout.
 * The relay sets none (an idle room is not a reason to close a socket), so each such task runs at once and does
 * nothing. Yet Payara captures the thread context for every task it schedules, which scans the application's jars
 * through {@code ServiceLoader} under the class loader's locks, and then runs the task on its scheduler thread:
 * about seven times per envelope in a room of five. The benchmark showed 25-33% of the relay's CPU there (see
 * docs/performance.md).
 *
 * <p>{@link #apply} gives the session a scheduler that skips exactly those tasks (Tyrus's idle-timeout command while
 * the session has no idle timeout, a task that would return without doing anything) and hands every other task to
 * the container's scheduler. If the session is not a Tyrus session, or Tyrus has changed, nothing changes.
 */
final class TyrusIdleTimer {

    private static final String SESSION_CLASS = "org.glassfish.tyrus.core.TyrusSession";
    private static final String IDLE_COMMAND_CLASS = SESSION_CLASS + "$IdleTimeoutCommand";
    private static volatile Field scheduler;
    private static final ContainerShortcut SHORTCUT = new ContainerShortcut(TyrusIdleTimer.class,
            "WebSocket sessions skip Tyrus's idle-timer tasks while they have no idle timeout",
            "Tyrus re-arms its idle timer through the container on every frame");

    private TyrusIdleTimer() {
    }

    /** True if the session's no-op idle timer tasks are now skipped. */
    static boolean apply(Session session) {
        Field field = schedulerField(session);
        if (field == null) {
            return false;
        }
        try {
            Object current = field.get(session);
            if (current instanceof SkipIdleTimer) {
                return true;
            }
            if (current instanceof ScheduledExecutorService container) {
                field.set(session, new SkipIdleTimer(session, container));
                SHORTCUT.worked();
                return true;
            }
        } catch (IllegalAccessException | RuntimeException e) {
            SHORTCUT.giveUp(e);
        }
        return false;
    }

    private static Field schedulerField(Session session) {
        if (SHORTCUT.unavailable() || !session.getClass().getName().equals(SESSION_CLASS)) {
            return null;
        }
        Field field = scheduler;
        if (field == null) {
            try {
                field = session.getClass().getDeclaredField("service");
                if (!field.getType().isAssignableFrom(SkipIdleTimer.class)) {
                    SHORTCUT.giveUp(new NoSuchFieldException("service is a " + field.getType().getName()));
                    return null;
                }
                field.setAccessible(true);
                scheduler = field;
            } catch (NoSuchFieldException | RuntimeException e) {
                SHORTCUT.giveUp(e);
                return null;
            }
        }
        return field;
    }

    /** The container's scheduler, minus the idle-timer tasks that would do nothing. */
    static final class SkipIdleTimer implements ScheduledExecutorService {

        private final Session session;
        private final ScheduledExecutorService container;

        SkipIdleTimer(Session session, ScheduledExecutorService container) {
            this.session = session;
            this.container = container;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            if (command.getClass().getName().equals(IDLE_COMMAND_CLASS) && session.getMaxIdleTimeout() <= 0) {
                return Skipped.INSTANCE;
            }
            return container.schedule(command, delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return container.schedule(callable, delay, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            return container.scheduleAtFixedRate(command, initialDelay, period, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
                                                         TimeUnit unit) {
            return container.scheduleWithFixedDelay(command, initialDelay, delay, unit);
        }

        @Override
        public void shutdown() {
            container.shutdown();
        }

        @Override
        public List<Runnable> shutdownNow() {
            return container.shutdownNow();
        }

        @Override
        public boolean isShutdown() {
            return container.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return container.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return container.awaitTermination(timeout, unit);
        }

        @Override
        public <T> Future<T> submit(Callable<T> task) {
            return container.submit(task);
        }

        @Override
        public <T> Future<T> submit(Runnable task, T result) {
            return container.submit(task, result);
        }

        @Override
        public Future<?> submit(Runnable task) {
            return container.submit(task);
        }

        @Override
        public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
            return container.invokeAll(tasks);
        }

        @Override
        public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
                throws InterruptedException {
            return container.invokeAll(tasks, timeout, unit);
        }

        @Override
        public <T> T invokeAny(Collection<? extends Callable<T>> tasks)
                throws InterruptedException, ExecutionException {
            return container.invokeAny(tasks);
        }

        @Override
        public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
                throws InterruptedException, ExecutionException, TimeoutException {
            return container.invokeAny(tasks, timeout, unit);
        }

        @Override
        public void execute(Runnable command) {
            container.execute(command);
        }
    }

    /** A skipped task: already done, nothing to cancel. */
    static final class Skipped implements ScheduledFuture<Object> {

        static final Skipped INSTANCE = new Skipped();

        private Skipped() {
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return 0;
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(0, other.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return false;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public boolean isDone() {
            return true;
        }

        @Override
        public Object get() {
            return null;
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            return null;
        }
    }
}
