package org.mikrotext.relay;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.info.Info;

/** The REST API under {@code /api}; its OpenAPI document is served at {@code /openapi}. */
@ApplicationPath("api")
@OpenAPIDefinition(info = @Info(title = "MikroText relay", version = "1",
        description = "End-to-end encrypted rooms: the relay stores and relays only ciphertext envelopes (protocol MTX1, "
                + "docs/protocol/MTX1.md). Authenticated calls carry 'Authorization: Bearer <sessionToken>'. Errors are "
                + "RFC 9457 application/problem+json."))
public class RelayApplication extends Application {
}
