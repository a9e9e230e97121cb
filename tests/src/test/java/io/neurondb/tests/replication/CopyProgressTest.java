package io.neurondb.tests.replication;

import ch.qos.logback.classic.Level;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.proxy.vectors.VectorDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A table copy for an index build reports its progress: the copied-rows metric grows by the
 * table's rows, and the copy's log line names the table and its row count.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CopyProgressTest {

    private static final int ROWS = 30_000;

    @Test
    void theCopyIsCountedAndLogged() throws Exception {
        try (ReplicaFixture f = new ReplicaFixture("copyprog");
             LogCapture logs = new LogCapture("io.neurondb.proxy.vectors.CopyProgress")) {
            SimpleMeterRegistry meters = f.startProxyRecordingMeters();
            try (Connection c = f.proxied()) {
                exec(c, "CREATE EXTENSION neurondb", "CREATE TABLE big (id bigint PRIMARY KEY, embedding vector(4))");
            }
            try (Connection c = f.direct()) {
                exec(c, "INSERT INTO big SELECT g, ARRAY[g % 97, g % 89, g % 83, g % 79]::real[] FROM generate_series(1, " + ROWS + ") g");
            }
            double before = meters.get("neurondb_index_copy_rows_total").gauge().value();
            // Process-wide figures: other proxies of this JVM may copy too, so compare with now.
            double expectedBefore = meters.get("neurondb_index_copy_rows_expected").gauge().value();
            try (Connection c = f.proxied()) {
                exec(c, "CREATE INDEX big_idx ON big USING ivfflat (embedding vector_l2_ops) WITH (lists = 20)");
            }
            VectorDatabase v = f.vectors();
            await("the index holds the table", Duration.ofSeconds(120), () -> v.rows("public", "big_idx") == ROWS);
            double after = meters.get("neurondb_index_copy_rows_total").gauge().value();
            assertThat(after - before).as("rows copied for the build").isGreaterThanOrEqualTo(ROWS);
            assertThat(meters.get("neurondb_index_copy_rows_expected").gauge().value()).as("this copy no longer expected")
                    .isLessThanOrEqualTo(expectedBefore);
            assertThat(logs.lines(Level.INFO, "event=table_copy_done", "big", "rows=" + ROWS))
                    .as("the copy's log line").isNotEmpty();
        }
    }
}
