package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.Frame;
import io.vertx.core.buffer.Buffer;

/**
 * Collects what one read produced so it goes out in one socket write. Frames that lie next to
 * each other in the buffer they were read from (the common case: a client's
 * Bind/Execute/Sync, a server's DataRows and CommandComplete) are sent as one slice of that
 * buffer, with no copy; anything else is copied into a batch buffer. A decoder's slice is
 * never appended to.
 */
final class WriteBatch {

    /** A run of adjacent frames: {@code [runStart, runEnd)} of {@code runSource}. */
    private Buffer runSource;
    private int runStart;
    private int runEnd;
    /** Bytes that could not be kept as a run, in order; null while everything is one run. */
    private Buffer copied;

    void add(Frame frame) {
        if (copied == null && runSource == frame.source() && runEnd == frame.start()) {
            runEnd = frame.end();
        } else if (copied == null && runSource == null) {
            runSource = frame.source();
            runStart = frame.start();
            runEnd = frame.end();
        } else {
            add(frame.bytes());
        }
    }

    /** Bytes the proxy wrote itself (a re-encoded message). */
    void add(Buffer bytes) {
        if (copied == null) {
            copied = Buffer.buffer(runEnd - runStart + bytes.length() + 64);
            if (runSource != null) {
                copied.appendBuffer(runSource, runStart, runEnd - runStart);
            }
            runSource = null;
        }
        copied.appendBuffer(bytes);
    }

    boolean isEmpty() {
        return runSource == null && copied == null;
    }

    /** The collected bytes, or null if none; the batch is empty afterwards. */
    Buffer take() {
        Buffer out = copied != null ? copied : runSource == null ? null : runSource.slice(runStart, runEnd);
        runSource = null;
        copied = null;
        runStart = runEnd = 0;
        return out;
    }
}
