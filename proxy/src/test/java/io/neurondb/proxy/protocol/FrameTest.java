package io.neurondb.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class FrameTest {

    /** A Query frame for {@code sql}, preceded in its buffer by {@code before} bytes of another message. */
    private static Frame queryAt(Buffer source, int before) {
        return new Frame(PgProtocol.QUERY, source, before, source.length());
    }

    private static byte[] stream(int before, String sql) {
        Buffer b = Buffer.buffer();
        for (int i = 0; i < before; i++) {
            b.appendByte((byte) ';'); // a decoy: must not be found, it lies before the frame
        }
        b.appendBuffer(MessageWriter.typed(PgProtocol.QUERY, sql.length() + 1).cstring(sql).finish());
        return b.getBytes();
    }

    @Test
    void bodyIndexOfFindsTheFirstOccurrenceWithinTheBodyOnHeapAndDirectBuffers() {
        String sql = "SELECT 1; SELECT 2;";
        byte[] bytes = stream(7, sql);
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        try {
            for (Buffer source : new Buffer[]{Buffer.buffer(bytes), BufferInternal.buffer(direct),
                    Buffer.buffer(bytes).slice(0, bytes.length)}) {
                Frame f = queryAt(source, 7);
                assertThat(f.bodyIndexOf(0, (byte) ';')).as(source.getClass().getSimpleName()).isEqualTo(sql.indexOf(';'));
                assertThat(f.bodyIndexOf(sql.indexOf(';') + 1, (byte) ';')).isEqualTo(sql.lastIndexOf(';'));
                assertThat(f.bodyIndexOf(0, (byte) '#')).isEqualTo(-1);
                assertThat(f.bodyIndexOf(sql.length() + 5, (byte) ';')).isEqualTo(-1);
                // The frame's own header and the terminating zero are not part of the text, but the zero is in the body.
                assertThat(f.bodyIndexOf(0, (byte) 0)).isEqualTo(sql.getBytes(StandardCharsets.UTF_8).length);
            }
        } finally {
            direct.release();
        }
    }

    @Test
    void aCopyKeepsTheMessageAfterThePooledReadIsReleasedAndRecycled() {
        String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = 42";
        byte[] bytes = stream(5, sql);
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        Frame original = queryAt(BufferInternal.buffer(direct), 5);
        Frame copy = original.copy();
        Buffer copiedBytes = original.copyBytes();
        direct.release();
        // The same pooled memory handed out again and overwritten: the copies must not see it.
        ByteBuf reused = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeZero(bytes.length);
        try {
            assertThat(copy.type()).isEqualTo(PgProtocol.QUERY);
            assertThat(copy.start()).isZero();
            assertThat(copy.length()).isEqualTo(bytes.length - 5);
            assertThat(copy.reader().readCString()).isEqualTo(sql);
            assertThat(copiedBytes.getBytes()).isEqualTo(java.util.Arrays.copyOfRange(bytes, 5, bytes.length));
        } finally {
            reused.release();
        }
    }
}
