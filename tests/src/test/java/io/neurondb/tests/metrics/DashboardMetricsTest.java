package io.neurondb.tests.metrics;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every metric the Grafana dashboard ({@code conf/grafana/neurondb-dashboard.json}) queries is
 * exported by a proxy running the metrics plugin after a small workload (statements, an
 * error, an HNSW and an IVF engine index and a kNN search). The only names allowed to be absent are the ones
 * other parts agreed to export (pools: the pooling plugin; replication lag: replication
 * sync), and only while those parts do not export them: the test says which it skipped.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DashboardMetricsTest {

    private static final Logger log = LoggerFactory.getLogger(DashboardMetricsTest.class);

    /** Names the dashboard queries that other engineers' parts export (see docs/ARCHITECTURE.md). */
    static final Set<String> EXPORTED_ELSEWHERE = Set.of(
            "neurondb_pools_client_active_connections", "neurondb_pools_client_waiting_connections",
            "neurondb_replication_lag_bytes", "neurondb_replication_lag_seconds");

    private static final String DB = "metrics_dashboard";

    static Path dashboardFile() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("conf/grafana/neurondb-dashboard.json"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("conf/grafana/neurondb-dashboard.json above the working directory").isNotNull();
        return dir.resolve("conf/grafana/neurondb-dashboard.json");
    }

    /** Every PromQL expression of the dashboard: panel targets and template variable queries. */
    static List<String> expressions(JsonObject dashboard) {
        List<String> out = new ArrayList<>();
        collectTargets(dashboard.getJsonArray("panels"), out);
        for (Object v : dashboard.getJsonObject("templating").getJsonArray("list")) {
            JsonObject var = (JsonObject) v;
            if ("query".equals(var.getString("type"))) {
                Object q = var.getValue("query");
                out.add(q instanceof JsonObject o ? o.getString("query") : (String) q);
            }
        }
        return out;
    }

    private static void collectTargets(JsonArray panels, List<String> out) {
        for (Object p : panels) {
            JsonObject panel = (JsonObject) p;
            if (panel.containsKey("panels")) {
                collectTargets(panel.getJsonArray("panels"), out);
            }
            JsonArray targets = panel.getJsonArray("targets");
            if (targets == null) {
                continue;
            }
            for (Object t : targets) {
                out.add(((JsonObject) t).getString("expr"));
            }
        }
    }

    @Test
    void theNameExtractorReadsPromQl() {
        assertThat(PromQlNames.of("histogram_quantile(0.95, sum by (route, le) (rate(a_bucket{x=\"y\",le=~\"1|2\"}[$__rate_interval])))"))
                .containsExactly("a_bucket");
        assertThat(PromQlNames.of("sum(rate(a_total[5m])) / on (db) group_left (user) b{instance=~\"$instance\"} > bool 2e3 or vector(1)"))
                .containsExactly("a_total", "b");
        assertThat(PromQlNames.of("label_values(c_total, instance)")).containsExactly("c_total");
    }

    @Test
    void dashboardHasThePlaybookPanels() throws Exception {
        JsonObject d = new JsonObject(Files.readString(dashboardFile()));
        List<String> rows = d.getJsonArray("panels").stream().map(p -> (JsonObject) p)
                .filter(p -> "row".equals(p.getString("type"))).map(p -> p.getString("title")).toList();
        assertThat(rows).contains("Query performance", "Index usage", "Vector operation latency", "Error rates", "Pools", "Replication lag");
        assertThat(expressions(d)).hasSizeGreaterThan(20).doesNotContainNull();
    }

    @Test
    void everyQueriedMetricIsExported() throws Exception {
        JsonObject dashboard = new JsonObject(Files.readString(dashboardFile()));
        Set<String> queried = new TreeSet<>();
        for (String expr : expressions(dashboard)) {
            queried.addAll(PromQlNames.of(expr));
        }
        assertThat(queried).as("the dashboard queries the agreed names of the other parts").containsAll(EXPORTED_ELSEWHERE);

        LocalPostgres pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + DB);
        }
        int metricsPort = LocalPostgres.freePort();
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), "metrics_port: " + metricsPort + "\n", List.of(),
                PluginJars.directoryWith("metrics"))) {
            workload(proxy);
            MetricsHttp http = new MetricsHttp(metricsPort);
            Set<String> queriedHere = new TreeSet<>(queried);
            queriedHere.removeAll(EXPORTED_ELSEWHERE);
            PromText exported = http.awaitScrape(Duration.ofSeconds(20), "the workload's meters and every name the dashboard queries",
                    // an index's gauges are registered one after another, the settings ones last: a
                    // scrape can fall between the first and the last when the index first appears
                    m -> m.value("neurondb_index_rows", "database", DB, "index", "items_hnsw") == 200
                            && m.value("neurondb_index_rows", "database", DB, "index", "items_ivf") == 200
                            && !m.find("neurondb_index_ready", "database", DB).isEmpty()
                            && !m.find("neurondb_index_search_duration_seconds_count", "database", DB).isEmpty()
                            && !m.find("neurondb_statement_errors_total").isEmpty()
                            && !m.find("neurondb_index_hnsw_ef_search_default", "database", DB).isEmpty()
                            && !m.find("neurondb_index_ivfflat_probes_default", "database", DB).isEmpty()
                            // A scrape once lacked the index gauges read from the index's status
                            // (memory, build time, build settings) while rows and the defaults
                            // were there; waiting for all of them keeps the check about names.
                            && m.names().containsAll(queriedHere));

            Set<String> missing = new TreeSet<>(queried);
            missing.removeAll(exported.names());
            Set<String> skipped = new TreeSet<>(EXPORTED_ELSEWHERE);
            skipped.removeAll(exported.names());
            log.info("event=dashboard_check queried={} skipped_not_exported_here={}", queried.size(), skipped);
            assertThat(missing).as("dashboard metrics that the proxy does not export (only the other parts' agreed names may be absent)")
                    .isEqualTo(skipped);
        }
    }

    private static void workload(ProxyUnderTest proxy) throws SQLException {
        try (Connection c = DriverManager.getConnection(proxy.jdbcUrl(DB), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
             Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))");
            s.execute("INSERT INTO items SELECT i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 200) i");
            s.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)");
            // An IVF index too, so its settings gauges (lists, probes) exist for the settings panel.
            s.execute("CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 4)");
            try (ResultSet rs = s.executeQuery("SELECT id FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 3")) {
                while (rs.next()) {
                    assertThat(rs.getLong(1)).isPositive();
                }
            }
            assertThatThrownBy(() -> s.execute("SELECT * FROM dashboard_no_such_table")).isInstanceOf(SQLException.class);
        }
    }
}
