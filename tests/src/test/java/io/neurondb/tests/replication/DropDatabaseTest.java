package io.neurondb.tests.replication;

import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static io.neurondb.tests.replication.ReplicaFixture.holdsExactly;
import static io.neurondb.tests.replication.ReplicaFixture.ids;
import static io.neurondb.tests.replication.ReplicaFixture.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The playbook's "drop the database, create it, pg_restore" with replication sync on. PostgreSQL
 * refuses {@code DROP DATABASE} while the proxy's own connections or its active logical slot use
 * the database, so a DROP sent through the proxy first makes the proxy let go; if the DROP fails
 * the proxy follows the database again. Also: a database with indexes is opened (and followed)
 * when the proxy starts, before any client connects to it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DropDatabaseTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    // Every row's vector differs and the query point is off the lattice: no ties, one right order.
    private static final String KNN = "SELECT id FROM items ORDER BY embedding <-> '[150.37, 50.21, 15.13]' LIMIT 10";
    private ReplicaFixture f;
    private String slot;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("dropdb");
        f.startProxy();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))",
                    "INSERT INTO items SELECT g, ARRAY[g, (g * g) % 101, (g * 7) % 31]::real[] FROM generate_series(1, 200) g",
                    "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops)");
        }
        VectorDatabase v = f.vectors();
        slot = v.replicationSlot().orElseThrow();
        awaitInSync(v);
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private void awaitInSync(VectorDatabase v) throws SQLException {
        java.util.Set<Long> expected;
        try (Connection c = f.direct()) {
            expected = ids(c, "SELECT id FROM items");
        }
        await("the index holds exactly the table's " + expected.size() + " rows", WAIT,
                () -> holdsExactly(v, "items_embedding_idx", expected));
    }

    private Connection maintenance() throws SQLException {
        return f.proxy.connectTo("postgres");
    }

    private long activeSlots() throws SQLException {
        try (Connection c = TestPostgres.superuser(f.pg)) {
            return scalar(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND active");
        }
    }

    private long slots() throws SQLException {
        try (Connection c = TestPostgres.superuser(f.pg)) {
            return scalar(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
        }
    }

    private static List<Long> knn(Connection c) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(KNN)) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    @Test
    @Order(1)
    void databaseWithIndexesIsFollowedFromStartWithoutAClient() throws Exception {
        f.stopProxy();
        await("the slot is released by the stopped proxy", WAIT, () -> {
            try {
                return activeSlots() == 0;
            } catch (SQLException e) {
                return false;
            }
        });
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO items SELECT g, ARRAY[g, 0, 0]::real[] FROM generate_series(201, 220) g");
        }
        f.startProxy();
        // No client connects: the proxy found the database on its own and streams from its slot.
        await("the slot is streamed again with no client connected", WAIT, () -> {
            try {
                return activeSlots() == 1;
            } catch (SQLException e) {
                return false;
            }
        });
        assertThat(f.proxy.proxy().vectors().stats()).containsKey(f.db);
        awaitInSync(f.vectors());
    }

    @Test
    @Order(2)
    void failedDropLeavesTheDatabaseFollowed() throws Exception {
        try (Connection user = f.proxied(); Connection admin = maintenance()) {
            // Another session of the database: PostgreSQL refuses the DROP (55006) after the proxy let go.
            assertThat(knn(user)).hasSize(10);
            assertThatThrownBy(() -> exec(admin, "DROP DATABASE " + f.db))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("55006"));
            await("the slot is streamed again after the failed DROP", WAIT, () -> {
                try {
                    return activeSlots() == 1;
                } catch (SQLException e) {
                    return false;
                }
            });
            try (Connection c = f.direct()) {
                exec(c, "INSERT INTO items VALUES (5000, ARRAY[30, 10, 20]::real[])");
            }
            VectorDatabase v = f.vectors();
            await("a row written straight to PostgreSQL after the failed DROP is indexed", WAIT,
                    () -> v.holds("public", "items_embedding_idx", 5000));
            awaitInSync(v);
            try (Statement st = user.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id FROM items ORDER BY embedding <-> '[30, 10, 20]' LIMIT 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(5000L);
            }
        }
    }

    @Test
    @Order(3)
    void dropThroughTheProxyThenRestoreRebuildsTheIndex() throws Exception {
        List<Long> before;
        try (Connection c = f.proxied()) {
            before = knn(c);
        }
        assertThat(before).hasSize(10);
        Path dump = Files.createTempFile("neurondb-dropdb-", ".dump");
        Path bin = f.pg.binDir();
        Map<String, String> env = Map.of("PGPASSWORD", TestPostgres.SUPERUSER_PASSWORD);
        String proxyPort = String.valueOf(f.proxy.port());
        String pgPort = String.valueOf(f.pg.port());
        try {
            Tool.Result dumped = Tool.run(bin, "pg_dump", env, null, List.of("-h", "127.0.0.1", "-p", pgPort, "-U",
                    TestPostgres.SUPERUSER, "-d", f.db, "-F", "c", "-f", dump.toString()));
            assertThat(dumped.exitCode()).as(dumped.output()).isZero();

            // The playbook's dropdb, through the proxy (simple protocol, "DROP DATABASE ...;").
            Tool.Result dropped = Tool.run(bin, "dropdb", env, null, List.of("-h", "127.0.0.1", "-p", proxyPort, "-U",
                    TestPostgres.SUPERUSER, f.db));
            assertThat(dropped.exitCode()).as(dropped.output()).isZero();
            assertThat(slots()).as("PostgreSQL dropped the proxy's slot with the database").isZero();
            assertThat(f.proxy.proxy().vectors().stats()).doesNotContainKey(f.db);
            Path checkpoints = f.dataDir.resolve("replication").resolve(slot);
            if (Files.isDirectory(checkpoints)) {
                try (var files = Files.list(checkpoints)) {
                    assertThat(files.toList()).as("checkpoints of the dropped database").isEmpty();
                }
            }

            Tool.Result created = Tool.run(bin, "createdb", env, null, List.of("-h", "127.0.0.1", "-p", proxyPort, "-U",
                    TestPostgres.SUPERUSER, f.db));
            assertThat(created.exitCode()).as(created.output()).isZero();
            Tool.Result restored = Tool.run(bin, "pg_restore", env, null, List.of("-h", "127.0.0.1", "-p", pgPort, "-U",
                    TestPostgres.SUPERUSER, "-d", f.db, dump.toString()));
            assertThat(restored.exitCode()).as(restored.output()).isZero();
        } finally {
            Files.deleteIfExists(dump);
        }
        // The first client of the restored database opens it: a new slot, the index rebuilt from the restored rows.
        try (Connection c = f.proxied()) {
            VectorDatabase v = f.vectors();
            awaitInSync(v);
            assertThat(knn(c)).isEqualTo(before);
        }
        await("a new slot for the restored database", WAIT, () -> {
            try {
                return activeSlots() == 1;
            } catch (SQLException e) {
                return false;
            }
        });
    }

    @Test
    @Order(4)
    void dropOverTheExtendedProtocolOfADatabaseNeverOpened() throws Exception {
        try (Connection admin = maintenance()) {
            exec(admin, "CREATE DATABASE scratch_never_opened");
            exec(admin, "DROP DATABASE scratch_never_opened");
            assertThat(scalar(admin, "SELECT count(*) FROM pg_database WHERE datname = 'scratch_never_opened'")).isZero();
            exec(admin, "DROP DATABASE IF EXISTS scratch_never_opened");
        }
    }
}
