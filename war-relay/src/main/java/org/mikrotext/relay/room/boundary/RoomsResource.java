package org.mikrotext.relay.room.boundary;

import jakarta.inject.Inject;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonException;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.mikrotext.relay.envelope.control.EnvelopeJson;
import org.mikrotext.relay.envelope.control.Envelopes;
import org.mikrotext.relay.limits.control.ClientAddresses;
import org.mikrotext.relay.limits.control.RateLimiter;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.room.control.RoomJson;
import org.mikrotext.relay.room.control.RoomService;
import org.mikrotext.relay.room.control.RoomService.Admission;
import org.mikrotext.relay.room.control.Sessions;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.Participant;
import org.mikrotext.relay.json.JsonIO;

/** The REST rows of PROTOCOL.md. Thin: limits and authentication, one call into control, the answer. */
@Path("rooms")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class RoomsResource {

    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 1000;
    /**
     * The ciphertext one page of envelopes holds (it stops at the envelope that reaches it, and always holds one): a
     * thousand envelopes of 64 KiB would otherwise be over 150 MB in memory for one request.
     */
    static final int PAGE_BYTES = 2 * 1024 * 1024;
    /** Envelopes read from the database at once for a page. */
    private static final int READ_CHUNK = 100;

    @Inject
    RoomService rooms;

    @Inject
    Envelopes envelopes;

    @Inject
    Sessions sessions;

    @Inject
    RateLimiter rates;

    @Inject
    ClientAddresses addresses;

    @Context
    HttpServletRequest request;

    @Context
    UriInfo uriInfo;

    @Operation(summary = "Create a room",
            description = "Creates a room with the caller as its creator. Body: ttlSeconds (optional, 300..604800, default "
                    + "86400), pseudonym, signingKey and exchangeKey (base64url SPKI of P-256 public keys). Answers "
                    + "roomId, participantId, sessionToken (shown only here), expiresAt, keyVersion.")
    @POST
    public Response create(String body) {
        limitAddress(RateLimiter.Kind.JOIN);
        Admission admission = rooms.create(requireBody(body));
        return Response.created(uriInfo.getBaseUriBuilder().path("rooms").path(admission.room().getId()).build())
                .entity(admission.toJson().toString())
                .build();
    }

    @Operation(summary = "View a room",
            description = "The room as the authenticated participant sees it: expiresAt, keyVersion, the participants with "
                    + "their public keys, and this participant's key wrap for the current version (or null).")
    @GET
    @Path("{roomId}")
    public String view(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth) {
        Participant participant = authenticate(roomId, auth);
        return RoomJson.view(rooms.view(participant)).build().toString();
    }

    @Operation(summary = "Register a one-time invite",
            description = "Stores the SHA-256 of an invite token (derived from a secret that stays in the link's fragment) "
                    + "with the room key wrapped under a key the relay never sees. ttlSeconds defaults to, and is "
                    + "capped at, the room's remaining lifetime.")
    @POST
    @Path("{roomId}/invites")
    public Response invite(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
                           String body) {
        Participant participant = authenticate(roomId, auth);
        long expiresAt = rooms.invite(participant, requireBody(body));
        return created(JsonIO.object().add("expiresAt", RoomJson.time(expiresAt)));
    }

    @Operation(summary = "Join with an invite",
            description = "Spends the invite atomically, once, and adds the participant; answers like room creation plus "
                    + "the wrappedRoomKey. A used invite is 410 invite-used, an expired one 410 invite-expired, an "
                    + "unknown one 403 invite-invalid.")
    @POST
    @Path("{roomId}/participants")
    public Response join(@PathParam("roomId") String roomId, String body) {
        limitAddress(RateLimiter.Kind.JOIN);
        Admission admission = rooms.join(roomId, requireBody(body));
        return Response.created(uriInfo.getBaseUriBuilder().path("rooms").path(roomId).path("participants")
                        .path(admission.participant().getId()).build())
                .entity(admission.toJson().toString())
                .build();
    }

    @Operation(summary = "Leave, or remove a participant",
            description = "A participant removes itself, or the creator removes someone; the session is revoked and its "
                    + "sockets closed (4403). The creator cannot leave (409): it deletes the room.")
    @DELETE
    @Path("{roomId}/participants/{participantId}")
    public Response remove(@PathParam("roomId") String roomId, @PathParam("participantId") String participantId,
                           @HeaderParam(HttpHeaders.AUTHORIZATION) String auth) {
        rooms.remove(authenticate(roomId, auth), participantId);
        return Response.noContent().build();
    }

    @Operation(summary = "List envelopes",
            description = "Stored envelopes with seq > after, in seq order; limit defaults to 100, at most 1000. A page "
                    + "stops at the envelope that brings its ciphertext to 2 MiB and then says \"more\": true. For "
                    + "clients that cannot hold a WebSocket, and for catching up.")
    @GET
    @Path("{roomId}/envelopes")
    public String envelopes(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
                            @QueryParam("after") @DefaultValue("0") String after,
                            @QueryParam("limit") @DefaultValue("100") String limit) {
        long afterSeq = parse("after", after, 0, Long.MAX_VALUE);
        int max = (int) parse("limit", limit, 1, MAX_PAGE);
        Participant participant = authenticate(roomId, auth);
        JsonArrayBuilder list = JsonIO.array();
        int count = 0;
        long bytes = 0;
        long cursor = afterSeq;
        while (count < max) {
            int want = Math.min(READ_CHUNK, max - count);
            List<Envelope> chunk = envelopes.after(participant.getRoomId(), cursor, want);
            for (Envelope envelope : chunk) {
                list.add(EnvelopeJson.object(envelope));
                count++;
                cursor = envelope.getSeq();
                bytes += envelope.getCiphertext().length;
                if (bytes >= PAGE_BYTES && count < max) {
                    return JsonIO.object().add("envelopes", list).add("more", true).build().toString();
                }
            }
            if (chunk.size() < want) {
                break;
            }
        }
        return JsonIO.object().add("envelopes", list).build().toString();
    }

    @Operation(summary = "Send an envelope",
            description = "Verifies the envelope's signature with the sender's registered key, refuses replays and stale "
                    + "key versions, stores it with the next seq and pushes it to the room's sockets. Answers the seq.")
    @POST
    @Path("{roomId}/envelopes")
    public Response send(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
                         String body) {
        Participant participant = authenticate(roomId, auth);
        Envelope stored = envelopes.acceptAndWait(participant, requireBody(body));
        return created(JsonIO.object().add("seq", stored.getSeq()));
    }

    @Operation(summary = "Rotate the room key",
            description = "The creator sends the next keyVersion (the current one plus 1) and wraps: one "
                    + "{participantId, wrapped} for every current participant, the creator included, each the new room "
                    + "key wrapped under an ECDH-derived key the relay never holds. Outstanding invites are revoked, "
                    + "open sockets get a key-rotated frame, and only envelopes of the new version are accepted.")
    @POST
    @Path("{roomId}/keys")
    public Response rotate(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
                           String body) {
        int keyVersion = rooms.rotate(authenticate(roomId, auth), requireBody(body));
        return created(JsonIO.object().add("keyVersion", keyVersion));
    }

    @Operation(summary = "Burn the room",
            description = "The creator deletes the room and everything in it at once; its sockets are closed with 4410.")
    @DELETE
    @Path("{roomId}")
    public Response delete(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth) {
        rooms.delete(authenticate(roomId, auth));
        return Response.noContent().build();
    }

    /** 201 with a small JSON answer, for creations that have no resource of their own to point at. */
    private static Response created(JsonObjectBuilder answer) {
        return Response.status(Response.Status.CREATED).entity(answer.build().toString()).build();
    }

    private Participant authenticate(String roomId, String authorization) {
        limitAddress(RateLimiter.Kind.API);
        return sessions.fromAuthorization(roomId, authorization);
    }

    private void limitAddress(RateLimiter.Kind kind) {
        rates.take(kind, addresses.of(request));
    }

    /** The body as a JSON object; anything else is 400. */
    private static JsonObject requireBody(String body) {
        if (body == null || body.isBlank()) {
            throw Problem.badRequest("A JSON object body is required");
        }
        try {
            return JsonIO.readObject(body);
        } catch (JsonException e) {
            throw Problem.badRequest("The body must be a JSON object");
        }
    }

    private static long parse(String name, String value, long min, long max) {
        try {
            long v = Long.parseLong(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw Problem.badRequest("The query parameter '" + name + "' must be an integer between " + min + " and "
                + max);
    }
}
