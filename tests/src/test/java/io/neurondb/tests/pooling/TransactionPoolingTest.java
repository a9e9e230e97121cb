package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Transaction mode: a client's server connection changes between transactions, and what it
 * set up (search_path, prepared statements) comes along; what cannot (LISTEN) fails clearly.
 */
class TransactionPoolingTest {

    private static LocalPostgres pg;
    private static ProxyUnderTest proxy;

    @BeforeAll
    static void start() throws SQLException {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS pool_sp");
            s.execute("CREATE TABLE IF NOT EXISTS pool_sp.marker (v text)");
            s.execute("TRUNCATE pool_sp.marker");
            s.execute("INSERT INTO pool_sp.marker VALUES ('from pool_sp')");
        }
        proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n    default_pool_size: 2\n    query_wait_timeout: 10\n");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection client() throws SQLException {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        return PooledProxy.connect(proxy, "postgres", "postgres", "postgres", p);
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
            r.next();
            return r.getInt(1);
        }
    }

    /**
     * Opens transactions on other clients until one of them holds the server connection with
     * {@code pid}; the caller's next transaction must then run on another one.
     */
    private static List<Connection> occupy(int pid) throws SQLException {
        List<Connection> holders = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Connection h = client();
            h.setAutoCommit(false);
            holders.add(h);
            if (pid(h) == pid) {
                // The holders that got other connections let them go: with a pool of two, one of
                // them may hold the only other connection (a new client prefers a connection on
                // its own event loop, so it need not get the one used last).
                holders.remove(h);
                release(holders);
                return new ArrayList<>(List.of(h));
            }
        }
        for (Connection h : holders) {
            h.close();
        }
        throw new AssertionError("no client got server connection " + pid + " in 20 tries");
    }

    private static void release(List<Connection> holders) throws SQLException {
        for (Connection h : holders) {
            h.rollback();
            h.close();
        }
    }

    @Test
    void searchPathSurvivesAServerSwitchAndDoesNotLeak() throws SQLException {
        try (Connection a = client(); Connection b = client()) {
            try (Statement s = a.createStatement()) {
                s.execute("SET search_path TO pool_sp, public");
            }
            int first = pid(a);
            List<Connection> holders = occupy(first);
            try (Statement s = a.createStatement();
                 ResultSet r = s.executeQuery("SELECT pg_backend_pid(), current_setting('search_path'), (SELECT v FROM marker)")) {
                r.next();
                assertThat(r.getInt(1)).as("another server connection").isNotEqualTo(first);
                assertThat(r.getString(2)).isEqualTo("pool_sp, public");
                assertThat(r.getString(3)).isEqualTo("from pool_sp");
            } finally {
                release(holders);
            }
            // b never set it: whichever connection b gets, it has the default search_path.
            for (int i = 0; i < 4; i++) {
                try (Statement s = b.createStatement(); ResultSet r = s.executeQuery("SELECT current_setting('search_path')")) {
                    r.next();
                    assertThat(r.getString(1)).isEqualTo("\"$user\", public");
                }
            }
        }
    }

    @Test
    void preparedStatementsSurviveAServerSwitch() throws SQLException {
        try (Connection a = client()) {
            try (PreparedStatement ps = a.prepareStatement("SELECT ?::int * 2, pg_backend_pid()")) {
                int first = 0;
                for (int i = 1; i <= 3; i++) {
                    ps.setInt(1, i);
                    try (ResultSet r = ps.executeQuery()) {
                        r.next();
                        assertThat(r.getInt(1)).isEqualTo(i * 2);
                        first = r.getInt(2);
                    }
                }
                List<Connection> holders = occupy(first);
                try {
                    ps.setInt(1, 21);
                    try (ResultSet r = ps.executeQuery()) {
                        r.next();
                        assertThat(r.getInt(1)).isEqualTo(42);
                        assertThat(r.getInt(2)).as("ran on another server connection").isNotEqualTo(first);
                    }
                } finally {
                    release(holders);
                }
            }
        }
    }

    @Test
    void manyClientsShareOnePoolWithTheirOwnStatementNames() throws Exception {
        List<Connection> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                clients.add(client());
            }
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < clients.size(); i++) {
                    // Same SQL text from every client, and a per-client one: both are prepared statements in pgjdbc.
                    try (PreparedStatement ps = clients.get(i).prepareStatement("SELECT ?::int + " + (i % 2))) {
                        ps.setInt(1, round);
                        try (ResultSet r = ps.executeQuery()) {
                            r.next();
                            assertThat(r.getInt(1)).isEqualTo(round + (i % 2));
                        }
                    }
                }
            }
        } finally {
            for (Connection c : clients) {
                c.close();
            }
        }
    }

    @Test
    void transactionsKeepTheirServerConnection() throws SQLException {
        try (Connection a = client(); Connection b = client()) {
            a.setAutoCommit(false);
            int pid = pid(a);
            try (Statement s = b.createStatement()) {
                s.execute("SELECT 1");
            }
            try (Statement s = a.createStatement()) {
                s.execute("CREATE TEMP TABLE in_tx (v int)");
                s.execute("INSERT INTO in_tx VALUES (1)");
            }
            assertThat(pid(a)).isEqualTo(pid);
            a.rollback();
        }
    }

    @Test
    void listenFailsClearly() throws SQLException {
        try (Connection a = client(); Statement s = a.createStatement()) {
            assertThatThrownBy(() -> s.execute("LISTEN some_channel"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).contains("LISTEN is not supported in transaction pooling mode");
                    });
            try (ResultSet r = s.executeQuery("SELECT 1")) {
                assertThat(r.next()).isTrue();
            }
        }
    }
}
