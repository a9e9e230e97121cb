package io.neurondb.tests.metrics;

import io.neurondb.proxy.embedded.LocalPostgres;
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
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A re-snapshot as Prometheus scrapes it: the replication slot is invalidated by the server
 * while the proxy streams ({@code max_slot_wal_keep_size} exceeded while an open transaction
 * holds the slot back, as in {@code ReplicationSlotLossTest}); the per-database re-snapshot and
 * rebuild counters and each index's builds counter go up by exactly one, and the index then
 * holds the table's rows.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ResnapshotMetricsTest {

    private static final Duration WAIT = Duration.ofSeconds(90);

    private static void exec(Connection c, String... sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void aLostSlotCountsOneResnapshotAndOneBuildOfEachIndex() throws Exception {
        LocalPostgres pg = TestPostgres.startPrivate("metrics-resnap");
        String db = "r_resnap";
        Path data = Files.createTempDirectory("neurondb-metrics-resnap-");
        try {
            try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + db);
            }
            int metricsPort = LocalPostgres.freePort();
            String yaml = "metrics_port: " + metricsPort + "\n"
                    + "data_dir: " + data + "\n"
                    + "instance_id: t_resnap\n"
                    + "replication:\n  enabled: true\n  checkpoint_interval_seconds: 1\n  status_interval_ms: 200\n";
            try (ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("metrics"))) {
                MetricsHttp http = new MetricsHttp(metricsPort);
                try (Connection c = proxy.connectTo(db)) {
                    exec(c, "CREATE EXTENSION neurondb",
                            "CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))",
                            "INSERT INTO items SELECT g, ARRAY[g, g * 2, 1]::real[] FROM generate_series(1, 100) g",
                            "CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)",
                            "CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 4)");
                }
                String[] hnsw = {"database", db, "table", "public.items", "index", "items_hnsw", "method", "hnsw"};
                String[] ivf = {"database", db, "table", "public.items", "index", "items_ivf", "method", "ivfflat"};
                PromText synced = http.awaitScrape(WAIT, "both indexes built and followed by replication",
                        m -> m.value("neurondb_index_ready", hnsw) == 1 && m.value("neurondb_index_ready", ivf) == 1
                                && m.value("neurondb_index_rows", hnsw) == 100 && m.value("neurondb_index_rows", ivf) == 100
                                && !m.find("neurondb_replication_applied_lsn", "database", db).isEmpty()
                                && m.value("neurondb_replication_lag_bytes", "database", db) == 0);
                double resnapshots = synced.value("neurondb_replication_resnapshots_total", "database", db);
                double rebuilds = synced.value("neurondb_replication_rebuilds_total", "database", db);
                double hnswBuilds = synced.value("neurondb_index_builds_total", hnsw);
                double ivfBuilds = synced.value("neurondb_index_builds_total", ivf);
                assertThat(hnswBuilds).isPositive();

                try (Connection direct = DriverManager.getConnection(pg.jdbcUrl(db), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
                     Connection blocker = DriverManager.getConnection(pg.jdbcUrl(db), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD)) {
                    String slot = scalar(direct, "SELECT slot_name FROM pg_replication_slots WHERE database = '" + db + "'");
                    assertThat(slot).as("the proxy's slot").isNotNull();
                    exec(direct, "CREATE TABLE filler (id bigserial PRIMARY KEY, pad text)");
                    // An open transaction that wrote holds the slot's restart position back.
                    blocker.setAutoCommit(false);
                    exec(blocker, "INSERT INTO filler (pad) VALUES ('held open')");
                    exec(direct, "INSERT INTO items SELECT g, ARRAY[g, 5, 5]::real[] FROM generate_series(101, 120) g");
                    exec(direct, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'", "SELECT pg_reload_conf()");
                    try {
                        long deadline = System.nanoTime() + WAIT.toNanos();
                        String walStatus;
                        while (!"lost".equals(walStatus = scalar(direct, "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))) {
                            assertThat(System.nanoTime()).as("slot %s still not lost (wal_status %s)", slot, walStatus).isLessThan(deadline);
                            exec(direct, "INSERT INTO filler (pad) SELECT repeat('x', 100) FROM generate_series(1, 100)",
                                    "SELECT pg_switch_wal()", "CHECKPOINT");
                        }
                    } finally {
                        exec(direct, "ALTER SYSTEM RESET max_slot_wal_keep_size", "SELECT pg_reload_conf()");
                    }
                    blocker.rollback(); // the new slot's snapshot waits for running transactions
                }
                // The rebuild counts when it starts, a build when it ends; the old indexes may hold
                // the 120 rows already (streamed before the slot was lost): wait for the builds.
                PromText after = http.awaitScrape(WAIT, "a re-snapshot, rebuilt indexes holding 120 rows",
                        m -> m.value("neurondb_replication_rebuilds_total", "database", db) > rebuilds
                                && m.value("neurondb_index_builds_total", hnsw) > hnswBuilds
                                && m.value("neurondb_index_builds_total", ivf) > ivfBuilds
                                && m.value("neurondb_index_rows", hnsw) == 120 && m.value("neurondb_index_rows", ivf) == 120
                                && m.value("neurondb_index_ready", hnsw) == 1 && m.value("neurondb_index_ready", ivf) == 1);
                assertThat(after.value("neurondb_replication_resnapshots_total", "database", db) - resnapshots).isEqualTo(1);
                assertThat(after.value("neurondb_replication_rebuilds_total", "database", db) - rebuilds).isEqualTo(1);
                assertThat(after.value("neurondb_index_builds_total", hnsw) - hnswBuilds).as("builds of items_hnsw").isEqualTo(1);
                assertThat(after.value("neurondb_index_builds_total", ivf) - ivfBuilds).as("builds of items_ivf").isEqualTo(1);
                assertThat(after.labelSets("neurondb_replication_resnapshots_total")).contains(java.util.Map.of("database", db));
            }
        } finally {
            pg.destroy();
            LocalPostgres.deleteTree(pg.dataDir().getParent());
            LocalPostgres.deleteTree(data);
        }
    }
}
