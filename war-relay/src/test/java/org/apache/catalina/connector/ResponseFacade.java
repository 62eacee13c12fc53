package org.apache.catalina.connector;

/** A stand-in of Payara's servlet response facade: only the fields the relay reads. */
public class ResponseFacade {

    protected Response response = new Response();

    public Response response() {
        return response;
    }
}
