package io.neurondb.tests.metrics;

import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The metrics plugin loaded from a plugins folder into an in-process proxy in front of a real
 * PostgreSQL: exact counts after a known workload, the label sets, the proxy's own meters,
 * /health, and /ready through an index build and with the upstream down.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MetricsEndpointTest {

    private static final String DB = "metrics_endpoint";
    private static final Duration WAIT = Duration.ofSeconds(20);

    private LocalPostgres pg;
    private ProxyUnderTest proxy;
    private MetricsHttp http;
    /** What the proxy reported, to show in a failed count. */
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

    private Connection connect(String database, String queryMode) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        p.setProperty("preferQueryMode", queryMode);
        p.setProperty("socketTimeout", "30");
        // Otherwise pgjdbc runs SET application_name after login, a statement of its own.
        p.setProperty("assumeMinServerVersion", "15");
        return DriverManager.getConnection(proxy.jdbcUrl(database), p);
    }

    private static final String DURATION_COUNT = "neurondb_statement_duration_seconds_count";
    private static final String ERRORS = "neurondb_statement_errors_total";

    @Test
    void exactCountsAndLabelsAfterAKnownWorkload() throws Exception {
        PromText before = http.scrape();
        double accepted = before.value("neurondb_client_connections_accepted_total");
        double received = before.value("neurondb_client_received_bytes_total");
        double sent = before.value("neurondb_client_sent_bytes_total");
        double ok = before.value(DURATION_COUNT, "route", "passthrough", "outcome", "success");
        double failed = before.value(DURATION_COUNT, "route", "passthrough", "outcome", "error");
        double class42 = before.value(ERRORS, "route", "passthrough", "sqlstate_class", "42");
        double class22 = before.value(ERRORS, "route", "passthrough", "sqlstate_class", "22");

        int firstEvent = seen.size();
        try (Connection simple = connect("postgres", "simple"); Connection extended = connect("postgres", "extended")) {
            PromText open = http.awaitScrape(WAIT, "two active clients",
                    m -> m.value("neurondb_client_connections", "state", "active") == 2);
            assertThat(open.value("neurondb_client_connections", "state", "login")).isZero();
            assertThat(open.value("neurondb_server_connections", "state", "active")).isEqualTo(2);
            assertThat(open.value("neurondb_server_connections", "state", "login")).isZero();
            assertThat(open.value("neurondb_client_connections_accepted_total") - accepted).isEqualTo(2);

            // Simple protocol: one Query each. 7 successes, 3 errors (42P01 twice, 22012 once).
            try (Statement s = simple.createStatement()) {
                for (int i = 0; i < 7; i++) {
                    s.execute("SELECT 1");
                }
                for (int i = 0; i < 2; i++) {
                    assertThatThrownBy(() -> s.execute("SELECT * FROM metrics_no_such_table")).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"));
                }
                assertThatThrownBy(() -> s.execute("SELECT 1/0")).satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22012"));
            }
            // Extended protocol: 3 successes, 1 error raised while executing ...
            try (PreparedStatement ps = extended.prepareStatement("SELECT ?::int + 1")) {
                for (int i = 0; i < 3; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                    }
                }
            }
            try (Statement s = extended.createStatement()) {
                assertThatThrownBy(() -> s.executeQuery("SELECT 1 / (random() * 0)::int"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22012"));
                // ... and 1 error the server raises at Parse, before the Execute runs.
                assertThatThrownBy(() -> s.executeQuery("SELECT * FROM metrics_no_such_table"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"));
            }

            PromText after = http.awaitScrape(WAIT, "10 successful and 5 failed statements",
                    m -> m.value(DURATION_COUNT, "route", "passthrough", "outcome", "success") - ok >= 10
                            && m.value(DURATION_COUNT, "route", "passthrough", "outcome", "error") - failed >= 5);
            assertThat(after.value(DURATION_COUNT, "route", "passthrough", "outcome", "success") - ok)
                    .as("statements seen: %s", seen.subList(firstEvent, seen.size()).stream().map(e -> e.sql() + " " + e.sqlState()).toList())
                    .isEqualTo(10);
            assertThat(after.value(DURATION_COUNT, "route", "passthrough", "outcome", "error") - failed).isEqualTo(5);
            assertThat(after.value(ERRORS, "route", "passthrough", "sqlstate_class", "42") - class42).isEqualTo(3);
            assertThat(after.value(ERRORS, "route", "passthrough", "sqlstate_class", "22") - class22).isEqualTo(2);
            assertThat(after.value("neurondb_client_received_bytes_total")).isGreaterThan(received);
            assertThat(after.value("neurondb_client_sent_bytes_total")).isGreaterThan(sent);

            // Every route and outcome is exported from the start, so dashboards see zeros, not gaps.
            Set<Map<String, String>> expected = new HashSet<>();
            for (String route : List.of("passthrough", "vector", "rewritten", "admin")) {
                for (String outcome : List.of("success", "error")) {
                    expected.add(Map.of("route", route, "outcome", outcome));
                }
            }
            assertThat(after.labelSets(DURATION_COUNT)).isEqualTo(expected);
            assertThat(after.labelSets(ERRORS)).allSatisfy(l -> assertThat(l.keySet()).containsExactlyInAnyOrder("route", "sqlstate_class"));
            assertThat(after.find("neurondb_statement_duration_seconds_bucket", "route", "passthrough", "outcome", "success")
                    .stream().map(s -> s.labels().get("le")).toList())
                    .containsExactlyInAnyOrder("5.0E-4", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1",
                            "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf");
            assertThat(after.value("neurondb_statement_duration_seconds_bucket", "route", "passthrough", "outcome", "success", "le", "+Inf"))
                    .isEqualTo(after.value(DURATION_COUNT, "route", "passthrough", "outcome", "success"));
        }
        PromText closed = http.awaitScrape(WAIT, "no clients", m -> m.value("neurondb_client_connections", "state", "active") == 0
                && m.value("neurondb_server_connections", "state", "active") == 0);
        assertThat(closed.value("neurondb_client_connections", "state", "login")).isZero();
        assertThat(closed.value("neurondb_server_connections", "state", "login")).isZero();
    }

    @Test
    void proxyJvmAndPluginMetersAreExported() throws Exception {
        PromText m = http.scrape();
        assertThat(m.names()).contains("jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
                "process_cpu_usage", "process_uptime_seconds", "system_cpu_count");
        assertThat(m.value("neurondb_gpu_enabled")).isEqualTo(proxy.proxy().gpu().enabled() ? 1 : 0);
        assertThat(m.value("neurondb_gpu_devices")).isEqualTo(proxy.proxy().gpu().deviceCount());
        // Kernel time exists whether or not a GPU is used; without one nothing launches, so it stays at 0.
        assertThat(m.names()).contains("neurondb_gpu_kernel_seconds_total", "neurondb_gpu_kernel_launches_total");
        assertThat(m.find("neurondb_gpu_kernel_seconds_total")).singleElement().satisfies(x -> assertThat(x.labels()).isEmpty());
        if (!proxy.proxy().gpu().enabled()) {
            assertThat(m.value("neurondb_gpu_kernel_seconds_total")).isZero();
            assertThat(m.value("neurondb_gpu_kernel_launches_total")).isZero();
        }
        assertThat(m.value("neurondb_plugins_started")).isEqualTo(1);
        assertThat(m.value("neurondb_plugin_load_failures")).isZero();
    }

    @Test
    void healthAndErrors() throws Exception {
        HttpResponse<String> health = http.get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("ok\n");
        assertThat(http.get("/nothing-here").statusCode()).isEqualTo(404);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + portOf() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")));
        assertThat(post.statusCode()).isEqualTo(405);
        HttpResponse<String> metrics = http.get("/metrics");
        assertThat(metrics.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        // What Prometheus itself asks for.
        HttpResponse<String> open = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + portOf() + "/metrics"))
                .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1").GET());
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(open.headers().firstValue("content-type")).hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(open.body()).contains("# TYPE neurondb_statement_duration_seconds histogram").endsWith("# EOF\n");
    }

    private int portOf() {
        return http.port();
    }

    @Test
    void readyFlipsWhileIndexesBuildAfterARestart() throws Exception {
        int rows = 30_000;
        // Create the table and its engine index through a plain proxy; the metrics proxy has not
        // opened this database yet, so its first client makes it load and build the index.
        try (ProxyUnderTest plain = ProxyUnderTest.start(pg)) {
            try (Connection c = DriverManager.getConnection(plain.jdbcUrl(DB), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
                 Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION IF NOT EXISTS vector");
                s.execute("CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(48))");
            }
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(DB), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
                 Statement s = c.createStatement()) {
                s.execute("INSERT INTO items SELECT i, ARRAY(SELECT random() FROM generate_series(1, 48) WHERE i > 0)::real[] "
                        + "FROM generate_series(1, " + rows + ") i");
            }
            try (Connection c = DriverManager.getConnection(plain.jdbcUrl(DB), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
                 Statement s = c.createStatement()) {
                s.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)");
            }
        }
        assertThat(http.get("/ready").statusCode()).as("nothing opened yet").isEqualTo(200);

        // The client's login opens the database: the index builds in the background.
        CompletableFuture<Void> opened = CompletableFuture.runAsync(() -> {
            try (Connection c = connect(DB, "simple"); Statement s = c.createStatement()) {
                s.execute("SELECT 1");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        HttpResponse<String> building = http.await("/ready", WAIT, "503 while the index builds", r -> r.statusCode() == 503);
        assertThat(building.body()).isEqualTo("indexes building: " + DB + "/items_hnsw\n");
        HttpResponse<String> ready = http.await("/ready", Duration.ofSeconds(120), "200 once built", r -> r.statusCode() == 200);
        assertThat(ready.body()).isEqualTo("ready\n");
        opened.get(60, TimeUnit.SECONDS);

        String[] index = {"database", DB, "table", "public.items", "index", "items_hnsw", "method", "hnsw"};
        // VectorDatabase.stats() reads an entry's index before its state, so one refresh (1 s) can
        // catch a build finishing in between (ready 1, rows 0): wait for a consistent view.
        PromText m = http.awaitScrape(WAIT, "index gauges of the built index",
                p -> p.value("neurondb_index_ready", index) == 1 && p.value("neurondb_index_rows", index) == rows);
        assertThat(m.value("neurondb_index_memory_bytes", index)).isGreaterThan(rows * 48 * 4.0);
        assertThat(m.value("neurondb_index_build_seconds", index)).isGreaterThan(0);

        // One kNN statement served by the engine: one search of this index.
        String[] search = {"database", DB, "table", "public.items", "index", "items_hnsw"};
        double searches = m.value("neurondb_index_search_duration_seconds_count", search);
        double vectorStatements = m.value(DURATION_COUNT, "route", "vector", "outcome", "success");
        try (Connection c = connect(DB, "extended"); Statement s = c.createStatement()) {
            StringBuilder q = new StringBuilder("[");
            for (int i = 0; i < 48; i++) {
                q.append(i == 0 ? "" : ",").append(0.5);
            }
            try (ResultSet rs = s.executeQuery("SELECT id FROM items ORDER BY embedding <-> '" + q + "]' LIMIT 5")) {
                int n = 0;
                while (rs.next()) {
                    n++;
                }
                assertThat(n).isEqualTo(5);
            }
        }
        PromText after = http.awaitScrape(WAIT, "one search", p -> p.value("neurondb_index_search_duration_seconds_count", search) > searches);
        assertThat(after.value("neurondb_index_search_duration_seconds_count", search) - searches).isEqualTo(1);
        // ... and one statement on the vector route.
        PromText routed = http.awaitScrape(WAIT, "one vector statement",
                p -> p.value(DURATION_COUNT, "route", "vector", "outcome", "success") > vectorStatements);
        assertThat(routed.value(DURATION_COUNT, "route", "vector", "outcome", "success") - vectorStatements).isEqualTo(1);
    }

    @Test
    void recallSettingsAndBuildsOfEachIndexAreExported() throws Exception {
        String db = "metrics_settings";
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + db);
        }
        try (Connection c = connect(db, "simple"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("CREATE TABLE docs (id bigint PRIMARY KEY, e vector(4))");
            s.execute("INSERT INTO docs SELECT i, ARRAY[i % 7, i % 5, i % 3, 1]::real[] FROM generate_series(1, 200) i");
            s.execute("CREATE INDEX docs_hnsw_tuned ON docs USING hnsw (e vector_l2_ops) WITH (m = 8, ef_construction = 40)");
            s.execute("CREATE INDEX docs_hnsw_default ON docs USING hnsw (e vector_cosine_ops)");
            s.execute("CREATE INDEX docs_ivf ON docs USING ivfflat (e vector_l2_ops) WITH (lists = 5)");
        }
        String[] tuned = {"database", db, "table", "public.docs", "index", "docs_hnsw_tuned", "method", "hnsw"};
        String[] plain = {"database", db, "table", "public.docs", "index", "docs_hnsw_default", "method", "hnsw"};
        String[] ivf = {"database", db, "table", "public.docs", "index", "docs_ivf", "method", "ivfflat"};
        PromText m = http.awaitScrape(WAIT, "settings gauges of the three indexes",
                p -> !p.find("neurondb_index_hnsw_m", tuned).isEmpty() && !p.find("neurondb_index_hnsw_m", plain).isEmpty()
                        && !p.find("neurondb_index_ivfflat_lists", ivf).isEmpty()
                        && !p.find("neurondb_index_ivfflat_probes_default", ivf).isEmpty()
                        && !p.find("neurondb_index_hnsw_ef_search_default", plain).isEmpty()
                        // built, so the other tests' readiness checks see no building index of this database
                        && p.value("neurondb_index_ready", tuned) == 1 && p.value("neurondb_index_ready", plain) == 1
                        && p.value("neurondb_index_ready", ivf) == 1);
        assertThat(m.value("neurondb_index_hnsw_m", tuned)).isEqualTo(8);
        assertThat(m.value("neurondb_index_hnsw_ef_construction", tuned)).isEqualTo(40);
        assertThat(m.value("neurondb_index_hnsw_ef_search_default", tuned)).isEqualTo(40);
        // Without WITH (...): pgvector's defaults, which the engine builds with.
        assertThat(m.value("neurondb_index_hnsw_m", plain)).isEqualTo(16);
        assertThat(m.value("neurondb_index_hnsw_ef_construction", plain)).isEqualTo(64);
        assertThat(m.value("neurondb_index_ivfflat_lists", ivf)).isEqualTo(5);
        assertThat(m.value("neurondb_index_ivfflat_probes_default", ivf)).isEqualTo(1);
        // Each method has only its own settings, under the same labels as the other index gauges.
        assertThat(m.find("neurondb_index_ivfflat_lists", "database", db)).hasSize(1);
        assertThat(m.find("neurondb_index_hnsw_m", "database", db)).hasSize(2);
        assertThat(m.find("neurondb_index_hnsw_ef_construction", ivf)).isEmpty();
        assertThat(m.labelSets("neurondb_index_hnsw_m")).allSatisfy(l ->
                assertThat(l.keySet()).containsExactlyInAnyOrder("database", "table", "index", "method"));

        // Builds: one each so far; REINDEX adds exactly one to that index only.
        assertThat(m.value("neurondb_index_builds_total", tuned)).isEqualTo(1);
        assertThat(m.value("neurondb_index_builds_total", ivf)).isEqualTo(1);
        try (Connection c = connect(db, "simple"); Statement s = c.createStatement()) {
            s.execute("REINDEX INDEX docs_hnsw_tuned");
        }
        PromText rebuilt = http.awaitScrape(WAIT, "the rebuild counted", p -> p.value("neurondb_index_builds_total", tuned) >= 2);
        assertThat(rebuilt.value("neurondb_index_builds_total", tuned)).isEqualTo(2);
        assertThat(rebuilt.value("neurondb_index_builds_total", plain)).isEqualTo(1);
        assertThat(rebuilt.value("neurondb_index_hnsw_m", tuned)).isEqualTo(8);

        // A dropped index takes its settings series with it.
        try (Connection c = connect(db, "simple"); Statement s = c.createStatement()) {
            s.execute("DROP INDEX docs_ivf");
        }
        http.awaitScrape(WAIT, "the dropped index's series gone", p -> p.find("neurondb_index_ivfflat_lists", ivf).isEmpty()
                && p.find("neurondb_index_ivfflat_probes_default", ivf).isEmpty());
    }

    @Test
    void notReadyWhileTheUpstreamIsDown() throws Exception {
        int metricsPort = LocalPostgres.freePort();
        int closedPort = LocalPostgres.freePort(); // nothing listens there
        try (ProxyUnderTest down = ProxyUnderTest.start(closedPort, "metrics_port: " + metricsPort + "\n", List.of(),
                PluginJars.directoryWith("metrics"))) {
            MetricsHttp h = new MetricsHttp(metricsPort);
            assertThat(h.get("/health").statusCode()).isEqualTo(200);
            HttpResponse<String> r = h.get("/ready");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).startsWith("upstream unreachable: ");
        }
    }
}
