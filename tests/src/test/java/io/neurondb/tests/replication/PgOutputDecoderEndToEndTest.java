package io.neurondb.tests.replication;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.replication.Lsn;
import io.neurondb.proxy.replication.PgOutputDecoder;
import io.neurondb.proxy.replication.PgOutputMessage;
import io.neurondb.proxy.replication.PgOutputMessage.Begin;
import io.neurondb.proxy.replication.PgOutputMessage.Commit;
import io.neurondb.proxy.replication.PgOutputMessage.Delete;
import io.neurondb.proxy.replication.PgOutputMessage.Insert;
import io.neurondb.proxy.replication.PgOutputMessage.Relation;
import io.neurondb.proxy.replication.PgOutputMessage.StreamAbort;
import io.neurondb.proxy.replication.PgOutputMessage.StreamCommit;
import io.neurondb.proxy.replication.PgOutputMessage.StreamStart;
import io.neurondb.proxy.replication.PgOutputMessage.StreamStop;
import io.neurondb.proxy.replication.PgOutputMessage.Truncate;
import io.neurondb.proxy.replication.PgOutputMessage.Update;
import io.neurondb.proxy.replication.PgTime;
import io.neurondb.proxy.replication.TupleData;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.postgresql.replication.fluent.logical.ChainedLogicalStreamBuilder;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pgoutput codec against a real PostgreSQL: a logical slot with pgoutput, protocol v1
 * and v2 (streaming of large in-progress transactions), read through pgjdbc's replication API,
 * every message decoded by {@link PgOutputDecoder}.
 */
@Timeout(180)
class PgOutputDecoderEndToEndTest {

    private static final String DB = "repl_codec";
    private static final String PUB = "repl_codec_pub";
    private static final String SLOT_V1 = "repl_codec_v1";
    private static final String SLOT_V2 = "repl_codec_v2";

    private static LocalPostgres pg;

