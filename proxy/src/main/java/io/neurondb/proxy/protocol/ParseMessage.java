package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

/**
 * A Parse message in full, for statements the proxy rewrites: the SQL and the parameter
 * types the client declared (0 = let the server infer).
 */
public record ParseMessage(String statementName, String sql, int[] parameterTypes) {

    public static ParseMessage decode(Frame f) {
        MessageReader r = f.reader();
        String name = r.readCString();
        String sql = r.readCString();
        int n = Short.toUnsignedInt(r.readInt16());
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            types[i] = r.readInt32();
        }
        return new ParseMessage(name, sql, types);
    }

    public Buffer encode() {
        MessageWriter w = MessageWriter.typed(PgProtocol.PARSE, sql.length() + statementName.length() + 8 + 4 * parameterTypes.length)
                .cstring(statementName).cstring(sql).int16(parameterTypes.length);
        for (int t : parameterTypes) {
            w.int32(t);
        }
        return w.finish();
    }
}
