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

    public MessageReader(Buffer body) {
        this.body = body;
    }

    public int remaining() {
        return body.length() - pos;
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
        int end = body.length();
        for (int i = start; i < end; i++) {
            if (body.getByte(i) == 0) {
                pos = i + 1;
                return body.getString(start, i, StandardCharsets.UTF_8.name());
            }
        }
        throw ProtocolException.violation("unterminated string in message");
    }

    /** Steps over a NUL-terminated string without decoding it. */
    public void skipCString() {
        int end = body.length();
        for (int i = pos; i < end; i++) {
            if (body.getByte(i) == 0) {
                pos = i + 1;
                return;
            }
        }
        throw ProtocolException.violation("unterminated string in message");
    }

    public void skip(int n) {
        need(n);
        pos += n;
    }

    private void need(int n) {
        if (body.length() - pos < n) {
            throw ProtocolException.violation("message too short: needed " + n + " more bytes, " + remaining() + " left");
        }
    }
}
