package org.mikrotext.relay.limits.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import org.mikrotext.relay.config.Limits;

/**
 * The client address that rate limits count against. Behind a reverse proxy every request comes from the proxy, so
 * when the direct peer is one of {@code mikrotext.http.trusted-proxies}, the address is taken from
 * {@code X-Forwarded-For}: the rightmost entry that is not itself a trusted proxy (entries further left were written
 * by the client and prove nothing). Without trusted proxies the header is ignored.
 */
@ApplicationScoped
public class ClientAddresses {

    @Inject
    Limits limits;

    private Set<String> trusted;

    public String of(HttpServletRequest request) {
        Enumeration<String> forwarded = request.getHeaders("X-Forwarded-For");
        return resolve(request.getRemoteAddr(), forwarded == null ? List.of() : Collections.list(forwarded), trusted());
    }

    /** {@code trusted} in canonical form ({@link IpAddresses}); the answer is canonical where it is a literal. */
    static String resolve(String peer, List<String> forwardedHeaders, Set<String> trusted) {
        String direct = IpAddresses.canonicalOrSame(peer);
        if (!trusted.contains(direct)) {
            return direct;
        }
        List<String> hops = forwardedHeaders.stream()
                .flatMap(h -> Arrays.stream(h.split(",")))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
        for (int i = hops.size() - 1; i >= 0; i--) { // only the hops compared are read
            String hop = IpAddresses.canonicalOrSame(hops.get(i));
            if (!trusted.contains(hop)) {
                return hop;
            }
        }
        return direct;
    }

    private Set<String> trusted() {
        if (trusted == null) {
            trusted = Set.copyOf(limits.trustedProxies());
        }
        return trusted;
    }
}
