package io.neurondb.backup.pg;

import io.neurondb.plugin.api.UpstreamServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One blocking connection to a PostgreSQL server over the host's Vert.x pg-client, for the
 * plugin's worker threads (catalog rows, snapshots, CREATE/DROP DATABASE, checks). Values are
 * always passed as parameters.
 */
public final class Pg implements AutoCloseable {

    private static final long TIMEOUT_SECONDS = 120;

    private final SqlConnection conn;

    private Pg(SqlConnection conn) {
        this.conn = conn;
    }

    /** Connects with the proxy's upstream login to {@code database} on the upstream server. */
    public static Pg connect(Vertx vertx, UpstreamServer upstream, String database) {
        return connect(vertx, upstream, upstream.host(), upstream.port(), database);
    }

    /** Connects with the upstream login to another address (the proxy itself, a restored server). */
    public static Pg connect(Vertx vertx, UpstreamServer login, String host, int port, String database) {
        PgConnectOptions o = new PgConnectOptions().setHost(host).setPort(port).setDatabase(database)
                .setUser(login.user()).setProperties(java.util.Map.of("application_name", "neurondb-backup"));
        if (login.password() != null) {
            o.setPassword(login.password());
        }
        String mode = login.tlsMode() == null ? "prefer" : login.tlsMode();
        boolean upstreamItself = host.equals(login.host()) && port == login.port();
        if (upstreamItself && mode.equals("verify-full")) {
            o.setSslMode(SslMode.VERIFY_FULL);
            o.setSslOptions(new ClientSSLOptions().setHostnameVerificationAlgorithm("HTTPS")
                    .setTrustOptions(new PemTrustOptions().addCertPath(login.caFile())));
        } else if (upstreamItself && mode.equals("disable")) {
            o.setSslMode(SslMode.DISABLE);
        } else {
            // prefer/require as the proxy itself does: encrypt when offered, the certificate unchecked
            o.setSslMode(upstreamItself && mode.equals("require") ? SslMode.REQUIRE : SslMode.PREFER);
            o.setSslOptions(new ClientSSLOptions().setTrustAll(true));
        }
        return new Pg(await(PgConnection.connect(vertx, o)));
    }

    public List<Row> query(String sql, Object... params) {
        Future<io.vertx.sqlclient.RowSet<Row>> f = params.length == 0 ? conn.query(sql).execute()
                : conn.preparedQuery(sql).execute(Tuple.from(params));
        List<Row> rows = new ArrayList<>();
        await(f).forEach(rows::add);
        return rows;
    }

    /** The first column of the first row as text, or null when there is no row. */
    public String value(String sql, Object... params) {
        List<Row> rows = query(sql, params);
        if (rows.isEmpty()) {
            return null;
        }
        Object v = rows.getFirst().getValue(0);
        return v == null ? null : String.valueOf(v);
    }

    public void execute(String sql) {
        await(conn.query(sql).execute());
    }

    /**
     * Blocks for the result. Not Future.await: SqlFunction calls run on Vert.x worker threads,
     * where Vert.x refuses it; a plain blocking wait is fine off the event loop.
     */
    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException r ? r : new IllegalStateException(c.getMessage() == null ? c.toString() : c.getMessage(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("no answer from the server within " + TIMEOUT_SECONDS + " s", e);
        }
    }

    @Override
    public void close() {
        try {
            conn.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the connection goes away with the pool either way
        }
    }

    /** Quotes an identifier for SQL text (CREATE DATABASE cannot take it as a parameter). */
    public static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
