package org.mikrotext.relay.problem;

import jakarta.inject.Inject;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.sql.SQLException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.mikrotext.relay.operations.RelayMetrics;
import org.mikrotext.relay.protocol.MalformedFieldException;
import org.mikrotext.store.boundary.StoreException;
import org.mikrotext.relay.json.JsonIO;

/**
 * Every error of the REST API as RFC 9457 problem details; never a stack trace, never a 500 for bad input, and a
 * 503 with {@code Retry-After} (not a hang) while the database is unreachable.
 */
@Provider
public class ProblemMapper implements ExceptionMapper<Throwable> {

    public static final String PROBLEM_JSON = "application/problem+json";

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class.getName());
    private static final long DATABASE_RETRY_SECONDS = 5;

    @Inject
    RelayMetrics metrics;

    @Override
    public Response toResponse(Throwable thrown) {
        Problem problem = problemOf(thrown);
        if (metrics != null) {
            metrics.rejected(problem.shortType());
        }
        return toResponse(problem);
    }

    public static Response toResponse(Problem problem) {
        JsonObjectBuilder body = JsonIO.object()
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

    /** The problem that answers {@code thrown}, over REST or WebSocket alike. */
    public static Problem problemOf(Throwable thrown) {
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
        if (cause instanceof jakarta.json.JsonException) {
            return Problem.badRequest("The body is not valid JSON");
        }
        if (cause instanceof WebApplicationException web) {
            int status = web.getResponse().getStatus();
            if (status < 500) {
                Response.Status known = Response.Status.fromStatusCode(status);
                return new Problem(status, "http-" + status, known == null ? "Request refused" : known.getReasonPhrase(),
                        null);
            }
        }
        if (isDatabaseUnavailable(thrown)) {
            LOG.warning("The database is unreachable; answering 503");
            return new Problem(503, "database-unavailable", "Temporarily unavailable",
                    "The relay cannot reach its database; retry shortly", DATABASE_RETRY_SECONDS);
        }
        LOG.log(Level.WARNING, "Request failed", cause);
        return new Problem(500, "internal", "Internal error", "The relay could not complete the request");
    }

    /** A connection failure anywhere in the chain: SQL state class 08, or the pool unable to hand out a connection. */
    static boolean isDatabaseUnavailable(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("08")) {
                return true;
            }
            if (t instanceof java.sql.SQLTransientConnectionException || t instanceof java.net.ConnectException
                    || t.getClass().getName().startsWith("jakarta.resource.")
                    || t.getClass().getName().equals("com.sun.appserv.connectors.internal.api.PoolingException")) {
                return true;
            }
        }
        return false;
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
