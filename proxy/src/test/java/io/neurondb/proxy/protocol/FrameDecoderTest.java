package io.neurondb.proxy.protocol;

import io.neurondb.proxy.protocol.FrameDecoder.Expect;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrameDecoderTest {

    private static final FrameLimits LIMITS = FrameLimits.frontend(4096, 8192);

    private static Buffer stream() {
        Buffer b = Buffer.buffer();
        b.appendBuffer(MessageWriter.typed(PgProtocol.PARSE, 16).cstring("").cstring("SELECT $1").int16(0).finish());
        b.appendBuffer(MessageWriter.typed(PgProtocol.SYNC, 0).finish());
        b.appendBuffer(MessageWriter.typed(PgProtocol.QUERY, 16).cstring("SELECT 1").finish());
        b.appendBuffer(MessageWriter.typed(PgProtocol.COPY_DATA, 6000).bytes(Buffer.buffer(new byte[6000])).finish());
        return b;
    }

    @Test
    void yieldsTheSameFramesWhateverTheChunking() {
        Buffer all = stream();
        List<Frame> whole = decodeAll(List.of(all));
        assertThat(whole).extracting(Frame::type).containsExactly(PgProtocol.PARSE, PgProtocol.SYNC, PgProtocol.QUERY, PgProtocol.COPY_DATA);
        assertThat(whole.get(3).length()).isEqualTo(6005);

        for (int split = 1; split < all.length(); split += 7) {
            List<Frame> twoChunks = decodeAll(List.of(all.getBuffer(0, split), all.getBuffer(split, all.length())));
            assertThat(twoChunks).hasSize(4);
            for (int i = 0; i < 4; i++) {
                assertThat(twoChunks.get(i).bytes().getBytes()).isEqualTo(whole.get(i).bytes().getBytes());
            }
        }
        List<Buffer> bytewise = new ArrayList<>();
        for (int i = 0; i < all.length(); i++) {
            bytewise.add(all.getBuffer(i, i + 1));
        }
        assertThat(decodeAll(bytewise)).hasSize(4);
    }

    @Test
    void framesReassembleToTheOriginalBytes() {
        Buffer all = stream();
        Buffer rebuilt = Buffer.buffer();
        decodeAll(List.of(all.getBuffer(0, 10), all.getBuffer(10, all.length()))).forEach(f -> rebuilt.appendBuffer(f.bytes()));
        assertThat(rebuilt.getBytes()).isEqualTo(all.getBytes());
    }

    @Test
    void rejectsLengthBelowFour() {
        Buffer bad = Buffer.buffer().appendByte(PgProtocol.QUERY).appendInt(3);
        assertThatThrownBy(() -> decodeAll(List.of(bad)))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("invalid message length 3")
                .extracting(e -> ((ProtocolException) e).sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
    }

    @Test
    void rejectsOversizedMessageFromItsHeaderAlone() {
        Buffer header = Buffer.buffer().appendByte(PgProtocol.QUERY).appendInt(4097);
        assertThatThrownBy(() -> decodeAll(List.of(header)))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("over the limit of 4096")
                .extracting(e -> ((ProtocolException) e).sqlState()).isEqualTo(SqlState.PROGRAM_LIMIT_EXCEEDED);
        // CopyData has its own, larger bound.
        Buffer copy = Buffer.buffer().appendByte(PgProtocol.COPY_DATA).appendInt(8000);
        assertThat(decodeAll(List.of(copy))).isEmpty();
    }

    @Test
    void rejectsUnknownFrontendType() {
        Buffer bad = Buffer.buffer().appendByte((byte) 'z').appendInt(4);
        assertThatThrownBy(() -> decodeAll(List.of(bad)))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("invalid frontend message type 'z'");
    }

    @Test
    void backendLimitsAcceptAnyType() {
        FrameDecoder d = new FrameDecoder(FrameLimits.backend(), Expect.TYPED);
        List<Frame> out = new ArrayList<>();
        d.feed(Buffer.buffer().appendByte(PgProtocol.NOTIFICATION_RESPONSE).appendInt(4), out::add);
        assertThat(out).hasSize(1);
    }

    @Test
    void startupPacketBoundsAreThoseOfPostgres() {
        FrameDecoder d = new FrameDecoder(LIMITS, Expect.STARTUP);
        assertThatThrownBy(() -> d.feed(Buffer.buffer().appendInt(10_001), f -> { }))
                .hasMessageContaining("invalid length of startup packet");
        FrameDecoder d2 = new FrameDecoder(LIMITS, Expect.STARTUP);
        assertThatThrownBy(() -> d2.feed(Buffer.buffer().appendInt(7), f -> { }))
                .hasMessageContaining("invalid length of startup packet");
    }

    @Test
    void switchesFromStartupToTypedInsideOneChunk() {
        Buffer b = Buffer.buffer();
        b.appendBuffer(new StartupPacket.StartupMessage(PgProtocol.PROTOCOL_3_0, java.util.Map.of("user", "u")).encode());
        b.appendBuffer(MessageWriter.typed(PgProtocol.PASSWORD_MESSAGE, 8).cstring("secret").finish());
        FrameDecoder d = new FrameDecoder(LIMITS, Expect.STARTUP);
        List<Frame> out = new ArrayList<>();
        d.feed(b, f -> {
            out.add(f);
            d.expect(Expect.TYPED);
        });
        assertThat(out).extracting(Frame::type).containsExactly(Frame.UNTYPED, PgProtocol.PASSWORD_MESSAGE);
    }

    @Test
    void pauseHoldsFramesUntilResume() {
        FrameDecoder d = new FrameDecoder(LIMITS, Expect.TYPED);
        List<Frame> out = new ArrayList<>();
        d.feed(stream(), f -> {
            out.add(f);
            d.pause();
        });
        assertThat(out).hasSize(1);
        assertThat(d.hasBufferedBytes()).isTrue();
        d.resume(out::add);
        assertThat(out).hasSize(4);
        assertThat(d.hasBufferedBytes()).isFalse();
    }

    private static List<Frame> decodeAll(List<Buffer> chunks) {
        FrameDecoder d = new FrameDecoder(LIMITS, Expect.TYPED);
        List<Frame> out = new ArrayList<>();
        chunks.forEach(c -> d.feed(c, out::add));
        return out;
    }

    /** A pooled server connection changes hands after a ReadyForQuery: the bytes after it, whole or cut, go to the next holder. */
    @Test
    void takeBufferedGivesEverythingPastThePauseWhateverTheChunking() {
        Buffer all = stream();
        for (int split = 1; split < all.length(); split++) {
            FrameDecoder decoder = new FrameDecoder(LIMITS, Expect.TYPED);
            List<Frame> taken = new ArrayList<>();
            java.util.function.Consumer<Frame> sink = f -> {
                taken.add(f);
                if (f.type() == PgProtocol.SYNC) {
                    decoder.pause();
                }
            };
            decoder.feed(all.getBuffer(0, split), sink);
            int received = split;
            if (!decoder.isPaused()) {
                decoder.feed(all.getBuffer(split, all.length()), sink);
                received = all.length();
            }
            assertThat(taken).extracting(Frame::type).containsExactly(PgProtocol.PARSE, PgProtocol.SYNC);
            int used = taken.get(0).length() + taken.get(1).length();
            Buffer rest = decoder.takeBuffered();
            if (received == used) {
                assertThat(rest).as("split %d", split).isNull();
            } else {
                assertThat(rest.getBytes()).as("split %d", split).isEqualTo(all.getBuffer(used, received).getBytes());
            }
            assertThat(decoder.hasBufferedBytes()).isFalse();
        }
    }
}
