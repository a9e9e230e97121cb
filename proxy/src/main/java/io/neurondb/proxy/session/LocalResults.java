package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.BackendMessages;
import io.neurondb.proxy.protocol.BackendMessages.Field;
import io.neurondb.proxy.protocol.BindMessage;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A result set the proxy answers with itself: column descriptions and rows, encoded in the
 * formats the client asked for (text, or binary for the integer and float8 columns it uses).
 */
final class LocalResults {

    /** One column: its description, and how to write a value of it in binary. */
    record Column(String name, int typeOid, short typeLength) {
        static Column text(String name) {
            return new Column(name, BackendMessages.TEXT_OID, (short) -1);
        }

        static Column int8(String name) {
            return new Column(name, BackendMessages.INT8_OID, (short) 8);
        }

        static Column int4(String name) {
            return new Column(name, BackendMessages.INT4_OID, (short) 4);
        }

        static Column float8(String name) {
            return new Column(name, BackendMessages.FLOAT8_OID, (short) 8);
        }

        static Column bool(String name) {
            return new Column(name, BackendMessages.BOOL_OID, (short) 1);
        }

        static Column ofType(String name, int oid) {
            return switch (oid) {
                case BackendMessages.INT8_OID -> int8(name);
                case BackendMessages.INT4_OID -> int4(name);
                case BackendMessages.INT2_OID -> new Column(name, oid, (short) 2);
                case BackendMessages.FLOAT8_OID -> float8(name);
                case BackendMessages.BOOL_OID -> bool(name);
                default -> text(name);
            };
        }
    }

    private final List<Column> columns;
    private final List<Object[]> rows = new ArrayList<>();
    private final String commandTag;

    LocalResults(List<Column> columns, String commandTag) {
        this.columns = List.copyOf(columns);
        this.commandTag = commandTag;
    }

    /** A SELECT-shaped result: the tag is {@code SELECT n}. */
    static LocalResults select(List<Column> columns) {
        return new LocalResults(columns, null);
    }

    /** Values: String, Long/Integer/Short, Double/Float, Boolean or null. */
    LocalResults row(Object... values) {
        rows.add(values);
        return this;
    }

    int rowCount() {
        return rows.size();
    }

    Buffer rowDescription(BindMessage formats) {
        List<Field> fields = new ArrayList<>(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            short format = formats == null ? BindMessage.TEXT : formats.resultFormat(i);
            fields.add(new Field(c.name(), 0, (short) 0, c.typeOid(), c.typeLength(), -1, format));
        }
        return BackendMessages.rowDescription(fields);
    }

    /** Rows {@code [from, to)} as DataRow messages. */
    List<Buffer> dataRows(BindMessage formats, int from, int to) {
        List<Buffer> out = new ArrayList<>(to - from);
        for (int r = from; r < to; r++) {
            Object[] row = rows.get(r);
            Buffer[] values = new Buffer[columns.size()];
            for (int i = 0; i < values.length; i++) {
                short format = formats == null ? BindMessage.TEXT : formats.resultFormat(i);
                values[i] = encode(columns.get(i), row[i], format);
            }
            out.add(BackendMessages.dataRow(values));
        }
        return out;
    }

    String commandTag() {
        return commandTag != null ? commandTag : "SELECT " + rows.size();
    }

    /** Description, every row and the completion: the whole answer to a simple query. */
    List<Buffer> all() {
        List<Buffer> out = new ArrayList<>(rows.size() + 2);
        out.add(rowDescription(null));
        out.addAll(dataRows(null, 0, rows.size()));
        out.add(BackendMessages.commandComplete(commandTag()));
        return out;
    }

    private static Buffer encode(Column column, Object value, short format) {
        if (value == null) {
            return null;
        }
        if (format == BindMessage.BINARY) {
            Buffer b = Buffer.buffer(8);
            switch (column.typeOid()) {
                case BackendMessages.INT8_OID -> b.appendLong(((Number) value).longValue());
                case BackendMessages.INT4_OID -> b.appendInt(((Number) value).intValue());
                case BackendMessages.INT2_OID -> b.appendShort(((Number) value).shortValue());
                case BackendMessages.FLOAT8_OID -> b.appendDouble(((Number) value).doubleValue());
                case BackendMessages.BOOL_OID -> b.appendByte((byte) (Boolean.TRUE.equals(value) ? 1 : 0));
                default -> b.appendBytes(text(value).getBytes(StandardCharsets.UTF_8));
            }
            return b;
        }
        return Buffer.buffer(text(value).getBytes(StandardCharsets.UTF_8));
    }

    private static String text(Object value) {
        if (value instanceof Boolean b) {
            return b ? "t" : "f";
        }
        if (value instanceof Float f) {
            return PgFloat.format(f);
        }
        if (value instanceof Double d) {
            return PgFloat.format(d);
        }
        return value.toString();
    }
}
