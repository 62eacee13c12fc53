package org.apache.catalina.connector;

/** A stand-in of Payara's servlet output buffer: it can only grow Grizzly's, like the real one. */
public class OutputBuffer {

    private final org.glassfish.grizzly.http.io.OutputBuffer grizzlyOutputBuffer =
            new org.glassfish.grizzly.http.io.OutputBuffer();

    public void setBufferSize(int size) {
        if (size > grizzlyOutputBuffer.getBufferSize()) {
            grizzlyOutputBuffer.setBufferSize(size);
        }
    }

    public org.glassfish.grizzly.http.io.OutputBuffer grizzly() {
        return grizzlyOutputBuffer;
    }
}
