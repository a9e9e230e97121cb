package io.neurondb.tests.metrics;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.replication.Lsn;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replication meters as Prometheus scrapes them, with replication sync on against a
 * PostgreSQL of the test's own (it leaves a slot): the applied position, lag in bytes and
 * seconds, and an exact count of applied transactions after a known number of commits made
 * straight to PostgreSQL; the index gauges follow the rows.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicationMetricsTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void appliedPositionLagAndAppliedTransactionsAfterDirectCommits() throws Exception {
        LocalPostgres pg = TestPostgres.startPrivate("metrics-repl");
        String db = "r_metrics";
        Path data = Files.createTempDirectory("neurondb-metrics-repl-");
        try {
            try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + db);
            }
            int metricsPort = LocalPostgres.freePort();
            String yaml = "metrics_port: " + metricsPort + "\n"
                    + "data_dir: " + data + "\n"
                    + "instance_id: t_metrics\n"
                    + "replication:\n  enabled: true\n  checkpoint_interval_seconds: 1\n  status_interval_ms: 200\n";
            try (ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("metrics"))) {
                MetricsHttp http = new MetricsHttp(metricsPort);
                try (Connection c = proxy.connectTo(db); Statement s = c.createStatement()) {
                    s.execute("CREATE EXTENSION neurondb");
                    s.execute("CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))");
                    s.execute("INSERT INTO items SELECT g, ARRAY[g, g * 2, 1]::real[] FROM generate_series(1, 100) g");
                    s.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)");
                }
                String[] index = {"database", db, "table", "public.items", "index", "items_hnsw", "method", "hnsw"};
                PromText synced = http.awaitScrape(WAIT, "the index built and followed by replication",
                        m -> m.value("neurondb_index_ready", index) == 1 && m.value("neurondb_index_rows", index) == 100
                                && !m.find("neurondb_replication_applied_lsn", "database", db).isEmpty()
                                && m.value("neurondb_replication_lag_bytes", "database", db) == 0);
                assertThat(synced.value("neurondb_replication_applied_lsn", "database", db)).isPositive();
                assertThat(synced.labelSets("neurondb_replication_lag_seconds")).contains(java.util.Map.of("database", db));
                double appliedBefore = synced.value("neurondb_replication_transactions_applied_total", "database", db);

                // Three commits straight to PostgreSQL, each touching the indexed table.
                long lastCommit;
                try (Connection direct = DriverManager.getConnection(pg.jdbcUrl(db), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
                     Statement s = direct.createStatement()) {
                    for (int i = 101; i <= 103; i++) {
                        s.execute("INSERT INTO items VALUES (" + i + ", ARRAY[" + i + ", 0, 1]::real[])");
                    }
                    try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
                        rs.next();
                        lastCommit = Lsn.parse(rs.getString(1));
                    }
                }
                PromText after = http.awaitScrape(WAIT, "the three commits applied",
                        m -> m.value("neurondb_index_rows", index) == 103
                                && m.value("neurondb_replication_applied_lsn", "database", db) >= lastCommit
                                && m.value("neurondb_replication_lag_bytes", "database", db) == 0);
                assertThat(after.value("neurondb_replication_transactions_applied_total", "database", db) - appliedBefore)
                        .as("transactions applied").isEqualTo(3);
                assertThat(after.value("neurondb_replication_lag_seconds", "database", db)).isZero();
            }
        } finally {
            pg.destroy();
            LocalPostgres.deleteTree(pg.dataDir().getParent());
            LocalPostgres.deleteTree(data);
        }
    }
}
