package io.neurondb.proxy.protocol;

/**
 * Decoders for the parts of client messages the proxy needs to look at. Only names and
 * statement text are read: parameter values are never decoded here, so they cannot leak
 * into logs by accident.
 */
public final class FrontendMessages {

    private FrontendMessages() {
    }

    public record Query(String sql) {
    }

    public record Parse(String statementName, String sql) {
    }

    public record Bind(String portalName, String statementName) {
    }

    public record Execute(String portalName, int maxRows) {
    }

    /** Describe or Close target: {@code 'S'} a prepared statement, {@code 'P'} a portal. */
    public record Target(byte kind, String name) {
        public boolean isStatement() {
            return kind == 'S';
        }
    }

    public static Query query(Frame f) {
        return new Query(f.reader().readCString());
    }

    public static Parse parse(Frame f) {
        MessageReader r = f.reader();
        return new Parse(r.readCString(), r.readCString());
    }

    public static Bind bind(Frame f) {
        MessageReader r = f.reader();
        String portal = r.readCString();
        return new Bind(portal, r.readCString());
    }

    public static Execute execute(Frame f) {
        MessageReader r = f.reader();
        return new Execute(r.readCString(), r.readInt32());
    }

    public static Target target(Frame f) {
        MessageReader r = f.reader();
        byte kind = r.readByte();
        if (kind != 'S' && kind != 'P') {
            throw ProtocolException.violation("invalid " + PgProtocol.describeType(f.type()) + " target type " + PgProtocol.describeType(kind));
        }
        return new Target(kind, r.readCString());
    }
}
