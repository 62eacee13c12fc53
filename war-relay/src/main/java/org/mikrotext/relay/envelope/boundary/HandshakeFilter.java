package org.mikrotext.relay.envelope.boundary;

import jakarta.inject.Inject;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.limits.control.ClientAddresses;
import org.mikrotext.relay.limits.control.RateLimiter;
import org.mikrotext.relay.problem.Problem;

/**
 * Guards the WebSocket handshake: each counts against its client address's API rate limit (429), and a handshake
 * whose {@code Origin} is present and not allowed is refused (403). Allowed are the relay's own origin (the request's
 * {@code Host}), {@code 127.0.0.1}, {@code localhost} and {@code [::1]} on any port, and the origins listed in
 * {@code mikrotext.ws.allowed-origins}. A missing {@code Origin} (not a browser) is allowed: the socket is
 * authenticated by token, never by cookie. On Payara it also {@linkplain GrizzlyOutputBuffer shrinks} the container's
 * output buffer of the connection before the upgrade, so that frames are written without a copy, and once the
 * {@code 101} has been sent it {@linkplain GrizzlyUpgradeRequest releases} the handshake's parsed headers, which the
 * container would otherwise keep for the life of the socket.
 */
@WebFilter(urlPatterns = "/ws/*", asyncSupported = true)
public class HandshakeFilter extends HttpFilter {

    private static final long serialVersionUID = 1L;
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]");

    @Inject
    transient Limits limits;

    @Inject
    transient RateLimiter rates;

    @Inject
    transient ClientAddresses addresses;

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String origin = request.getHeader("Origin");
        if (origin != null && !isAllowed(origin, request.getHeader("Host"), limits.allowedOrigins())) {
            response.sendError(HttpServletResponse.SC_FORBIDDEN);
            return;
        }
        try {
            rates.take(RateLimiter.Kind.API, addresses.of(request));
        } catch (Problem limited) {
            response.setHeader("Retry-After", Long.toString(limited.retryAfterSeconds()));
            response.sendError(429);
            return;
        }
        boolean upgrade = "websocket".equalsIgnoreCase(request.getHeader("Upgrade"));
        if (upgrade) {
            GrizzlyOutputBuffer.shrink(response);
        }
        chain.doFilter(request, response);
        if (upgrade && response.getStatus() == HttpServletResponse.SC_SWITCHING_PROTOCOLS && response.isCommitted()) {
            GrizzlyUpgradeRequest.release(request);
        }
    }

    static boolean isAllowed(String origin, String host, List<String> extraOrigins) {
        String normalized = origin.strip().toLowerCase(Locale.ROOT);
        for (String allowed : extraOrigins) {
            if (normalized.equals(trimSlash(allowed.strip().toLowerCase(Locale.ROOT)))) {
                return true;
            }
        }
        URI uri;
        try {
            uri = new URI(normalized);
        } catch (URISyntaxException e) {
            return false;
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            return false;
        }
        if (LOOPBACK.contains(uri.getHost())) {
            return true;
        }
        return host != null && uri.getRawAuthority() != null
                && uri.getRawAuthority().equals(host.strip().toLowerCase(Locale.ROOT));
    }

    private static String trimSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
