package org.mikrotext.relay.cluster.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterNewsTest {

    private static final String ROOM = "AAAAAAAAAAAAAAAAAAAAAA";
    private static final String PARTICIPANT = "BBBBBBBBBBBBBBBBBBBBBA";

    @Test
    void everyKindOfNewsReadsBackAsItWasWritten() {
        List<ClusterNews> news = List.of(ClusterNews.stored(ROOM, 9_007_199_254_740_991L),
                ClusterNews.participants(ROOM), ClusterNews.removed(ROOM, PARTICIPANT), ClusterNews.rotated(ROOM, 7),
                ClusterNews.ended(ROOM));
        List<String> payloads = ClusterNews.payloads("instance-a", news);
        assertEquals(1, payloads.size());
        ClusterNews.Heard heard = ClusterNews.Heard.of(payloads.get(0));
        assertEquals("instance-a", heard.instance());
        assertEquals(news, heard.news());
        assertEquals(9_007_199_254_740_991L, heard.news().get(0).seq());
        assertEquals(7, heard.news().get(3).keyVersion());
    }

    @Test
    void manyRoomsAreSplitIntoPayloadsPostgresAccepts() {
        List<ClusterNews> news = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            news.add(ClusterNews.ended(ROOM));
        }
        List<String> payloads = ClusterNews.payloads("instance-a", news);
        assertTrue(payloads.size() > 1, "25 bytes a line: more than one payload");
        int lines = 0;
        for (String payload : payloads) {
            assertTrue(payload.getBytes(StandardCharsets.UTF_8).length <= ClusterNews.MAX_PAYLOAD_BYTES);
            ClusterNews.Heard heard = ClusterNews.Heard.of(payload);
            assertEquals("instance-a", heard.instance());
            lines += heard.news().size();
        }
        assertEquals(1_000, lines, "nothing lost at the splits");
        assertEquals(List.of(), ClusterNews.payloads("instance-a", List.of()), "no news, no notification");
    }

    @Test
    void linesThatAreNotNewsAreLeftOut() {
        String payload = String.join("\n", "instance-b",
                "e " + ROOM + " 12",
                "e " + ROOM + " -1",
                "e " + ROOM + " 12 13",
                "e not-a-room 12",
                "k " + ROOM + " 99999999999",
                "r " + ROOM + " ' OR 1=1",
                "p " + ROOM + " extra",
                "z " + ROOM,
                "x " + ROOM,
                "");
        ClusterNews.Heard heard = ClusterNews.Heard.of(payload);
        assertEquals(List.of(ClusterNews.stored(ROOM, 12), ClusterNews.ended(ROOM)), heard.news());
        assertNull(ClusterNews.Heard.of(null).instance());
        assertNull(ClusterNews.Heard.of("x".repeat(8_001)).instance(), "longer than PostgreSQL sends");
    }
}
