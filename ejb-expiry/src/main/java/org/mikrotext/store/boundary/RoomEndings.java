package org.mikrotext.store.boundary;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tells the web modules which rooms have ended (expired, or deleted by their creator), so that they can
 * close the rooms' sockets. A listener registry rather than a CDI event, because in the EAR the web module's
 * observers are not visible from the EJB module.
 */
@ApplicationScoped
public class RoomEndings {

    private static final Logger LOG = Logger.getLogger(RoomEndings.class.getName());

    private final List<Consumer<Collection<String>>> listeners = new CopyOnWriteArrayList<>();

    public void register(Consumer<Collection<String>> listener) {
        listeners.add(listener);
    }

    public void unregister(Consumer<Collection<String>> listener) {
        listeners.remove(listener);
    }

    public void ended(Collection<String> roomIds) {
        if (roomIds.isEmpty()) {
            return;
        }
        for (Consumer<Collection<String>> listener : listeners) {
            try {
                listener.accept(roomIds);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "A room-ending listener failed", e);
            }
        }
    }
}
