package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.Frame;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WriteBatchTest {

    private static final Buffer READ = Buffer.buffer("AAAABBBBBCCCDD");

    @Test
    void adjacentFramesGoOutAsTheBytesTheyArrivedIn() {
        WriteBatch batch = new WriteBatch();
        batch.add(new Frame((byte) 'A', READ, 0, 4));
        batch.add(new Frame((byte) 'B', READ, 4, 9));
        batch.add(new Frame((byte) 'C', READ, 9, 12));
        assertThat(batch.take().toString()).isEqualTo("AAAABBBBBCCC");
        assertThat(batch.isEmpty()).isTrue();
        assertThat(batch.take()).isNull();
    }

    @Test
    void skippedFramesAndOwnMessagesKeepTheOrder() {
        WriteBatch batch = new WriteBatch();
        batch.add(new Frame((byte) 'A', READ, 0, 4));
        batch.add(new Frame((byte) 'C', READ, 9, 12)); // B was held back
        batch.add(Buffer.buffer("xy"));
        batch.add(new Frame((byte) 'D', READ, 12, 14));
        assertThat(batch.take().toString()).isEqualTo("AAAACCCxyDD");
    }

    @Test
    void framesFromDifferentReadsAreJoined() {
        Buffer other = Buffer.buffer("ZZ");
        WriteBatch batch = new WriteBatch();
        batch.add(new Frame((byte) 'D', READ, 12, 14));
        batch.add(new Frame((byte) 'Z', other, 0, 2));
        assertThat(batch.take().toString()).isEqualTo("DDZZ");
        assertThat(READ.toString()).isEqualTo("AAAABBBBBCCCDD");
    }

    @Test
    void aFrameThatIsItsWholeBufferGoesOutAsThatBufferAndTheBatchForgetsIt() {
        Buffer kept = Buffer.buffer("QQQQ"); // a frame kept aside as its own copy
        WriteBatch batch = new WriteBatch();
        batch.add(new Frame((byte) 'Q', kept, 0, 4));
        assertThat(batch.length()).isEqualTo(4);
        assertThat(batch.take()).isSameAs(kept);
        assertThat(batch.isEmpty()).isTrue();
        batch.add(new Frame((byte) 'A', READ, 0, 4));
        assertThat(batch.take().toString()).isEqualTo("AAAA");
    }
}
