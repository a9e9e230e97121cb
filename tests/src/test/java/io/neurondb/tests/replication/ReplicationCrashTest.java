package io.neurondb.tests.replication;

import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.tests.support.ProxyJvm;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static io.neurondb.tests.replication.ReplicaFixture.holdsExactly;
import static io.neurondb.tests.replication.ReplicaFixture.ids;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the proxy in the middle of a write stream: the proxy runs as a separate JVM,
 * thousands of concurrent inserts, updates and deletes go straight into PostgreSQL, the proxy is
 * killed after it wrote checkpoints, the writes go on, and a new proxy on the same data
 * directory loads the checkpoints, replays from the slot and holds exactly {@code SELECT id FROM t}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ReplicationCrashTest {

    private ReplicaFixture f;
    private Process external;

    @AfterEach
    void tearDown() {
        if (external != null && external.isAlive()) {
            external.destroyForcibly();
        }
        if (f != null) {
            f.close();
        }
    }

    private Process startExternalProxy(int port) throws Exception {
        Path home = Files.createTempDirectory("neurondb-crash-proxy-");
        Path plugins = Files.createDirectories(home.resolve("plugins"));
        Path config = home.resolve("neurondb.yaml");
        Files.writeString(config, "listen: 127.0.0.1:" + port + "\n"
                + "upstream: postgresql://postgres:postgres@127.0.0.1:" + f.pg.port() + "/postgres\n"
                + "metrics_port: 0\nevent_loops: 2\nplugins_dir: " + plugins + "\n" + f.yaml());
        ProcessBuilder pb = new ProcessBuilder(ProxyJvm.command("--config", config.toString()))
                .redirectErrorStream(true)
                .redirectOutput(home.resolve("proxy.log").toFile());
        pb.environment().put("NEURONDB_HOME", home.toString());
        Process p = pb.start();
        await("the external proxy accepts connections", Duration.ofSeconds(60), () -> {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + f.db,
                    TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD)) {
                return true;
            } catch (SQLException e) {
                return false;
            }
        });
        return p;
    }

    @Test
    void killMinus9MidStreamThenRestartHoldsExactlyTheTablesRows() throws Exception {
        f = new ReplicaFixture("crash");
        int port = LocalPostgres.freePort();
        external = startExternalProxy(port);
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + f.db,
                TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD)) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(8))",
                    "INSERT INTO t SELECT g, array_fill(g::real, ARRAY[8]) FROM generate_series(1, 2000) g",
                    "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)");
        }
        Path manifest = f.dataDir.resolve("replication").resolve("neurondb_t_crash_r_crash").resolve("manifest.properties");

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong done = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            writers.add(Thread.ofPlatform().start(() -> write(stop, done)));
        }
        // Kill once a checkpoint covering streamed changes was written and the stream is busy.
        await("a checkpoint after writes started", Duration.ofSeconds(60),
                () -> done.get() > 2000 && Files.exists(manifest) && manifest.toFile().lastModified() > System.currentTimeMillis() - 1500);
        external.destroyForcibly(); // SIGKILL
        assertThat(external.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long atKill = done.get();
        await("more writes after the kill", Duration.ofSeconds(60), () -> done.get() > atKill + 1000);
        stop.set(true);
        for (Thread t : writers) {
            t.join();
        }
        assertThat(done.get()).isGreaterThan(3000);

        f.startProxy();
        SimpleMeterRegistry simple = new SimpleMeterRegistry();
        ((CompositeMeterRegistry) f.proxy.proxy().meters()).add(simple);
        VectorDatabase v = f.vectors();
        Set<Long> expected;
        try (Connection c = f.direct()) {
            expected = ids(c, "SELECT id FROM t");
        }
        await("the restarted proxy's index holds exactly SELECT id FROM t (" + expected.size() + " rows)", Duration.ofSeconds(90),
                () -> holdsExactly(v, "t_idx", expected));
        // It resumed from its checkpoint: no fresh snapshot was needed.
        assertThat(simple.find("neurondb_replication_resnapshots_total").counter()).isNull();
        assertThat(simple.find("neurondb_replication_rebuilds_total").counter()).isNull();
    }

    /** Random inserts, vector updates, key updates and deletes, one autocommit statement each. */
    private void write(AtomicBoolean stop, AtomicLong done) {
        try (Connection c = f.direct();
             PreparedStatement ins = c.prepareStatement("INSERT INTO t VALUES (?, array_fill(?::real, ARRAY[8])) ON CONFLICT (id) DO NOTHING");
             PreparedStatement upd = c.prepareStatement("UPDATE t SET embedding = array_fill(?::real, ARRAY[8]) WHERE id = ?");
             PreparedStatement mov = c.prepareStatement("UPDATE t SET id = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM t WHERE id = ?)");
             PreparedStatement del = c.prepareStatement("DELETE FROM t WHERE id = ?")) {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            while (!stop.get()) {
                long id = r.nextLong(1, 6000);
                try {
                    switch (r.nextInt(4)) {
                        case 0 -> {
                            ins.setLong(1, id);
                            ins.setFloat(2, r.nextFloat() * 100);
                            ins.executeUpdate();
                        }
                        case 1 -> {
                            upd.setFloat(1, r.nextFloat() * 100);
                            upd.setLong(2, id);
                            upd.executeUpdate();
                        }
                        case 2 -> {
                            long to = r.nextLong(1, 6000);
                            mov.setLong(1, to);
                            mov.setLong(2, id);
                            mov.setLong(3, to);
                            mov.executeUpdate();
                        }
                        default -> {
                            del.setLong(1, id);
                            del.executeUpdate();
                        }
                    }
                    done.incrementAndGet();
                } catch (SQLException conflict) {
                    // a concurrent key move can collide on the primary key: that write simply did not happen
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
