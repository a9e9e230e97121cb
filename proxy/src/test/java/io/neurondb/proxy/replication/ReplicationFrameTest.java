package io.neurondb.proxy.replication;

import io.neurondb.proxy.replication.ReplicationFrame.PrimaryKeepalive;
import io.neurondb.proxy.replication.ReplicationFrame.StandbyStatusUpdate;
import io.neurondb.proxy.replication.ReplicationFrame.XLogData;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicationFrameTest {

    private static byte[] xlog() {
        byte[] payload = PgOutputDecoderTest.begin();
        return Bytes.type('w').i64(0x100L).i64(0x200L).i64(99L).raw(payload).done();
    }

    private static byte[] keepalive(int reply) {
        return Bytes.type('k').i64(0x300L).i64(55L).b(reply).done();
    }

    @Test
    void xlogdata_carries_one_pgoutput_message() {
        XLogData x = (XLogData) ReplicationFrame.decode(xlog());
        assertThat(x.walStart()).isEqualTo(0x100L);
        assertThat(x.walEnd()).isEqualTo(0x200L);
        assertThat(x.sendTime()).isEqualTo(99L);
        assertThat(x.data()).isEqualTo(PgOutputDecoderTest.begin());
        assertThat(x.decode(false)).isInstanceOf(PgOutputMessage.Begin.class);
        XLogData empty = (XLogData) ReplicationFrame.decode(Bytes.type('w').i64(1).i64(2).i64(3).done());
        assertThat(empty.data()).isEmpty();
    }

    @Test
    void keepalive() {
        assertThat(ReplicationFrame.decode(keepalive(1))).isEqualTo(new PrimaryKeepalive(0x300L, 55L, true));
        assertThat(ReplicationFrame.decode(keepalive(0))).isEqualTo(new PrimaryKeepalive(0x300L, 55L, false));
    }

    @Test
    void standby_status_update_encodes_34_bytes_and_round_trips() {
        byte[] enc = ReplicationFrame.standbyStatusUpdate(0x1_0000_0010L, 0x20L, 0x30L, 12345L, true);
        assertThat(enc).hasSize(34);
        assertThat(enc).isEqualTo(Bytes.type('r').i64(0x1_0000_0010L).i64(0x20L).i64(0x30L).i64(12345L).b(1).done());
        assertThat(ReplicationFrame.decode(enc))
                .isEqualTo(new StandbyStatusUpdate(0x1_0000_0010L, 0x20L, 0x30L, 12345L, true));
        assertThat(new StandbyStatusUpdate(1, 2, 3, 4, false).encode()[33]).isZero();
    }

    @Test
    void truncated_frames_and_unknown_types_throw() {
        for (byte[] f : new byte[][]{keepalive(1), Bytes.type('w').i64(1).i64(2).i64(3).done(),
                ReplicationFrame.standbyStatusUpdate(1, 2, 3, 4, false)}) {
            for (int len = 0; len < f.length; len++) {
                byte[] cut = Arrays.copyOf(f, len);
                assertThatThrownBy(() -> ReplicationFrame.decode(cut)).isExactlyInstanceOf(PgOutputException.class)
                        .hasMessageContaining("offset");
            }
        }
        assertThatThrownBy(() -> ReplicationFrame.decode(Arrays.copyOf(keepalive(0), 19)))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("trailing");
        assertThatThrownBy(() -> ReplicationFrame.decode(new byte[]{'h', 0}))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("unknown frame type 'h'");
    }
}
