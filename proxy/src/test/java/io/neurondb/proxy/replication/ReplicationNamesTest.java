package io.neurondb.proxy.replication;

import io.neurondb.proxy.config.ConfigException;
import io.neurondb.proxy.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicationNamesTest {

    @Test
    void slotNamesAreValidAndDistinctPerDatabase() {
        assertThat(ReplicationNames.slot("default", "shop")).isEqualTo("neurondb_default_shop");
        assertThat(ReplicationNames.publication("default")).isEqualTo("neurondb_default");
        String folded = ReplicationNames.slot("default", "My-Shop");
        assertThat(folded).matches("[a-z0-9_]+").startsWith("neurondb_default_my_shop_").hasSize("neurondb_default_my_shop_".length() + 8);
        assertThat(folded).isNotEqualTo(ReplicationNames.slot("default", "my_shop"));
        assertThat(ReplicationNames.slot("default", "MY-SHOP")).isNotEqualTo(folded);
        String longName = ReplicationNames.slot("a".repeat(32), "d".repeat(63));
        assertThat(longName).matches("[a-z0-9_]+").hasSizeLessThanOrEqualTo(63);
        assertThat(ReplicationNames.slot("a".repeat(32), "d".repeat(62))).isNotEqualTo(longName);
    }

    @Test
    void configReadsInstanceIdAndReplicationSection() {
        ConfigLoader loader = new ConfigLoader(Map.of(), Path.of("/tmp"));
        ReplicationSettings d = loader.loadFromString("upstream: postgresql://u@h:5432/db\n").replication();
        assertThat(d.enabled()).isTrue();
        assertThat(d.instanceId()).isEqualTo("default");
        assertThat(d.checkpointInterval()).isEqualTo(Duration.ofSeconds(60));
        ReplicationSettings s = loader.loadFromString("instance_id: east_1\nreplication:\n  enabled: false\n"
                + "  checkpoint_interval_seconds: 5\n  status_interval_ms: 250\n").replication();
        assertThat(s).isEqualTo(new ReplicationSettings(false, "east_1", Duration.ofSeconds(5), Duration.ofMillis(250)));
        ReplicationSettings env = new ConfigLoader(Map.of("NEURONDB_INSTANCE_ID", "from_env"), Path.of("/tmp"))
                .loadFromString("instance_id: file\n").replication();
        assertThat(env.instanceId()).isEqualTo("from_env");
    }

    @Test
    void badSettingsNameWhatToFix() {
        ConfigLoader loader = new ConfigLoader(Map.of(), Path.of("/tmp"));
        assertThatThrownBy(() -> loader.loadFromString("instance_id: East-1\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("instance_id: 'East-1' must be 1 to 32 lower-case letters, digits or underscores");
        assertThatThrownBy(() -> loader.loadFromString("replication:\n  enable: true\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown setting 'replication.enable'");
        assertThatThrownBy(() -> loader.loadFromString("replication:\n  enabled: maybe\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("replication.enabled: 'maybe' is not true or false");
        assertThatThrownBy(() -> loader.loadFromString("replication:\n  checkpoint_interval_seconds: 0\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("replication.checkpoint_interval_seconds");
    }
}
