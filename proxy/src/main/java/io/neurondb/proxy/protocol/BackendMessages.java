package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;

/**
 * Encoders and decoders for the server replies the proxy produces itself (answers of its
 * own) or rewrites (result columns holding vectors).
 */
public final class BackendMessages {

    public static final int TEXT_OID = 25;
    public static final int INT2_OID = 21;
    public static final int INT4_OID = 23;
    public static final int INT8_OID = 20;
    public static final int FLOAT8_OID = 701;
    public static final int BOOL_OID = 16;

    private static final Buffer PARSE_COMPLETE = empty(PgProtocol.PARSE_COMPLETE);
    private static final Buffer BIND_COMPLETE = empty(PgProtocol.BIND_COMPLETE);
    private static final Buffer CLOSE_COMPLETE = empty(PgProtocol.CLOSE_COMPLETE);
    private static final Buffer NO_DATA = empty(PgProtocol.NO_DATA);
    private static final Buffer EMPTY_QUERY = empty(PgProtocol.EMPTY_QUERY_RESPONSE);

    private BackendMessages() {
    }

    private static Buffer empty(byte type) {
        return MessageWriter.typed(type, 0).finish();
    }

    public static Buffer parseComplete() {
        return PARSE_COMPLETE.copy();
    }

    public static Buffer bindComplete() {
        return BIND_COMPLETE.copy();
    }

    public static Buffer closeComplete() {
        return CLOSE_COMPLETE.copy();
    }

    public static Buffer noData() {
        return NO_DATA.copy();
    }

    public static Buffer emptyQuery() {
        return EMPTY_QUERY.copy();
    }

    public static Buffer commandComplete(String tag) {
        return MessageWriter.typed(PgProtocol.COMMAND_COMPLETE, tag.length() + 1).cstring(tag).finish();
    }

    public static Buffer parameterDescription(int[] types) {
        MessageWriter w = MessageWriter.typed(PgProtocol.PARAMETER_DESCRIPTION, 2 + 4 * types.length).int16(types.length);
        for (int t : types) {
            w.int32(t);
        }
        return w.finish();
    }

    public static int[] decodeParameterDescription(Frame f) {
        MessageReader r = f.reader();
        int n = Short.toUnsignedInt(r.readInt16());
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            types[i] = r.readInt32();
        }
        return types;
    }

    /** One column of a RowDescription. */
    public record Field(String name, int tableOid, short attnum, int typeOid, short typeLength, int typeModifier, short format) {

        public static Field computed(String name, int typeOid, short typeLength) {
            return new Field(name, 0, (short) 0, typeOid, typeLength, -1, BindMessage.TEXT);
        }

        public Field withType(int oid, short length, int modifier) {
            return new Field(name, tableOid, attnum, oid, length, modifier, format);
        }

        public Field withFormat(short f) {
            return new Field(name, tableOid, attnum, typeOid, typeLength, typeModifier, f);
        }
    }

    public static List<Field> decodeRowDescription(Frame f) {
        MessageReader r = f.reader();
        int n = Short.toUnsignedInt(r.readInt16());
        List<Field> fields = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            fields.add(new Field(r.readCString(), r.readInt32(), r.readInt16(), r.readInt32(), r.readInt16(), r.readInt32(), r.readInt16()));
        }
        return fields;
    }

    /**
     * Whether any column of a RowDescription has type {@code typeOid}: a scan that decodes no
     * names, for the common case of a result the proxy passes on unchanged.
     */
    public static boolean hasFieldOfType(Frame f, int typeOid) {
        MessageReader r = f.reader();
        int n = Short.toUnsignedInt(r.readInt16());
        for (int i = 0; i < n; i++) {
            r.skipCString();
            r.skip(6); // table oid, attnum
            if (r.readInt32() == typeOid) {
                return true;
            }
            r.skip(8); // type length, modifier, format
        }
        return false;
    }

    public static Buffer rowDescription(List<Field> fields) {
        MessageWriter w = MessageWriter.typed(PgProtocol.ROW_DESCRIPTION, 2 + fields.size() * 32).int16(fields.size());
        for (Field field : fields) {
            w.cstring(field.name()).int32(field.tableOid()).int16(field.attnum()).int32(field.typeOid())
                    .int16(field.typeLength()).int32(field.typeModifier()).int16(field.format());
        }
        return w.finish();
    }

    /** A DataRow's column values as views on the frame; null for SQL NULL. */
    public static Buffer[] decodeDataRow(Frame f) {
        MessageReader r = f.reader();
        int n = Short.toUnsignedInt(r.readInt16());
        Buffer[] values = new Buffer[n];
        for (int i = 0; i < n; i++) {
            int len = r.readInt32();
            values[i] = len < 0 ? null : r.readBytes(len);
        }
        return values;
    }

    public static Buffer dataRow(Buffer[] values) {
        int size = 2;
        for (Buffer v : values) {
            size += 4 + (v == null ? 0 : v.length());
        }
        MessageWriter w = MessageWriter.typed(PgProtocol.DATA_ROW, size).int16(values.length);
        for (Buffer v : values) {
            if (v == null) {
                w.int32(-1);
            } else {
                w.int32(v.length()).bytes(v);
            }
        }
        return w.finish();
    }
}
