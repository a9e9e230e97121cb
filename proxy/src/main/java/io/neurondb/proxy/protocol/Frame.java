package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

/**
 * One complete protocol message, exactly as it arrived: header included, so it can be
 * forwarded untouched. It is a window {@code [start, end)} on the buffer the decoder read it
 * from, so frames that were adjacent in the stream can be forwarded as one slice, without a
 * copy. Startup-phase packets have no type byte; their {@link #type()} is {@link #UNTYPED}.
 */
public final class Frame {

    public static final byte UNTYPED = 0;

    private final byte type;
    private final Buffer source;
    private final int start;
    private final int end;

    public Frame(byte type, Buffer source, int start, int end) {
        this.type = type;
        this.source = source;
        this.start = start;
        this.end = end;
    }

    public byte type() {
        return type;
    }

    public boolean isTyped() {
        return type != UNTYPED;
    }

    /** The whole message, header included. A view, not a copy. */
    public Buffer bytes() {
        return source.slice(start, end);
    }

    /**
     * The whole message copied to a heap buffer of its own, for keeping past the read it came
     * from (whose pooled memory is recycled). One copy: going through {@code getBytes()} made two.
     */
    public Buffer copyBytes() {
        return Buffer.buffer(end - start).appendBuffer(source, start, end - start);
    }

    /** This frame over its own copy of the bytes ({@link #copyBytes()}). */
    public Frame copy() {
        Buffer copy = copyBytes();
        return new Frame(type, copy, 0, copy.length());
    }

    /** The body after the header (type byte and/or length word). A view, not a copy. */
    public Buffer payload() {
        int header = isTyped() ? PgProtocol.TYPED_HEADER_LENGTH : 4;
        return source.slice(start + header, end);
    }

    /** The byte at {@code offset} of the body, read in place (hot-path peeks). */
    public byte bodyByte(int offset) {
        int header = isTyped() ? PgProtocol.TYPED_HEADER_LENGTH : 4;
        if (offset < 0 || start + header + offset >= end) {
            throw ProtocolException.violation("message too short: no byte " + offset + " in a " + length() + "-byte message");
        }
        return source.getByte(start + header + offset);
    }

    /**
     * Where {@code value} first occurs in the body from {@code offset} on, as an offset into
     * the body, or -1; one bulk scan ({@link ByteSearch}), not a {@link #bodyByte} per byte.
     */
    public int bodyIndexOf(int offset, byte value) {
        int header = isTyped() ? PgProtocol.TYPED_HEADER_LENGTH : 4;
        int at = ByteSearch.indexOf(source, start + header + Math.max(0, offset), end, value);
        return at < 0 ? -1 : at - start - header;
    }

    public MessageReader reader() {
        int header = isTyped() ? PgProtocol.TYPED_HEADER_LENGTH : 4;
        return new MessageReader(source, start + header, end);
    }

    public int length() {
        return end - start;
    }

    /** The buffer this frame is a window on; frames from one read share it. */
    public Buffer source() {
        return source;
    }

    public int start() {
        return start;
    }

    public int end() {
        return end;
    }

    @Override
    public String toString() {
        return "Frame[" + (isTyped() ? PgProtocol.describeType(type) : "startup") + ", " + length() + " bytes]";
    }
}
