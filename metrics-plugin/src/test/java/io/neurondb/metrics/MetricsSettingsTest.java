package io.neurondb.metrics;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsSettingsTest {

    @Test
    void defaultsWhenTheSectionIsEmpty() {
        MetricsSettings s = MetricsSettings.parse(Map.of(), Map.of());
        assertThat(s.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(s.jvmMetrics()).isTrue();
        assertThat(s.readyTimeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void readsEveryKey() {
        MetricsSettings s = MetricsSettings.parse(Map.of("bind_address", "0.0.0.0", "jvm_metrics", false, "ready_timeout_ms", 500), Map.of());
        assertThat(s).isEqualTo(new MetricsSettings("0.0.0.0", false, Duration.ofMillis(500)));
    }

    @Test
    void environmentOverridesTheBindAddress() {
        MetricsSettings s = MetricsSettings.parse(Map.of("bind_address", "127.0.0.1"), Map.of("NEURONDB_METRICS_BIND_ADDRESS", "::"));
        assertThat(s.bindAddress()).isEqualTo("::");
    }

    @Test
    void unknownKeyIsNamed() {
        assertThatThrownBy(() -> MetricsSettings.parse(Map.of("bind_adress", "x"), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plugins.metrics.bind_adress");
    }

    @Test
    void badValuesSayWhatToFix() {
        assertThatThrownBy(() -> MetricsSettings.parse(Map.of("jvm_metrics", "yes"), Map.of()))
                .hasMessageContaining("jvm_metrics must be true or false");
        assertThatThrownBy(() -> MetricsSettings.parse(Map.of("ready_timeout_ms", 0), Map.of()))
                .hasMessageContaining("between 1 and 60000");
        assertThatThrownBy(() -> MetricsSettings.parse(Map.of("ready_timeout_ms", 1.5), Map.of()))
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> MetricsSettings.parse(Map.of("bind_address", " "), Map.of()))
                .hasMessageContaining("must not be empty");
    }
}
