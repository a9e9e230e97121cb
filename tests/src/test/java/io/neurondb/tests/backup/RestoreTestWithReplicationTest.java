package io.neurondb.tests.backup;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The backup plugin's restore test with replication sync on (the production default): the
 * scratch database is opened, and so followed, by the proxy when the test asks it for kNN; the
 * plugin makes the proxy let go of it before dropping it (PostgreSQL refuses to drop a database
 * with an active logical slot, even WITH (FORCE)). Then the playbook's drop of the live
 * database, sent through the proxy.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RestoreTestWithReplicationTest {

    private static BackupFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = new BackupFixture("verify_repl", true, """
                    database: shop
                    wal:
                      enabled: false
                    schedule: {logical: "off", physical: "off", wal: "off", verify: "off"}
                """);
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE shop");
        }
        fx.startProxy();
        try (Connection c = fx.viaProxy("shop"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION vector");
            s.execute("CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3))");
            s.execute("INSERT INTO items (embedding) SELECT ARRAY[(i % 17) / 17.0, (i % 11) / 11.0, (i % 7) / 7.0]::real[] "
                    + "FROM generate_series(1, 200) i");
            s.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)");
        }
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private static String[] backupNow(String kind) throws SQLException {
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM neurondb.backup_now('" + kind + "')")) {
            assertThat(rs.next()).isTrue();
            return new String[]{rs.getString(3), rs.getString(4)};
        }
    }

    private static long count(String sql) throws SQLException {
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void restoreTestDropsItsFollowedScratchDatabaseAndTheLiveOneDropsThroughTheProxy() throws Exception {
        assertThat(backupNow("logical")[0]).isEqualTo("succeeded");
        String[] verified = backupNow("verify");
        assertThat(verified[0]).as(verified[1]).isEqualTo("succeeded");
        assertThat(verified[1]).contains("1 vector indexes").contains("(dropped)");
        assertThat(count("SELECT count(*) FROM pg_database WHERE datname LIKE 'neurondb_verify_%'")).isZero();
        assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'neurondb_%_neurondb_verify_%'")).isZero();
        assertThat(fx.proxy.vectors().stats().keySet()).noneMatch(db -> db.startsWith("neurondb_verify_"));

        // shop is followed: a slot of the proxy's streams from it.
        assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'neurondb_%_shop' AND active")).isEqualTo(1);
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE shop WITH (FORCE)");
        }
        assertThat(count("SELECT count(*) FROM pg_database WHERE datname = 'shop'")).isZero();
        assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'neurondb_%_shop'")).isZero();
    }
}
