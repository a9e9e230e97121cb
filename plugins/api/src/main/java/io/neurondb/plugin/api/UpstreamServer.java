package io.neurondb.plugin.api;

/**
 * The upstream PostgreSQL server with the proxy's own login to it (from {@code upstream} in the
 * configuration). {@link #toString()} leaves the password out, so logging this is safe.
 *
 * @param tlsMode the {@code upstream_tls.mode} setting: disable, prefer, require or verify-full
 * @param caFile  CA bundle for verify-full, or null
 */
public record UpstreamServer(String host, int port, String database, String user, String password,
                             String tlsMode, String caFile) {

    /** A pgjdbc URL without credentials, e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres}. */
    public String jdbcUrl(String databaseName) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + databaseName;
    }

    @Override
    public String toString() {
        return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
    }
}
