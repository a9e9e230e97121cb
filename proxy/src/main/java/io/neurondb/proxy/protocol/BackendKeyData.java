package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

/** The (process id, secret key) pair a client needs to cancel its running query. */
public record BackendKeyData(int processId, int secretKey) {

    public static BackendKeyData decode(Frame frame) {
        MessageReader r = frame.reader();
        BackendKeyData key = new BackendKeyData(r.readInt32(), r.readInt32());
        if (r.remaining() != 0) {
            // Protocol 3.2 allows longer secrets; this proxy speaks 3.0 to its server.
            throw ProtocolException.violation("unexpected BackendKeyData length " + frame.length());
        }
        return key;
    }

    public Buffer encode() {
        return MessageWriter.typed(PgProtocol.BACKEND_KEY_DATA, 8).int32(processId).int32(secretKey).finish();
    }

    /** Both halves in one long, for map keys. */
    public long asLong() {
        return ((long) processId << 32) | (secretKey & 0xffffffffL);
    }
}
