package org.mikrotext.relay.limits.control;

import jakarta.inject.Inject;
import jakarta.ws.rs.ext.Provider;
import jakarta.ws.rs.ext.ReaderInterceptor;
import jakarta.ws.rs.ext.ReaderInterceptorContext;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.mikrotext.relay.config.Limits;
import org.mikrotext.relay.problem.Problem;

/** Refuses (413) a request body over {@code mikrotext.rest.max-body-bytes}, declared or streamed, before parsing it. */
@Provider
public class BodyLimit implements ReaderInterceptor {

    @Inject
    Limits limits;

    @Override
    public Object aroundReadFrom(ReaderInterceptorContext context) throws IOException {
        int max = limits.maxBodyBytes();
        String declared = context.getHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.strip()) > max) {
                    throw tooLarge(max);
                }
            } catch (NumberFormatException e) {
                throw Problem.badRequest("Content-Length is not a number");
            }
        }
        context.setInputStream(new Bounded(context.getInputStream(), max));
        return context.proceed();
    }

    private static Problem tooLarge(int max) {
        return Problem.tooLarge("The request body is over " + max + " bytes");
    }

    /** Counts the bytes read and fails past the limit. */
    private static final class Bounded extends FilterInputStream {
        private final int max;
        private long count;

        Bounded(InputStream in, int max) {
            super(in);
            this.max = max;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) {
            count += n;
            if (count > max) {
                throw tooLarge(max);
            }
        }
    }
}
