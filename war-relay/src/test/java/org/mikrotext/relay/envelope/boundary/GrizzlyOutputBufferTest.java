package org.mikrotext.relay.envelope.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Proxy;
import org.apache.catalina.connector.ResponseFacade;
import org.junit.jupiter.api.Test;

class GrizzlyOutputBufferTest {

    @Test
    void theContainersBufferShrinksWhereTheServletApiCouldOnlyGrowIt() {
        ResponseFacade facade = new ResponseFacade();
        facade.response().outputBuffer().setBufferSize(256);
        assertEquals(8192, facade.response().outputBuffer().grizzly().getBufferSize(), "the stand-in only grows");

        assertTrue(GrizzlyOutputBuffer.shrinkFacade(facade));

        assertEquals(GrizzlyOutputBuffer.SIZE, facade.response().outputBuffer().grizzly().getBufferSize());
    }

    @Test
    void anotherContainersResponseIsLeftAloneAndLaterOnesStillShrink() {
        HttpServletResponse other = (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, method, args) -> null);
        assertFalse(GrizzlyOutputBuffer.shrink(other));
        assertFalse(GrizzlyOutputBuffer.shrinkFacade(null));

        ResponseFacade facade = new ResponseFacade();
        assertTrue(GrizzlyOutputBuffer.shrinkFacade(facade));
        assertEquals(512, facade.response().outputBuffer().grizzly().getBufferSize());
    }
}
