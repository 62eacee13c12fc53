package org.mikrotext.relay.limits.control;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * IP address literals in one canonical form, so that {@code ::1}, {@code [::1]} and {@code 0:0:0:0:0:0:0:1} (and
 * {@code ::ffff:10.0.0.2} and {@code 10.0.0.2}) are the same address. Never asks DNS: anything that is not a literal
 * has no canonical form.
 */
public final class IpAddresses {

    /** Four decimal octets without leading zeros (which some would read as octal). */
    private static final Pattern V4 = Pattern.compile("(0|[1-9]\\d{0,2})\\.(0|[1-9]\\d{0,2})\\.(0|[1-9]\\d{0,2})"
            + "\\.(0|[1-9]\\d{0,2})");
    /** Starts as the JDK needs a literal to start (a hex digit or {@code :}); anything else it would look up. */
    private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f:][0-9A-Fa-f:.]*");

    private IpAddresses() {
    }

    /** The address as Java writes it, or empty if {@code text} is not an IPv4 or IPv6 literal. */
    public static Optional<String> canonical(String text) {
        String literal = text.strip();
        if (literal.startsWith("[") && literal.endsWith("]")) {
            literal = literal.substring(1, literal.length() - 1);
        }
        var v4 = V4.matcher(literal);
        if (v4.matches()) {
            for (int i = 1; i <= 4; i++) {
                if (Integer.parseInt(v4.group(i)) > 255) {
                    return Optional.empty();
                }
            }
        } else if (!V6.matcher(literal).matches() || literal.indexOf(':') < 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByName(literal).getHostAddress()); // a literal: no lookup
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** The canonical form of an address, or the text itself if it is not a literal. */
    static String canonicalOrSame(String text) {
        return canonical(text).orElse(text);
    }
}
