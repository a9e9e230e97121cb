package io.neurondb.tests.shim;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.TestPostgres;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A database of its own on the shared test server, for shim tests: created fresh, dropped
 * (with FORCE) on close, so no test sees another's shim.
 */
final class ShimDb implements AutoCloseable {

    private static final AtomicInteger SEQ = new AtomicInteger();

    final LocalPostgres pg;
    final String name;
    final Connection conn;

    private ShimDb(LocalPostgres pg, String name) throws SQLException {
        this.pg = pg;
        this.name = name;
        this.conn = connect(pg, name);
    }

    static ShimDb create(String label) throws SQLException {
        LocalPostgres pg = TestPostgres.shared();
        String name = "shim_" + label + "_" + ProcessHandle.current().pid() + "_" + SEQ.incrementAndGet();
        try (Connection admin = TestPostgres.superuser(pg); Statement s = admin.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return new ShimDb(pg, name);
    }

    static Connection connect(LocalPostgres pg, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        return DriverManager.getConnection(pg.jdbcUrl(database), p);
    }

    /** Runs a script as one simple-protocol Query (how the proxy sends it); returns its notices. */
    List<String> exec(String sql) throws SQLException {
        return exec(conn, sql);
    }

    static List<String> exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
            List<String> notices = new ArrayList<>();
            for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                notices.add(w.getMessage());
            }
            return notices;
        }
    }

    /** The first column of the first row, or null when there is no row. */
    Object one(String sql) throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        }
    }

    long count(String sql) throws SQLException {
        return ((Number) one(sql)).longValue();
    }

    /** The error a statement raises: SQLSTATE and primary message. */
    record PgError(String state, String message, String hint, String detail) {
    }

    PgError error(String sql) {
        return error(conn, sql);
    }

    static PgError error(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (PSQLException e) {
            var m = e.getServerErrorMessage();
            return new PgError(e.getSQLState(), m == null ? e.getMessage() : m.getMessage(),
                    m == null ? null : m.getHint(), m == null ? null : m.getDetail());
        } catch (SQLException e) {
            return new PgError(e.getSQLState(), e.getMessage(), null, null);
        }
        throw new AssertionError("expected an error from: " + sql);
    }

    @Override
    public void close() throws SQLException {
        conn.close();
        try (Connection admin = TestPostgres.superuser(pg); Statement s = admin.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
