package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class HandshakeFilterTest {

    @Test
    void allowsTheRelaysOwnOriginAndLoopback() {
        assertTrue(HandshakeFilter.isAllowed("https://chat.example.com", "chat.example.com", List.of()));
        assertTrue(HandshakeFilter.isAllowed("http://chat.example.com:8080", "chat.example.com:8080", List.of()));
        assertTrue(HandshakeFilter.isAllowed("http://127.0.0.1:9999", "relay.internal", List.of()));
        assertTrue(HandshakeFilter.isAllowed("http://localhost:3000", "relay.internal", List.of()));
        assertTrue(HandshakeFilter.isAllowed("http://[::1]:3000", "relay.internal", List.of()));
    }

    @Test
    void allowsConfiguredOrigins() {
        assertTrue(HandshakeFilter.isAllowed("https://portal.corp.example", "relay.internal",
                List.of("https://portal.corp.example/")));
    }

    @Test
    void refusesEveryOtherOrigin() {
        assertFalse(HandshakeFilter.isAllowed("https://evil.example", "chat.example.com", List.of()));
        assertFalse(HandshakeFilter.isAllowed("https://chat.example.com.evil.example", "chat.example.com", List.of()));
        assertFalse(HandshakeFilter.isAllowed("http://chat.example.com:8081", "chat.example.com:8080", List.of()));
        assertFalse(HandshakeFilter.isAllowed("null", "chat.example.com", List.of()));
        assertFalse(HandshakeFilter.isAllowed("file://", "chat.example.com", List.of()));
        assertFalse(HandshakeFilter.isAllowed("ftp://127.0.0.1", "chat.example.com", List.of()));
        assertFalse(HandshakeFilter.isAllowed("https://evil.example", null, List.of("https://portal.corp.example")));
    }
}
