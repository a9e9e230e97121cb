package io.neurondb.proxy.route;

/** Quoting of identifiers the proxy writes into SQL it generates. */
public final class SqlIdentifiers {

    private SqlIdentifiers() {
    }

    /** Always quotes, so case, keywords and odd characters survive exactly as given. */
    public static String quote(String identifier) {
        if (identifier.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("identifier contains a NUL character");
        }
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
