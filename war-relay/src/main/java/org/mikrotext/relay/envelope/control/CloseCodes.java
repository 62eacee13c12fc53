package org.mikrotext.relay.envelope.control;

import jakarta.websocket.CloseReason;

/** The relay's WebSocket close codes (PROTOCOL.md, plus 1013 for a socket that fell too far behind). */
public final class CloseCodes {

    public static final int BAD_TOKEN = 4401;
    public static final int REMOVED = 4403;
    public static final int NO_SUCH_ROOM = 4404;
    public static final int NO_HELLO = 4408;
    public static final int ROOM_ENDED = 4410;
    public static final int FRAME_TOO_LARGE = 4413;
    public static final int FLOODING = 4429;
    /** Standard "try again later": the socket's send queue overflowed; the client resumes by {@code seq}. */
    public static final int TOO_SLOW = 1013;

    private CloseCodes() {
    }

    public static CloseReason reason(int code, String phrase) {
        return new CloseReason(CloseReason.CloseCodes.getCloseCode(code), phrase);
    }
}
