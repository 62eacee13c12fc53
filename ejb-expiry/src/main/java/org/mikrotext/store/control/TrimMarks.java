package org.mikrotext.store.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where each room's last trim ended, for the rooms this relay has trimmed since it started: every envelope of the room
 * with a {@code seq} at or below its mark has been deleted by a committed transaction, so the next trim may start
 * there. Until a vacuum removes them, PostgreSQL's index still holds the entries of deleted envelopes, and a trim
 * that starts from the room's first {@code seq} reads all of them again, on every commit (docs/performance.md, after
 * 9). A room without a mark (not trimmed since the start, or forgotten) is trimmed from its first {@code seq}, which
 * also brings a room to a limit that was lowered while it was open. At most {@value #ROOMS} rooms are remembered,
 * the least recently trimmed forgotten first.
 */
public final class TrimMarks {

    static final int ROOMS = 10_000;

    private final Map<String, Long> marks = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > ROOMS;
        }
    };

    /** The seq at or below which every envelope of the room is deleted; 0 if not known. */
    synchronized long of(String roomId) {
        Long mark = marks.get(roomId);
        return mark == null ? 0 : mark;
    }

    /** Records trims that have been committed. */
    synchronized void committed(Map<String, Long> trimmedUpTo) {
        trimmedUpTo.forEach((roomId, seq) -> marks.merge(roomId, seq, Math::max));
    }

    synchronized int size() {
        return marks.size();
    }
}
