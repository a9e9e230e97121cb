package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A Bind message in full, for portals whose parameters the proxy converts or extends.
 * Values are views on the received frame (null = SQL NULL). They are bind values: never put
 * them in logs or exceptions; {@link #toString()} leaves them out.
 *
 * @param parameterFormats as sent: empty (all text), one (applies to all) or one per value
 * @param resultFormats    as sent: empty (all text), one (applies to all) or one per column
 */
public record BindMessage(String portalName, String statementName, short[] parameterFormats, Buffer[] values,
                          short[] resultFormats) {

    public static final short TEXT = 0;
    public static final short BINARY = 1;

    public static BindMessage decode(Frame f) {
        MessageReader r = f.reader();
        String portal = r.readCString();
        String statement = r.readCString();
        short[] formats = readShorts(r);
        int n = Short.toUnsignedInt(r.readInt16());
        Buffer[] values = new Buffer[n];
        for (int i = 0; i < n; i++) {
            int len = r.readInt32();
            values[i] = len < 0 ? null : r.readBytes(len);
        }
        short[] results = readShorts(r);
        if (formats.length > 1 && formats.length != n) {
            throw ProtocolException.violation("bind message has " + formats.length + " parameter formats but " + n + " parameters");
        }
        return new BindMessage(portal, statement, formats, values, results);
    }

    private static short[] readShorts(MessageReader r) {
        int n = Short.toUnsignedInt(r.readInt16());
        short[] out = new short[n];
        for (int i = 0; i < n; i++) {
            out[i] = r.readInt16();
        }
        return out;
    }

    /**
     * The same Bind without its values, to keep beyond the read it came in (the values are
     * views on that read's memory) — for the result formats.
     */
    public BindMessage withoutValues() {
        return new BindMessage(portalName, statementName, parameterFormats, new Buffer[0], resultFormats);
    }

    /** The format of value {@code index} (0-based). */
    public short parameterFormat(int index) {
        return parameterFormats.length == 0 ? TEXT : parameterFormats.length == 1 ? parameterFormats[0] : parameterFormats[index];
    }

    /** The format the client wants for result column {@code index} (0-based). */
    public short resultFormat(int index) {
        return resultFormats.length == 0 ? TEXT : resultFormats.length == 1 ? resultFormats[0] : index < resultFormats.length ? resultFormats[index] : TEXT;
    }

    /** Value {@code index} as text (for text-format parameters), or null for NULL. */
    public String textValue(int index) {
        Buffer v = values[index];
        return v == null ? null : v.toString(StandardCharsets.UTF_8);
    }

    public Buffer encode() {
        int size = portalName.length() + statementName.length() + 8 + 2 * (parameterFormats.length + resultFormats.length);
        for (Buffer v : values) {
            size += 4 + (v == null ? 0 : v.length());
        }
        MessageWriter w = MessageWriter.typed(PgProtocol.BIND, size).cstring(portalName).cstring(statementName);
        w.int16(parameterFormats.length);
        for (short s : parameterFormats) {
            w.int16(s);
        }
        w.int16(values.length);
        for (Buffer v : values) {
            if (v == null) {
                w.int32(-1);
            } else {
                w.int32(v.length()).bytes(v);
            }
        }
        w.int16(resultFormats.length);
        for (short s : resultFormats) {
            w.int16(s);
        }
        return w.finish();
    }

    @Override
    public String toString() {
        return "Bind[portal=" + portalName + ", statement=" + statementName + ", " + values.length + " values, results=" + Arrays.toString(resultFormats) + "]";
    }
}
