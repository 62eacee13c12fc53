package org.mikrotext.store.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TrimMarksTest {

    @Test
    void aMarkOnlyMovesForward() {
        TrimMarks marks = new TrimMarks();
        assertEquals(0, marks.of("room"), "unknown: from the room's first seq");
        marks.committed(Map.of("room", 40L));
        marks.committed(Map.of("room", 30L));
        assertEquals(40, marks.of("room"));
    }

    @Test
    void theLeastRecentlyTrimmedRoomsAreForgottenBeyondTheLimit() {
        TrimMarks marks = new TrimMarks();
        for (int i = 0; i < TrimMarks.ROOMS; i++) {
            marks.committed(Map.of("room-" + i, 7L));
        }
        marks.of("room-0"); // trimmed again recently: kept
        marks.committed(Map.of("room-new", 1L));
        assertEquals(TrimMarks.ROOMS, marks.size());
        assertEquals(7, marks.of("room-0"));
        assertEquals(0, marks.of("room-1"), "the least recently used one is forgotten");
        assertEquals(1, marks.of("room-new"));
    }
}
