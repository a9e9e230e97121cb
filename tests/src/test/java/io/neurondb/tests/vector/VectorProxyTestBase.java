package io.neurondb.tests.vector;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * One database of the shared test PostgreSQL per test class (named after the class), one proxy
 * in front of it, and helpers to talk to both: pgjdbc through the proxy, pgjdbc straight to
 * PostgreSQL (to check what was really stored), psql through the proxy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
abstract class VectorProxyTestBase {

    protected LocalPostgres pg;
    protected ProxyUnderTest proxy;
    protected String db;

    @BeforeAll
    void startProxy() throws Exception {
        pg = TestPostgres.shared();
        db = "vt_" + getClass().getSimpleName().toLowerCase(Locale.ROOT);
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + db);
        }
        proxy = ProxyUnderTest.start(pg);
    }

    @AfterAll
    void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** pgjdbc through the proxy, to this class's database. */
    protected Connection proxied() throws SQLException {
        return proxied(new Properties());
    }

    /** Reads that hang fail the test instead of the whole run. */
    static final String SOCKET_TIMEOUT_SECONDS = "20";

    /** pgjdbc through the proxy with extra connection properties. */
    protected Connection proxied(Properties extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("socketTimeout", SOCKET_TIMEOUT_SECONDS);
        p.putAll(extra);
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        return DriverManager.getConnection(proxy.jdbcUrl(db), p);
    }

    /** pgjdbc straight to PostgreSQL (no proxy), to this class's database. */
    protected Connection direct() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        p.setProperty("socketTimeout", "60");
        return DriverManager.getConnection(pg.jdbcUrl(db), p);
    }

    protected static void exec(Connection c, String... sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    /** Every row of a simple-protocol query, columns joined by '|'. */
    protected static List<String> rows(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return read(rs);
        }
    }

    /** Every row of an extended-protocol query with text parameters (setObject), columns joined by '|'. */
    protected static List<String> prepared(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return read(rs);
            }
        }
    }

    protected static List<String> read(ResultSet rs) throws SQLException {
        List<String> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= n; i++) {
                if (i > 1) {
                    b.append('|');
                }
                b.append(rs.getString(i));
            }
            out.add(b.toString());
        }
        return out;
    }

    protected static String one(Connection c, String sql) throws SQLException {
        List<String> r = rows(c, sql);
        assertThat(r).as(sql).hasSize(1);
        return r.getFirst();
    }

    protected interface SqlAction {
        void run() throws Exception;
    }

    /** The SQLException the action must throw. */
    protected static SQLException sqlError(SqlAction action) {
        SQLException e = catchThrowableOfType(SQLException.class, action::run);
        assertThat((Object) e).as("expected an SQLException").isNotNull();
        return e;
    }

    /** Asserts the action fails with this SQLSTATE and a message containing the text. */
    protected static SQLException expectError(String sqlState, String messagePart, SqlAction action) {
        SQLException e = sqlError(action);
        assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo(sqlState);
        if (messagePart != null) {
            assertThat(e.getMessage()).contains(messagePart);
        }
        return e;
    }

    protected Map<String, String> psqlEnv() {
        return Map.of("PGHOST", "127.0.0.1", "PGPORT", String.valueOf(proxy.port()), "PGUSER", "postgres",
                "PGPASSWORD", "postgres", "PGDATABASE", db, "PGSSLMODE", "disable", "PGCONNECT_TIMEOUT", "30");
    }

    /** psql through the proxy, script on stdin: -X -q -A -t and stop at the first error. */
    protected Tool.Result psql(String script, String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"));
        args.addAll(List.of(extraArgs));
        return Tool.run(pg.binDir(), "psql", psqlEnv(), script, args);
    }

    /**
     * index_name|table_name|column_name|method|metric|dims|rows|state of the engine's indexes on
     * {@code table} (unqualified), sorted by name: read with {@code SELECT *}, filtered here.
     */
    protected static List<String> statsOf(Connection c, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM neurondb.index_stats()")) {
            while (rs.next()) {
                String t = rs.getString("table_name");
                if (t.equals(table) || t.endsWith("." + table)) {
                    out.add(String.join("|", rs.getString("index_name"), t, rs.getString("column_name"), rs.getString("method"),
                            rs.getString("metric"), rs.getString("dims"), rs.getString("rows"), rs.getString("state")));
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** Creates the shim in this database if it is not there yet. */
    protected void ensureExtension() throws SQLException {
        try (Connection c = proxied()) {
            exec(c, "CREATE EXTENSION IF NOT EXISTS vector");
        }
    }
}
