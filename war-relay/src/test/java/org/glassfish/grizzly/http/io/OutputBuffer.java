package org.glassfish.grizzly.http.io;

/** A stand-in of Grizzly's output buffer: its size rules as in Grizzly 4 (at least 512, fixed once committed). */
public class OutputBuffer {

    private int bufferSize = 8192;
    public boolean committed;

    public int getBufferSize() {
        return bufferSize;
    }

    public void setBufferSize(int size) {
        if (!committed) {
            bufferSize = Math.max(size, 512);
        }
    }
}
