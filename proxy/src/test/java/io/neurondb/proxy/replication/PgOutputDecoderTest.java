package io.neurondb.proxy.replication;

import io.neurondb.proxy.replication.PgOutputMessage.Begin;
import io.neurondb.proxy.replication.PgOutputMessage.Column;
import io.neurondb.proxy.replication.PgOutputMessage.Commit;
import io.neurondb.proxy.replication.PgOutputMessage.Delete;
import io.neurondb.proxy.replication.PgOutputMessage.Insert;
import io.neurondb.proxy.replication.PgOutputMessage.Message;
import io.neurondb.proxy.replication.PgOutputMessage.Origin;
import io.neurondb.proxy.replication.PgOutputMessage.Relation;
import io.neurondb.proxy.replication.PgOutputMessage.StreamAbort;
import io.neurondb.proxy.replication.PgOutputMessage.StreamCommit;
import io.neurondb.proxy.replication.PgOutputMessage.StreamStart;
import io.neurondb.proxy.replication.PgOutputMessage.StreamStop;
import io.neurondb.proxy.replication.PgOutputMessage.Truncate;
import io.neurondb.proxy.replication.PgOutputMessage.Type;
import io.neurondb.proxy.replication.PgOutputMessage.Update;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PgOutputDecoderTest {

    private static final long XID = 0xFFFF_FFF0L; // > Integer.MAX_VALUE: unsigned handling
    private static final long SXID = 777L;

    static byte[] begin() {
        return Bytes.type('B').i64(0x1_0000_2000L).i64(1_000_000L).i32(XID).done();
    }

    static byte[] commit() {
        return Bytes.type('C').b(0).i64(0x1_0000_1FF0L).i64(0x1_0000_2000L).i64(1_000_000L).done();
    }

    static byte[] relation(boolean stream) {
        Bytes b = Bytes.type('R');
        if (stream) {
            b.i32(SXID);
        }
        return b.i32(16384).str("public").str("items").b('d').i16(3)
                .b(1).str("id").i32(23).i32(-1)
                .b(0).str("v").i32(1021).i32(-1)
                .b(0).str("doc").i32(25).i32(-1).done();
    }

    static byte[] insert(boolean stream) {
        Bytes b = Bytes.type('I');
        if (stream) {
            b.i32(SXID);
        }
        return b.i32(16384).b('N').i16(3).t("1").t("{1,2,3}").b('n').done();
    }

    static byte[] updateNoOld(boolean stream) {
        Bytes b = Bytes.type('U');
        if (stream) {
            b.i32(SXID);
        }
        return b.i32(16384).b('N').i16(3).t("1").t("{4,5,6}").b('u').done();
    }

    static byte[] updateKey() {
        return Bytes.type('U').i32(16384).b('K').i16(3).t("1").b('n').b('n')
                .b('N').i16(3).t("2").t("{4,5,6}").b('u').done();
    }

    static byte[] updateOld() {
        return Bytes.type('U').i32(16384).b('O').i16(3).t("1").t("{1}").t("x")
                .b('N').i16(3).t("1").t("{2}").t("x").done();
    }

    static byte[] deleteKey(boolean stream) {
        Bytes b = Bytes.type('D');
        if (stream) {
            b.i32(SXID);
        }
        return b.i32(16384).b('K').i16(3).t("2").b('n').b('n').done();
    }

    static byte[] deleteOld() {
        return Bytes.type('D').i32(16384).b('O').i16(1).bin(new byte[]{0, 0, 0, 7}).done();
    }

    static byte[] truncate(boolean stream) {
        Bytes b = Bytes.type('T');
        if (stream) {
            b.i32(SXID);
        }
        return b.i32(2).b(3).i32(16384).i32(0xFFFF_FFFEL).done();
    }

    static byte[] type(boolean stream) {
        Bytes b = Bytes.type('Y');
        if (stream) {
            b.i32(SXID);
        }
        return b.i32(90000).str("public").str("mood").done();
    }

    static byte[] message(boolean stream) {
        Bytes b = Bytes.type('M');
        if (stream) {
            b.i32(SXID);
        }
        return b.b(1).i64(0x5000L).str("neurondb").i32(5).raw("hello".getBytes(StandardCharsets.UTF_8)).done();
    }

    static byte[] origin() {
        return Bytes.type('O').i64(0x42L).str("node_a").done();
    }

    static byte[] streamStart() {
        return Bytes.type('S').i32(SXID).b(1).done();
    }

    static byte[] streamStop() {
        return Bytes.type('E').done();
    }

    static byte[] streamCommit() {
        return Bytes.type('c').i32(SXID).b(0).i64(0x9000L).i64(0x9100L).i64(-5L).done();
    }

    static byte[] streamAbort() {
        return Bytes.type('A').i32(SXID).i32(SXID + 1).done();
    }

    static byte[] streamAbortV4() {
        return Bytes.type('A').i32(SXID).i32(SXID).i64(0x7777L).i64(123L).done();
    }

    @Test
    void begin_and_commit() {
        Begin b = (Begin) PgOutputDecoder.decode(begin());
        assertThat(b).isEqualTo(new Begin(0x1_0000_2000L, 1_000_000L, XID));
        assertThat(b.commitInstant()).isEqualTo(Instant.parse("2000-01-01T00:00:01Z"));
        assertThat(Lsn.format(b.finalLsn())).isEqualTo("1/2000");

        Commit c = (Commit) PgOutputDecoder.decode(commit());
        assertThat(c).isEqualTo(new Commit(0, 0x1_0000_1FF0L, 0x1_0000_2000L, 1_000_000L));
        assertThat(c.type()).isEqualTo('C');
    }

    @Test
    void origin_message() {
        assertThat(PgOutputDecoder.decode(origin())).isEqualTo(new Origin(0x42L, "node_a"));
    }

    @Test
    void relation_v1_and_v2_streamed() {
        Relation r = (Relation) PgOutputDecoder.decode(relation(false));
        assertThat(r.xid()).isEqualTo(PgOutputMessage.NO_XID);
        assertThat(r.streamed()).isFalse();
        assertThat(r.relationId()).isEqualTo(16384);
        assertThat(r.namespace()).isEqualTo("public");
        assertThat(r.name()).isEqualTo("items");
        assertThat(r.replicaIdentity()).isEqualTo('d');
        assertThat(r.columns()).containsExactly(new Column(1, "id", 23, -1), new Column(0, "v", 1021, -1),
                new Column(0, "doc", 25, -1));
        assertThat(r.columns().get(0).isKey()).isTrue();
        assertThat(r.columns().get(1).isKey()).isFalse();
        assertThat(r.columnIndex("doc")).isEqualTo(2);
        assertThat(r.columnIndex("nope")).isEqualTo(-1);

        Relation s = (Relation) PgOutputDecoder.decode(relation(true), true);
        assertThat(s.xid()).isEqualTo(SXID);
        assertThat(s.streamed()).isTrue();
        assertThat(s.columns()).isEqualTo(r.columns());
    }

    @Test
    void type_v1_and_v2() {
        assertThat(PgOutputDecoder.decode(type(false))).isEqualTo(new Type(0, 90000, "public", "mood"));
        assertThat(PgOutputDecoder.decode(type(true), true)).isEqualTo(new Type(SXID, 90000, "public", "mood"));
    }

    @Test
    void insert_distinguishes_null_from_text() {
        Insert i = (Insert) PgOutputDecoder.decode(insert(false));
        assertThat(i.relationId()).isEqualTo(16384);
        TupleData t = i.newTuple();
        assertThat(t.size()).isEqualTo(3);
        assertThat(t.textOrNull(0)).isEqualTo("1");
        assertThat(t.textOrNull(1)).isEqualTo("{1,2,3}");
        assertThat(t.isNull(2)).isTrue();
        assertThat(t.isUnchangedToast(2)).isFalse();
        assertThat(t.textOrNull(2)).isNull();
        assertThat(t.kind(0)).isEqualTo(TupleData.Kind.TEXT);
        assertThat(t.get(2)).isInstanceOf(TupleData.Null.class);

        Insert s = (Insert) PgOutputDecoder.decode(insert(true), true);
        assertThat(s.xid()).isEqualTo(SXID);
        assertThat(s.newTuple()).isEqualTo(t);
    }

    @Test
    void update_unchanged_toast_is_not_null() {
        Update u = (Update) PgOutputDecoder.decode(updateNoOld(false));
        assertThat(u.oldKey()).isEmpty();
        assertThat(u.oldTuple()).isEmpty();
        assertThat(u.old()).isEmpty();
        TupleData n = u.newTuple();
        assertThat(n.isUnchangedToast(2)).isTrue();
        assertThat(n.isNull(2)).isFalse();
        assertThat(n.hasValue(2)).isFalse();
        assertThat(n.kind(2)).isEqualTo(TupleData.Kind.UNCHANGED_TOAST);
        assertThat(n.kind(2).code()).isEqualTo('u');
        assertThat(n.get(2)).isNotEqualTo(TupleData.Null.INSTANCE);
        assertThatThrownBy(() -> n.textOrNull(2)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("unchanged TOASTed").hasMessageContaining("not NULL");
        // An exhaustive switch forces every caller to decide what 'u' means.
        String what = switch (n.get(2)) {
            case TupleData.Null x -> "null";
            case TupleData.UnchangedToast x -> "keep old";
            case TupleData.Text x -> x.asString();
            case TupleData.Binary x -> "binary";
        };
        assertThat(what).isEqualTo("keep old");

        Update s = (Update) PgOutputDecoder.decode(updateNoOld(true), true);
        assertThat(s.xid()).isEqualTo(SXID);
        assertThat(s.newTuple()).isEqualTo(n);
    }

    @Test
    void update_with_old_key_and_with_old_tuple() {
        Update k = (Update) PgOutputDecoder.decode(updateKey());
        assertThat(k.oldKey()).contains(TupleData.of(TupleData.Text.of("1"), TupleData.Null.INSTANCE, TupleData.Null.INSTANCE));
        assertThat(k.oldTuple()).isEmpty();
        assertThat(k.newTuple().textOrNull(0)).isEqualTo("2");

        Update o = (Update) PgOutputDecoder.decode(updateOld());
        assertThat(o.oldKey()).isEmpty();
        assertThat(o.oldTuple()).map(t -> t.textOrNull(1)).contains("{1}");
        assertThat(o.old()).isEqualTo(o.oldTuple());
        assertThat(o.newTuple().textOrNull(1)).isEqualTo("{2}");
    }

    @Test
    void delete_with_key_and_with_old_tuple_binary() {
        Delete k = (Delete) PgOutputDecoder.decode(deleteKey(false));
        assertThat(k.oldKey()).isPresent();
        assertThat(k.old().textOrNull(0)).isEqualTo("2");
        Delete s = (Delete) PgOutputDecoder.decode(deleteKey(true), true);
        assertThat(s.xid()).isEqualTo(SXID);

        Delete o = (Delete) PgOutputDecoder.decode(deleteOld());
        assertThat(o.oldTuple()).isPresent();
        assertThat(o.old().get(0)).isEqualTo(new TupleData.Binary(new byte[]{0, 0, 0, 7}));
        assertThat(o.old().kind(0)).isEqualTo(TupleData.Kind.BINARY);
        assertThat(o.old().hasValue(0)).isTrue();
        assertThatThrownBy(() -> o.old().textOrNull(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void truncate_v1_and_v2() {
        Truncate t = (Truncate) PgOutputDecoder.decode(truncate(false));
        assertThat(t.relationIds()).containsExactly(16384L, 0xFFFF_FFFEL);
        assertThat(t.cascade()).isTrue();
        assertThat(t.restartIdentity()).isTrue();
        assertThat(t.xid()).isZero();
        Truncate s = (Truncate) PgOutputDecoder.decode(truncate(true), true);
        assertThat(s.xid()).isEqualTo(SXID);
        assertThat(s.relationIds()).isEqualTo(t.relationIds());

        Truncate none = (Truncate) PgOutputDecoder.decode(Bytes.type('T').i32(1).b(0).i32(5).done());
        assertThat(none.cascade()).isFalse();
        assertThat(none.restartIdentity()).isFalse();
    }

    @Test
    void logical_decoding_message_v1_and_v2() {
        Message m = (Message) PgOutputDecoder.decode(message(false));
        assertThat(m.transactional()).isTrue();
        assertThat(m.lsn()).isEqualTo(0x5000L);
        assertThat(m.prefix()).isEqualTo("neurondb");
        assertThat(m.contentAsString()).isEqualTo("hello");
        Message s = (Message) PgOutputDecoder.decode(message(true), true);
        assertThat(s.xid()).isEqualTo(SXID);
        assertThat(s).isEqualTo(new Message(SXID, 1, 0x5000L, "neurondb", "hello".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void stream_messages() {
        assertThat(PgOutputDecoder.decode(streamStart())).isEqualTo(new StreamStart(SXID, true));
        assertThat(PgOutputDecoder.decode(Bytes.type('S').i32(SXID).b(0).done())).isEqualTo(new StreamStart(SXID, false));
        assertThat(PgOutputDecoder.decode(streamStop())).isEqualTo(new StreamStop());
        StreamCommit c = (StreamCommit) PgOutputDecoder.decode(streamCommit());
        assertThat(c).isEqualTo(new StreamCommit(SXID, 0, 0x9000L, 0x9100L, -5L));
        assertThat(c.commitInstant()).isEqualTo(Instant.parse("1999-12-31T23:59:59.999995Z"));
        StreamAbort a = (StreamAbort) PgOutputDecoder.decode(streamAbort());
        assertThat(a).isEqualTo(new StreamAbort(SXID, SXID + 1));
        assertThat(a.wholeTransaction()).isFalse();
        assertThat(a.abortLsn()).isEqualTo(Lsn.INVALID);
        StreamAbort v4 = (StreamAbort) PgOutputDecoder.decode(streamAbortV4());
        assertThat(v4).isEqualTo(new StreamAbort(SXID, SXID, 0x7777L, 123L));
        assertThat(v4.wholeTransaction()).isTrue();
    }

    @Test
    void stateful_decoder_tracks_stream_blocks() {
        PgOutputDecoder d = new PgOutputDecoder();
        assertThat(d.next(begin())).isInstanceOf(Begin.class);
        assertThat(((Insert) d.next(insert(false))).xid()).isZero();
        assertThat(d.next(commit())).isInstanceOf(Commit.class);
        assertThat(d.next(streamStart())).isInstanceOf(StreamStart.class);
        assertThat(d.inStream()).isTrue();
        assertThat(((Relation) d.next(relation(true))).xid()).isEqualTo(SXID);
        assertThat(((Insert) d.next(insert(true))).xid()).isEqualTo(SXID);
        assertThat(((Update) d.next(updateNoOld(true))).xid()).isEqualTo(SXID);
        assertThat(((Delete) d.next(deleteKey(true))).xid()).isEqualTo(SXID);
        assertThat(((Truncate) d.next(truncate(true))).xid()).isEqualTo(SXID);
        assertThatThrownBy(() -> d.next(streamStart())).isInstanceOf(PgOutputException.class);
        assertThatThrownBy(() -> d.next(streamCommit())).isInstanceOf(PgOutputException.class);
        assertThat(d.next(streamStop())).isInstanceOf(StreamStop.class);
        assertThat(d.inStream()).isFalse();
        assertThatThrownBy(() -> d.next(streamStop())).isInstanceOf(PgOutputException.class);
        assertThat(d.next(streamAbort())).isInstanceOf(StreamAbort.class);
        assertThat(d.next(streamCommit())).isInstanceOf(StreamCommit.class);
        assertThat(((Insert) d.next(ByteBuffer.wrap(insert(false)))).xid()).isZero();
    }

    @Test
    void decode_respects_buffer_position_and_limit_and_leaves_it_unchanged() {
        byte[] msg = insert(false);
        byte[] padded = new byte[msg.length + 10];
        System.arraycopy(msg, 0, padded, 5, msg.length);
        ByteBuffer buf = ByteBuffer.wrap(padded, 5, msg.length);
        assertThat(PgOutputDecoder.decode(buf, false)).isEqualTo(PgOutputDecoder.decode(msg));
        assertThat(buf.position()).isEqualTo(5);
        assertThat(buf.limit()).isEqualTo(5 + msg.length);
    }

    static Stream<byte[]> allMessages() {
        return Stream.of(begin(), commit(), origin(), relation(false), type(false), insert(false),
                updateNoOld(false), updateKey(), updateOld(), deleteKey(false), deleteOld(), truncate(false),
                message(false), streamStart(), streamCommit(), streamAbort());
    }

    static Stream<byte[]> streamedMessages() {
        return Stream.of(relation(true), type(true), insert(true), updateNoOld(true), deleteKey(true),
                truncate(true), message(true));
    }

    /** Every proper prefix of every message is rejected with a PgOutputException, never an index exception. */
    @ParameterizedTest
    @MethodSource("allMessages")
    void every_truncation_throws_pgoutput_exception(byte[] msg) {
        assertTruncationsRejected(msg, false);
    }

    @ParameterizedTest
    @MethodSource("streamedMessages")
    void every_truncation_of_streamed_messages_throws(byte[] msg) {
        assertTruncationsRejected(msg, true);
    }

    private static void assertTruncationsRejected(byte[] msg, boolean inStream) {
        PgOutputDecoder.decode(msg, inStream); // the whole message is fine
        for (int len = 0; len < msg.length; len++) {
            byte[] cut = java.util.Arrays.copyOf(msg, len);
            int l = len;
            assertThatThrownBy(() -> PgOutputDecoder.decode(cut, inStream))
                    .as("prefix of %d of %d bytes", l, msg.length)
                    .isExactlyInstanceOf(PgOutputException.class)
                    .hasMessageContaining("offset");
        }
    }

    @ParameterizedTest
    @MethodSource("allMessages")
    void trailing_bytes_are_rejected(byte[] msg) {
        byte[] longer = java.util.Arrays.copyOf(msg, msg.length + 1);
        // (a StreamAbort with extra bytes is read as the v4 form, so it fails as truncated instead)
        assertThatThrownBy(() -> PgOutputDecoder.decode(longer))
                .isInstanceOf(PgOutputException.class)
                .hasMessageContaining(msg[0] == 'A' ? "truncated" : "trailing");
    }

    @Test
    void streamed_message_decoded_as_unstreamed_is_rejected_or_misread_but_never_crashes() {
        // Without the xid flag the decoder reads the xid as the relation OID; lengths stay bounded.
        for (byte[] m : streamedMessages().toList()) {
            try {
                PgOutputDecoder.decode(m, false);
            } catch (PgOutputException expected) {
                assertThat(expected.getMessage()).contains("offset");
            }
        }
    }

    @Test
    void unknown_type_is_rejected_with_type_and_offset() {
        assertThatThrownBy(() -> PgOutputDecoder.decode(new byte[]{'Z', 1, 2}))
                .isInstanceOf(PgOutputException.class)
                .hasMessageContaining("unknown message type 'Z' (0x5a)")
                .hasMessageContaining("offset 0");
        assertThatThrownBy(() -> PgOutputDecoder.decode(new byte[]{(byte) 0xFF}))
                .isInstanceOf(PgOutputException.class)
                .hasMessageContaining("0xff");
        assertThatThrownBy(() -> PgOutputDecoder.decode(new byte[]{'P'}))
                .isInstanceOf(PgOutputException.class)
                .hasMessageContaining("two-phase");
        assertThatThrownBy(() -> PgOutputDecoder.decode(new byte[0]))
                .isInstanceOf(PgOutputException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void bad_lengths_and_kinds_are_rejected() {
        // negative text length
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('I').i32(1).b('N').i16(1).b('t').i32(-1).done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("negative length");
        // huge text length
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('I').i32(1).b('N').i16(1).b('t').i32(Integer.MAX_VALUE).done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("truncated");
        // negative column count
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('I').i32(1).b('N').i16(-1).done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("out of range");
        // column count larger than the message
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('I').i32(1).b('N').i16(1000).b('n').done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("truncated");
        // unknown tuple kind
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('I').i32(1).b('N').i16(1).b('x').done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("unknown tuple column kind 'x'")
                .hasMessageContaining("offset 9");
        // bad markers
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('I').i32(1).b('K').i16(0).done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("'N'");
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('U').i32(1).b('X').i16(0).done()))
                .isInstanceOf(PgOutputException.class);
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('U').i32(1).b('K').i16(0).b('K').i16(0).done()))
                .isInstanceOf(PgOutputException.class);
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('D').i32(1).b('N').i16(0).done()))
                .isInstanceOf(PgOutputException.class);
        // truncate relation count too big / negative
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('T').i32(Integer.MAX_VALUE).b(0).done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("relation count");
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('T').i32(-3).b(0).done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("relation count");
        // message content length negative
        assertThatThrownBy(() -> PgOutputDecoder.decode(Bytes.type('M').b(0).i64(1).str("p").i32(-2).done()))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("negative length");
    }

    @Test
    void random_garbage_never_escapes_as_another_exception() {
        java.util.Random rnd = new java.util.Random(42);
        byte[] types = "BCORYIUDTMSEcA".getBytes(StandardCharsets.US_ASCII);
        List<Throwable> unexpected = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            byte[] m = new byte[rnd.nextInt(40)];
            rnd.nextBytes(m);
            if (m.length > 0) {
                m[0] = types[rnd.nextInt(types.length)];
            }
            try {
                PgOutputDecoder.decode(m, rnd.nextBoolean());
            } catch (PgOutputException ok) {
                // expected
            } catch (RuntimeException e) {
                unexpected.add(e);
            }
        }
        assertThat(unexpected).isEmpty();
    }

    @Test
    void time_and_lsn_helpers() {
        assertThat(PgTime.toInstant(0)).isEqualTo(Instant.parse("2000-01-01T00:00:00Z"));
        assertThat(PgTime.toInstant(Long.MAX_VALUE)).isEqualTo(Instant.MAX);
        assertThat(PgTime.toInstant(Long.MIN_VALUE)).isEqualTo(Instant.MIN);
        Instant t = Instant.parse("2026-11-24T06:43:51.123456Z");
        assertThat(PgTime.toInstant(PgTime.fromInstant(t))).isEqualTo(t);
        assertThat(Lsn.format(0x16B3748L)).isEqualTo("0/16B3748");
        assertThat(Lsn.parse("0/16B3748")).isEqualTo(0x16B3748L);
        assertThat(Lsn.parse("AB/CDEF0123")).isEqualTo(0xAB_CDEF0123L);
        assertThat(Lsn.format(Lsn.parse("FFFFFFFF/FFFFFFFF"))).isEqualTo("FFFFFFFF/FFFFFFFF");
        assertThatThrownBy(() -> Lsn.parse("nope")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Lsn.parse("1/")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void record_invariants() {
        TupleData t = TupleData.of(TupleData.Null.INSTANCE);
        assertThatThrownBy(() -> new Update(0, 1, Optional.of(t), Optional.of(t), t))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Delete(0, 1, Optional.empty(), Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
