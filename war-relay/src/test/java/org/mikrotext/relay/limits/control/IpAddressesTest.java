package org.mikrotext.relay.limits.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class IpAddressesTest {

    @Test
    void literalsComeOutInTheContainersForm() {
        assertEquals(Optional.of("10.0.0.2"), IpAddresses.canonical(" 10.0.0.2 "));
        assertEquals(Optional.of("0:0:0:0:0:0:0:1"), IpAddresses.canonical("::1"));
        assertEquals(Optional.of("0:0:0:0:0:0:0:1"), IpAddresses.canonical("[::1]"));
        assertEquals(Optional.of("2001:db8:0:0:0:0:0:7"), IpAddresses.canonical("2001:DB8::7"));
        assertEquals(Optional.of("10.0.0.3"), IpAddresses.canonical("::ffff:10.0.0.3"));
    }

    /** Each of these would reach the resolver if handed to InetAddress: none of them is. */
    @Test
    void anythingElseHasNoFormAndIsNeverLookedUp() {
        for (String text : new String[] {"proxy.internal", "localhost", ".:1", "[.:1]", "g::1", "10.0.0.256",
                "010.0.0.1", "10.0.0", "10.0.0.0/8", "fe80::1%eth0", "", "[]", "1.2.3.4.5", "::1]", "x"}) {
            assertEquals(Optional.empty(), IpAddresses.canonical(text), text);
        }
    }
}
