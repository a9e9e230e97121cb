package io.neurondb.proxy.replication;

/**
 * A pgoutput message or replication frame that cannot be decoded: unknown type byte,
 * truncated, a length that runs past the end, or trailing bytes. The message says which
 * message type and at which byte offset (relative to the start of the message).
 */
public final class PgOutputException extends RuntimeException {

    private final int offset;

    public PgOutputException(String message, int offset) {
        super(message);
        this.offset = offset;
    }

    /** Byte offset within the message where decoding failed (0 = the type byte). */
    public int offset() {
        return offset;
    }

    static String describe(byte type) {
        int t = type & 0xFF;
        if (t >= 0x20 && t < 0x7F) {
            return "'" + (char) t + "' (0x" + String.format("%02x", t) + ")";
        }
        return "0x" + String.format("%02x", t);
    }
}
