package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

/**
 * One complete protocol message, exactly as it arrived: header included, so it can be
 * forwarded untouched. Startup-phase packets have no type byte; their {@link #type()} is
 * {@link #UNTYPED}.
 */
public record Frame(byte type, Buffer bytes) {

    public static final byte UNTYPED = 0;

    public boolean isTyped() {
        return type != UNTYPED;
    }

    /** The body after the header (type byte and/or length word). A view, not a copy. */
    public Buffer payload() {
        int header = isTyped() ? PgProtocol.TYPED_HEADER_LENGTH : 4;
        return bytes.slice(header, bytes.length());
    }

    public MessageReader reader() {
        return new MessageReader(payload());
    }

    public int length() {
        return bytes.length();
    }

    @Override
    public String toString() {
        return "Frame[" + (isTyped() ? PgProtocol.describeType(type) : "startup") + ", " + bytes.length() + " bytes]";
    }
}
