package io.neurondb.tests.plugins;

import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The host side of plugins: a service started with its settings section and stopped at
 * shutdown, meters in the host registry, neurondb.* functions answered by a plugin over both
 * protocols, and a plugin whose service fails to start left out entirely.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PluginServicesTest {

    /** One class serving as service and function: the host must create it once for both. */
    private static final String ECHO = """
            package com.example.echo;

            import io.micrometer.core.instrument.Counter;
            import io.neurondb.plugin.api.PluginContext;
            import io.neurondb.plugin.api.PluginService;
            import io.neurondb.plugin.api.SqlFunction;
            import io.neurondb.plugin.api.SqlFunctionException;
            import io.neurondb.plugin.api.TextResult;
            import org.pf4j.Extension;

            import java.nio.file.Files;
            import java.nio.file.Path;
            import java.util.List;

            @Extension
            public class Echo implements PluginService, SqlFunction {
                private String greeting;
                private Counter calls;

                @Override
                public void start(PluginContext context) {
                    greeting = String.valueOf(context.settings().get("greeting"));
                    calls = Counter.builder("neurondb_test_echo_calls").register(context.meterRegistry());
                }

                @Override
                public void stop() {
                    try {
                        Files.writeString(Path.of(System.getProperty("neurondb.test.echo.stopped")), "stopped");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }

                @Override
                public String name() {
                    return "echo";
                }

                @Override
                public List<String> columns() {
                    return List.of("greeting", "caller");
                }

                @Override
                public TextResult call(List<String> args, Caller caller) {
                    calls.increment();
                    if (args.size() == 1 && "fail".equals(args.get(0))) {
                        throw new SqlFunctionException("22023", "echo was asked to fail");
                    }
                    String who = caller.user() + "@" + caller.database() + (caller.superuser() ? " (superuser)" : "");
                    return TextResult.rows(columns(), List.of(List.of(greeting + " " + String.join(",", args.stream()
                            .map(a -> a == null ? "NULL" : a).toList()), who)));
                }
            }
            """;

    private static final String BROKEN = """
            package com.example.broken;

            import io.neurondb.plugin.api.PluginContext;
            import io.neurondb.plugin.api.PluginService;
            import io.neurondb.plugin.api.SqlFunction;
            import io.neurondb.plugin.api.TextResult;
            import org.pf4j.Extension;

            import java.util.List;

            @Extension
            public class Broken implements PluginService, SqlFunction {
                @Override
                public void start(PluginContext context) {
                    throw new IllegalArgumentException("plugins.broken.colour: unknown setting");
                }

                @Override
                public String name() {
                    return "broken";
                }

                @Override
                public List<String> columns() {
                    return List.of("x");
                }

                @Override
                public TextResult call(List<String> args, Caller caller) {
                    return TextResult.rows(columns(), List.of(List.of("must not be called")));
                }
            }
            """;

    @TempDir
    static Path work;
    private static ProxyUnderTest proxy;
    private static Path stopped;

    @BeforeAll
    static void start() throws Exception {
        Path pluginsDir = Files.createDirectories(work.resolve("plugins.d"));
        Files.copy(PluginJarBuilder.build(work, "echo", Map.of("com.example.echo.Echo", ECHO), "com.example.echo.Echo"),
                pluginsDir.resolve("echo.jar"));
        Files.copy(PluginJarBuilder.build(work, "broken", Map.of("com.example.broken.Broken", BROKEN), "com.example.broken.Broken"),
                pluginsDir.resolve("broken.jar"));
        stopped = work.resolve("echo-stopped");
        System.setProperty("neurondb.test.echo.stopped", stopped.toString());
        proxy = ProxyUnderTest.start(TestPostgres.shared().port(), """
                plugins:
                  echo:
                    greeting: hello
                """, List.of(), pluginsDir);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aPluginWhoseServiceFailsIsLeftOut() {
        assertThat(proxy.proxy().plugins().startedPluginIds()).containsExactly("echo");
        assertThat(proxy.proxy().plugins().notStartedPluginIds()).containsExactly("broken");
    }

    @Test
    void simpleProtocolCallIsAnsweredByThePlugin() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            // pgjdbc sends a plain Statement over the extended protocol unless told otherwise;
            // psql-style simple queries are covered by preferQueryMode=simple below.
            try (ResultSet rs = s.executeQuery("SELECT neurondb.echo('a', 2, NULL) AS answer")) {
                assertThat(rs.next()).isTrue();
                ResultSetMetaData md = rs.getMetaData();
                assertThat(md.getColumnCount()).isEqualTo(2);
                assertThat(rs.getString("greeting")).isEqualTo("hello a,2,NULL");
                assertThat(rs.getString("caller")).isEqualTo("postgres@postgres (superuser)");
                assertThat(rs.next()).isFalse();
            }
        }
        java.util.Properties simple = new java.util.Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection c = proxy.connect("trust_user", null, simple); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select * from NEURONDB.Echo('x');")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("hello x");
            assertThat(rs.getString(2)).isEqualTo("trust_user@postgres");
        }
    }

    @Test
    void boundArgumentsAndDescribeWorkInTheExtendedProtocol() throws Exception {
        try (Connection c = proxy.connect(); PreparedStatement ps = c.prepareStatement("SELECT * FROM neurondb.echo(?, ?)")) {
            ResultSetMetaData md = ps.getMetaData(); // Describe before any Execute
            assertThat(md.getColumnName(1)).isEqualTo("greeting");
            assertThat(md.getColumnName(2)).isEqualTo("caller");
            for (int i = 0; i < 6; i++) { // past pgjdbc's prepareThreshold: a named server-side statement
                ps.setString(1, "p" + i);
                ps.setString(2, "q");
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("hello p" + i + ",q");
                }
            }
        }
    }

    @Test
    void aPluginErrorReachesTheClientWithItsSqlStateAndTheSessionGoesOn() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT neurondb.echo('fail')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("22023");
                        assertThat(e.getMessage()).contains("echo was asked to fail");
                    });
            try (ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
    }

    @Test
    void functionsOfAPluginThatFailedAreNotAnswered() throws Exception {
        // Without its plugin the call goes to PostgreSQL, which has no such function.
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT neurondb.broken()"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isIn("3F000", "42883"));
        }
    }

    @Test
    void pluginMetersLiveInTheHostRegistry() throws Exception {
        // An exporter added after the plugin registered its meter (as the metrics plugin's
        // registry is) still sees that meter and what it counts from then on.
        SimpleMeterRegistry exporter = new SimpleMeterRegistry();
        ((CompositeMeterRegistry) proxy.proxy().meters()).add(exporter);
        try {
            try (Connection c = proxy.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT neurondb.echo()")) {
                assertThat(rs.next()).isTrue();
            }
            assertThat(exporter.get("neurondb_test_echo_calls").counter().count()).isEqualTo(1.0);
        } finally {
            ((CompositeMeterRegistry) proxy.proxy().meters()).remove(exporter);
        }
    }

    @Test
    void servicesAreStoppedWhenTheProxyCloses() throws Exception {
        Path dir = Files.createDirectories(work.resolve("plugins-stop"));
        Files.copy(work.resolve("echo.jar"), dir.resolve("echo.jar"));
        Path flag = work.resolve("echo-stopped-2");
        System.setProperty("neurondb.test.echo.stopped", flag.toString());
        try {
            ProxyUnderTest.start(TestPostgres.shared().port(), "", List.of(), dir).close();
            assertThat(flag).hasContent("stopped");
        } finally {
            System.setProperty("neurondb.test.echo.stopped", stopped.toString());
        }
    }
}
