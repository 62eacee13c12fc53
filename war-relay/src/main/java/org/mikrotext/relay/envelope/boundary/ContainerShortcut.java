package org.mikrotext.relay.envelope.boundary;

import java.lang.reflect.InvocationTargetException;
import java.util.logging.Logger;

/**
 * One of the relay's ways into Payara's objects of a socket ({@link GrizzlyOutputBuffer}, {@link TyrusRawFrames},
 * {@link TyrusIdleTimer}, {@link GrizzlyUpgradeRequest}, {@link TyrusHandshakeState}): it says once in the log that
 * it works, and the first time the container's classes do not match it is given up for good, with one INFO line that
 * says what the relay does instead and why (docs/deployment.md lists these lines).
 */
final class ContainerShortcut {

    private final Logger log;
    private final String works;
    private final String refused;
    private volatile boolean unavailable;
    private volatile boolean announced;

    ContainerShortcut(Class<?> owner, String works, String refused) {
        this.log = Logger.getLogger(owner.getName());
        this.works = works;
        this.refused = refused;
    }

    /** True once the shortcut has been given up. */
    boolean unavailable() {
        return unavailable;
    }

    /** Logs that the shortcut works, the first time. */
    void worked() {
        if (!announced) {
            announced = true;
            log.info(works);
        }
    }

    /** Gives the shortcut up for good and logs why (the cause of a reflective call's failure); always false. */
    boolean giveUp(Exception e) {
        unavailable = true;
        Throwable cause = e instanceof InvocationTargetException i && i.getCause() != null ? i.getCause() : e;
        log.info(refused + ": " + cause);
        return false;
    }
}
