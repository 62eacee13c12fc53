package org.mikrotext.relay.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.mikrotext.relay.protocol.EnvelopeSignatures;

/**
 * Chooses, once at start, which provider verifies envelope signatures: the native one where it works, unless
 * {@code mikrotext.signatures.native} is {@code false} (for hosts that allow no native code in the application
 * server); BouncyCastle otherwise. The choice is logged.
 */
@ApplicationScoped
public class SignatureProvider {

    @Inject
    @ConfigProperty(name = "mikrotext.signatures.native", defaultValue = "true")
    boolean allowNative;

    void onStart(@Observes @Initialized(ApplicationScoped.class) Object ignored) {
        EnvelopeSignatures.configure(allowNative);
    }
}
