package io.neurondb.proxy.replication;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Bounded big-endian reader over one message. Every read checks the remaining bytes first and
 * fails with a {@link PgOutputException} naming the message type and offset; it never throws
 * an index or buffer exception.
 */
final class WireReader {

    private final ByteBuffer buf;
    private final int start;
    private final String what;

    /** {@code buf} is read from its position to its limit; the caller's buffer is not moved. */
    WireReader(ByteBuffer buf, String what) {
        this.buf = buf.duplicate();
        this.start = this.buf.position();
        this.what = what;
    }

    int offset() {
        return buf.position() - start;
    }

    int remaining() {
        return buf.remaining();
    }

    PgOutputException error(String detail) {
        return new PgOutputException(what + ": " + detail + " at offset " + offset(), offset());
    }

    private void need(int n, String field) {
        if (buf.remaining() < n) {
            throw error("truncated: " + field + " needs " + n + " byte(s), " + buf.remaining() + " left");
        }
    }

    byte byte1(String field) {
        need(1, field);
        return buf.get();
    }

    int int8(String field) {
        need(1, field);
        return buf.get() & 0xFF;
    }

    int int16(String field) {
        need(2, field);
        return buf.getShort();
    }

    int int32(String field) {
        need(4, field);
        return buf.getInt();
    }

    long uint32(String field) {
        need(4, field);
        return Integer.toUnsignedLong(buf.getInt());
    }

    long int64(String field) {
        need(8, field);
        return buf.getLong();
    }

    /** A NUL-terminated UTF-8 string; the terminator must lie within the message. */
    String cstring(String field) {
        int from = buf.position();
        int limit = buf.limit();
        for (int i = from; i < limit; i++) {
            if (buf.get(i) == 0) {
                byte[] b = new byte[i - from];
                buf.get(b);
                buf.get(); // the NUL
                return new String(b, StandardCharsets.UTF_8);
            }
        }
        throw error("truncated: " + field + " string has no NUL terminator");
    }

    /** {@code n} bytes, {@code n} validated against what is left (negative lengths rejected). */
    byte[] bytes(int n, String field) {
        if (n < 0) {
            throw error("negative length " + n + " for " + field);
        }
        need(n, field);
        byte[] b = new byte[n];
        buf.get(b);
        return b;
    }

    /** All bytes that are left. */
    byte[] rest() {
        byte[] b = new byte[buf.remaining()];
        buf.get(b);
        return b;
    }

    void expectEnd() {
        if (buf.hasRemaining()) {
            throw error(buf.remaining() + " unexpected trailing byte(s)");
        }
    }
}
