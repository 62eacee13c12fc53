package org.mikrotext.relay.problem;

import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.mikrotext.relay.protocol.MalformedFieldException;
import org.mikrotext.store.boundary.StoreException;

/** Every error of the REST API as RFC 9457 problem details; never a stack trace, never a 500 for bad input. */
@Provider
public class ProblemMapper implements ExceptionMapper<Throwable> {

    public static final String PROBLEM_JSON = "application/problem+json";

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class.getName());

    @Override
    public Response toResponse(Throwable thrown) {
        return toResponse(problemOf(thrown));
    }

    public static Response toResponse(Problem problem) {
        JsonObjectBuilder body = Json.createObjectBuilder()
                .add("type", problem.type())
                .add("title", problem.title())
                .add("status", problem.status());
        if (problem.detail() != null) {
            body.add("detail", problem.detail());
        }
        Response.ResponseBuilder response = Response.status(problem.status())
                .type(PROBLEM_JSON)
                .entity(body.build().toString());
        if (problem.retryAfterSeconds() > 0) {
            response.header("Retry-After", problem.retryAfterSeconds());
        }
        return response.build();
    }

    static Problem problemOf(Throwable thrown) {
        Throwable cause = unwrap(thrown);
        if (cause instanceof Problem problem) {
            return problem;
        }
        if (cause instanceof StoreException store) {
            return Problems.of(store);
        }
        if (cause instanceof MalformedFieldException malformed) {
            return Problems.of(malformed);
        }
        if (cause instanceof jakarta.json.JsonException || cause instanceof jakarta.json.stream.JsonParsingException) {
            return Problem.badRequest("The body is not valid JSON");
        }
        if (cause instanceof WebApplicationException web) {
            int status = web.getResponse().getStatus();
            if (status >= 500) {
                LOG.log(Level.WARNING, "Request failed", cause);
                return internal();
            }
            return new Problem(status, "http-" + status,
                    Response.Status.fromStatusCode(status) == null ? "Request refused"
                            : Response.Status.fromStatusCode(status).getReasonPhrase(),
                    null);
        }
        LOG.log(Level.WARNING, "Request failed", cause);
        return internal();
    }

    private static Problem internal() {
        return new Problem(500, "internal", "Internal error", "The relay could not complete the request");
    }

    private static Throwable unwrap(Throwable thrown) {
        Throwable t = thrown;
        while ((t instanceof jakarta.ejb.EJBException || t instanceof jakarta.persistence.PersistenceException
                || t.getClass().getName().startsWith("jakarta.transaction")) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
