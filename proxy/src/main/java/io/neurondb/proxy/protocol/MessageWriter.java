package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * Builds one message: writes the header with a placeholder length, lets the caller append
 * the body, then fills the length in, so nobody computes sizes by hand.
 */
public final class MessageWriter {

    private final Buffer buf;
    private final int lengthAt;

    private MessageWriter(Buffer buf, int lengthAt) {
        this.buf = buf;
        this.lengthAt = lengthAt;
    }

    /** A typed message appended to {@code target}. */
    public static MessageWriter typed(Buffer target, byte type) {
        target.appendByte(type);
        int at = target.length();
        target.appendInt(0);
        return new MessageWriter(target, at);
    }

    public static MessageWriter typed(byte type, int sizeHint) {
        return typed(Buffer.buffer(sizeHint + PgProtocol.TYPED_HEADER_LENGTH), type);
    }

    /** A startup-phase packet (no type byte). */
    public static MessageWriter untyped(int sizeHint) {
        Buffer target = Buffer.buffer(sizeHint + 4);
        target.appendInt(0);
        return new MessageWriter(target, 0);
    }

    public MessageWriter int8(int v) {
        buf.appendByte((byte) v);
        return this;
    }

    public MessageWriter int16(int v) {
        buf.appendShort((short) v);
        return this;
    }

    public MessageWriter int32(int v) {
        buf.appendInt(v);
        return this;
    }

    public MessageWriter bytes(Buffer b) {
        buf.appendBuffer(b);
        return this;
    }

    public MessageWriter cstring(String s) {
        buf.appendBytes(s.getBytes(StandardCharsets.UTF_8));
        buf.appendByte((byte) 0);
        return this;
    }

    /** Fills in the length and returns the whole target buffer. */
    public Buffer finish() {
        buf.setInt(lengthAt, buf.length() - lengthAt);
        return buf;
    }
}
