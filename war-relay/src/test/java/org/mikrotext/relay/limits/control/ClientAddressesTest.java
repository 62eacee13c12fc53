package org.mikrotext.relay.limits.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {

    private static final Set<String> PROXY = Set.of("10.0.0.2");

    @Test
    void ignoresForwardedForFromAnUntrustedPeer() {
        assertEquals("203.0.113.9", ClientAddresses.resolve("203.0.113.9", List.of("198.51.100.1"), PROXY));
        assertEquals("203.0.113.9", ClientAddresses.resolve("203.0.113.9", List.of("198.51.100.1"), Set.of()));
    }

    @Test
    void takesTheRightmostUntrustedHopBehindATrustedProxy() {
        assertEquals("198.51.100.7", ClientAddresses.resolve("10.0.0.2", List.of("198.51.100.7"), PROXY));
        assertEquals("198.51.100.7",
                ClientAddresses.resolve("10.0.0.2", List.of("6.6.6.6, 198.51.100.7"), PROXY), "a forged left entry");
        assertEquals("198.51.100.7", ClientAddresses.resolve("10.0.0.2", List.of("6.6.6.6", "198.51.100.7, 10.0.0.2"),
                PROXY), "several headers and a chain of trusted proxies");
    }

    @Test
    void fallsBackToThePeerWithoutAnyForwardedHop() {
        assertEquals("10.0.0.2", ClientAddresses.resolve("10.0.0.2", List.of(), PROXY));
    }

    @Test
    void anAddressMatchesInAnyOfItsWritings() {
        Set<String> ipv6Proxy = Set.of("0:0:0:0:0:0:0:1");
        assertEquals("2001:db8:0:0:0:0:0:9", ClientAddresses.resolve("0:0:0:0:0:0:0:1", List.of("2001:db8::9"),
                ipv6Proxy), "the container's long form of ::1 is the trusted proxy; the hop comes out canonical");
        assertEquals("198.51.100.7", ClientAddresses.resolve("::ffff:10.0.0.2", List.of("198.51.100.7"), PROXY),
                "an IPv4-mapped peer is its IPv4 address");
        assertEquals("not-an-address", ClientAddresses.resolve("10.0.0.2", List.of("not-an-address"), PROXY),
                "what a client wrote stays as written");
    }
}
