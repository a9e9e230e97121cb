package io.neurondb.tests.replication;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.replication.ReplicationPreflight;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The up-front checks on a server without {@code wal_level = logical} and a login without
 * REPLICATION: each problem is worded as the statement to run, and the proxy falls back to
 * following writes made through it (no slot), so indexes still work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationPreflightTest {

    private LocalPostgres pg;
    private Vertx vertx;

    @BeforeAll
    void setUp() throws Exception {
        pg = TestPostgres.startPrivate("preflight", "wal_level=replica");
        try (Connection c = TestPostgres.superuser(pg)) {
            exec(c, "CREATE ROLE plain LOGIN PASSWORD 'plainpass'", "CREATE DATABASE pf OWNER plain",
                    "REVOKE CREATE ON DATABASE pf FROM PUBLIC");
        }
        vertx = Vertx.vertx();
    }

    @AfterAll
    void tearDown() {
        if (vertx != null) {
            vertx.close();
        }
        if (pg != null) {
            pg.destroy();
            LocalPostgres.deleteTree(pg.dataDir().getParent());
        }
    }

    private List<String> check(String user, String password) throws Exception {
        Pool pool = PgBuilder.pool().connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(pg.port())
                .setDatabase("pf").setUser(user).setPassword(password)).using(vertx).build();
        try {
            return ReplicationPreflight.check(pool, "neurondb_x_pf").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } finally {
            pool.close();
        }
    }

    @Test
    void eachMissingPrerequisiteIsWordedAsWhatToRun() throws Exception {
        List<String> problems = check("plain", "plainpass");
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .contains("wal_level is 'replica'").contains("ALTER SYSTEM SET wal_level = logical;").contains("restart PostgreSQL"));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .contains("role \"plain\"").contains("ALTER ROLE \"plain\" REPLICATION;"));
        // The database owner may create publications there; only the two server-side problems remain.
        assertThat(problems).hasSize(2);
        // A superuser has the privileges; wal_level is still wrong.
        assertThat(check(TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD)).singleElement()
                .satisfies(p -> assertThat(p).contains("wal_level"));
    }

    @Test
    void withoutLogicalWalTheProxyFallsBackAndIndexesStillWork() throws Exception {
        Path data = Files.createTempDirectory("neurondb-preflight-data-");
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), "data_dir: " + data + "\ninstance_id: pf\n"
                + "replication:\n  enabled: true\n", List.of())) {
            try (Connection c = proxy.connectTo("pf")) {
                exec(c, "CREATE EXTENSION neurondb",
                        "CREATE TABLE t (id int PRIMARY KEY, embedding vector(2))",
                        "INSERT INTO t VALUES (1, '[1,1]'), (2, '[2,2]')",
                        "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)");
            }
            VectorDatabase v = proxy.proxy().vectors().open("pf").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            await("fell back (no replication slot)", Duration.ofSeconds(30), () -> v.replicationSlot().isEmpty());
            await("t_idx holds both rows", Duration.ofSeconds(30), () -> v.rows("public", "t_idx") == 2);
            try (Connection c = proxy.connectTo("pf")) {
                exec(c, "INSERT INTO t VALUES (3, '[3,3]')"); // through the proxy: the index is rebuilt
            }
            await("t_idx holds the row written through the proxy", Duration.ofSeconds(30), () -> v.holds("public", "t_idx", 3));
            try (Connection c = TestPostgres.superuser(pg)) {
                assertThat(ReplicaFixture.scalar(c, "SELECT count(*) FROM pg_replication_slots")).isZero();
            }
        } finally {
            LocalPostgres.deleteTree(data);
        }
    }
}
