package org.mikrotext.relay.envelope.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import jakarta.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.json.JsonIO;
import org.mikrotext.relay.limits.control.RateLimiter;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.problem.ProblemMapper;

/** The order of the checks on a sent envelope: the cheap ones first, so that refusing costs next to nothing. */
class EnvelopesTest {

    /** No key: a verification would fail on it, so a refusal that names the relay came before any verification. */
    private static final Sender SENDER = new Sender("room", "participant", null);
    private static final JsonObject UNREADABLE = JsonIO.object().add("type", "send").add("nonce", "not base64url!")
            .build();

    private final Envelopes envelopes = new Envelopes();
    private boolean overRate;

    @BeforeEach
    void wire() {
        envelopes.rates = new RateLimiter() {
            @Override
            public void take(Kind kind, String key) {
                if (overRate) {
                    throw Problem.rateLimited(1);
                }
            }
        };
        envelopes.limits = new Limits() {
            @Override
            public int maxCiphertextBytes() {
                return 65_536;
            }
        };
        envelopes.log = new EnvelopeLog();
    }

    @Test
    void aRelayWithRoomForItReadsTheEnvelope() {
        assertEquals(400, statusOf(() -> envelopes.accept(SENDER, UNREADABLE)), "refused for its fields");
    }

    @Test
    void aFullRelayRefusesBeforeReading() {
        envelopes.log = EnvelopeLogTest.stalledLog();
        for (int i = 0; i < EnvelopeLog.MAX_IN_FLIGHT; i++) {
            envelopes.log.append(SENDER.roomId(), "participant", EnvelopeLogTest.envelope(16));
        }

        assertEquals("relay-busy", shortTypeOf(() -> envelopes.accept(SENDER, UNREADABLE)),
                "nothing is read or verified first");
    }

    @Test
    void aStoppingRelayRefusesBeforeReading() {
        envelopes.log.stop();

        assertEquals("relay-busy", shortTypeOf(() -> envelopes.accept(SENDER, UNREADABLE)));
    }

    @Test
    void theSendersRateComesFirst() {
        envelopes.log.stop();
        overRate = true;

        assertEquals(429, statusOf(() -> envelopes.accept(SENDER, UNREADABLE)),
                "a sender over its rate is told so, whatever the relay's state");
    }

    private static int statusOf(Runnable send) {
        return ProblemMapper.problemOf(assertThrows(RuntimeException.class, send::run)).status();
    }

    private static String shortTypeOf(Runnable send) {
        return assertThrows(Problem.class, send::run).shortType();
    }
}
