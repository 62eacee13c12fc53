package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class ContainerShortcutTest {

    @Test
    void saysOnceThatItWorksAndWhyItWasGivenUpAsWritten() {
        List<LogRecord> records = new ArrayList<>();
        Logger log = Logger.getLogger(ContainerShortcutTest.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(handler);
        try {
            ContainerShortcut shortcut = new ContainerShortcut(ContainerShortcutTest.class, "it works",
                    "Tyrus's copy is kept");
            shortcut.worked();
            shortcut.worked();
            assertFalse(shortcut.unavailable());

            assertFalse(shortcut.giveUp(new InvocationTargetException(new NoSuchFieldException("handler"))));

            assertTrue(shortcut.unavailable());
            assertEquals(List.of("it works", "Tyrus's copy is kept: java.lang.NoSuchFieldException: handler"),
                    records.stream().map(LogRecord::getMessage).toList(), "the cause of the reflective call, once");
            // Logged as written: no MessageFormat pattern, in which an apostrophe would swallow the cause.
            records.forEach(record -> assertNull(record.getParameters()));
        } finally {
            log.removeHandler(handler);
        }
    }
}
