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
import io.neurondb.proxy.replication.ReplicationPreflight;
import io.neurondb.proxy.replication.ReplicationSettings;
import io.neurondb.proxy.replication.SlotStream;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Keeps one database's engine indexes in step with its tables through logical replication:
 * the instance's publication and slot, the first copy inside the slot's exported snapshot,
 * the stream applied at commit in commit order, periodic checkpoints (the slot's flushed
 * position never passes the newest durable one), restart from checkpoints, reconnects with
 * backoff, and a fresh snapshot when the slot or the cluster it belonged to is gone.
 *
 * <p>Threads: everything that touches the indexes' contents runs on this database's own
 * replication thread; other threads hand it work through {@link #post}.
 */
final class IndexSync implements TransactionSink {

    private static final Logger log = LoggerFactory.getLogger(IndexSync.class);
    private static final long MIN_BACKOFF_MS = 250;
    private static final long MAX_BACKOFF_MS = 5_000;
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
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile Phase phase = Phase.STARTING;
    private volatile String problem;
    /** Set once the bootstrap started taking the database's entries: later ones are built on their own. */
    private volatile boolean taking;

    // Replication thread state.
    private final Map<String, Synced> synced = new HashMap<>();
    private final Map<String, Pending> pending = new HashMap<>();
    private ReplicationConnection.SystemIdentity identity;
    private boolean initialized;
    private long lastCheckpointNanos = System.nanoTime();
    private long lastCleanAdvanceNanos = System.nanoTime();
    private long durable;

    /** Applied position and the commit time of the last applied transaction, read by sessions. */
    private volatile long appliedLsn;
    private volatile Instant appliedCommitTime = Instant.EPOCH;
    private volatile long serverLsn;
    private volatile long serverLsnNanos;

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
        this.store = new CheckpointStore(dataDir.resolve("replication").resolve(slot));
        this.thread = Thread.ofPlatform().name("neurondb-replication-" + database).daemon().unstarted(this::run);
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

    void start() {
        metrics.register(this, database);
        thread.start();
    }

    // ------------------------------------------------------------------ the replication thread

    private void run() {
        long backoff = MIN_BACKOFF_MS;
        while (!closed) {
            try (ReplicationConnection conn = ReplicationConnection.open(upstream, tls, database, Duration.ofSeconds(5))) {
                prepare(conn);
                phase = Phase.STREAMING;
                problem = null;
                openPositionConnection();
                backoff = MIN_BACKOFF_MS;
                log.info("event=replication_streaming db={} slot={} start_lsn={}", database, slot, Lsn.format(appliedLsn));
                new SlotStream(conn.startStream(slot, publication, appliedLsn, settings.statusInterval()), this,
                        settings.statusInterval(), durable).run(() -> closed);
            } catch (Throwable t) {
                dropPositionConnection();
                if (closed) {
                    break;
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
        dropPositionConnection();
        phase = Phase.CLOSED;
    }

    /** Checks, publication, slot; loads checkpoints or copies a fresh snapshot; sets the start position. */
    private void prepare(ReplicationConnection conn) throws Exception {
        List<String> problems = await(ReplicationPreflight.check(pool, slot));
        if (!problems.isEmpty() && !initialized) {
            closed = true;
            log.error("event=replication_unavailable db={} advice=\"{}\" fallback=\"indexes follow writes made through the proxy "
                    + "by rebuilds; writes made directly to PostgreSQL are not seen\"", database, String.join("; ", problems));
            problem = String.join("; ", problems);
            db.fallBackToRebuilds();
            throw new IllegalStateException(problem);
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("cannot follow database \"" + database + "\" by logical replication: "
                    + String.join("; ", problems));
        }
        ReplicationConnection.SystemIdentity id = conn.identifySystem();
        ensurePublication(wantedTables());
        ReplicationPreflight.SlotState slotState = await(ReplicationPreflight.slotState(pool, slot));
        refreshServerLsn();
        if (initialized) {
            String reason = resnapshotReason(identity, id, slotState);
            if (reason == null) {
                return; // resume from what is applied in memory
            }
            resnapshot(conn, id, slotState, reason);
            return;
        }
        CheckpointStore.Manifest manifest = store.load();
        String reason = manifest.present() ? resnapshotReason(new ReplicationConnection.SystemIdentity(manifest.systemId(),
                manifest.timeline(), 0), id, slotState) : (slotState.exists() ? "no local checkpoints" : null);
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

    private static String resnapshotReason(ReplicationConnection.SystemIdentity known, ReplicationConnection.SystemIdentity now,
                                           ReplicationPreflight.SlotState slot) {
        if (!known.systemId().equals(now.systemId())) {
            return "the server's system identifier changed from " + known.systemId() + " to " + now.systemId();
        }
        if (known.timeline() != now.timeline()) {
            return "the server's timeline changed from " + known.timeline() + " to " + now.timeline();
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
        log.warn("event=replication_resnapshot db={} slot={} reason=\"{}\"", database, slot, reason);
        metrics.resnapshot(database);
        if (slotState.exists()) {
            await(pool.preparedQuery("SELECT pg_drop_replication_slot($1)").execute(Tuple.of(slot)));
        }
        freshSnapshot(conn, id);
    }

    /** Creates the slot with an exported snapshot, builds every index inside it, and starts from the slot's point. */
    private void freshSnapshot(ReplicationConnection conn, ReplicationConnection.SystemIdentity id) throws Exception {
        phase = Phase.COPYING;
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
        for (VectorDatabase.Entry e : db.entriesForSync()) {
            Integer dims = db.dimsOf(e.def);
            try {
                VectorDatabase.Built b = await(db.buildFromSnapshot(e.def, dims, info.getSnapshotName()));
                db.installBuilt(e, b);
                synced.put(e.def.qualifiedName(), new Synced(e, point));
            } catch (Exception x) {
                db.buildFailed(e, x);
            }
        }
        identity = id;
        initialized = true;
        setApplied(point, null);
        durable = point;
        saveManifest();
        metrics.rebuilt(database);
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
        setApplied(tx.endLsn(), tx.commitTime());
        metrics.applied(database, tx.changes().size());
    }

    @Override
    public void caughtUp(long lsn) {
        if (lsn > appliedLsn) {
            setApplied(lsn, null);
        }
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
        try {
            for (Synced s : List.copyOf(synced.values())) {
                if (s.entry.dropped) {
                    synced.remove(s.entry.def.qualifiedName());
                    store.deleteIndex(CheckpointStore.fileName(s.entry.def.qualifiedName()));
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
                if (closed) {
                    // The sync gave up (no logical replication here): a plain build, as without it.
                    done.complete(await(db.buildFromSnapshot(def, dims, null)));
                    return;
                }
                ensurePublication(Set.of(def.table()));
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
                try (ReplicationConnection conn = ReplicationConnection.open(upstream, tls, database, Duration.ofSeconds(5))) {
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
                    done.complete(b);
                }
            } catch (Throwable t) {
                post(() -> pending.remove(name));
                done.fail(t instanceof java.util.concurrent.ExecutionException ? t.getCause() : t);
            }
        });
        return done.future();
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
                done.fail(new IllegalStateException("index " + name + " was not being prepared"));
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
            done.complete();
        });
        return done.future();
    }

    void cancel(IndexDefinition def) {
        post(() -> pending.remove(def.qualifiedName()));
    }

    /** Forgets a dropped index and its checkpoint. */
    void forget(IndexDefinition def) {
        post(() -> {
            if (synced.remove(def.qualifiedName()) != null) {
                store.deleteIndex(CheckpointStore.fileName(def.qualifiedName()));
            }
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

    private Set<TableName> wantedTables() {
        Set<TableName> out = new LinkedHashSet<>();
        for (VectorDatabase.Entry e : db.entriesForSync()) {
            out.add(e.def.table());
        }
        return out;
    }

    /** Creates the publication if missing and adds the tables it lacks (never removes: other instances may not share it). */
    private void ensurePublication(Set<TableName> tables) throws Exception {
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
