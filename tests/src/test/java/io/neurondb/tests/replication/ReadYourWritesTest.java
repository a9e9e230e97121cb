package io.neurondb.tests.replication;

import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code neurondb.consistency = read_your_writes} with replication sync on: a session's kNN
 * search sees the rows it committed a moment before (the search waits until the index has
 * applied them), and when the index is further behind than {@code neurondb.consistency_timeout}
 * the search fails clearly and the session goes on working. In {@code eventual} mode (the
 * default) a search never waits, so it may miss the session's own latest rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReadYourWritesTest {

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String BIG_DIMS = "128";
    private ReplicaFixture f;
    private VectorDatabase v;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("ryw");
        f.startProxy();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))",
                    "INSERT INTO items SELECT g, ARRAY[g, g, 1]::real[] FROM generate_series(1, 100) g",
                    "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops)",
                    "CREATE TABLE wide (id bigint PRIMARY KEY, embedding vector(" + BIG_DIMS + "))",
                    "CREATE INDEX wide_embedding_idx ON wide USING hnsw (embedding vector_l2_ops)");
        }
        v = f.vectors();
        await("items index built", WAIT, () -> v.rows("public", "items_embedding_idx") == 100);
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private Connection simpleProtocol() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection(f.proxy.jdbcUrl(f.db), p);
    }

    private static String show(Connection c, String name) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void settingsAreShownAndBadValuesRefused() throws Exception {
        try (Connection c = f.proxied(); Statement s = c.createStatement()) {
            assertThat(show(c, "neurondb.consistency")).isEqualTo("eventual");
            assertThat(show(c, "neurondb.consistency_timeout")).isEqualTo("5000");
            exec(c, "SET neurondb.consistency = 'read_your_writes'", "SET neurondb.consistency_timeout = '2s'");
            assertThat(show(c, "neurondb.consistency")).isEqualTo("read_your_writes");
            assertThat(show(c, "neurondb.consistency_timeout")).isEqualTo("2000");
            assertThatThrownBy(() -> s.execute("SET neurondb.consistency = 'strong'"))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"));
            assertThatThrownBy(() -> s.execute("SET neurondb.consistency_timeout = 'soon'"))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"));
            exec(c, "RESET neurondb.consistency");
            assertThat(show(c, "neurondb.consistency")).isEqualTo("eventual");
        }
    }

    /** Extended protocol (Bind): every row inserted is found by the very next search, and the index holds it by then. */
    @Test
    void ownInsertIsFoundByTheNextKnnSearchExtended() throws Exception {
        try (Connection c = f.proxied()) {
            exec(c, "SET neurondb.consistency = 'read_your_writes'");
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO items VALUES (?, ?::vector)");
                 PreparedStatement knn = c.prepareStatement("SELECT id FROM items ORDER BY embedding <-> ?::vector LIMIT 1")) {
                for (int i = 0; i < 20; i++) {
                    long id = 10_000 + i;
                    String vec = "[" + (5000 + i * 10) + ",-7,3]";
                    ins.setLong(1, id);
                    ins.setString(2, vec);
                    ins.executeUpdate();
                    knn.setString(1, vec);
                    try (ResultSet rs = knn.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getLong(1)).as("nearest to the row just inserted").isEqualTo(id);
                    }
                    assertThat(v.holds("public", "items_embedding_idx", id)).as("applied before the search ran").isTrue();
                }
            }
        }
    }

    /** Simple protocol (Query), inside an explicit transaction after the commit too. */
    @Test
    void ownInsertIsFoundByTheNextKnnSearchSimple() throws Exception {
        try (Connection c = simpleProtocol(); Statement s = c.createStatement()) {
            exec(c, "SET neurondb.consistency = 'read_your_writes'");
            for (int i = 0; i < 10; i++) {
                long id = 20_000 + i;
                String vec = "'[" + (-5000 - i * 10) + ",9,3]'";
                s.executeUpdate("INSERT INTO items VALUES (" + id + ", " + vec + ")");
                try (ResultSet rs = s.executeQuery("SELECT id FROM items ORDER BY embedding <-> " + vec + " LIMIT 1")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(id);
                }
                assertThat(v.holds("public", "items_embedding_idx", id)).isTrue();
            }
        }
    }

    /**
     * A large transaction of the session's own makes the index lag for seconds: with a tiny
     * timeout the search fails with 55000 naming the setting, the session keeps working, and
     * with a long timeout the same search waits and then sees every row. Eventual mode never
     * waits (and never fails) in the same situation.
     */
    @Test
    void searchFailsClearlyWhenTheIndexIsBehindLongerThanTheTimeout() throws Exception {
        String vector = "(SELECT array_agg(random()::real) FROM generate_series(1, " + BIG_DIMS + ") d WHERE g > 0)::real[]";
        String probe = "SELECT id FROM wide ORDER BY embedding <-> (SELECT embedding FROM wide WHERE id = 1) LIMIT 1";
        try (Connection c = f.proxied(); Statement s = c.createStatement()) {
            exec(c, "SET neurondb.consistency = 'read_your_writes'", "SET neurondb.consistency_timeout = '1ms'");
            exec(c, "INSERT INTO wide SELECT g, " + vector + " FROM generate_series(1, 30000) g");
            try (PreparedStatement knn = c.prepareStatement("SELECT id FROM wide ORDER BY embedding <-> ?::vector LIMIT 3")) {
                knn.setString(1, "[" + "0.5,".repeat(Integer.parseInt(BIG_DIMS) - 1) + "0.5]");
                assertThatThrownBy(knn::executeQuery).isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("55000");
                    assertThat(e.getMessage()).contains("behind").contains("bytes").contains("neurondb.consistency_timeout");
                });
                assertThat(v.rows("public", "wide_embedding_idx")).as("the index was really behind").isLessThan(30000);
                // The session goes on: replies are in order, other statements work.
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM wide")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(30000);
                }
                exec(c, "SET neurondb.consistency_timeout = '120s'");
                try (ResultSet rs = knn.executeQuery()) {
                    int n = 0;
                    while (rs.next()) {
                        n++;
                    }
                    assertThat(n).isEqualTo(3);
                }
                assertThat(v.rows("public", "wide_embedding_idx")).isEqualTo(30000);
            }
            // Eventual mode: another large write, a search at once with the same tiny timeout does not wait or fail.
            exec(c, "SET neurondb.consistency = 'eventual'", "SET neurondb.consistency_timeout = '1ms'");
            exec(c, "INSERT INTO wide SELECT g, " + vector + " FROM generate_series(30001, 45000) g");
            try (ResultSet rs = s.executeQuery(probe)) {
                assertThat(rs.next()).isTrue(); // possibly stale: not compared with the table
            }
            await("wide index catches up", WAIT, () -> v.rows("public", "wide_embedding_idx") == 45000);
        }
    }

    /** index_stats() shows the applied position and the lag, both as SELECT * (answered by the proxy) and through the jsonb form. */
    @Test
    void indexStatsShowsAppliedLsnAndLag() throws Exception {
        try (Connection c = f.proxied(); Statement s = c.createStatement()) {
            long applied = v.appliedLsn().orElseThrow();
            try (ResultSet rs = s.executeQuery("SELECT * FROM neurondb.index_stats()")) {
                assertThat(rs.getMetaData().getColumnCount()).isEqualTo(13);
                assertThat(rs.getMetaData().getColumnName(11)).isEqualTo("applied_lsn");
                assertThat(rs.getMetaData().getColumnName(12)).isEqualTo("lag_bytes");
                assertThat(rs.getMetaData().getColumnName(13)).isEqualTo("lag_seconds");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("applied_lsn")).matches("[0-9A-F]+/[0-9A-F]+");
                assertThat(rs.getLong("lag_bytes")).isGreaterThanOrEqualTo(0);
                assertThat(rs.getDouble("lag_seconds")).isGreaterThanOrEqualTo(0);
            }
            try (ResultSet rs = s.executeQuery("SELECT applied_lsn::pg_lsn >= '" + io.neurondb.proxy.replication.Lsn.format(applied)
                    + "'::pg_lsn, lag_bytes >= 0, lag_seconds >= 0 FROM neurondb.index_stats() WHERE index_name = 'items_embedding_idx'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).isTrue();
                assertThat(rs.getBoolean(2)).isTrue();
                assertThat(rs.getBoolean(3)).isTrue();
            }
            try (ResultSet rs = s.executeQuery("SELECT version FROM neurondb.extension")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("1.2");
            }
        }
    }
}
