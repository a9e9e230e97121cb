package io.neurondb.proxy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    @TempDir
    Path home;

    @Test
    void shippedConfigFileLoadsWithDocumentedDefaults() {
        Path shipped = Path.of(System.getProperty("user.dir")).resolve("../conf/neurondb.yaml").normalize();
        ProxyConfig c = new ConfigLoader(Map.of(), home).load(shipped);
        assertThat(c.listen()).isEqualTo(new HostAndPort("127.0.0.1", 6432));
        assertThat(c.upstream()).isNull();
        assertThat(c.embeddedUpstream()).isTrue();
        assertThat(c.metricsPort()).isEqualTo(9187);
        assertThat(c.dataDir()).isEqualTo(home.resolve("data"));
        assertThat(c.pluginsDir()).isEqualTo(home.resolve("plugins.d"));
        assertThat(c.clientLimits().maxMessageBytes()).isEqualTo(64 << 20);
        assertThat(c.clientLimits().maxCopyDataBytes()).isEqualTo(1 << 30);
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        Path file = home.resolve("c.yaml");
        Files.writeString(file, "listen: 127.0.0.1:7000\nmetrics_port: 9000\n");
        Map<String, String> env = Map.of(
                "NEURONDB_LISTEN", "0.0.0.0:6543",
                "NEURONDB_UPSTREAM", "postgresql://app:s%40cret@db.internal:5433/shop",
                "NEURONDB_METRICS_PORT", "0",
                "NEURONDB_DATA_DIR", "/var/lib/neurondb",
                "NEURONDB_PLUGINS_DIR", "extra-plugins");
        ProxyConfig c = new ConfigLoader(env, home).load(file);
        assertThat(c.listen()).isEqualTo(new HostAndPort("0.0.0.0", 6543));
        assertThat(c.upstream()).isEqualTo(new UpstreamUrl("db.internal", 5433, "shop", "app", "s@cret"));
        assertThat(c.metricsPort()).isZero();
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/neurondb"));
        assertThat(c.pluginsDir()).isEqualTo(home.resolve("extra-plugins"));
    }

    @Test
    void pluginSectionsAreHandedOnAsWritten() {
        ProxyConfig c = new ConfigLoader(Map.of(), home).loadFromString("""
                plugins:
                  slow-query:
                    slow_query_threshold_ms: 250
                    log_raw_text: false
                  metrics:
                """);
        assertThat(c.pluginSettings("slow-query")).containsExactly(Map.entry("slow_query_threshold_ms", 250),
                Map.entry("log_raw_text", false));
        assertThat(c.pluginSettings("metrics")).isEmpty();
        assertThat(c.pluginSettings("backup")).isEmpty();
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), home).loadFromString("plugins:\n  pooling: 3\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("plugins.pooling");
    }

    @Test
    void configPathComesFromEnvironment() throws Exception {
        Path file = home.resolve("custom.yaml");
        Files.writeString(file, "listen: 7001\n");
        ConfigLoader loader = new ConfigLoader(Map.of("NEURONDB_CONFIG", file.toString()), home);
        assertThat(loader.defaultConfigPath()).isEqualTo(file);
        assertThat(loader.load(loader.defaultConfigPath()).listen().port()).isEqualTo(7001);
        ConfigLoader missing = new ConfigLoader(Map.of("NEURONDB_CONFIG", "nope.yaml"), home);
        assertThatThrownBy(() -> missing.load(missing.defaultConfigPath())).hasMessageContaining("does not exist");
    }

    @Test
    void passwordNeverAppearsInTheUpstreamsText() {
        UpstreamUrl u = UpstreamUrl.parse("postgresql://app:topsecret@h:5432/db", "upstream");
        assertThat(u.toString()).doesNotContain("topsecret").contains("app:***@h:5432/db");
    }

    @Test
    void mistakesGetMessagesNamingTheSetting() {
        ConfigLoader l = new ConfigLoader(Map.of(), home);
        assertThatThrownBy(() -> l.loadFromString("lisen: 1\n")).hasMessageContaining("unknown setting 'lisen'");
        assertThatThrownBy(() -> l.loadFromString("limits:\n  max_mesage_bytes: 1\n")).hasMessageContaining("unknown setting 'limits.max_mesage_bytes'");
        assertThatThrownBy(() -> l.loadFromString("listen: localhost:99999\n")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> l.loadFromString("listen: localhost:abc\n")).hasMessageContaining("is not host:port");
        assertThatThrownBy(() -> l.loadFromString("metrics_port: -1\n")).hasMessageContaining("metrics_port");
        assertThatThrownBy(() -> l.loadFromString("upstream: mysql://x@y/z\n")).hasMessageContaining("must start with postgresql://");
        assertThatThrownBy(() -> l.loadFromString("upstream_tls:\n  mode: sometimes\n")).hasMessageContaining("upstream_tls.mode");
        assertThatThrownBy(() -> l.loadFromString("upstream_tls:\n  mode: verify-full\n")).hasMessageContaining("ca_file");
        assertThatThrownBy(() -> l.loadFromString("tls:\n  cert_file: a.pem\n")).hasMessageContaining("must be set together");
        assertThatThrownBy(() -> l.loadFromString("log_level: loud\n")).hasMessageContaining("log_level");
        ConfigLoader bad = new ConfigLoader(Map.of("NEURONDB_METRICS_PORT", "lots"), home);
        assertThatThrownBy(() -> bad.loadFromString("")).hasMessageContaining("NEURONDB_METRICS_PORT: 'lots' is not a whole number");
    }

    @Test
    void brokenYamlIsReportedWithTheFile() throws Exception {
        Path file = home.resolve("broken.yaml");
        Files.writeString(file, "listen: [unclosed\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), home).load(file))
                .isInstanceOf(ConfigException.class).hasMessageContaining("is not valid YAML");
    }
}
