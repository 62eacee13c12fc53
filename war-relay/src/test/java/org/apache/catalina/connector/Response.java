package org.apache.catalina.connector;

/** A stand-in of Payara's response: only the fields the relay reads. */
public class Response {

    protected OutputBuffer outputBuffer = new OutputBuffer();

    public OutputBuffer outputBuffer() {
        return outputBuffer;
    }
}
