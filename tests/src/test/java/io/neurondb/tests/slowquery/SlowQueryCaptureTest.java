package io.neurondb.tests.slowquery;

import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementEvent.Route;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.sql.SqlNormalizer;
import io.neurondb.tests.support.PluginJars;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The slow-query plugin loaded from its built jar in front of the shared PostgreSQL: slow
 * statements land in {@code neurondb.slow_queries} normalised, the summary function answers
 * through pgjdbc, retention deletes old records, and statements carry their true route.
 * Package the plugin first: {@code ./mvnw -o -q -pl plugins/slow-query -am package -DskipTests}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SlowQueryCaptureTest {

    private static final String DB = "sq_capture";
    private final List<StatementEvent> events = new CopyOnWriteArrayList<>();
    private LocalPostgres pg;
    private ProxyUnderTest proxy;

    @BeforeAll
    void start() throws Exception {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + DB);
            s.execute("GRANT ALL ON DATABASE " + DB + " TO trust_user");
        }
        String yaml = """
                plugins:
                  slow-query:
                    slow_query_threshold_ms: 200
                    database: %s
                    flush_interval_ms: 50
                    retention_days: 2
                    retention_check_interval_s: 1
                """.formatted(DB);
        proxy = ProxyUnderTest.start(pg.port(), yaml, List.of(events::add), PluginJars.directoryWith("slow-query"));
        assertThat(proxy.proxy().plugins().startedPluginIds()).contains("slow-query");
    }

    @AfterAll
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private Connection proxied(String user, Properties extra) throws SQLException {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("user", user);
        if (user.equals(TestPostgres.SUPERUSER)) {
            p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        }
        p.setProperty("ApplicationName", "sq-test");
        p.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(proxy.jdbcUrl(DB), p);
    }

    private Connection proxied() throws SQLException {
        return proxied(TestPostgres.SUPERUSER, new Properties());
    }

    private Connection direct() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        return DriverManager.getConnection(pg.jdbcUrl(DB), p);
    }

    /** Rows of a query straight to PostgreSQL, as column maps; empty while the table does not exist. */
    private List<Map<String, String>> directRows(String sql) throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery(sql)) {
                List<Map<String, String>> out = new ArrayList<>();
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    Map<String, String> row = new LinkedHashMap<>();
                    for (int i = 1; i <= n; i++) {
                        row.put(rs.getMetaData().getColumnLabel(i), rs.getString(i));
                    }
                    out.add(row);
                }
                return out;
            } catch (SQLException e) {
                if ("42P01".equals(e.getSQLState())) {
                    return List.of();
                }
                throw e;
            }
        }
    }

    private interface Check<T> {
        T get() throws Exception;
    }

    private static <T> T await(String what, Check<T> value, Predicate<T> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        T v = value.get();
        while (!done.test(v)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; last: " + v);
            }
            Thread.sleep(50);
            v = value.get();
        }
        return v;
    }

    private static List<Map<String, String>> query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<Map<String, String>> out = new ArrayList<>();
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= n; i++) {
                    row.put(rs.getMetaData().getColumnLabel(i), rs.getString(i));
                }
                out.add(row);
            }
            return out;
        }
    }

    @Test
    void slowStatementsLandNormalisedWithOneFingerprint() throws Exception {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection c = proxied(TestPostgres.SUPERUSER, simple); Statement s = c.createStatement()) {
            s.execute("SELECT pg_sleep(0.3), 'secret-alpha@example.com' AS sq_marker");
            s.execute("SELECT pg_sleep(0.25), 'secret-beta@example.com' AS sq_marker");
            s.execute("SELECT 42, 'fast-secret' AS sq_marker"); // under the threshold: not recorded
        }
        String sql = "SELECT * FROM neurondb.slow_queries WHERE query LIKE '%sq_marker%' ORDER BY id";
        List<Map<String, String>> rows = await("two slow rows", () -> directRows(sql), r -> r.size() >= 2);
        Thread.sleep(300); // a third (wrong) row would have been flushed by now (flush every 50 ms)
        rows = directRows(sql);
        assertThat(rows).hasSize(2);
        String expected = SqlNormalizer.normalize("SELECT pg_sleep(0.3), 'secret-alpha@example.com' AS sq_marker").fingerprint();
        for (Map<String, String> r : rows) {
            assertThat(r.get("query")).isEqualTo("SELECT pg_sleep($1), $2 AS sq_marker");
            assertThat(r.get("fingerprint")).isEqualTo(expected).matches("[0-9a-f]{16}");
            assertThat(r.get("raw_query")).isNull();
            assertThat(String.join(" ", r.values())).doesNotContain("secret");
            assertThat(r.get("rows")).isEqualTo("1");
            assertThat(r.get("database")).isEqualTo(DB);
            assertThat(r.get("user_name")).isEqualTo("postgres");
            assertThat(r.get("application_name")).isEqualTo("sq-test");
            assertThat(r.get("client_addr")).contains("127.0.0.1");
            assertThat(r.get("route")).isEqualTo("passthrough");
            assertThat(r.get("protocol")).isEqualTo("simple");
            assertThat(r.get("sqlstate")).isNull();
            assertThat(r.get("index_name")).isNull();
            assertThat(r.get("id")).isNotNull();
            assertThat(r.get("created_at")).isNotNull();
        }
        assertThat(Double.parseDouble(rows.get(0).get("duration_ms"))).isGreaterThanOrEqualTo(300);
        assertThat(Double.parseDouble(rows.get(1).get("duration_ms"))).isBetween(250.0, 10_000.0);

        // The extended protocol: a bind parameter groups with the literal form.
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("SELECT pg_sleep(?), 'x' AS sq_marker")) {
            ps.setDouble(1, 0.21);
            ps.executeQuery().close();
        }
        rows = await("the extended-protocol row", () -> directRows(sql), r -> r.size() >= 3);
        assertThat(rows.get(2).get("fingerprint")).isEqualTo(expected);
        assertThat(rows.get(2).get("protocol")).isEqualTo("extended");
    }

    @Test
    void summaryFunctionThroughPgjdbc() throws Exception {
        try (Connection c = proxied()) {
            for (int i = 0; i < 3; i++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM generate_series(1, ?) AS summary_probe")) {
                    ps.setInt(1, 10 + i);
                    ps.executeQuery().close();
                }
            }
            String fp = SqlNormalizer.normalize("SELECT count(*) FROM generate_series(1, $1) AS summary_probe").fingerprint();
            Map<String, String> row = await("summary row with 3 calls", () -> query(c, "SELECT * FROM neurondb.slow_query_summary(1000)").stream()
                    .filter(r -> r.get("fingerprint").equals(fp)).findFirst().orElse(Map.of()), r -> "3".equals(r.get("calls")));
            assertThat(row.keySet()).containsExactly("fingerprint", "query", "route", "database", "user_name", "calls",
                    "total_ms", "mean_ms", "p95_ms", "max_ms", "rows");
            assertThat(row.get("query")).isEqualTo("SELECT count(*) FROM generate_series($2, $1) AS summary_probe");
            assertThat(row.get("route")).isEqualTo("passthrough");
            assertThat(row.get("database")).isEqualTo(DB);
            assertThat(row.get("rows")).isEqualTo("3");
            double total = Double.parseDouble(row.get("total_ms"));
            double mean = Double.parseDouble(row.get("mean_ms"));
            double p95 = Double.parseDouble(row.get("p95_ms"));
            double max = Double.parseDouble(row.get("max_ms"));
            assertThat(mean).isCloseTo(total / 3, org.assertj.core.data.Offset.offset(0.01));
            assertThat(p95).isLessThanOrEqualTo(max).isGreaterThan(0);
            assertThat(max).isLessThanOrEqualTo(total);

            // Ordered by total time, limited by the argument.
            List<Map<String, String>> all = query(c, "SELECT * FROM neurondb.slow_query_summary()");
            for (int i = 1; i < all.size(); i++) {
                assertThat(Double.parseDouble(all.get(i - 1).get("total_ms"))).isGreaterThanOrEqualTo(Double.parseDouble(all.get(i).get("total_ms")));
            }
            assertThat(query(c, "SELECT * FROM neurondb.slow_query_summary(1)")).hasSize(1);
        }
        // Another user sees the figures but not the superuser's statement text, as in pg_stat_statements.
        try (Connection other = proxied("trust_user", new Properties())) {
            String fp = SqlNormalizer.normalize("SELECT count(*) FROM generate_series(1, $1) AS summary_probe").fingerprint();
            Map<String, String> row = query(other, "SELECT * FROM neurondb.slow_query_summary(1000)").stream()
                    .filter(r -> r.get("fingerprint").equals(fp)).findFirst().orElseThrow();
            assertThat(row.get("query")).isEqualTo("<insufficient privilege>");
        }
    }

    @Test
    void retentionDeletesOldRecords() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_sleep(0.21) AS retention_probe"); // makes the table
        }
        await("the table", () -> directRows("SELECT id FROM neurondb.slow_queries WHERE query LIKE '%retention_probe%'"), r -> !r.isEmpty());
        try (Connection d = direct(); Statement s = d.createStatement()) {
            s.execute("INSERT INTO neurondb.slow_queries (query, duration_ms, created_at, fingerprint) VALUES "
                    + "('retention_old', 1, now() - interval '3 days', '0'), ('retention_recent', 1, now() - interval '1 day', '0')");
        }
        await("the old record deleted", () -> directRows("SELECT query FROM neurondb.slow_queries WHERE query LIKE 'retention_%'"),
                r -> r.size() == 1);
        assertThat(directRows("SELECT query FROM neurondb.slow_queries WHERE query LIKE 'retention_%'"))
                .extracting(r -> r.get("query")).containsExactly("retention_recent");
    }

    @Test
    void routesOfPassthroughRewrittenVectorAndAdminStatements() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("CREATE TABLE route_items (id bigint PRIMARY KEY, embedding vector(3))");
            s.execute("INSERT INTO route_items SELECT i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 200) i");
            s.execute("CREATE INDEX route_items_l2 ON route_items USING hnsw (embedding vector_l2_ops)");
            s.execute("CREATE TABLE route_other (id bigint, embedding vector(3))");
            await("the index ready", () -> query(c, "SELECT index_name, state FROM neurondb.index_stats()"),
                    r -> r.stream().anyMatch(x -> x.get("index_name").endsWith("route_items_l2") && x.get("state").equals("ready")));
            events.clear();
            s.execute("SELECT 1 AS route_passthrough");
            // A vector literal: rewritten (into another table: a write to route_items would make
            // its index stale until rebuilt, and the kNN below would be computed exactly).
            s.execute("INSERT INTO route_other VALUES (1, '[1,2,3]')");
            s.execute("SHOW hnsw.ef_search");
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM route_items ORDER BY embedding <-> ?::vector LIMIT 5")) {
                ps.setString(1, "[1,1,1]");
                try (ResultSet rs = ps.executeQuery()) {
                    int n = 0;
                    while (rs.next()) {
                        n++;
                    }
                    assertThat(n).isEqualTo(5);
                }
            }
        }
        StatementEvent plain = awaitEvent(e -> e.sql().contains("route_passthrough"));
        assertThat(plain.route()).isEqualTo(Route.PASSTHROUGH);
        assertThat(plain.vector()).isNull();
        assertThat(awaitEvent(e -> e.sql().startsWith("INSERT INTO route_other VALUES")).route()).isEqualTo(Route.REWRITTEN);
        assertThat(awaitEvent(e -> e.sql().startsWith("SHOW hnsw")).route()).isEqualTo(Route.ADMIN);
        StatementEvent knn = awaitEvent(e -> e.sql().contains("ORDER BY embedding <->"));
        assertThat(knn.route()).isEqualTo(Route.VECTOR);
        assertThat(knn.index()).isEqualTo("public.route_items_l2");
        assertThat(knn.k()).isEqualTo(5);
        assertThat(knn.efSearch()).isEqualTo(40);
        assertThat(knn.probes()).isNull();
        assertThat(knn.normalizedSql()).isEqualTo("SELECT id FROM route_items ORDER BY embedding <-> $1::vector LIMIT $2");

        try (Connection c = proxied()) {
            Map<String, String> row = await("the vector statement in the summary", () -> query(c, "SELECT * FROM neurondb.slow_query_summary(1000)")
                    .stream().filter(r -> r.get("fingerprint").equals(knn.fingerprint())).findFirst().orElse(Map.of()), r -> !r.isEmpty());
            assertThat(row.get("route")).isEqualTo("vector");
        }
    }

    @Test
    void slowVectorStatementsLandWithTheirIndexKAndSearchSettings() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("CREATE TABLE slow_knn (id bigint PRIMARY KEY, embedding vector(3))");
            s.execute("INSERT INTO slow_knn SELECT i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 200) i");
            s.execute("CREATE INDEX slow_knn_hnsw ON slow_knn USING hnsw (embedding vector_l2_ops)");
            s.execute("CREATE TABLE slow_knn_ivf (id bigint PRIMARY KEY, embedding vector(3))");
            s.execute("INSERT INTO slow_knn_ivf SELECT i, ARRAY[i % 11, i, i % 5]::real[] FROM generate_series(1, 200) i");
            s.execute("CREATE INDEX slow_knn_ivf_l2 ON slow_knn_ivf USING ivfflat (embedding vector_l2_ops) WITH (lists = 4)");
            await("both indexes ready", () -> query(c, "SELECT index_name, state FROM neurondb.index_stats()"),
                    r -> r.stream().filter(x -> (x.get("index_name").endsWith("slow_knn_hnsw") || x.get("index_name").endsWith("slow_knn_ivf_l2"))
                            && x.get("state").equals("ready")).count() == 2);
            s.execute("SET hnsw.ef_search = 60");
            s.execute("SET ivfflat.probes = 3");
            // pg_sleep in the select list makes the kNN statements slow (5 rows x 60 ms > the 200 ms threshold)
            // without changing their route: the engine still finds the rows.
            for (String table : List.of("slow_knn", "slow_knn_ivf")) {
                try (PreparedStatement ps = c.prepareStatement("SELECT id, pg_sleep(0.06) FROM " + table
                        + " ORDER BY embedding <-> ?::vector LIMIT 5")) {
                    ps.setString(1, "[3,1,2]");
                    try (ResultSet rs = ps.executeQuery()) {
                        int n = 0;
                        while (rs.next()) {
                            n++;
                        }
                        assertThat(n).isEqualTo(5);
                    }
                }
            }
        }
        StatementEvent hnsw = awaitEvent(e -> e.sql().contains("FROM slow_knn ORDER BY"));
        StatementEvent ivf = awaitEvent(e -> e.sql().contains("FROM slow_knn_ivf ORDER BY"));
        assertThat(hnsw.route()).isEqualTo(Route.VECTOR);
        assertThat(ivf.route()).isEqualTo(Route.VECTOR);

        List<Map<String, String>> rows = await("both kNN statements in the table", () -> directRows(
                "SELECT query, fingerprint, route, index_name, k, ef_search, probes, duration_ms, rows FROM neurondb.slow_queries"
                        + " WHERE route = 'vector' AND index_name IN ('public.slow_knn_hnsw', 'public.slow_knn_ivf_l2') ORDER BY index_name"),
                r -> r.size() == 2);
        Map<String, String> h = rows.get(0);
        assertThat(h.get("index_name")).isEqualTo("public.slow_knn_hnsw");
        assertThat(h.get("k")).isEqualTo("5");
        assertThat(h.get("ef_search")).isEqualTo(String.valueOf(hnsw.efSearch()));
        assertThat(hnsw.efSearch()).isGreaterThanOrEqualTo(60); // the session's setting, or more when k needs it
        assertThat(h.get("probes")).isNull();
        assertThat(h.get("query")).isEqualTo(hnsw.normalizedSql()).contains("pg_sleep($").doesNotContain("0.06").doesNotContain("[3,1,2]");
        assertThat(h.get("fingerprint")).isEqualTo(hnsw.fingerprint());
        assertThat(Double.parseDouble(h.get("duration_ms"))).isGreaterThanOrEqualTo(200);
        assertThat(h.get("rows")).isEqualTo("5");
        Map<String, String> i = rows.get(1);
        assertThat(i.get("index_name")).isEqualTo("public.slow_knn_ivf_l2");
        assertThat(i.get("k")).isEqualTo("5");
        assertThat(i.get("probes")).isEqualTo("3");
        assertThat(i.get("ef_search")).isNull();
        assertThat(i.get("query")).isEqualTo(ivf.normalizedSql()).doesNotContain("0.06");
    }

    private StatementEvent awaitEvent(Predicate<StatementEvent> match) throws Exception {
        return await("an event", () -> events.stream().filter(match).findFirst().orElse(null), e -> e != null);
    }
}
