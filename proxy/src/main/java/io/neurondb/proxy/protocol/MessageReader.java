package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * Sequential reader over one message body. Every read is bounds-checked against the body,
 * and running past it is a protocol violation, never an index error deep in a handler.
 */
public final class MessageReader {

    private final Buffer body;
    private int pos;
    /** End of the message in {@code body}; reading stops there. */
    private final int end;

    public MessageReader(Buffer body) {
        this(body, 0, body.length());
    }

    /** Reads {@code [start, end)} of {@code body} in place: no slice per message on the hot path. */
    MessageReader(Buffer body, int start, int end) {
        this.body = body;
        this.pos = start;
        this.end = end;
    }

    public int remaining() {
        return end - pos;
    }

    public byte readByte() {
        need(1);
        return body.getByte(pos++);
    }

    public short readInt16() {
        need(2);
        short v = body.getShort(pos);
        pos += 2;
        return v;
    }

    public int readInt32() {
        need(4);
        int v = body.getInt(pos);
        pos += 4;
        return v;
    }

    public Buffer readBytes(int n) {
        if (n < 0) {
            throw ProtocolException.violation("negative length " + n + " in message");
        }
        need(n);
        Buffer slice = body.slice(pos, pos + n);
        pos += n;
        return slice;
    }

    /** A NUL-terminated UTF-8 string. */
    public String readCString() {
        int start = pos;
        if (start < end && body.getByte(start) == 0) {
            pos = start + 1;
            return ""; // unnamed statements and portals: most Binds and Executes
        }
        int zero = ByteSearch.indexOf(body, start, end, (byte) 0);
        if (zero < 0) {
            throw ProtocolException.violation("unterminated string in message");
        }
        pos = zero + 1;
        return body.getString(start, zero, StandardCharsets.UTF_8.name());
    }

    /** Steps over a NUL-terminated string without decoding it. */
    public void skipCString() {
        int zero = ByteSearch.indexOf(body, pos, end, (byte) 0);
        if (zero >= 0) {
            pos = zero + 1;
            return;
        }
        throw ProtocolException.violation("unterminated string in message");
    }

    public void skip(int n) {
        need(n);
        pos += n;
    }

    private void need(int n) {
        if (end - pos < n) {
            throw ProtocolException.violation("message too short: needed " + n + " more bytes, " + remaining() + " left");
        }
    }
}
