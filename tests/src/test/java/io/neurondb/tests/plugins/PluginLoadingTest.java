package io.neurondb.tests.plugins;

import io.neurondb.plugin.api.StatementObserver;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A plugin JAR dropped into the plugins folder is loaded at start; a broken one is skipped. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PluginLoadingTest {

    private static final String OBSERVER = """
            package com.example.audit;

            import io.neurondb.plugin.api.StatementEvent;
            import io.neurondb.plugin.api.StatementObserver;
            import org.pf4j.Extension;

            import java.io.IOException;
            import java.io.UncheckedIOException;
            import java.nio.file.Files;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;

            @Extension
            public class AuditObserver implements StatementObserver {
                @Override
                public void onStatement(StatementEvent e) {
                    String line = e.protocol() + "|" + e.route() + "|" + e.sql() + "|" + e.rows() + "|" + e.sqlState() + "|" + e.user() + "\\n";
                    try {
                        Files.writeString(Path.of(System.getProperty("neurondb.test.audit")), line,
                                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    } catch (IOException x) {
                        throw new UncheckedIOException(x);
                    }
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void droppedJarIsPickedUpAndSeesStatements() throws Exception {
        Path pluginsDir = Files.createDirectories(work.resolve("plugins.d"));
        Path jar = PluginJarBuilder.build(work, "audit-observer", Map.of("com.example.audit.AuditObserver", OBSERVER),
                "com.example.audit.AuditObserver");
        Files.copy(jar, pluginsDir.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        // A corrupt JAR beside it must not stop the proxy or the good plugin.
        Files.write(pluginsDir.resolve("broken-plugin.jar"), new byte[]{'P', 'K', 3, 4, 'n', 'o', 'p', 'e'});
        Path audit = work.resolve("audit.log");
        System.setProperty("neurondb.test.audit", audit.toString());

        try (ProxyUnderTest proxy = ProxyUnderTest.start(TestPostgres.shared().port(), "", List.of(), pluginsDir)) {
            assertThat(proxy.proxy().plugins().startedPluginIds()).containsExactly("audit-observer");
            List<StatementObserver> observers = proxy.proxy().plugins().extensions(StatementObserver.class);
            assertThat(observers).hasSize(1);
            assertThat(observers.get(0).getClass().getName()).isEqualTo("com.example.audit.AuditObserver");
            assertThat(observers.get(0).getClass().getClassLoader()).isNotSameAs(StatementObserver.class.getClassLoader());

            try (Connection c = proxy.connect("trust_user", null); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT generate_series(1, 3) AS audited")) {
                    while (rs.next()) {
                        // read all rows
                    }
                }
            }
            String log = awaitContent(audit, "audited");
            assertThat(log).contains("EXTENDED|PASSTHROUGH|SELECT generate_series(1, 3) AS audited|3|null|trust_user");
        }
    }

    private static String awaitContent(Path file, String needle) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (Files.exists(file)) {
                String s = Files.readString(file);
                if (s.contains(needle)) {
                    return s;
                }
            }
            Thread.sleep(50);
        }
        return Files.exists(file) ? Files.readString(file) : "";
    }
}
