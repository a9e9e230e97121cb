package io.neurondb.proxy.session;

import io.vertx.core.buffer.Buffer;

/**
 * Collects the frames decoded from one read so they go out in one socket write. A single
 * frame goes out as the slice it arrived in; only a second one makes a copy, because a
 * decoder's slice must never be appended to.
 */
final class WriteBatch {

    private Buffer single;
    private Buffer joined;

    void add(Buffer bytes) {
        if (joined != null) {
            joined.appendBuffer(bytes);
        } else if (single == null) {
            single = bytes;
        } else {
            joined = Buffer.buffer(single.length() + bytes.length() + 256).appendBuffer(single).appendBuffer(bytes);
            single = null;
        }
    }

    boolean isEmpty() {
        return single == null && joined == null;
    }

    /** The collected bytes, or null if none; the batch is empty afterwards. */
    Buffer take() {
        Buffer out = joined != null ? joined : single;
        single = null;
        joined = null;
        return out;
    }
}
