package io.neurondb.tests.vector;

import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

import static org.assertj.core.api.Assertions.assertThat;

/** neurondb.version(), gpu_enabled(), gpu_device_count(), index_stats() as ordinary result sets. */
class FunctionsTest extends VectorProxyTestBase {

    @BeforeAll
    void extension() throws Exception {
        ensureExtension();
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE f_items (id int PRIMARY KEY, embedding vector(2))",
                    "INSERT INTO f_items SELECT i, ARRAY[i, -i]::real[] FROM generate_series(1, 10) i",
                    "CREATE INDEX f_idx ON f_items USING hnsw (embedding vector_l2_ops)");
        }
    }

    @Test
    void scalarFunctionsInBothProtocols() throws Exception {
        try (Connection c = proxied()) {
            String version = one(c, "SELECT neurondb.version()");
            assertThat(version).isNotBlank();
            assertThat(one(c, "SELECT neurondb.gpu_enabled()")).isIn("t", "f");
            int devices = Integer.parseInt(one(c, "SELECT neurondb.gpu_device_count()"));
            assertThat(devices).isGreaterThanOrEqualTo(0);
            if (one(c, "SELECT neurondb.gpu_enabled()").equals("f")) {
                // enabled without a device makes no sense; no device here means disabled
                assertThat(devices).isGreaterThanOrEqualTo(0);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT neurondb.gpu_enabled()"); ResultSet rs = ps.executeQuery()) {
                assertThat(rs.getMetaData().getColumnTypeName(1)).isEqualTo("bool");
                assertThat(rs.next()).isTrue();
                rs.getBoolean(1);
                assertThat(rs.next()).isFalse();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT neurondb.gpu_device_count()"); ResultSet rs = ps.executeQuery()) {
                assertThat(rs.getMetaData().getColumnTypeName(1)).isEqualTo("int4");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(devices);
            }
            assertThat(prepared(c, "SELECT neurondb.version()")).containsExactly(version);
            assertThat(one(c, "SELECT neurondb.gpu_device_count() AS n")).isEqualTo(String.valueOf(devices));
        }
    }

    @Test
    void versionAlsoWorksOutsideTheProxyAndSays() throws Exception {
        try (Connection d = direct()) {
            assertThat(one(d, "SELECT neurondb.version()")).isNotBlank();
            expectError("0A000", null, () -> one(d, "SELECT neurondb.gpu_enabled()"));
        }
    }

    @Test
    void indexStatsInBothProtocolsAndPsql() throws Exception {
        try (Connection c = proxied()) {
            assertThat(statsOf(c, "f_items"))
                    .containsExactly("f_idx|public.f_items|embedding|hnsw|l2|2|10|ready");
            assertThat(prepared(c, "SELECT * FROM neurondb.index_stats()")).hasSize(1)
                    .allSatisfy(r -> assertThat(r).startsWith("f_idx|public.f_items|embedding|hnsw|l2|2|10|").endsWith("|ready|null|null|null")); // replication off: no applied_lsn or lag
        }
        Tool.Result r = psql("SELECT * FROM neurondb.index_stats();\nSELECT neurondb.gpu_device_count();\n");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("f_idx|public.f_items|embedding|hnsw|l2|2|10|").contains("|ready");
    }

    @Test
    void indexStatsOfAnotherDatabaseAreNotMixedIn() throws Exception {
        try (Connection su = io.neurondb.tests.support.TestPostgres.superuser(pg)) {
            exec(su, "DROP DATABASE IF EXISTS vt_functions_other WITH (FORCE)", "CREATE DATABASE vt_functions_other");
        }
        try (Connection c = proxy.connectTo("vt_functions_other")) {
            exec(c, "CREATE EXTENSION neurondb");
            assertThat(rows(c, "SELECT * FROM neurondb.index_stats()")).isEmpty();
        }
    }
}
