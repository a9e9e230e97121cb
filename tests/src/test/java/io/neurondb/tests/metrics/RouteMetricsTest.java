package io.neurondb.tests.metrics;

import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Exact statement counts on every route ({@code passthrough}, {@code vector}, {@code rewritten},
 * {@code admin}) and outcome after a known workload, in the simple and the extended protocol:
 * the histogram's {@code _count} per route and outcome, and the errors counter per route and
 * SQLSTATE class. A statement counted twice or on the wrong route changes a figure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RouteMetricsTest {

    private static final String DB = "metrics_routes";
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String COUNT = "neurondb_statement_duration_seconds_count";
    private static final String ERRORS = "neurondb_statement_errors_total";
    private static final List<String> ROUTES = List.of("passthrough", "vector", "rewritten", "admin");
    private static final String[] INDEX = {"database", DB, "table", "public.docs", "index", "docs_hnsw", "method", "hnsw"};

    private LocalPostgres pg;
    private ProxyUnderTest proxy;
    private MetricsHttp http;
    private final List<StatementEvent> seen = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start() throws Exception {
        pg = TestPostgres.shared();
        MetricsProxy started = MetricsProxy.start(pg, DB, seen::add);
        proxy = started.proxy();
        http = started.http();
    }

    @AfterAll
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private Connection connect(String queryMode) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        p.setProperty("preferQueryMode", queryMode);
        p.setProperty("socketTimeout", "30");
        // Otherwise pgjdbc runs SET application_name after login, a statement of its own.
        p.setProperty("assumeMinServerVersion", "15");
        return DriverManager.getConnection(proxy.jdbcUrl(DB), p);
    }

    /** Every route × outcome count and every route × class error count of a scrape. */
    private static Map<String, Double> figures(PromText m) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String route : ROUTES) {
            for (String outcome : List.of("success", "error")) {
                out.put(route + "/" + outcome, m.value(COUNT, "route", route, "outcome", outcome));
            }
        }
        for (PromText.Sample s : m.find(ERRORS)) {
            out.put(s.labels().get("route") + "/class " + s.labels().get("sqlstate_class"), s.value());
        }
        return out;
    }

    /** after − before, per figure, leaving out the ones that did not move. */
    private static Map<String, Double> delta(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> out = new LinkedHashMap<>();
        after.forEach((k, v) -> {
            double d = v - before.getOrDefault(k, 0.0);
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    private static String vector(double... xs) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < xs.length; i++) {
            b.append(i == 0 ? "" : ",").append(xs[i]);
        }
        return b.append(']').toString();
    }

    /**
     * Waits until the proxy has reported {@code statements} statements since {@code from} (the
     * metrics plugin observes the same events, in the same call), then returns the scrape's changes.
     */
    private Map<String, Double> awaitDelta(Map<String, Double> before, int from, int statements) throws Exception {
        long end = System.nanoTime() + WAIT.toNanos();
        while (seen.size() - from < statements && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(seen.size() - from).as("statements reported: %s", eventsSince(from)).isEqualTo(statements);
        return delta(before, figures(http.scrape()));
    }

    private String eventsSince(int from) {
        return seen.subList(from, seen.size()).stream().map(e -> e.route() + " " + e.protocol() + " " + e.sqlState() + " " + e.sql()).toList().toString();
    }

    @Test
    void simpleProtocolCountsEachStatementOnceOnItsRoute() throws Exception {
        Map<String, Double> before = figures(http.scrape());
        int from = seen.size();
        try (Connection c = connect("simple"); Statement s = c.createStatement()) {
            // admin: answered or carried out by the proxy (3 successes)
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("SET hnsw.ef_search = 50");
            s.execute("SHOW hnsw.ef_search");
            // rewritten: vector SQL rewritten for stock PostgreSQL (3 successes)
            s.execute("CREATE TABLE docs (id bigint PRIMARY KEY, e vector(3))");
            s.execute("INSERT INTO docs VALUES (1, '" + vector(1, 0, 0) + "'), (2, '" + vector(0, 1, 0) + "'), (3, '" + vector(0, 0, 1) + "')");
            s.execute("INSERT INTO docs SELECT g, ARRAY[g, g % 3, 1]::real[] FROM generate_series(4, 50) g");
            // admin: the engine index (1 success)
            s.execute("CREATE INDEX docs_hnsw ON docs USING hnsw (e vector_l2_ops)");
            http.awaitScrape(WAIT, "docs_hnsw ready", m -> m.value("neurondb_index_ready", INDEX) == 1);
            // admin: index_stats, answered by the proxy, and filtered in PostgreSQL on the proxy's figures (2 successes)
            try (ResultSet rs = s.executeQuery("SELECT * FROM neurondb.index_stats()")) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM neurondb.index_stats() WHERE index_name = 'docs_hnsw'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(1);
            }
            // vector: kNN the engine answers (2 successes)
            for (int i = 0; i < 2; i++) {
                try (ResultSet rs = s.executeQuery("SELECT id FROM docs ORDER BY e <-> '" + vector(1, 0, 0) + "' LIMIT 2")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(1);
                }
            }
            // vector: a kNN the engine serves whose select list fails in PostgreSQL (1 error of class 22)
            assertThatThrownBy(() -> s.executeQuery("SELECT id, 1 / (id - id) FROM docs ORDER BY e <-> '" + vector(1, 0, 0) + "' LIMIT 2"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22012"));
            // passthrough (1 success, 1 error of class 42)
            s.execute("SELECT count(*) FROM pg_class");
            assertThatThrownBy(() -> s.execute("SELECT * FROM no_such_table_here"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"));
            // errors on the other routes: a vector of the wrong dimension in a kNN and in an INSERT, a bad setting
            assertThatThrownBy(() -> s.executeQuery("SELECT id FROM docs ORDER BY e <-> '" + vector(1, 0) + "' LIMIT 2"))
                    .isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> s.execute("INSERT INTO docs VALUES (99, '" + vector(1, 2) + "')"))
                    .isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> s.execute("SET hnsw.ef_search = 0")).isInstanceOf(SQLException.class);
        }
        Map<String, Double> d = awaitDelta(before, from, 17);
        assertThat(d).as("changes; statements seen: %s", eventsSince(from)).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry("admin/success", 6.0),
                Map.entry("rewritten/success", 2.0),
                Map.entry("vector/success", 2.0),
                Map.entry("vector/error", 1.0),
                Map.entry("vector/class 22", 1.0),
                // the INSERT ... SELECT has no vector literal: it goes to PostgreSQL as written
                Map.entry("passthrough/success", 2.0),
                Map.entry("passthrough/error", 1.0),
                Map.entry("passthrough/class 42", 1.0),
                // a query vector or literal of the wrong dimension: refused or failed on the rewritten route
                Map.entry("rewritten/error", 2.0),
                Map.entry("rewritten/class 22", 2.0),
                Map.entry("admin/error", 1.0),
                Map.entry("admin/class 22", 1.0)));
    }

    @Test
    void extendedProtocolCountsEachExecuteOnceOnItsRoute() throws Exception {
        try (Connection c = connect("simple"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("CREATE TABLE IF NOT EXISTS items (id bigint PRIMARY KEY, e vector(3))");
            s.execute("INSERT INTO items SELECT g, ARRAY[g, g % 3, 1]::real[] FROM generate_series(1, 50) g ON CONFLICT DO NOTHING");
            s.execute("CREATE INDEX IF NOT EXISTS items_hnsw ON items USING hnsw (e vector_l2_ops)");
        }
        String[] index = {"database", DB, "table", "public.items", "index", "items_hnsw", "method", "hnsw"};
        http.awaitScrape(WAIT, "items_hnsw ready", m -> m.value("neurondb_index_ready", index) == 1);

        Map<String, Double> before = figures(http.scrape());
        int from = seen.size();
        try (Connection c = connect("extended")) {
            try (Statement s = c.createStatement()) {
                // admin (2 successes, 1 error of class 22)
                s.execute("SET hnsw.ef_search = 60");
                s.execute("SHOW hnsw.ef_search");
                assertThatThrownBy(() -> s.execute("SET hnsw.ef_search = 0")).isInstanceOf(SQLException.class);
                // rewritten: a vector literal (1 success, 1 error of class 22, refused at Parse: the
                // failed Execute still counts on the statement's route)
                s.execute("INSERT INTO items VALUES (100, '" + vector(9, 9, 9) + "')");
                assertThatThrownBy(() -> s.execute("INSERT INTO items VALUES (101, '" + vector(1, 2) + "')"))
                        .isInstanceOf(SQLException.class);
                // passthrough: an error PostgreSQL raises at Parse (class 42)
                assertThatThrownBy(() -> s.executeQuery("SELECT * FROM no_such_table_here"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"));
            }
            // rewritten: a bound vector (2 successes)
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO items VALUES (?, ?::vector)")) {
                for (int i = 0; i < 2; i++) {
                    ps.setLong(1, 200 + i);
                    ps.setString(2, vector(i, 1, 1));
                    assertThat(ps.executeUpdate()).isEqualTo(1);
                }
            }
            // vector: a bound query vector, 3 Executes of one prepared statement
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM items ORDER BY e <-> ?::vector LIMIT 2")) {
                for (int i = 0; i < 3; i++) {
                    ps.setString(1, vector(9, 9, 9));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getLong(1)).isEqualTo(100);
                    }
                }
            }
            // vector: a served kNN whose select list fails in PostgreSQL (1 error of class 22)
            try (PreparedStatement ps = c.prepareStatement("SELECT id, 1 / (id - id) FROM items ORDER BY e <-> ?::vector LIMIT 2")) {
                ps.setString(1, vector(9, 9, 9));
                assertThatThrownBy(ps::executeQuery).satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22012"));
            }
            // passthrough: 2 successes
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                for (int i = 0; i < 2; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                    }
                }
            }
        }
        Map<String, Double> d = awaitDelta(before, from, 14);
        assertThat(d).as("changes; statements seen: %s", eventsSince(from)).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry("admin/success", 2.0),
                Map.entry("admin/error", 1.0),
                Map.entry("admin/class 22", 1.0),
                Map.entry("rewritten/success", 3.0),
                Map.entry("rewritten/error", 1.0),
                Map.entry("rewritten/class 22", 1.0),
                Map.entry("vector/success", 3.0),
                Map.entry("vector/error", 1.0),
                Map.entry("vector/class 22", 1.0),
                Map.entry("passthrough/success", 2.0),
                Map.entry("passthrough/error", 1.0),
                Map.entry("passthrough/class 42", 1.0)));
    }
}
