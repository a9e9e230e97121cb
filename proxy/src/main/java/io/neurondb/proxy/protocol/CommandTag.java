package io.neurondb.proxy.protocol;

/** The tag of a CommandComplete message, e.g. {@code INSERT 0 5} or {@code SELECT 10}. */
public record CommandTag(String text) {

    public static CommandTag decode(Frame frame) {
        return new CommandTag(frame.reader().readCString());
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
