package io.neurondb.proxy.replication;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The walsender's application_name tells this data directory's connections from another proxy's. */
class ReplicationOwnerTest {

    @Test
    void oneIdPerDataDirectoryKeptAcrossRuns(@TempDir Path a, @TempDir Path b) {
        ReplicationOwner first = ReplicationOwner.of(a);
        ReplicationOwner again = ReplicationOwner.of(a);
        ReplicationOwner other = ReplicationOwner.of(b);
        assertThat(first.id()).matches("[0-9a-f]{16}").isEqualTo(again.id()).isNotEqualTo(other.id());
        assertThat(a.resolve("replication").resolve("owner_id")).exists();
        assertThat(first.applicationName()).startsWith(ReplicationOwner.APPLICATION_PREFIX).hasSizeLessThanOrEqualTo(63);
        assertThat(again.owns(first.applicationName())).isTrue();
        assertThat(other.owns(first.applicationName())).isFalse();
        assertThat(first.owns(null)).isFalse();
        assertThat(first.owns("neurondb-replication")).isFalse();
    }
}
