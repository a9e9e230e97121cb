package io.neurondb.proxy.vectors;

import io.neurondb.engine.IndexCheckpoint;
import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.proxy.config.TlsSettings;
import io.neurondb.proxy.config.UpstreamUrl;
import io.neurondb.proxy.replication.Lsn;
import io.neurondb.proxy.replication.PgOutputMessage;
import io.neurondb.proxy.replication.ReplicatedTransaction;
import io.neurondb.proxy.replication.ReplicationConnection;
import io.neurondb.proxy.replication.ReplicationNames;
import io.neurondb.proxy.replication.ReplicationOwner;
import io.neurondb.proxy.replication.ReplicationPreflight;
import io.neurondb.proxy.replication.ReplicationSettings;
import io.neurondb.proxy.replication.SlotStream;
import io.neurondb.proxy.replication.StreamSpool;
import io.neurondb.proxy.replication.TransactionSink;
import io.neurondb.proxy.replication.TupleData;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.SqlIdentifiers;
import io.neurondb.proxy.route.TableName;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.postgresql.replication.ReplicationSlotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Keeps one database's engine indexes in step with its tables through logical replication:
 * the instance's publication and slot, the first copy inside the slot's exported snapshot,
 * the stream applied at commit in commit order, periodic checkpoints (the slot's flushed
 * position never passes the newest durable one), restart from checkpoints, reconnects with
 * backoff, and a fresh snapshot when the slot or the cluster it belonged to is gone (slot
 * dropped or invalidated, another system identifier, another timeline, a server whose WAL ends
 * before what the indexes hold: a restore). A slot held by another proxy with the same
 * instance id is never taken over: the indexes are reported failed (kNN falls back to the
 * exact path) until it is free. Large transactions arrive streamed before they commit (protocol
 * 2, PostgreSQL 14+) and wait in a {@link StreamSpool} under the data directory.
 *
 * <p>Threads: everything that touches the indexes' contents runs on this database's own
 * replication thread; other threads hand it work through {@link #post}.
 */
final class IndexSync implements TransactionSink {

    private static final Logger log = LoggerFactory.getLogger(IndexSync.class);
    private static final long MIN_BACKOFF_MS = 250;
    private static final long MAX_BACKOFF_MS = 5_000;
    /** How often a proxy whose slot another process holds looks again. */
    private static final long SLOT_IN_USE_RETRY_MS = 5_000;
    /** SQLSTATE object_in_use: what index_stats and CREATE INDEX report while the slot is held by another proxy. */
    private static final String OBJECT_IN_USE = "55006";
    private static final AtomicLong TEMP_SLOTS = new AtomicLong();

    /** Where the sync is: for index_stats and tests. */
    enum Phase { STARTING, COPYING, STREAMING, RECONNECTING, FAILED, CLOSED }

    /** One index the stream applies to. {@code position}: transactions ending at or before it are already in it. */
    private static final class Synced {
        final VectorDatabase.Entry entry;
        long position;
        boolean dirty = true;
        long fileLsn;
        long throughLsn;

        Synced(VectorDatabase.Entry entry, long position) {
            this.entry = entry;
            this.position = position;
        }
    }

    /** An index being built from a snapshot while the stream runs: its table's transactions are kept until it attaches. */
    private static final class Pending {
        final IndexDefinition def;
        final List<ReplicatedTransaction> buffered = new ArrayList<>();
        long position;

        Pending(IndexDefinition def) {
            this.def = def;
        }
    }

    private final VectorDatabase db;
    private final String database;
    private final Pool pool;
    /** Opens the connection that reads the server's WAL position for the lag figures. */
    private final Supplier<Future<SqlConnection>> positionConnection;
    /** That connection while the stream runs; never re-opened while the server is unreachable. */
    private volatile Future<SqlConnection> position;
    private final UpstreamUrl upstream;
    private final TlsSettings tls;
    private final ReplicationSettings settings;
    private final ComputeBackend compute;
    private final int buildThreads;
    private final CheckpointStore store;
    private final ReplicationMetrics metrics;
    private final String slot;
    private final String publication;
    private final ReplicationOwner owner;
    private final StreamSpool spool;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile boolean closed;
    /** Set (before {@link #closed}) when the server cannot do logical replication and the database fell back to rebuilds. */
    private volatile boolean fellBack;
    private volatile Phase phase = Phase.STARTING;
    private volatile String problem;
    /** Set once the bootstrap started taking the database's entries: later ones are built on their own. */
    private volatile boolean taking;
    /** Why the slot cannot be used now (another proxy holds it), or null. */
    private volatile String slotInUse;

    // Replication thread state.
    private final Map<String, Synced> synced = new HashMap<>();
    private final Map<String, Pending> pending = new HashMap<>();
    private ReplicationConnection.SystemIdentity identity;
    private boolean initialized;
    private long lastCheckpointNanos = System.nanoTime();
    private long lastCleanAdvanceNanos = System.nanoTime();
    private long durable;
    /** A fresh snapshot was started and has not finished: the next connection starts it again. */
    private boolean snapshotUnfinished;
    /** The re-snapshot reason already logged and counted, until that re-snapshot finishes. */
    private String announcedResnapshot;
    /** The indexes were reported failed because the slot was in use: served again once it is ours. */
    private boolean failedForSlotInUse;
    private boolean streamingProtocol;

    /** Applied position and the commit time of the last applied transaction, read by sessions. */
    private volatile long appliedLsn;
    private volatile Instant appliedCommitTime = Instant.EPOCH;
    private volatile long serverLsn;
    private volatile long serverLsnNanos;
    /** When the stream last had nothing pending; 0 while it is not streaming. */
    private volatile long drainedAtNanos;

    IndexSync(VectorDatabase db, Pool pool, Supplier<Future<SqlConnection>> positionConnection, UpstreamUrl upstream, TlsSettings tls, ReplicationSettings settings, Path dataDir,
              ComputeBackend compute, int buildThreads, ReplicationMetrics metrics) {
        this.db = db;
        this.database = db.database();
        this.pool = pool;
        this.positionConnection = positionConnection;
        this.upstream = upstream;
        this.tls = tls;
        this.settings = settings;
        this.compute = compute;
        this.buildThreads = buildThreads;
        this.metrics = metrics;
        this.slot = ReplicationNames.slot(settings.instanceId(), database);
        this.publication = ReplicationNames.publication(settings.instanceId());
        this.store = new CheckpointStore(checkpointDir(dataDir, slot));
        this.spool = new StreamSpool(spoolDir(dataDir, slot));
        this.owner = ReplicationOwner.of(dataDir);
        this.thread = Thread.ofPlatform().name("neurondb-replication-" + database).daemon().unstarted(this::run);
    }

    /** Where a slot's index checkpoints live under the data directory. */
    static Path checkpointDir(Path dataDir, String slot) {
        return dataDir.resolve("replication").resolve(slot);
    }

    /** Where a slot's streamed transactions are spooled until their commit. */
    static Path spoolDir(Path dataDir, String slot) {
        return dataDir.resolve("replication").resolve(slot + ".spool");
    }

    /** Whether an index added now must be built on its own (the bootstrap will not pick it up). */
    boolean takingEntries() {
        return taking;
    }

    String slot() {
        return slot;
    }

    String publication() {
        return publication;
    }

    Phase phase() {
        return phase;
    }

    long appliedLsn() {
        return appliedLsn;
    }

    /** The server's WAL position last seen (refreshed every status interval). */
    long serverLsn() {
        return serverLsn;
    }

    long lagBytes() {
        long s = serverLsn;
        long a = appliedLsn;
        return s > a ? s - a : 0;
    }

    double lagSeconds() {
        if (lagBytes() == 0) {
            return 0;
        }
        Instant t = appliedCommitTime;
        return t.equals(Instant.EPOCH) ? 0 : Math.max(0, (System.currentTimeMillis() - t.toEpochMilli()) / 1000.0);
    }

    /**
     * Starts following the database: the replication thread creates or takes the slot. Called
     * once the database has an engine index (or already has this instance's slot), never for a
     * database that has none: a slot nobody needs would keep the server's WAL from being
     * recycled whenever the proxy is down. Later calls do nothing.
     */
    void start() {
        if (started.compareAndSet(false, true)) {
            metrics.register(this, database);
            thread.start();
        }
    }

    /** Whether {@link #start} was called: until then no slot exists for this sync and nothing is followed. */
    boolean started() {
        return started.get();
    }

    // ------------------------------------------------------------------ the replication thread

    private void run() {
        long backoff = MIN_BACKOFF_MS;
        while (!closed) {
            try (ReplicationConnection conn = ReplicationConnection.open(upstream, tls, database, Duration.ofSeconds(5),
                    owner.applicationName())) {
                prepare(conn);
                drainedAtNanos = 0; // current again only once this stream has been drained
                phase = Phase.STREAMING;
                problem = null;
                openPositionConnection();
                backoff = MIN_BACKOFF_MS;
                log.info("event=replication_streaming db={} slot={} start_lsn={} protocol={}", database, slot,
                        Lsn.format(appliedLsn), streamingProtocol ? "2 streaming=on" : "1");
                new SlotStream(conn.startStream(slot, publication, appliedLsn, settings.statusInterval(), streamingProtocol), this,
                        settings.statusInterval(), durable, spool, database).run(() -> closed);
            } catch (Throwable t) {
                drainedAtNanos = 0;
                dropPositionConnection();
                if (closed) {
                    break;
                }
                if (t instanceof SlotInUseException) {
                    // Reported once at ERROR when it started; looked at again quietly until the slot is free.
                    phase = Phase.FAILED;
                    problem = t.getMessage();
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SLOT_IN_USE_RETRY_MS);
                    while (!closed && System.nanoTime() < until) {
                        runTasks();
                        sleep(20);
                    }
                    continue;
                }
                phase = initialized ? Phase.RECONNECTING : Phase.FAILED;
                problem = t.getMessage();
                log.warn("event=replication_interrupted db={} slot={} retry_ms={} error=\"{}\"", database, slot, backoff,
                        String.valueOf(t.getMessage()).replace('"', '\''));
                metrics.reconnect(database);
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
                while (!closed && System.nanoTime() < until) {
                    runTasks();
                    sleep(20);
                }
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
        drainedAtNanos = 0;
        dropPositionConnection();
        phase = Phase.CLOSED;
    }

    /** Checks, publication, slot; loads checkpoints or copies a fresh snapshot; sets the start position. */
    private void prepare(ReplicationConnection conn) throws Exception {
        List<String> problems = await(ReplicationPreflight.check(pool, slot));
        if (!problems.isEmpty() && !initialized) {
            problem = String.join("; ", problems);
            fellBack = true;
            closed = true;
            log.error("event=replication_unavailable db={} advice=\"{}\" fallback=\"indexes follow writes made through the proxy "
                    + "by rebuilds; writes made directly to PostgreSQL are not seen\"", database, problem);
            db.fallBackToRebuilds();
            throw new IllegalStateException(problem);
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("cannot follow database \"" + database + "\" by logical replication: "
                    + String.join("; ", problems));
        }
        if (await(ReplicationPreflight.inRecovery(pool))) {
            // A standby, or a restored copy still replaying WAL: no logical decoding there, and its
            // timeline is not final until it is promoted. Nothing is decided before that.
            throw new IllegalStateException("the server is in recovery; logical replication starts once it is promoted");
        }
        ReplicationConnection.SystemIdentity id = conn.identifySystem();
        ReplicationPreflight.SlotState slotState = await(ReplicationPreflight.slotState(pool, slot));
        checkSlotNotInUse(slotState);
        streamingProtocol = conn.supportsStreaming();
        syncPublication(wantedTables(), true);
        refreshServerLsn();
        if (initialized) {
            String reason = snapshotUnfinished ? "the last snapshot did not finish"
                    : resnapshotReason(identity, id, slotState, appliedLsn);
            if (reason == null && slotState.confirmedFlush() > durable) {
                reason = "the slot's confirmed position " + Lsn.format(slotState.confirmedFlush())
                        + " is past what this proxy confirmed (" + Lsn.format(durable) + "): another process consumed from it";
            }
            if (reason == null) {
                serveAgain();
                return; // resume from what is applied in memory
            }
            resnapshot(conn, id, slotState, reason);
            return;
        }
        CheckpointStore.Manifest manifest = store.load();
        String reason = manifest.present() ? resnapshotReason(new ReplicationConnection.SystemIdentity(manifest.systemId(),
                manifest.timeline(), 0), id, slotState, manifest.newestPosition()) : (slotState.exists() ? "no local checkpoints" : null);
        if (reason == null && slotState.exists() && manifest.present() && slot.equals(manifest.slot())) {
            if (resume(manifest, slotState)) {
                identity = id;
                initialized = true;
                return;
            }
            reason = "checkpoints older than the slot's confirmed position";
        }
        if (reason != null) {
            resnapshot(conn, id, slotState, reason);
        } else {
            freshSnapshot(conn, id);
        }
    }

    /**
     * Why the indexes cannot continue from the slot, or null when they can.
     *
     * @param covered the newest position the indexes hold (applied in memory, or in checkpoints)
     */
    static String resnapshotReason(ReplicationConnection.SystemIdentity known, ReplicationConnection.SystemIdentity now,
                                   ReplicationPreflight.SlotState slot, long covered) {
        if (!known.systemId().equals(now.systemId())) {
            return "the server's system identifier changed from " + known.systemId() + " to " + now.systemId()
                    + " (another cluster: a new initdb, pg_upgrade, or a restore of another cluster)";
        }
        if (known.timeline() != now.timeline()) {
            return "the server's timeline changed from " + known.timeline() + " to " + now.timeline()
                    + " (a point-in-time restore or a promoted standby)";
        }
        if (now.walPosition() != 0 && covered > now.walPosition()) {
            // On one server the WAL never moves back: the indexes already hold changes this server never had.
            return "the server's WAL ends at " + Lsn.format(now.walPosition()) + ", before " + Lsn.format(covered)
                    + " which the indexes already hold (the server was restored to an earlier point)";
        }
        if (!slot.exists()) {
            return "the replication slot is gone";
        }
        if (slot.lost()) {
            return "the replication slot was invalidated (wal_status lost)";
        }
        return null;
    }

    private void resnapshot(ReplicationConnection conn, ReplicationConnection.SystemIdentity id,
                            ReplicationPreflight.SlotState slotState, String reason) throws Exception {
        if (announcedResnapshot == null) {
            log.warn("event=replication_resnapshot db={} slot={} reason=\"{}\"", database, slot, reason);
            metrics.resnapshot(database);
            announcedResnapshot = reason;
        } else {
            // The re-snapshot announced before did not finish (server went away): same event, not counted again.
            log.info("event=replication_resnapshot_retry db={} slot={} reason=\"{}\"", database, slot, announcedResnapshot);
        }
        if (slotState.exists()) {
            await(pool.preparedQuery("SELECT pg_drop_replication_slot($1)").execute(Tuple.of(slot)));
        }
        freshSnapshot(conn, id);
    }

    /** Creates the slot with an exported snapshot, builds every index inside it, and starts from the slot's point. */
    private void freshSnapshot(ReplicationConnection conn, ReplicationConnection.SystemIdentity id) throws Exception {
        phase = Phase.COPYING;
        snapshotUnfinished = true;
        failedForSlotInUse = false;
        store.clear();
        for (Synced s : synced.values()) {
            db.replicaStale(s.entry);
        }
        synced.clear();
        taking = true;
        ReplicationSlotInfo info = conn.createSlot(slot, false);
        long point = info.getConsistentPoint().asLong();
        log.info("event=replication_slot_created db={} slot={} consistent_point={} snapshot={}", database, slot,
                Lsn.format(point), info.getSnapshotName());
        int failed = 0;
        for (VectorDatabase.Entry e : db.entriesForSync()) {
            Integer dims = db.dimsOf(e.def);
            try {
                VectorDatabase.Built b = await(db.buildFromSnapshot(e.def, dims, info.getSnapshotName()));
                db.installBuilt(e, b);
                synced.put(e.def.qualifiedName(), new Synced(e, point));
            } catch (Exception x) {
                db.buildFailed(e, x);
                failed++;
            }
        }
        if (failed > 0) {
            // A build that failed because the server went away is not the index's fault: the whole
            // snapshot starts again on the next connection. (A server that answers means the
            // failure was the index's own, e.g. its table is gone: it stays failed.)
            await(pool.query("SELECT 1").execute());
        }
        identity = id;
        initialized = true;
        appliedLsn = 0; // a new slot, possibly on another cluster: positions start from its point
        serverLsn = 0;
        setApplied(point, null);
        durable = point;
        saveManifest();
        snapshotUnfinished = false;
        announcedResnapshot = null;
        metrics.rebuilt(database);
    }

    /**
     * Refuses to touch a slot another walsender holds. A holder with this proxy's own
     * application_name is a leftover connection of this data directory (an earlier connection
     * that died, a previous process killed before the server noticed): it is terminated and the
     * next attempt takes the slot. Anyone else is another proxy running with the same
     * instance_id: sharing one slot would lose changes for both, so this proxy reports it once
     * at ERROR, marks its indexes failed (kNN takes the exact path, index_stats shows why), and
     * looks again every few seconds without changing anything on the server.
     */
    private void checkSlotNotInUse(ReplicationPreflight.SlotState slotState) throws Exception {
        if (!slotState.active()) {
            if (slotInUse != null) {
                log.info("event=replication_slot_free db={} slot={}", database, slot);
                slotInUse = null;
            }
            return;
        }
        int pid = slotState.activePid();
        if (owner.owns(slotState.holderApplication())) {
            log.info("event=replication_stale_sender db={} slot={} pid={} action=terminate", database, slot, pid);
            await(pool.preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(pid)));
            throw new IllegalStateException("replication slot \"" + slot + "\" was still held by an earlier connection of this proxy (PID "
                    + pid + "); it was terminated");
        }
        String message = "replication slot \"" + slot + "\" is active for PID " + pid + " (application_name '"
                + slotState.holderApplication() + "', client " + (slotState.holderAddress() == null ? "local" : slotState.holderAddress())
                + "): another proxy runs with instance_id '" + settings.instanceId() + "' against database \"" + database + "\"";
        String advice = "give every proxy instance its own instance_id (config key instance_id or NEURONDB_INSTANCE_ID)";
        if (slotInUse == null) {
            log.error("event=replication_slot_in_use db={} slot={} active_pid={} holder_application=\"{}\" holder_address={} "
                            + "instance_id={} advice=\"{}\" fallback=\"indexes not served (exact kNN) until the slot is free\"",
                    database, slot, pid, slotState.holderApplication(), slotState.holderAddress(), settings.instanceId(), advice);
            metrics.slotInUse(database);
            VectorSqlException failure = new VectorSqlException(OBJECT_IN_USE, message, null, advice, null);
            for (VectorDatabase.Entry e : db.entriesForSync()) {
                db.reportUnavailable(e, failure); // the ERROR above says why; no build ran
            }
            failedForSlotInUse = true;
        }
        slotInUse = message;
        throw new SlotInUseException(message + "; " + advice);
    }

    /** The slot is ours again and the indexes continue from memory: those failed while it was held are served again. */
    private void serveAgain() {
        if (!failedForSlotInUse) {
            return;
        }
        failedForSlotInUse = false;
        for (Synced s : synced.values()) {
            VectorIndex index = s.entry.index;
            if (index != null && !s.entry.dropped) {
                db.installLoaded(s.entry, index, s.entry.keyTypeOid);
            }
        }
    }

    /** The slot is held by another proxy with the same instance id. */
    static final class SlotInUseException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        SlotInUseException(String message) {
            super(message);
        }
    }

    /** Loads each listed index's checkpoint; false when they cannot continue from the slot. */
    private boolean resume(CheckpointStore.Manifest manifest, ReplicationPreflight.SlotState slotState) throws Exception {
        long start = Long.MAX_VALUE;
        List<VectorDatabase.Entry> toBuild = new ArrayList<>();
        Map<String, Synced> loaded = new HashMap<>();
        taking = true;
        for (VectorDatabase.Entry e : db.entriesForSync()) {
            CheckpointStore.Saved saved = manifest.indexes().get(e.def.qualifiedName());
            if (saved == null || !saved.definition().equals(CheckpointStore.definitionKey(e.def))) {
                toBuild.add(e);
                continue;
            }
            try {
                IndexCheckpoint.Loaded l = store.readIndex(saved.file(), compute);
                long position = l.position() == saved.fileLsn() ? Math.max(saved.throughLsn(), l.position()) : l.position();
                Synced s = new Synced(e, position);
                s.dirty = false;
                s.fileLsn = l.position();
                s.throughLsn = position;
                loaded.put(e.def.qualifiedName(), s);
                db.installLoaded(e, l.index(), saved.keyTypeOid());
                start = Math.min(start, position);
                log.info("event=index_checkpoint_loaded db={} index={} rows={} lsn={}", database, e.def.qualifiedName(),
                        l.index().size(), Lsn.format(position));
            } catch (IOException | RuntimeException x) {
                log.warn("event=index_checkpoint_unusable db={} index={} error=\"{}\"", database, e.def.qualifiedName(), x.getMessage());
                toBuild.add(e);
            }
        }
        if (start == Long.MAX_VALUE) {
            start = slotState.confirmedFlush();
        }
        if (start < slotState.confirmedFlush()) {
            return false;
        }
        synced.putAll(loaded);
        setApplied(start, null);
        durable = slotState.confirmedFlush();
        for (VectorDatabase.Entry e : toBuild) {
            db.requestSyncBuild(e); // built from a snapshot of its own once the stream runs
        }
        return true;
    }

    // ------------------------------------------------------------------ applying

    @Override
    public void apply(ReplicatedTransaction tx) {
        applyChanges(tx);
        setApplied(tx.endLsn(), tx.commitTime());
        metrics.applied(database, tx.changes().size());
    }

    @Override
    public void applyPart(ReplicatedTransaction part) {
        applyChanges(part);
    }

    private void applyChanges(ReplicatedTransaction tx) {
        for (ReplicatedTransaction.Change change : tx.changes()) {
            for (Synced s : synced.values()) {
                if (tx.endLsn() > s.position && !s.entry.dropped && touches(change, s.entry.def.table())) {
                    applyTo(s, change);
                    s.dirty = true;
                }
            }
        }
        for (Pending p : pending.values()) {
            for (ReplicatedTransaction.Change change : tx.changes()) {
                if (touches(change, p.def.table())) {
                    p.buffered.add(tx);
                    break;
                }
            }
        }
    }

    @Override
    public void caughtUp(long lsn) {
        drainedAtNanos = System.nanoTime();
        if (lsn > appliedLsn) {
            setApplied(lsn, null);
        }
    }

    /**
     * Whether the indexes may answer now: the stream runs and was last drained (everything the
     * server had sent applied) at most {@code maxStaleness} ago. A stream that is reconnecting,
     * catching up on a backlog, or stopped for a DROP DATABASE leaves kNN to PostgreSQL.
     */
    boolean current() {
        long drained = drainedAtNanos;
        return phase == Phase.STREAMING && drained != 0 && System.nanoTime() - drained <= settings.maxStaleness().toNanos();
    }

    @Override
    public long between() {
        runTasks();
        long now = System.nanoTime();
        if (now - serverLsnNanos > settings.statusInterval().toNanos()) {
            serverLsnNanos = now;
            refreshServerLsnAsync();
        }
        if (now - lastCheckpointNanos >= settings.checkpointInterval().toNanos()) {
            lastCheckpointNanos = now;
            checkpoint();
        } else if (appliedLsn > durable && now - lastCleanAdvanceNanos >= settings.statusInterval().toNanos() && allClean()) {
            // Nothing changed in any index since its file was written: the files are current up to the
            // applied position, so only the manifest moves. Lets the slot advance (and WAL be recycled,
            // and a fast server shutdown finish) while the tables are idle, without rewriting indexes.
            lastCleanAdvanceNanos = now;
            checkpoint();
        }
        return durable;
    }

    private boolean allClean() {
        for (Synced s : synced.values()) {
            if (s.dirty || s.fileLsn == 0) {
                return false;
            }
        }
        return true; // a pending index is not durable before it is attached anyway: it is rebuilt after a restart
    }

    private void setApplied(long lsn, Instant commitTime) {
        appliedLsn = Math.max(appliedLsn, lsn);
        if (commitTime != null) {
            appliedCommitTime = commitTime;
        }
        if (serverLsn < appliedLsn) {
            serverLsn = appliedLsn;
        }
    }

    private static boolean touches(ReplicatedTransaction.Change change, TableName table) {
        return switch (change) {
            case ReplicatedTransaction.Upsert u -> same(u.relation(), table);
            case ReplicatedTransaction.Removal r -> same(r.relation(), table);
            case ReplicatedTransaction.Truncation t -> t.relations().stream().anyMatch(r -> same(r, table));
        };
    }

    private static boolean same(PgOutputMessage.Relation r, TableName t) {
        return r.name().equals(t.name()) && r.namespace().equals(t.schema());
    }

    private void applyTo(Synced s, ReplicatedTransaction.Change change) {
        VectorDatabase.Entry e = s.entry;
        VectorIndex index = e.index;
        if (index == null) {
            return;
        }
        IndexDefinition def = e.def;
        try {
            switch (change) {
                case ReplicatedTransaction.Truncation t -> db.replaceWithEmpty(e, index.dims());
                case ReplicatedTransaction.Removal r -> {
                    int k = column(r.relation(), def.keyColumn());
                    index.delete(RowValues.key(r.oldKey().get(k)));
                }
                case ReplicatedTransaction.Upsert u -> {
                    int k = column(u.relation(), def.keyColumn());
                    int v = column(u.relation(), def.column());
                    long key = RowValues.key(u.row().get(k));
                    boolean keyChanged = false;
                    if (u.oldKey().isPresent() && u.oldKey().get().hasValue(k)) {
                        long oldKey = RowValues.key(u.oldKey().get().get(k));
                        if (oldKey != key) {
                            keyChanged = true;
                            index.delete(oldKey);
                        }
                    }
                    TupleData.Value value = u.row().get(v);
                    switch (value) {
                        case TupleData.Null n -> index.delete(key);
                        case TupleData.UnchangedToast t -> {
                            // The vector did not change; only a moved key needs it, read from the table.
                            if (keyChanged) {
                                fetchVector(def, key, index.dims()).ifPresentOrElse(vec -> index.insert(key, vec), () -> index.delete(key));
                            }
                        }
                        default -> {
                            try {
                                index.insert(key, RowValues.vector(value, index.dims()));
                            } catch (RuntimeException bad) {
                                // A value the index cannot hold (zero vector under cosine, wrong length): not indexed,
                                // the exact branch still finds the row.
                                index.delete(key);
                                log.debug("event=replicated_row_not_indexed db={} index={} error=\"{}\"", database,
                                        def.qualifiedName(), bad.getMessage());
                            }
                        }
                    }
                }
            }
        } catch (RuntimeException x) {
            log.warn("event=replicated_change_failed db={} index={} error=\"{}\"", database, def.qualifiedName(), x.getMessage());
        }
    }

    private static int column(PgOutputMessage.Relation r, String name) {
        int i = r.columnIndex(name);
        if (i < 0) {
            throw new IllegalStateException("relation " + r.namespace() + "." + r.name() + " has no column \"" + name + "\"");
        }
        return i;
    }

    private Optional<float[]> fetchVector(IndexDefinition def, long key, int dims) {
        try {
            var rows = await(pool.preparedQuery("SELECT pg_catalog.array_send(" + SqlIdentifiers.quote(def.column()) + ") FROM "
                    + def.table().toSql() + " WHERE " + SqlIdentifiers.quote(def.keyColumn()) + " = $1").execute(Tuple.of(key)));
            if (rows.size() == 0) {
                return Optional.empty();
            }
            Row r = rows.iterator().next();
            if (r.getBuffer(0) == null) {
                return Optional.empty();
            }
            float[] out = new float[dims];
            TableRows.readArray(r.getBuffer(0), out, 0, dims);
            return Optional.of(out);
        } catch (Exception x) {
            return Optional.empty();
        }
    }

    // ------------------------------------------------------------------ checkpoints

    /** Writes every changed index with the applied position, then the manifest; advances {@link #durable}. */
    private void checkpoint() {
        if (!initialized || identity == null) {
            return;
        }
        long at = appliedLsn;
        long start = System.nanoTime();
        int written = 0;
        boolean forgot = false;
        try {
            for (Synced s : List.copyOf(synced.values())) {
                if (s.entry.dropped) {
                    synced.remove(s.entry.def.qualifiedName());
                    store.deleteIndex(CheckpointStore.fileName(s.entry.def.qualifiedName()));
                    forgot = true;
                    continue;
                }
                long lsn = Math.max(at, s.position);
                VectorIndex index = s.entry.index;
                if (index == null) {
                    continue;
                }
                if (s.dirty || s.fileLsn == 0) {
                    store.writeIndex(CheckpointStore.fileName(s.entry.def.qualifiedName()), index, lsn);
                    s.fileLsn = lsn;
                    s.dirty = false;
                    written++;
                }
                s.throughLsn = lsn;
            }
            saveManifest();
            durable = Math.max(durable, at);
            metrics.checkpointed(database, at);
            if (forgot) {
                prunePublication();
            }
            if (written > 0) {
                log.info("event=index_checkpoint db={} indexes={} lsn={} seconds={}", database, written, Lsn.format(at),
                        String.format("%.3f", (System.nanoTime() - start) / 1e9));
            }
        } catch (IOException | RuntimeException x) {
            log.warn("event=index_checkpoint_failed db={} error=\"{}\"", database, x.getMessage());
        }
    }

    private void saveManifest() throws IOException {
        Map<String, CheckpointStore.Saved> saved = new HashMap<>();
        for (Synced s : synced.values()) {
            if (s.fileLsn != 0) {
                saved.put(s.entry.def.qualifiedName(), new CheckpointStore.Saved(CheckpointStore.definitionKey(s.entry.def),
                        CheckpointStore.fileName(s.entry.def.qualifiedName()), s.fileLsn, s.throughLsn, s.entry.keyTypeOid));
            }
        }
        store.save(new CheckpointStore.Manifest(identity.systemId(), identity.timeline(), slot, saved));
    }

    // ------------------------------------------------------------------ indexes added while streaming

    /**
     * Builds {@code def} from a snapshot consistent with the stream, without attaching it: its
     * table's transactions are kept from now on, until {@link #attach} or {@link #cancel}.
     */
    Future<VectorDatabase.Built> prepare(IndexDefinition def, Integer dims) {
        Promise<VectorDatabase.Built> done = Promise.promise();
        Thread.ofVirtual().name("neurondb-index-snapshot-" + def.name()).start(() -> {
            String name = def.qualifiedName();
            try {
                done.complete(closed ? plainBuild(def, dims) : buildFromStream(def, dims));
            } catch (Throwable t) {
                post(() -> pending.remove(name));
                if (fellBack) {
                    // The stream gave up while this build waited for it (the up-front checks found no
                    // logical replication): the database follows writes by rebuilds now, so build as it does.
                    try {
                        done.complete(plainBuild(def, dims));
                    } catch (Throwable again) {
                        done.fail(unwrap(again));
                    }
                    return;
                }
                done.fail(unwrap(t));
            }
        });
        return done.future();
    }

    private VectorDatabase.Built plainBuild(IndexDefinition def, Integer dims) throws Exception {
        return await(db.buildFromSnapshot(def, dims, null));
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof java.util.concurrent.ExecutionException ? t.getCause() : t;
    }

    /** A build from a snapshot taken with a temporary slot, so the stream can replay what came after it. */
    private VectorDatabase.Built buildFromStream(IndexDefinition def, Integer dims) throws Exception {
        String name = def.qualifiedName();
        String inUse = slotInUse;
        if (inUse != null) {
            throw new VectorSqlException(OBJECT_IN_USE, "cannot follow index \"" + def.name() + "\" by replication: " + inUse,
                    null, "give every proxy instance its own instance_id (config key instance_id or NEURONDB_INSTANCE_ID)", null);
        }
        // Registered before its table joins the publication: a pruning of the publication
        // (on the replication thread) then sees the table as wanted.
        CompletableFuture<Void> registered = new CompletableFuture<>();
        post(() -> {
            pending.put(name, new Pending(def));
            registered.complete(null);
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!registered.isDone()) {
            if (closed || System.nanoTime() > deadline) {
                throw new IllegalStateException("the replication stream of database \"" + database
                        + "\" is not running: " + (problem == null ? "stopped" : problem));
            }
            sleep(20);
        }
        syncPublication(Set.of(def.table()), false);
        try (ReplicationConnection conn = ReplicationConnection.open(upstream, tls, database, Duration.ofSeconds(5),
                owner.applicationName())) {
            ReplicationSlotInfo info = conn.createSlot(ReplicationNames.temporarySlot(settings.instanceId(),
                    TEMP_SLOTS.incrementAndGet()), true);
            VectorDatabase.Built b = await(db.buildFromSnapshot(def, dims, info.getSnapshotName()));
            long point = info.getConsistentPoint().asLong();
            post(() -> {
                Pending p = pending.get(name);
                if (p != null) {
                    p.position = point;
                }
            });
            return b;
        }
    }

    /** Makes a prepared index follow the stream: its kept transactions are replayed, then it is current. */
    Future<Void> attach(VectorDatabase.Entry e, VectorIndex index) {
        Promise<Void> done = Promise.promise();
        if (closed) {
            e.index = index; // fallen back to rebuilds: nothing to replay
            return Future.succeededFuture();
        }
        post(() -> {
            String name = e.def.qualifiedName();
            Pending p = pending.remove(name);
            if (p == null) {
                done.tryFail(new IllegalStateException("index " + name + " was not being prepared"));
                return;
            }
            e.index = index;
            Synced s = new Synced(e, p.position);
            for (ReplicatedTransaction tx : p.buffered) {
                if (tx.endLsn() > s.position) {
                    for (ReplicatedTransaction.Change c : tx.changes()) {
                        if (touches(c, e.def.table())) {
                            applyTo(s, c);
                        }
                    }
                }
            }
            synced.put(name, s);
            log.info("event=index_attached db={} index={} snapshot_lsn={} replayed_transactions={}", database, name,
                    Lsn.format(p.position), p.buffered.size());
            done.tryComplete();
        });
        if (closed) {
            // The replication thread may have ended before it ran the task above.
            e.index = index;
            done.tryComplete();
        }
        return done.future();
    }

    void cancel(IndexDefinition def) {
        post(() -> pending.remove(def.qualifiedName()));
    }

    /** Forgets a dropped index and its checkpoint; its table leaves the publication when no other index needs it. */
    void forget(IndexDefinition def) {
        post(() -> {
            if (synced.remove(def.qualifiedName()) != null) {
                store.deleteIndex(CheckpointStore.fileName(def.qualifiedName()));
            }
            prunePublication();
        });
    }

    /** Runs {@code task} on the replication thread, between transactions. */
    void post(Runnable task) {
        tasks.add(task);
    }

    private void runTasks() {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            try {
                r.run();
            } catch (RuntimeException x) {
                log.warn("event=replication_task_failed db={} error=\"{}\"", database, x.toString());
            }
        }
    }

    // ------------------------------------------------------------------ publication

    /** Tables some index of this database needs followed: held or being prepared (replication thread only). */
    private Set<TableName> wantedTables() {
        Set<TableName> out = new LinkedHashSet<>();
        for (VectorDatabase.Entry e : db.entriesForSync()) {
            if (!e.dropped) {
                out.add(e.def.table());
            }
        }
        for (Pending p : pending.values()) {
            out.add(p.def.table());
        }
        return out;
    }

    /** Removes tables no index needs any more from the publication (replication thread); a failure is only logged. */
    private void prunePublication() {
        if (closed || slotInUse != null) {
            return;
        }
        try {
            syncPublication(wantedTables(), true);
        } catch (Exception x) {
            log.warn("event=publication_prune_failed db={} publication={} error=\"{}\"", database, publication, x.getMessage());
        }
    }

    /**
     * Creates the publication if missing and adds the tables it lacks. With {@code prune} (only
     * on the replication thread, with every wanted table), also removes the tables no index of
     * this instance follows any more, so the server stops decoding and sending their changes:
     * the publication is this instance's own ({@code neurondb_<instance_id>}), so this is only
     * done when the proxy's role owns it and it is not FOR ALL TABLES — one made or changed by
     * hand is left as it is.
     */
    private void syncPublication(Set<TableName> tables, boolean prune) throws Exception {
        var existing = await(pool.preparedQuery("SELECT 1 FROM pg_publication WHERE pubname = $1").execute(Tuple.of(publication)));
        if (existing.size() == 0) {
            try {
                await(pool.query("CREATE PUBLICATION " + SqlIdentifiers.quote(publication)).execute());
                log.info("event=publication_created db={} publication={}", database, publication);
            } catch (Exception x) {
                if (!String.valueOf(x.getMessage()).contains("already exists")) {
                    throw x;
                }
            }
        }
        var present = await(pool.preparedQuery("SELECT schemaname::text AS s, tablename::text AS t FROM pg_publication_tables WHERE pubname = $1")
                .execute(Tuple.of(publication)));
        Set<TableName> have = new LinkedHashSet<>();
        for (Row r : present) {
            have.add(new TableName(r.getString("s"), r.getString("t")));
        }
        for (TableName t : tables) {
            if (!have.contains(t)) {
                try {
                    await(pool.query("ALTER PUBLICATION " + SqlIdentifiers.quote(publication) + " ADD TABLE " + t.toSql()).execute());
                    log.info("event=publication_table_added db={} publication={} table={}", database, publication, t);
                } catch (Exception x) {
                    if (!String.valueOf(x.getMessage()).contains("already member")) {
                        throw x;
                    }
                }
            }
        }
        if (!prune) {
            return;
        }
        Set<TableName> unwanted = new LinkedHashSet<>(have);
        unwanted.removeAll(tables);
        if (unwanted.isEmpty()) {
            return;
        }
        var owned = await(pool.preparedQuery("SELECT pubowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned, "
                + "puballtables FROM pg_publication WHERE pubname = $1").execute(Tuple.of(publication)));
        if (owned.size() == 0) {
            return;
        }
        Row o = owned.iterator().next();
        if (!Boolean.TRUE.equals(o.getBoolean("owned")) || Boolean.TRUE.equals(o.getBoolean("puballtables"))) {
            log.info("event=publication_prune_skipped db={} publication={} reason=\"not owned by the proxy's role, or FOR ALL TABLES\" tables={}",
                    database, publication, unwanted.size());
            return;
        }
        for (TableName t : unwanted) {
            try {
                await(pool.query("ALTER PUBLICATION " + SqlIdentifiers.quote(publication) + " DROP TABLE " + t.toSql()).execute());
                log.info("event=publication_table_removed db={} publication={} table={} reason=\"no index of this instance follows it\"",
                        database, publication, t);
            } catch (Exception x) {
                String m = String.valueOf(x.getMessage());
                if (!m.contains("is not part of the publication") && !m.contains("does not exist")) {
                    throw x;
                }
            }
        }
    }

    private void refreshServerLsn() {
        try {
            var rows = await(pool.query("SELECT pg_current_wal_lsn()::text").execute());
            serverLsn = Math.max(serverLsn, Lsn.parse(rows.iterator().next().getString(0)));
        } catch (Exception ignored) {
            // reported through the replication connection's own failure
        }
    }

    /**
     * Reads the server's WAL position on a connection of its own, opened when the stream
     * (re)starts and dropped on the first failure, not re-opened until the stream is back: a
     * login attempt sent to a server that is shutting down holds its shutdown up until the
     * attempt times out, so nothing here may retry while the server is away.
     */
    private void refreshServerLsnAsync() {
        Future<SqlConnection> c = position;
        if (c == null || c.failed()) {
            return;
        }
        if (!c.isComplete()) {
            return;
        }
        c.result().query("SELECT pg_current_wal_lsn()::text").execute()
                .onSuccess(rows -> {
                    long l = Lsn.parse(rows.iterator().next().getString(0));
                    if (l > serverLsn) {
                        serverLsn = l;
                    }
                })
                .onFailure(x -> dropPositionConnection());
    }

    private void openPositionConnection() {
        dropPositionConnection();
        position = positionConnection.get();
    }

    private void dropPositionConnection() {
        Future<SqlConnection> c = position;
        position = null;
        if (c != null) {
            c.onSuccess(SqlConnection::close);
        }
    }

    // ------------------------------------------------------------------ life

    /** Stops the thread, after a last checkpoint when the stream was running. */
    void close() {
        CompletableFuture<Void> last = new CompletableFuture<>();
        if (phase == Phase.STREAMING && thread.isAlive()) {
            post(() -> {
                checkpoint();
                last.complete(null);
            });
            try {
                last.get(60, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // closing anyway: the slot still holds everything after the last durable checkpoint
            }
        }
        closed = true;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.unregister(database);
    }

    String problem() {
        return problem;
    }

    private static <T> T await(Future<T> f) throws Exception {
        try {
            return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
