package io.neurondb.proxy.replication;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Transactions assembled from pgoutput messages, protocol 1 and 2: ordinary ones whole at
 * Commit; streamed ones spooled to disk block by block, applied in parts only at StreamCommit,
 * dropped at StreamAbort, without the changes of aborted subtransactions; relation
 * descriptions of a streamed transaction in force from its commit.
 */
class TransactionAssemblerTest {

    private static final long REL = 16384;

    /** What the sink was handed: "part" or "tx", the transaction's end LSN, and the keys (first column) of its changes. */
    private record Handed(String kind, long endLsn, List<Long> keys, List<Integer> columnCounts) {
    }

    private final List<Handed> handed = new ArrayList<>();
    private final TransactionSink sink = new TransactionSink() {
        @Override
        public void apply(ReplicatedTransaction tx) {
            handed.add(handed("tx", tx));
        }

        @Override
        public void applyPart(ReplicatedTransaction part) {
            handed.add(handed("part", part));
        }

        @Override
        public void caughtUp(long lsn) {
        }

        @Override
        public long between() {
            return 0;
        }
    };

    private Path dir;
    private StreamSpool spool;
    private TransactionAssembler assembler;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("neurondb-spool-test-").resolve("slot.spool");
        spool = new StreamSpool(dir);
        assembler = new TransactionAssembler(sink, spool, "test");
    }

    @AfterEach
    void tearDown() throws IOException {
        spool.reset();
        try (var files = Files.walk(dir.getParent())) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static Handed handed(String kind, ReplicatedTransaction tx) {
        List<Long> keys = new ArrayList<>();
        List<Integer> cols = new ArrayList<>();
        for (ReplicatedTransaction.Change c : tx.changes()) {
            switch (c) {
                case ReplicatedTransaction.Upsert u -> {
                    keys.add(Long.parseLong(u.row().textOrNull(0)));
                    cols.add(u.relation().columns().size());
                }
                case ReplicatedTransaction.Removal r -> {
                    keys.add(-Long.parseLong(r.oldKey().textOrNull(0)));
                    cols.add(r.relation().columns().size());
                }
                case ReplicatedTransaction.Truncation t -> keys.add(0L);
            }
        }
        return new Handed(kind, tx.endLsn(), keys, cols);
    }

    // ------------------------------------------------------------------ messages

    private long feed(byte[] message) throws IOException {
        return assembler.accept(ByteBuffer.wrap(message));
    }

    private static byte[] relation(Long xid, String... columns) {
        Bytes b = Bytes.type('R');
        if (xid != null) {
            b.i32(xid);
        }
        b.i32(REL).str("public").str("t").b('d').i16(columns.length);
        for (String c : columns) {
            b.b(c.equals("id") ? 1 : 0).str(c).i32(c.equals("id") ? 20 : 25).i32(-1);
        }
        return b.done();
    }

    private static byte[] insert(Long xid, long key, int columns) {
        Bytes b = Bytes.type('I');
        if (xid != null) {
            b.i32(xid);
        }
        b.i32(REL).b('N').i16(columns).t(Long.toString(key));
        for (int i = 1; i < columns; i++) {
            b.t("{1,2}");
        }
        return b.done();
    }

    private static byte[] delete(Long xid, long key) {
        Bytes b = Bytes.type('D');
        if (xid != null) {
            b.i32(xid);
        }
        return b.i32(REL).b('K').i16(2).t(Long.toString(key)).b('n').done();
    }

    private static byte[] begin(long xid, long finalLsn) {
        return Bytes.type('B').i64(finalLsn).i64(1_000L).i32(xid).done();
    }

    private static byte[] commit(long commitLsn, long endLsn) {
        return Bytes.type('C').b(0).i64(commitLsn).i64(endLsn).i64(1_000L).done();
    }

    private static byte[] streamStart(long xid, boolean first) {
        return Bytes.type('S').i32(xid).b(first ? 1 : 0).done();
    }

    private static byte[] streamStop() {
        return Bytes.type('E').done();
    }

    private static byte[] streamCommit(long xid, long commitLsn, long endLsn) {
        return Bytes.type('c').i32(xid).b(0).i64(commitLsn).i64(endLsn).i64(2_000L).done();
    }

    private static byte[] streamAbort(long xid, long subXid) {
        return Bytes.type('A').i32(xid).i32(subXid).done();
    }

    private long spooledFiles() throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var files = Files.list(dir)) {
            return files.count();
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    void ordinaryTransactionIsHandedOverWholeAtCommit() throws IOException {
        assertThat(assembler.idle()).isTrue();
        assertThat(feed(begin(7, 0x200))).isZero();
        assertThat(assembler.idle()).isFalse();
        feed(relation(null, "id", "v"));
        feed(insert(null, 1, 2));
        feed(delete(null, 2));
        assertThat(handed).isEmpty();
        assertThat(feed(commit(0x1F0, 0x200))).isEqualTo(0x200);
        assertThat(assembler.idle()).isTrue();
        assertThat(handed).containsExactly(new Handed("tx", 0x200, List.of(1L, -2L), List.of(2, 2)));
        assertThat(spooledFiles()).isZero();
    }

    @Test
    void streamedTransactionIsSpooledAndAppliedInPartsOnlyAtItsCommit() throws IOException {
        feed(relation(null, "id", "v")); // described before, outside any transaction
        long xid = 900;
        feed(streamStart(xid, true));
        assertThat(assembler.idle()).isFalse();
        feed(relation(xid, "id", "v"));
        for (long k = 1; k <= 1500; k++) {
            feed(insert(xid, k, 2));
        }
        feed(streamStop());
        assertThat(assembler.idle()).isTrue();
        assertThat(spooledFiles()).isEqualTo(1);
        assertThat(Files.size(dir.resolve(xid + ".spool"))).isGreaterThan(1500 * 20L);

        // An ordinary transaction committing between the blocks is applied at once.
        feed(begin(901, 0x500));
        feed(insert(null, 50_000, 2));
        assertThat(feed(commit(0x4F0, 0x500))).isEqualTo(0x500);
        assertThat(handed).containsExactly(new Handed("tx", 0x500, List.of(50_000L), List.of(2)));

        feed(streamStart(xid, false));
        for (long k = 1501; k <= 2500; k++) {
            feed(insert(xid, k, 2));
        }
        feed(delete(xid, 3));
        feed(streamStop());
        assertThat(handed).hasSize(1); // still nothing of the streamed one

        assertThat(feed(streamCommit(xid, 0x8F0, 0x900))).isEqualTo(0x900);
        List<Handed> streamed = handed.subList(1, handed.size());
        assertThat(streamed).extracting(Handed::kind).containsExactly("part", "part", "tx");
        assertThat(streamed).extracting(Handed::endLsn).containsOnly(0x900L);
        assertThat(streamed.get(0).keys()).hasSize(TransactionAssembler.PART_SIZE);
        List<Long> all = new ArrayList<>();
        streamed.forEach(h -> all.addAll(h.keys()));
        List<Long> expected = new ArrayList<>(LongStream.rangeClosed(1, 2500).boxed().toList());
        expected.add(-3L);
        assertThat(all).isEqualTo(expected); // in the order they were made
        assertThat(spooledFiles()).isZero();
        assertThat(spool.openTransactions()).isZero();
    }

    @Test
    void streamAbortDropsTheTransactionAndItsFile() throws IOException {
        feed(streamStart(910, true));
        feed(relation(910L, "id", "v"));
        feed(insert(910L, 1, 2));
        feed(streamStop());
        assertThat(spooledFiles()).isEqualTo(1);
        assertThat(feed(streamAbort(910, 910))).isZero();
        assertThat(spooledFiles()).isZero();
        assertThat(spool.openTransactions()).isZero();
        assertThat(handed).isEmpty();
        // Its commit can no longer come; a stray one is refused rather than applied empty.
        assertThatThrownBy(() -> feed(streamCommit(910, 0x10, 0x20))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("910");
    }

    @Test
    void subtransactionAbortSkipsOnlyThatSubtransactionsChanges() throws IOException {
        long top = 920;
        feed(streamStart(top, true));
        feed(relation(top, "id", "v"));
        feed(insert(top, 1, 2));
        feed(insert(921L, 2, 2));   // SAVEPOINT a
        feed(insert(922L, 3, 2));   // SAVEPOINT b inside a
        feed(streamStop());
        feed(streamAbort(top, 922)); // ROLLBACK TO b
        feed(streamStart(top, false));
        feed(insert(923L, 4, 2));   // SAVEPOINT c, released later
        feed(delete(top, 1));
        feed(streamStop());
        feed(streamAbort(top, 925)); // a subtransaction none of whose changes were streamed: nothing to skip
        feed(streamCommit(top, 0xA0, 0xB0));
        assertThat(handed).containsExactly(new Handed("tx", 0xB0, List.of(1L, 2L, 4L, -1L), List.of(2, 2, 2, 2)));
    }

    @Test
    void relationsDescribedInAStreamedTransactionTakeEffectAtItsCommit() throws IOException {
        feed(relation(null, "id", "v"));
        feed(streamStart(930, true));
        feed(relation(930L, "id", "v", "extra")); // ALTER TABLE … ADD COLUMN inside the streamed transaction
        feed(insert(930L, 1, 3));
        feed(streamStop());
        // Decoded meanwhile: another transaction still sees the table as it was.
        feed(begin(931, 0x300));
        feed(insert(null, 2, 2));
        feed(commit(0x2F0, 0x300));
        feed(streamCommit(930, 0x3F0, 0x400));
        // Later ordinary transactions see the committed description.
        feed(begin(932, 0x500));
        feed(insert(null, 3, 3));
        feed(commit(0x4F0, 0x500));
        assertThat(handed).containsExactly(
                new Handed("tx", 0x300, List.of(2L), List.of(2)),
                new Handed("tx", 0x400, List.of(1L), List.of(3)),
                new Handed("tx", 0x500, List.of(3L), List.of(3)));
    }

    @Test
    void aFirstSegmentStartsTheTransactionAfreshAndALaterOneNeedsAFirst() throws IOException {
        feed(streamStart(940, true));
        feed(relation(940L, "id", "v"));
        feed(insert(940L, 1, 2));
        feed(streamStop());
        // After a reconnect the server sends the open transaction again from its start.
        feed(streamStart(940, true));
        feed(relation(940L, "id", "v"));
        feed(insert(940L, 1, 2));
        feed(insert(940L, 2, 2));
        feed(streamStop());
        feed(streamCommit(940, 0x10, 0x20));
        assertThat(handed).containsExactly(new Handed("tx", 0x20, List.of(1L, 2L), List.of(2, 2)));

        assertThatThrownBy(() -> feed(streamStart(941, false))).isInstanceOf(PgOutputException.class)
                .hasMessageContaining("941");
    }

    @Test
    void resetForgetsOpenTransactionsAndDeletesTheirFiles() throws IOException {
        feed(streamStart(950, true));
        feed(relation(950L, "id", "v"));
        feed(insert(950L, 1, 2));
        feed(streamStop());
        feed(streamStart(951, true));
        feed(relation(951L, "id", "v"));
        feed(insert(951L, 2, 2));
        feed(streamStop());
        assertThat(spool.openTransactions()).isEqualTo(2);
        assertThat(spooledFiles()).isEqualTo(2);
        spool.reset();
        assertThat(spool.openTransactions()).isZero();
        assertThat(spooledFiles()).isZero();
    }

    @Test
    void aChangeOfAnUnknownRelationIsAnError() {
        assertThatThrownBy(() -> {
            feed(begin(960, 0x10));
            feed(insert(null, 1, 2));
        }).isInstanceOf(IllegalStateException.class).hasMessageContaining("before its Relation message");
    }
}
