package io.neurondb.proxy.protocol;

/** The tag of a CommandComplete message, e.g. {@code INSERT 0 5} or {@code SELECT 10}. */
public record CommandTag(String text) {

    public static CommandTag decode(Frame frame) {
        return new CommandTag(frame.reader().readCString());
    }

    /**
     * {@link #rows()} of a CommandComplete read in place, without decoding its text: the
     * statement tracker reads it for every statement.
     */
    public static long rowsOf(Frame frame) {
        int end = frame.end() - 1; // the tag's terminating zero
        io.vertx.core.buffer.Buffer b = frame.source();
        int start = frame.start() + PgProtocol.TYPED_HEADER_LENGTH;
        if (end <= start || b.getByte(end) != 0) {
            return decode(frame).rows();
        }
        long rows = 0;
        long scale = 1;
        int i = end - 1;
        for (; i >= start && b.getByte(i) >= '0' && b.getByte(i) <= '9'; i--) {
            if (scale > 100_000_000_000_000_000L) {
                return decode(frame).rows(); // more digits than a long holds: the slow path says -1
            }
            rows += (b.getByte(i) - '0') * scale;
            scale *= 10;
        }
        return i < end - 1 && i >= start && b.getByte(i) == ' ' ? rows : -1;
    }

    /** Rows affected or returned, when the tag carries a count (its last word); else -1. */
    public long rows() {
        int space = text.lastIndexOf(' ');
        if (space < 0) {
            return -1;
        }
        try {
            return Long.parseLong(text.substring(space + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
