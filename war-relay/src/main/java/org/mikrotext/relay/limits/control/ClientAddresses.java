package org.mikrotext.relay.limits.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The client address that rate limits count against. Behind a reverse proxy every request comes from the proxy, so
 * when the direct peer is one of {@code mikrotext.http.trusted-proxies}, the address is taken from
 * {@code X-Forwarded-For}: the rightmost entry that is not itself a trusted proxy (entries further left were written
 * by the client and prove nothing). Without trusted proxies the header is ignored.
 */
@ApplicationScoped
public class ClientAddresses {

    @Inject
    @ConfigProperty(name = "mikrotext.http.trusted-proxies", defaultValue = " ")
    String trustedProxies;

    private Set<String> trusted;

    public String of(HttpServletRequest request) {
        Enumeration<String> forwarded = request.getHeaders("X-Forwarded-For");
        return resolve(request.getRemoteAddr(), forwarded == null ? List.of() : Collections.list(forwarded), trusted());
    }

    static String resolve(String peer, List<String> forwardedHeaders, Set<String> trusted) {
        if (!trusted.contains(peer)) {
            return peer;
        }
        List<String> hops = forwardedHeaders.stream()
                .flatMap(h -> Arrays.stream(h.split(",")))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
        for (int i = hops.size() - 1; i >= 0; i--) {
            if (!trusted.contains(hops.get(i))) {
                return hops.get(i);
            }
        }
        return peer;
    }

    private Set<String> trusted() {
        if (trusted == null) {
            trusted = Arrays.stream(trustedProxies.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                    .collect(Collectors.toUnmodifiableSet());
        }
        return trusted;
    }
}
