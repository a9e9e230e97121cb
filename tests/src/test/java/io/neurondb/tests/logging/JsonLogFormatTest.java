package io.neurondb.tests.logging;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyJvm;
import io.neurondb.tests.support.TestPostgres;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code log_format: json} in a running proxy process, started as bin/neurondb-proxy starts it
 * (its own JVM, the proxy's logback.xml): every line it writes is one JSON object with the
 * fixed fields, and a session's events carry their key=value pairs as fields.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JsonLogFormatTest {

    @Test
    void everyLineOfARunningProxyIsAJsonObject() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        Path home = Files.createTempDirectory("neurondb-json-log-");
        int port = LocalPostgres.freePort();
        Path config = Files.writeString(home.resolve("neurondb.yaml"), "listen: 127.0.0.1:" + port + "\n"
                + "upstream: postgresql://postgres:postgres@127.0.0.1:" + pg.port() + "/postgres\n"
                + "metrics_port: 0\nevent_loops: 1\nplugins_dir: " + home.resolve("no-plugins") + "\n"
                + "replication:\n  enabled: false\nopen_indexed_databases_at_start: false\n"
                + "log_format: json\nlog_level: debug\n");
        Path log = home.resolve("proxy.log");
        // the proxy's own logging configuration, not the test suite's logback-test.xml
        ProcessBuilder pb = new ProcessBuilder(ProxyJvm.command(List.of("-Dlogback.configurationFile=logback.xml"), "--config", config.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("NEURONDB_"));
        Process p = pb.start();
        try {
            Connection c = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (c == null) {
                try {
                    c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", TestPostgres.SUPERUSER,
                            TestPostgres.SUPERUSER_PASSWORD);
                } catch (SQLException e) {
                    assertThat(p.isAlive() && System.nanoTime() < deadline).as("the proxy process started: " + Files.readString(log)).isTrue();
                    Thread.sleep(200);
                }
            }
            try (Connection conn = c; Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        List<JsonObject> lines = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            if (line.isBlank() || line.equals("WARNING: Using incubator modules: jdk.incubator.vector")) {
                continue; // the JVM's own start-up line (the Vector API is an incubator module), not the proxy's log
            }
            JsonObject o;
            try {
                o = new JsonObject(line);
            } catch (RuntimeException e) {
                throw new AssertionError("not a JSON object: " + line, e);
            }
            assertThat(o.fieldNames()).as(line).contains("ts", "level", "logger", "thread");
            lines.add(o);
        }
        assertThat(lines).as("lines logged").hasSizeGreaterThan(3);
        // A session's events: its connection id is a number field, the event a string field.
        assertThat(lines).anySatisfy(o -> {
            assertThat(o.getValue("conn")).isInstanceOf(Number.class);
            assertThat(o.getString("event")).isNotBlank();
        });
        LocalPostgres.deleteTree(home);
    }
}
