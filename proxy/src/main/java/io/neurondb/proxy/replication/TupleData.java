package io.neurondb.proxy.replication;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The column values of one row in a pgoutput Insert/Update/Delete message.
 *
 * <p>Each column is one of four kinds, and they are deliberately distinct types of the sealed
 * {@link Value} so a {@code switch} must handle each:
 * <ul>
 *   <li>{@link Null} ('n'): the column is SQL NULL;</li>
 *   <li>{@link UnchangedToast} ('u'): the column is a TOASTed value that the update did
 *       <em>not</em> change, so the server did not send it. This is <b>not</b> NULL: the row
 *       still has its old value, which the receiver must keep;</li>
 *   <li>{@link Text} ('t'): the value in the type's text output form;</li>
 *   <li>{@link Binary} ('b'): the value in the type's binary send form (protocol v2 with
 *       {@code binary 'true'}).</li>
 * </ul>
 */
public record TupleData(List<Value> columns) {

    public TupleData {
        columns = List.copyOf(columns);
    }

    public static TupleData of(Value... values) {
        return new TupleData(List.of(values));
    }

    public int size() {
        return columns.size();
    }

    public Value get(int column) {
        return columns.get(column);
    }

    public Kind kind(int column) {
        return columns.get(column).kind();
    }

    /** True only for SQL NULL ('n'); false for an unchanged TOASTed value. */
    public boolean isNull(int column) {
        return columns.get(column) instanceof Null;
    }

    /** True for 'u': the value was not sent and is unchanged; it is not NULL. */
    public boolean isUnchangedToast(int column) {
        return columns.get(column) instanceof UnchangedToast;
    }

    /** True when the column carries a value ('t' or 'b'). */
    public boolean hasValue(int column) {
        return columns.get(column) instanceof Text || columns.get(column) instanceof Binary;
    }

    /**
     * The text value of a column, or {@code null} for SQL NULL.
     *
     * @throws IllegalStateException for an unchanged TOASTed value ('u', which has no value in
     *                               this message and must not be read as NULL) or a binary value
     */
    public String textOrNull(int column) {
        return switch (columns.get(column)) {
            case Null n -> null;
            case Text t -> t.asString();
            case UnchangedToast u -> throw new IllegalStateException(
                    "column " + column + " is an unchanged TOASTed value ('u'): it was not sent and is not NULL");
            case Binary b -> throw new IllegalStateException("column " + column + " is binary ('b'), not text");
        };
    }

    /** The per-column kind byte of the pgoutput TupleData. */
    public enum Kind {
        NULL('n'), UNCHANGED_TOAST('u'), TEXT('t'), BINARY('b');

        private final char code;

        Kind(char code) {
            this.code = code;
        }

        public char code() {
            return code;
        }
    }

    /** One column value; see {@link TupleData}. */
    public sealed interface Value permits Null, UnchangedToast, Text, Binary {
        Kind kind();
    }

    /** SQL NULL ('n'). */
    public record Null() implements Value {
        public static final Null INSTANCE = new Null();

        @Override
        public Kind kind() {
            return Kind.NULL;
        }
    }

    /** An unchanged TOASTed value ('u'): not sent, not NULL; keep the old value. */
    public record UnchangedToast() implements Value {
        public static final UnchangedToast INSTANCE = new UnchangedToast();

        @Override
        public Kind kind() {
            return Kind.UNCHANGED_TOAST;
        }
    }

    /**
     * A value in text form ('t'). {@code bytes} is owned by this value and not copied: do not
     * modify it.
     */
    public record Text(byte[] bytes) implements Value {
        public static Text of(String s) {
            return new Text(s.getBytes(StandardCharsets.UTF_8));
        }

        public String asString() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        @Override
        public Kind kind() {
            return Kind.TEXT;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Text t && Arrays.equals(bytes, t.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            String s = asString();
            return "Text[" + (s.length() > 80 ? s.substring(0, 80) + "…(" + bytes.length + " bytes)" : s) + "]";
        }
    }

    /**
     * A value in binary send form ('b'). {@code bytes} is owned by this value and not copied:
     * do not modify it.
     */
    public record Binary(byte[] bytes) implements Value {
        @Override
        public Kind kind() {
            return Kind.BINARY;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Binary b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            byte[] shown = bytes.length > 40 ? Arrays.copyOf(bytes, 40) : bytes;
            return "Binary[" + HexFormat.of().formatHex(shown) + (bytes.length > 40 ? "…(" + bytes.length + " bytes)" : "") + "]";
        }
    }
}
