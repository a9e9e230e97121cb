package io.neurondb.tests.metrics;

import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.config.ProxyConfig;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped plugins.metrics section, and a bad one. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MetricsConfigTest {

    @TempDir
    Path home;

    @Test
    void shippedSectionHoldsTheDocumentedDefaults() {
        Path shipped = DashboardMetricsTest.dashboardFile().getParent().getParent().resolve("neurondb.yaml");
        assertThat(shipped).exists();
        ProxyConfig c = new ConfigLoader(Map.of(), home).load(shipped);
        assertThat(c.pluginSettings("metrics")).isEqualTo(Map.of("bind_address", "127.0.0.1", "jvm_metrics", true, "ready_timeout_ms", 2000));
    }

    @Test
    void aTakenPortKeepsThePluginOutAndTheProxyServes() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             ProxyUnderTest proxy = ProxyUnderTest.start(TestPostgres.shared().port(), "metrics_port: " + taken.getLocalPort() + "\n",
                     List.of(), PluginJars.directoryWith("metrics"))) {
            assertThat(proxy.proxy().plugins().notStartedPluginIds()).containsExactly("metrics");
            try (var c = proxy.connect()) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }

    @Test
    void anUnknownKeyKeepsThePluginOutAndIsCounted() throws Exception {
        int metricsPort = LocalPostgres.freePort();
        try (ProxyUnderTest proxy = ProxyUnderTest.start(TestPostgres.shared().port(),
                "metrics_port: " + metricsPort + "\nplugins:\n  metrics:\n    bind_adress: 0.0.0.0\n", List.of(),
                PluginJars.directoryWith("metrics"))) {
            assertThat(proxy.proxy().plugins().notStartedPluginIds()).containsExactly("metrics");
            // Nothing exports then, but the host still counts: a registry of our own shows it.
            SimpleMeterRegistry look = new SimpleMeterRegistry();
            ((CompositeMeterRegistry) proxy.proxy().meters()).add(look);
            assertThat(look.get("neurondb.plugin.load.failures").gauge().value()).isEqualTo(1);
            // The proxy serves on; nothing listens on the metrics port.
            try (java.net.Socket s = new java.net.Socket()) {
                assertThat(org.assertj.core.api.Assertions.catchThrowable(
                        () -> s.connect(new java.net.InetSocketAddress("127.0.0.1", metricsPort), 1000))).isNotNull();
            }
            try (var c = proxy.connect()) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }
}
