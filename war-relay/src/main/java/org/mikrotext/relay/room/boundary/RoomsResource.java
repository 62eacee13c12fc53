package org.mikrotext.relay.room.boundary;

import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonException;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReader;
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
import java.io.StringReader;
import java.io.StringReader;
import org.mikrotext.relay.envelope.control.EnvelopeJson;
import org.mikrotext.relay.envelope.control.Envelopes;
import org.mikrotext.relay.limits.control.RateLimiter;
import org.mikrotext.relay.problem.Problem;
import org.mikrotext.relay.room.control.RoomJson;
import org.mikrotext.relay.room.control.RoomService;
import org.mikrotext.relay.room.control.RoomService.Admission;
import org.mikrotext.relay.room.control.Sessions;
import org.mikrotext.store.entity.Envelope;
import org.mikrotext.store.entity.Participant;

/** The REST rows of PROTOCOL.md. Thin: limits and authentication, one call into control, the answer. */
@Path("rooms")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class RoomsResource {

    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 1000;

    @Inject
    RoomService rooms;

    @Inject
    Envelopes envelopes;

    @Inject
    Sessions sessions;

    @Inject
    RateLimiter rates;

    @Context
    HttpServletRequest request;

    @Context
    UriInfo uriInfo;

    @POST
    public Response create(String body) {
        limitAddress(RateLimiter.Kind.JOIN);
        Admission admission = rooms.create(requireBody(body));
        return Response.created(uriInfo.getBaseUriBuilder().path("rooms").path(admission.room().getId()).build())
                .entity(admission.toJson().toString())
                .build();
    }

    @GET
    @Path("{roomId}")
    public String view(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth) {
        Participant participant = authenticate(roomId, auth);
        return RoomJson.view(rooms.view(participant)).build().toString();
    }

    @POST
    @Path("{roomId}/invites")
    public Response invite(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
                           String body) {
        Participant participant = authenticate(roomId, auth);
        long expiresAt = rooms.invite(participant, requireBody(body));
        return Response.status(Response.Status.CREATED)
                .entity(Json.createObjectBuilder().add("expiresAt", RoomJson.time(expiresAt)).build().toString())
                .build();
    }

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

    @DELETE
    @Path("{roomId}/participants/{participantId}")
    public Response remove(@PathParam("roomId") String roomId, @PathParam("participantId") String participantId,
                           @HeaderParam(HttpHeaders.AUTHORIZATION) String auth) {
        rooms.remove(authenticate(roomId, auth), participantId);
        return Response.noContent().build();
    }

    @GET
    @Path("{roomId}/envelopes")
    public String envelopes(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
                            @QueryParam("after") @DefaultValue("0") String after,
                            @QueryParam("limit") @DefaultValue("100") String limit) {
        long afterSeq = parse("after", after, 0, Long.MAX_VALUE);
        int max = (int) parse("limit", limit, 1, MAX_PAGE);
        Participant participant = authenticate(roomId, auth);
        JsonArrayBuilder list = Json.createArrayBuilder();
        for (Envelope envelope : envelopes.after(participant.getRoomId(), afterSeq, max)) {
            list.add(EnvelopeJson.object(envelope));
        }
        return Json.createObjectBuilder().add("envelopes", list).build().toString();
    }

    @POST
    @Path("{roomId}/envelopes")
    public Response send(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
                         String body) {
        Participant participant = authenticate(roomId, auth);
        Envelope stored = envelopes.accept(participant, requireBody(body));
        return Response.status(Response.Status.CREATED)
                .entity(Json.createObjectBuilder().add("seq", stored.getSeq()).build().toString())
                .build();
    }

    @DELETE
    @Path("{roomId}")
    public Response delete(@PathParam("roomId") String roomId, @HeaderParam(HttpHeaders.AUTHORIZATION) String auth) {
        rooms.delete(authenticate(roomId, auth));
        return Response.noContent().build();
    }

    private Participant authenticate(String roomId, String authorization) {
        limitAddress(RateLimiter.Kind.API);
        return sessions.fromAuthorization(roomId, authorization);
    }

    private void limitAddress(RateLimiter.Kind kind) {
        rates.take(kind, request.getRemoteAddr());
    }

    /** The body as a JSON object; anything else is 400. */
    private static JsonObject requireBody(String body) {
        if (body == null || body.isBlank()) {
            throw Problem.badRequest("A JSON object body is required");
        }
        try (JsonReader reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        } catch (JsonException | IllegalStateException e) {
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