    @BeforeAll
    static void setUp() throws SQLException {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            dropSlots(s);
            s.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + DB);
        }
    }

    @AfterAll
    static void tearDown() throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            dropSlots(s);
            s.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
        }
    }

    private static void dropSlots(Statement s) throws SQLException {
        // pg_drop_replication_slot fails while a walsender still holds the slot; terminate it first.
        s.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                + "WHERE slot_name IN ('" + SLOT_V1 + "','" + SLOT_V2 + "') AND active_pid IS NOT NULL");
        for (int i = 0; i < 50; i++) {
            try (ResultSet rs = s.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE slot_name IN ('"
                    + SLOT_V1 + "','" + SLOT_V2 + "')")) {
                List<String> left = new ArrayList<>();
                while (rs.next()) {
                    left.add(rs.getString(1));
                }
                if (left.isEmpty()) {
                    return;
                }
                try {
                    for (String slot : left) {
                        s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
                    }
                    return;
                } catch (SQLException stillActive) {
                    sleep(100);
                }
            }
        }
    }

    private static Connection db() throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(DB), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
    }

    private static Connection replicationConnection(String options) throws SQLException {
        Properties p = new Properties();
        PGProperty.USER.set(p, TestPostgres.SUPERUSER);
        PGProperty.PASSWORD.set(p, TestPostgres.SUPERUSER_PASSWORD);
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        if (options != null) {
            PGProperty.OPTIONS.set(p, options);
        }
        return DriverManager.getConnection(pg.jdbcUrl(DB), p);
    }

    /** Reads and decodes messages until {@code done} holds for the list so far. */
    private static List<PgOutputMessage> readUntil(PGReplicationStream stream, PgOutputDecoder decoder,
                                                   Predicate<List<PgOutputMessage>> done) throws SQLException {
        List<PgOutputMessage> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!done.test(out)) {
            assertThat(System.nanoTime()).as("timed out; got so far: %s", summary(out)).isLessThan(deadline);
            ByteBuffer buf = stream.readPending();
            if (buf == null) {
                sleep(10);
                continue;
            }
            out.add(decoder.next(buf));
            stream.setAppliedLSN(stream.getLastReceiveLSN());
            stream.setFlushedLSN(stream.getLastReceiveLSN());
        }
        return out;
    }

    private static long count(List<PgOutputMessage> ms, Class<?> type) {
        return ms.stream().filter(type::isInstance).count();
    }

    private static String summary(List<PgOutputMessage> ms) {
        return ms.stream().map(m -> String.valueOf(m.type())).collect(Collectors.joining());
    }

    private static String bigDoc() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 20_000; i++) {
            sb.append(Integer.toHexString(i * 2654435761L > 0 ? (int) (i * 2654435761L) : i)).append(' ');
        }
        return sb.toString();
    }

    @Test
    void protocol_v1_insert_update_toast_key_change_delete_truncate_and_multi_statement_transaction() throws Exception {
        String doc = bigDoc();
        try (Connection c = db(); Statement s = c.createStatement()) {
            s.execute("DROP PUBLICATION IF EXISTS " + PUB);
            s.execute("DROP TABLE IF EXISTS items");
            s.execute("CREATE TABLE items (id int PRIMARY KEY, v real[], doc text)");
            // EXTERNAL: stored out of line uncompressed, so a big doc is always TOASTed.
            s.execute("ALTER TABLE items ALTER COLUMN doc SET STORAGE EXTERNAL");
            s.execute("ALTER TABLE items REPLICA IDENTITY DEFAULT");
            s.execute("CREATE PUBLICATION " + PUB + " FOR TABLE items");
        }
        long relOid;
        try (Connection c = db(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 'items'::regclass::oid")) {
            rs.next();
            relOid = rs.getLong(1);
        }

        try (Connection rc = replicationConnection(null)) {
            PGConnection pgc = rc.unwrap(PGConnection.class);
            var slot = pgc.getReplicationAPI().createReplicationSlot().logical()
                    .withSlotName(SLOT_V1).withOutputPlugin("pgoutput").make();
            LogSequenceNumber start = slot.getConsistentPoint();

            try (Connection c = db(); Statement s = c.createStatement()) {
                try (var ps = c.prepareStatement("INSERT INTO items VALUES (1, '{1,2,3}', ?)")) {
                    ps.setString(1, doc);
                    ps.executeUpdate();                                               // tx 1
                }
                s.execute("UPDATE items SET v = '{4,5,6}' WHERE id = 1");                // tx 2: doc unchanged TOAST
                s.execute("UPDATE items SET id = 2 WHERE id = 1");                       // tx 3: key change
                s.execute("INSERT INTO items VALUES (3, NULL, 'small')");                // tx 4: NULL vector
                s.execute("DELETE FROM items WHERE id = 2");                             // tx 5
                c.setAutoCommit(false);                                                  // tx 6
                s.execute("INSERT INTO items VALUES (10, '{1.5,-2.25}', 'ten')");
                s.execute("INSERT INTO items VALUES (11, '{0}', 'eleven')");
                s.execute("UPDATE items SET v = '{7}' WHERE id = 10");
                s.execute("DELETE FROM items WHERE id = 11");
                c.commit();
                c.setAutoCommit(true);
                s.execute("TRUNCATE items RESTART IDENTITY");                            // tx 7
            }

            PGReplicationStream stream = pgc.getReplicationAPI().replicationStream().logical()
                    .withSlotName(SLOT_V1).withStartPosition(start)
                    .withSlotOption("proto_version", "1")
                    .withSlotOption("publication_names", PUB)
                    .withStatusInterval(1, java.util.concurrent.TimeUnit.SECONDS)
                    .start();
            List<PgOutputMessage> ms = readUntil(stream, new PgOutputDecoder(), l -> count(l, Commit.class) == 7);
            stream.forceUpdateStatus();
            stream.close();

            // pgoutput describes the relation before its first change and again whenever the
            // relation cache is invalidated (TRUNCATE does that; so could autovacuum), so the
            // Relation messages are checked apart from the data messages.
            assertThat(ms.get(1)).isInstanceOf(Relation.class);
            Relation rel = (Relation) ms.get(1);
            assertThat(ms).filteredOn(Relation.class::isInstance)
                    .allSatisfy(r -> assertThat(((Relation) r).columns()).isEqualTo(rel.columns()));
            List<PgOutputMessage> data = ms.stream().filter(m -> !(m instanceof Relation)).toList();
            assertThat(summary(data)).isEqualTo("BIC" + "BUC" + "BUC" + "BIC" + "BDC" + "BIIUDC" + "BTC");
            assertThat(ms).allSatisfy(m -> {
                if (m instanceof PgOutputMessage.Streamable st) {
                    assertThat(st.streamed()).isFalse();
                }
            });

            // Transactions: Begin.finalLsn == Commit.commitLsn, LSNs and xids increasing, sane times.
            List<Begin> begins = ms.stream().filter(Begin.class::isInstance).map(Begin.class::cast).toList();
            List<Commit> commits = ms.stream().filter(Commit.class::isInstance).map(Commit.class::cast).toList();
            Instant now = Instant.now();
            for (int i = 0; i < 7; i++) {
                Begin b = begins.get(i);
                Commit cm = commits.get(i);
                assertThat(b.finalLsn()).isEqualTo(cm.commitLsn());
                assertThat(cm.endLsn()).isGreaterThan(cm.commitLsn());
                assertThat(cm.commitLsn()).isGreaterThanOrEqualTo(start.asLong());
                assertThat(cm.commitTime()).isEqualTo(b.commitTime());
                assertThat(cm.commitInstant()).isBetween(now.minusSeconds(120), now.plusSeconds(5));
                assertThat(cm.flags()).isZero();
                if (i > 0) {
                    assertThat(cm.commitLsn()).isGreaterThan(commits.get(i - 1).endLsn() - 1);
                    assertThat(b.xid()).isGreaterThan(begins.get(i - 1).xid());
                }
            }
            assertThat(Lsn.format(commits.get(6).endLsn())).isEqualTo(
                    LogSequenceNumber.valueOf(commits.get(6).endLsn()).asString());

            assertThat(rel.relationId()).isEqualTo(relOid);
            assertThat(rel.namespace()).isEqualTo("public");
            assertThat(rel.name()).isEqualTo("items");
            assertThat(rel.replicaIdentity()).isEqualTo('d');
            assertThat(rel.columns()).extracting(PgOutputMessage.Column::name).containsExactly("id", "v", "doc");
            assertThat(rel.columns()).extracting(PgOutputMessage.Column::typeOid).containsExactly(23L, 1021L, 25L);
            assertThat(rel.columns()).extracting(PgOutputMessage.Column::isKey).containsExactly(true, false, false);
            assertThat(rel.columns()).extracting(PgOutputMessage.Column::typmod).containsExactly(-1, -1, -1);

            // tx 1: insert with the big doc in full
            Insert ins = (Insert) data.get(1);
            assertThat(ins.relationId()).isEqualTo(relOid);
            assertThat(ins.newTuple().textOrNull(0)).isEqualTo("1");
            assertThat(ins.newTuple().textOrNull(1)).isEqualTo("{1,2,3}");
            assertThat(ins.newTuple().textOrNull(2)).isEqualTo(doc);

            // tx 2: vector-only update: the TOASTed doc arrives as 'u', not as NULL
            Update upd = (Update) data.get(4);
            assertThat(upd.old()).isEmpty();
            assertThat(upd.newTuple().textOrNull(0)).isEqualTo("1");
            assertThat(upd.newTuple().textOrNull(1)).isEqualTo("{4,5,6}");
            assertThat(upd.newTuple().isUnchangedToast(2)).isTrue();
            assertThat(upd.newTuple().isNull(2)).isFalse();
            assertThat(upd.newTuple().kind(2).code()).isEqualTo('u');

            // tx 3: key change: old key 'K' carries only the key; doc still unchanged TOAST
            Update keyUpd = (Update) data.get(7);
            assertThat(keyUpd.oldKey()).isPresent();
            assertThat(keyUpd.oldTuple()).isEmpty();
            TupleData oldKey = keyUpd.oldKey().orElseThrow();
            assertThat(oldKey.textOrNull(0)).isEqualTo("1");
            assertThat(oldKey.isNull(1)).isTrue();
            assertThat(oldKey.isNull(2)).isTrue();
            assertThat(keyUpd.newTuple().textOrNull(0)).isEqualTo("2");
            assertThat(keyUpd.newTuple().textOrNull(1)).isEqualTo("{4,5,6}");
            assertThat(keyUpd.newTuple().isUnchangedToast(2)).isTrue();

            // tx 4: NULL vector is 'n'
            Insert nullVec = (Insert) data.get(10);
            assertThat(nullVec.newTuple().textOrNull(0)).isEqualTo("3");
            assertThat(nullVec.newTuple().isNull(1)).isTrue();
            assertThat(nullVec.newTuple().isUnchangedToast(1)).isFalse();
            assertThat(nullVec.newTuple().textOrNull(2)).isEqualTo("small");

            // tx 5: delete by key
            Delete del = (Delete) data.get(13);
            assertThat(del.oldKey()).isPresent();
            assertThat(del.old().textOrNull(0)).isEqualTo("2");
            assertThat(del.old().isNull(1)).isTrue();

            // tx 6: four changes in one transaction, in statement order
            assertThat(((Insert) data.get(16)).newTuple().textOrNull(1)).isEqualTo("{1.5,-2.25}");
            assertThat(((Insert) data.get(17)).newTuple().textOrNull(0)).isEqualTo("11");
            Update u10 = (Update) data.get(18);
            assertThat(u10.newTuple().textOrNull(0)).isEqualTo("10");
            assertThat(u10.newTuple().textOrNull(1)).isEqualTo("{7}");
            assertThat(u10.newTuple().textOrNull(2)).isEqualTo("ten"); // small, inline: sent in full
            assertThat(((Delete) data.get(19)).old().textOrNull(0)).isEqualTo("11");

            // tx 7: truncate
            Truncate tr = (Truncate) data.get(22);
            assertThat(tr.relationIds()).containsExactly(relOid);
            assertThat(tr.cascade()).isFalse();
            assertThat(tr.restartIdentity()).isTrue();
        } finally {
            try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
                dropSlots(s);
            }
            try (Connection c = db(); Statement s = c.createStatement()) {
                s.execute("DROP PUBLICATION IF EXISTS " + PUB);
            }
        }
    }

    @Test
    void protocol_v2_streams_large_in_progress_transactions() throws Exception {
        try (Connection c = db(); Statement s = c.createStatement()) {
            s.execute("DROP PUBLICATION IF EXISTS " + PUB + "_2");
            s.execute("DROP TABLE IF EXISTS big");
            s.execute("CREATE TABLE big (id int PRIMARY KEY, v real[])");
            s.execute("CREATE PUBLICATION " + PUB + "_2 FOR TABLE big");
        }
        // The smallest decoding memory, so a few thousand rows spill as a stream.
        try (Connection rc = replicationConnection("-c logical_decoding_work_mem=64kB")) {
            PGConnection pgc = rc.unwrap(PGConnection.class);
            var slot = pgc.getReplicationAPI().createReplicationSlot().logical()
                    .withSlotName(SLOT_V2).withOutputPlugin("pgoutput").make();
            LogSequenceNumber start = slot.getConsistentPoint();

            try (Connection c = db(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO big VALUES (0, '{0}')");                         // small: B I C
                c.setAutoCommit(false);
                s.execute("INSERT INTO big SELECT i, ARRAY[i, i+1, i+2]::real[] FROM generate_series(1, 5000) i");
                s.execute("UPDATE big SET v = '{9}' WHERE id BETWEEN 1 AND 2000");
                c.commit();                                                             // streamed, committed
                s.execute("INSERT INTO big SELECT i, '{1}' FROM generate_series(10001, 15000) i");
                s.execute("SAVEPOINT sp");
                s.execute("INSERT INTO big SELECT i, '{2}' FROM generate_series(20001, 25000) i");
                s.execute("ROLLBACK TO SAVEPOINT sp");                                  // streamed subxact abort
                s.execute("INSERT INTO big SELECT i, '{3}' FROM generate_series(30001, 35000) i");
                c.rollback();                                                           // streamed, aborted
                c.setAutoCommit(true);
            }

            ChainedLogicalStreamBuilder b = pgc.getReplicationAPI().replicationStream().logical()
                    .withSlotName(SLOT_V2).withStartPosition(start)
                    .withSlotOption("proto_version", "2")
                    .withSlotOption("streaming", "on")
                    .withSlotOption("publication_names", PUB + "_2");
            PGReplicationStream stream = b.start();
            PgOutputDecoder decoder = new PgOutputDecoder();
            List<PgOutputMessage> ms = readUntil(stream, decoder,
                    l -> count(l, StreamCommit.class) == 1 && !decoder.inStream() && l.stream()
                            .anyMatch(m -> m instanceof StreamAbort a && a.wholeTransaction()));
            stream.close();

            // First the small transaction, not streamed.
            assertThat(summary(ms)).startsWith("BRIC");
            assertThat(((Insert) ms.get(2)).xid()).isEqualTo(PgOutputMessage.NO_XID);

            List<StreamStart> starts = ms.stream().filter(StreamStart.class::isInstance)
                    .map(StreamStart.class::cast).toList();
            StreamCommit commit = ms.stream().filter(StreamCommit.class::isInstance)
                    .map(StreamCommit.class::cast).findFirst().orElseThrow();
            long committedXid = commit.xid();
            assertThat(starts.stream().filter(st -> st.xid() == committedXid).findFirst().orElseThrow()
                    .firstSegment()).isTrue();
            assertThat(starts.stream().filter(st -> st.xid() == committedXid).count()).isGreaterThan(1);
            assertThat(count(ms, StreamStop.class)).isEqualTo(starts.size());
            assertThat(commit.endLsn()).isGreaterThan(commit.commitLsn());
            assertThat(commit.commitLsn()).isGreaterThan(((Commit) ms.get(3)).endLsn() - 1);
            assertThat(commit.commitInstant()).isAfter(PgTime.toInstant(0));

            // Every change inside a stream block carries the xid of its (committed or aborted) transaction.
            List<PgOutputMessage.Streamable> changes = ms.subList(4, ms.size()).stream()
                    .filter(PgOutputMessage.Streamable.class::isInstance)
                    .map(PgOutputMessage.Streamable.class::cast).toList();
            assertThat(changes).allSatisfy(ch -> assertThat(ch.streamed()).isTrue());
            List<Insert> committedInserts = changes.stream()
                    .filter(ch -> ch instanceof Insert && ch.xid() == committedXid).map(Insert.class::cast).toList();
            List<Update> committedUpdates = changes.stream()
                    .filter(ch -> ch instanceof Update && ch.xid() == committedXid).map(Update.class::cast).toList();
            assertThat(committedInserts).hasSize(5000);
            assertThat(committedUpdates).hasSize(2000);
            assertThat(committedInserts.get(0).newTuple().textOrNull(1)).isEqualTo("{1,2,3}");
            assertThat(committedUpdates.get(0).newTuple().textOrNull(1)).isEqualTo("{9}");

            List<StreamAbort> aborts = ms.stream().filter(StreamAbort.class::isInstance)
                    .map(StreamAbort.class::cast).toList();
            StreamAbort abort = aborts.getLast();
            assertThat(abort.xid()).isNotEqualTo(committedXid);
            assertThat(abort.wholeTransaction()).isTrue();
            assertThat(abort.abortLsn()).isEqualTo(Lsn.INVALID); // v2: no abort LSN
            assertThat(changes.stream().anyMatch(ch -> ch.xid() == abort.xid())).isTrue();
            // ROLLBACK TO SAVEPOINT of streamed changes: a subtransaction abort of the same xid
            assertThat(aborts).anySatisfy(a -> {
                assertThat(a.xid()).isEqualTo(abort.xid());
                assertThat(a.wholeTransaction()).isFalse();
                assertThat(a.subXid()).isGreaterThan(a.xid());
            });
        } finally {
            try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
                dropSlots(s);
            }
            try (Connection c = db(); Statement s = c.createStatement()) {
                s.execute("DROP PUBLICATION IF EXISTS " + PUB + "_2");
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
