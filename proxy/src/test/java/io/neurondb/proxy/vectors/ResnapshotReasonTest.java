package io.neurondb.proxy.vectors;

import io.neurondb.proxy.replication.ReplicationConnection.SystemIdentity;
import io.neurondb.proxy.replication.ReplicationPreflight.SlotState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** When the indexes cannot continue from the slot and must be rebuilt from a fresh snapshot, and why. */
class ResnapshotReasonTest {

    private static final SystemIdentity KNOWN = new SystemIdentity("7300000000000000001", 1, 0);
    private static final SlotState SLOT = new SlotState(true, "reserved", 0x1000);

    @Test
    void theSameClusterAheadOfTheIndexesWithItsSlotContinues() {
        assertThat(IndexSync.resnapshotReason(KNOWN, new SystemIdentity("7300000000000000001", 1, 0x9000), SLOT, 0x5000)).isNull();
        assertThat(IndexSync.resnapshotReason(KNOWN, new SystemIdentity("7300000000000000001", 1, 0x5000), SLOT, 0x5000)).isNull();
    }

    @Test
    void anotherSystemIdentifier() {
        assertThat(IndexSync.resnapshotReason(KNOWN, new SystemIdentity("7300000000000000002", 1, 0x9000), SLOT, 0x5000))
                .contains("system identifier changed from 7300000000000000001 to 7300000000000000002");
    }

    @Test
    void anotherTimeline() {
        assertThat(IndexSync.resnapshotReason(KNOWN, new SystemIdentity("7300000000000000001", 2, 0x9000), SLOT, 0x5000))
                .contains("timeline changed from 1 to 2");
    }

    @Test
    void aServerWhoseWalEndsBeforeWhatTheIndexesHoldWasRestored() {
        assertThat(IndexSync.resnapshotReason(KNOWN, new SystemIdentity("7300000000000000001", 1, 0x4FFF), SLOT, 0x5000))
                .contains("WAL ends at 0/4FFF").contains("restored");
    }

    @Test
    void aSlotThatIsGoneOrLost() {
        SystemIdentity now = new SystemIdentity("7300000000000000001", 1, 0x9000);
        assertThat(IndexSync.resnapshotReason(KNOWN, now, SlotState.ABSENT, 0x5000)).contains("slot is gone");
        assertThat(IndexSync.resnapshotReason(KNOWN, now, new SlotState(true, "lost", 0x1000), 0x5000)).contains("wal_status lost");
        assertThat(IndexSync.resnapshotReason(KNOWN, now, new SlotState(true, "unreserved", 0x1000), 0x5000)).isNull();
    }
}
