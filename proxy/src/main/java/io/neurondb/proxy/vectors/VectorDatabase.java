package io.neurondb.proxy.vectors;

import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.ProxyCommand;
import io.neurondb.proxy.route.TableName;
import io.neurondb.proxy.route.VectorCatalog;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * The engine side of one database behind the proxy: its vector catalog snapshot and the
 * engine indexes built from its tables. Thread-safe: sessions on any event loop call it.
 *
 * <p>Index life: {@code building} (first build) → {@code ready} (served); a write through the
 * proxy makes it {@code stale} (not served) until a debounced background rebuild catches up;
 * {@code REINDEX} builds a replacement while the old one keeps serving; a failed build leaves
 * it {@code failed} (not served) with the message. PostgreSQL stays the source of truth: an
 * index that is not served only means the query runs, exactly, in PostgreSQL.
 */
public final class VectorDatabase {

    private static final Logger log = LoggerFactory.getLogger(VectorDatabase.class);

    /** PostgreSQL's NAMEDATALEN - 1: the longest identifier in bytes. */
    private static final int MAX_IDENTIFIER_BYTES = 63;

    private final String database;
    private final Vertx vertx;
    /** Makes this database's connection pools: a new one replaces the pool closed by {@link #suspend}. */
    private final java.util.function.Supplier<Pool> pools;
    /** Catalog reads and table loads; replaced (never null) while a DROP DATABASE is attempted. */
    private volatile Pool pool;
    private final ComputeBackend compute;
    private final WorkerExecutor builds;
    private final int buildThreads;
    private final long debounceMillis;

    private volatile VectorCatalog catalog;
    private final AtomicLong versions = new AtomicLong();
    /** Orders local changes (register, drop, entry creation) against catalog reads. */
    private final AtomicLong changes = new AtomicLong();
    private final Map<String, Long> droppedAt = new ConcurrentHashMap<>();
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    /** Names of indexes being prepared or prepared but not yet registered. */
    private final Set<String> reserved = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Replication sync of this database's indexes; null when indexes follow writes through the proxy by rebuilds. */
    private volatile IndexSync sync;

    VectorDatabase(String database, Vertx vertx, java.util.function.Supplier<Pool> pools, ComputeBackend compute, WorkerExecutor builds,
                   int buildThreads, long debounceMillis) {
        this.database = database;
        this.vertx = vertx;
        this.pools = pools;
        this.pool = pools.get();
        this.compute = compute;
        this.builds = builds;
        this.buildThreads = buildThreads;
        this.debounceMillis = debounceMillis;
        this.catalog = VectorCatalog.EMPTY;
    }

    public String database() {
        return database;
    }

    /** The current catalog snapshot. */
    public VectorCatalog catalog() {
        return catalog;
    }

    // ------------------------------------------------------------------ catalog

    /**
     * Re-reads the catalog (next version) and reconciles the engine with it: indexes listed
     * but not held start building, held ones no longer listed are dropped. Local changes made
     * while the read ran win over it.
     */
    public Future<VectorCatalog> refreshCatalog() {
        long start = changes.get();
        long version = versions.incrementAndGet();
        return CatalogReader.read(pool, version).map(read -> install(read, start));
    }

    private synchronized VectorCatalog install(VectorCatalog read, long start) {
        if (closed) {
            return read;
        }
        Map<String, IndexDefinition> listed = new LinkedHashMap<>();
        for (IndexDefinition d : read.indexes()) {
            Long dropped = droppedAt.get(d.qualifiedName());
            if (dropped == null || dropped <= start) {
                listed.put(d.qualifiedName(), d);
            }
        }
        // Entries created after the read started (registered indexes) are kept and listed.
        for (Entry e : entries.values()) {
            if (e.born > start) {
                listed.put(e.def.qualifiedName(), e.def);
            }
        }
        for (Entry e : List.copyOf(entries.values())) {
            IndexDefinition now = listed.get(e.def.qualifiedName());
            if (e.born <= start && (now == null || !now.equals(e.def))) {
                dropEntry(e);
                log.info("event=index_dropped db={} index={} reason=\"not in catalog\"", database, e.def.qualifiedName());
            }
        }
        List<Entry> added = new ArrayList<>();
        for (IndexDefinition d : listed.values()) {
            if (!entries.containsKey(d.qualifiedName())) {
                Entry e = new Entry(d, changes.incrementAndGet());
                entries.put(d.qualifiedName(), e);
                added.add(e);
            }
        }
        droppedAt.values().removeIf(at -> at <= start);
        long v = Math.max(read.version(), catalog.version() + 1);
        versions.accumulateAndGet(v, Math::max);
        VectorCatalog installed = new VectorCatalog(v, read.tables(), List.copyOf(listed.values()));
        catalog = installed;
        // Builds read the column's dimensions from the catalog: start them once it is installed.
        for (Entry e : added) {
            requestBuild(e, null);
        }
        return installed;
    }

    private synchronized void updateIndexes(UnaryOperator<List<IndexDefinition>> change) {
        VectorCatalog c = catalog;
        catalog = new VectorCatalog(versions.incrementAndGet(), c.tables(), change.apply(new ArrayList<>(c.indexes())));
    }

    // ------------------------------------------------------------------ CREATE INDEX

    /**
     * Validates {@code CREATE INDEX} against the database and builds the index without
     * registering it. Fails with a {@link VectorSqlException} worded as PostgreSQL / pgvector
     * would. Names unqualified tables through the search path of the proxy's own connection.
     */
    public Future<PreparedIndex> prepareIndex(ProxyCommand.CreateVectorIndex cmd) {
        String written = cmd.table().toString();
        return pool.preparedQuery("""
                        SELECT c.oid::int8 AS table_oid, n.nspname::text AS schema_name, c.relname::text AS table_name,
                               c.relkind::text AS relkind,
                               (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                                 WHERE a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped) AS column_type,
                               (SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                 WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnkeyatts = 1) AS key_column,
                               (SELECT a.atttypid::int8 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                 WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnkeyatts = 1) AS key_type,
                               to_regclass('neurondb.vector_columns') IS NOT NULL AS has_catalog
                          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.oid = to_regclass($1)""")
                .execute(Tuple.of(cmd.table().toSql(), cmd.column()))
                .compose(rows -> {
                    if (rows.size() == 0) {
                        throw new VectorSqlException(VectorSqlException.UNDEFINED_TABLE, "relation \"" + written + "\" does not exist");
                    }
                    Row t = rows.iterator().next();
                    String relkind = t.getString("relkind");
                    if (!"r".equals(relkind) && !"m".equals(relkind) && !"p".equals(relkind)) {
                        throw new VectorSqlException(VectorSqlException.WRONG_OBJECT_TYPE, "cannot create index on relation \"" + written + "\"");
                    }
                    String columnType = t.getString("column_type");
                    if (columnType == null) {
                        throw new VectorSqlException(VectorSqlException.UNDEFINED_COLUMN, "column \"" + cmd.column() + "\" does not exist");
                    }
                    var op = IndexBuilds.operator(cmd.method(), cmd.opclass());
                    long oid = t.getLong("table_oid");
                    Future<Optional<Integer[]>> vectorColumn = t.getBoolean("has_catalog")
                            ? pool.preparedQuery("SELECT dims FROM neurondb.vector_columns WHERE table_name::oid = $1::int8::oid AND column_name = $2")
                                    .execute(Tuple.of(oid, cmd.column()))
                                    .map(r -> r.size() == 0 ? Optional.<Integer[]>empty() : Optional.of(new Integer[]{r.iterator().next().getInteger("dims")}))
                            : Future.succeededFuture(Optional.empty());
                    return vectorColumn.compose(vc -> {
                        if (vc.isEmpty()) {
                            throw new VectorSqlException(VectorSqlException.DATATYPE_MISMATCH,
                                    "operator class \"" + op.opclass() + "\" does not accept data type " + columnType);
                        }
                        Integer dims = vc.get()[0];
                        var options = IndexBuilds.parseOptions(cmd.method(), cmd.options());
                        String schema = t.getString("schema_name");
                        String table = t.getString("table_name");
                        return chooseName(cmd, schema, table).compose(name -> {
                            if (name.equals(ALREADY_EXISTS_MARK)) {
                                return Future.succeededFuture(new PreparedIndex(new IndexDefinition(schema, cmd.name(), new TableName(schema, table),
                                        cmd.column(), t.getString("key_column"), cmd.method(), op, options), null, 0, 0, 0, true));
                            }
                            IndexDefinition def = new IndexDefinition(schema, name, new TableName(schema, table), cmd.column(),
                                    t.getString("key_column"), cmd.method(), op, options);
                            String keyColumn = t.getString("key_column");
                            Long keyType = t.getLong("key_type");
                            if (keyColumn == null || keyType == null || (keyType != 20 && keyType != 23 && keyType != 21)) {
                                release(def);
                                throw new VectorSqlException(VectorSqlException.FEATURE_NOT_SUPPORTED,
                                        "NeuronDB indexes need a single-column integer primary key on table \"" + table + "\"",
                                        "The primary key value is the row id the index returns.",
                                        "Add a smallint, integer or bigint primary key to the table.", null);
                            }
                            IndexSync s = sync;
                            if (s != null) {
                                s.start(); // the database's first index: only now is a slot worth keeping
                            }
                            return (s != null ? s.prepare(def, dims).recover(x -> Future.failedFuture(VectorSqlException.from(x)))
                                    : buildFromTable(def, dims))
                                    .map(b -> new PreparedIndex(def, b.index, b.keyTypeOid, b.rows, b.seconds, false))
                                    .onFailure(x -> release(def));
                        });
                    });
                })
                .recover(t -> Future.failedFuture(VectorSqlException.from(t)));
    }

    private static final String ALREADY_EXISTS_MARK = "\u0000exists";

    /**
     * The index name: the given one if free (reserved until register/discard), else 42P07 or,
     * with IF NOT EXISTS, the mark for "skip"; when none was given, PostgreSQL's
     * {@code <table>_<column>_idx}, numbered until free.
     */
    private Future<String> chooseName(ProxyCommand.CreateVectorIndex cmd, String schema, String table) {
        List<String> candidates = new ArrayList<>();
        if (cmd.name() != null) {
            candidates.add(cmd.name());
        } else {
            for (int i = 0; i < 1000; i++) {
                candidates.add(makeObjectName(table, cmd.column(), i == 0 ? "idx" : "idx" + i));
            }
        }
        return pool.preparedQuery("""
                        SELECT c.relname::text AS relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = $1 AND c.relname::text = ANY($2)""")
                .execute(Tuple.tuple().addString(schema).addArrayOfString(candidates.toArray(new String[0])))
                .map(rows -> {
                    Set<String> taken = new HashSet<>();
                    for (Row r : rows) {
                        taken.add(r.getString(0));
                    }
                    for (String c : candidates) {
                        String qualified = schema + "." + c;
                        boolean free = !taken.contains(c) && !entries.containsKey(qualified)
                                && catalog.indexes().stream().noneMatch(d -> d.qualifiedName().equals(qualified));
                        if (free && reserved.add(qualified)) {
                            return c;
                        }
                        if (cmd.name() != null) {
                            if (cmd.ifNotExists()) {
                                return ALREADY_EXISTS_MARK;
                            }
                            throw new VectorSqlException(VectorSqlException.DUPLICATE_TABLE, "relation \"" + c + "\" already exists");
                        }
                    }
                    throw new VectorSqlException(VectorSqlException.DUPLICATE_TABLE,
                            "could not choose a free index name for table \"" + table + "\"");
                });
    }

    /** PostgreSQL's makeObjectName: {@code name1_name2_label}, the names clipped to fit 63 bytes. */
    static String makeObjectName(String name1, String name2, String label) {
        byte[] b1 = name1.getBytes(StandardCharsets.UTF_8);
        byte[] b2 = name2 == null ? new byte[0] : name2.getBytes(StandardCharsets.UTF_8);
        int overhead = (label == null ? 0 : label.getBytes(StandardCharsets.UTF_8).length + 1) + (name2 == null ? 0 : 1);
        int avail = MAX_IDENTIFIER_BYTES - overhead;
        int n1 = b1.length;
        int n2 = b2.length;
        while (n1 + n2 > avail) {
            if (n1 > n2) {
                n1--;
            } else {
                n2--;
            }
        }
        StringBuilder sb = new StringBuilder(clip(b1, n1));
        if (name2 != null) {
            sb.append('_').append(clip(b2, n2));
        }
        if (label != null) {
            sb.append('_').append(label);
        }
        return sb.toString();
    }

    /** The longest whole-character prefix of UTF-8 {@code bytes} within {@code max} bytes. */
    private static String clip(byte[] bytes, int max) {
        int n = Math.min(max, bytes.length);
        while (n > 0 && n < bytes.length && (bytes[n] & 0xC0) == 0x80) {
            n--;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    private void release(IndexDefinition def) {
        reserved.remove(def.qualifiedName());
    }

    /**
     * Makes a prepared index {@code ready} and served, after the caller committed its row in
     * {@code neurondb.indexes}; the catalog snapshot lists it from now on.
     */
    public void register(PreparedIndex p) {
        if (p.alreadyExists()) {
            return;
        }
        IndexDefinition def = p.def();
        synchronized (this) {
            Entry old = entries.get(def.qualifiedName());
            if (old != null) {
                dropEntry(old);
            }
            Entry e = new Entry(def, changes.incrementAndGet());
            e.index = p.index();
            e.keyTypeOid = p.keyTypeOid();
            e.buildSeconds = p.buildSeconds();
            e.builds.incrementAndGet();
            IndexSync s = sync;
            e.current = s == null;
            e.state = IndexState.READY;
            entries.put(def.qualifiedName(), e);
            droppedAt.remove(def.qualifiedName());
            if (s != null) {
                // Served once the transactions kept while it was built are replayed onto it.
                s.attach(e, p.index()).onSuccess(v -> e.current = true).onFailure(x -> buildFailed(e, x));
            }
            updateIndexes(list -> {
                list.removeIf(d -> d.qualifiedName().equals(def.qualifiedName()));
                list.add(def);
                return list;
            });
        }
        release(def);
        log.info("event=index_registered db={} index={} rows={} build_seconds={}", database, def.qualifiedName(), p.rows(),
                String.format("%.3f", p.buildSeconds()));
    }

    /** Frees a prepared index that will not be registered. */
    public void discard(PreparedIndex p) {
        if (!p.alreadyExists()) {
            IndexSync s = sync;
            if (s != null) {
                s.cancel(p.def());
            }
            release(p.def());
        }
    }

    // ------------------------------------------------------------------ serving

    /** The index serving {@code def}, only while it is current (ready, or being rebuilt by REINDEX). */
    public Optional<ServedIndex> served(IndexDefinition def) {
        Entry e = entries.get(def.qualifiedName());
        if (e == null || !e.def.equals(def)) {
            return Optional.empty();
        }
        VectorIndex index = e.index;
        IndexState state = e.state;
        if (index == null || !e.current || (state != IndexState.READY && state != IndexState.BUILDING)) {
            return Optional.empty();
        }
        IndexSync s = sync;
        if (s != null && !s.current()) {
            return Optional.empty(); // behind the table by more than replication.max_staleness_ms: PostgreSQL answers
        }
        return Optional.of(new ServedIndex(e.def, index, e.keyTypeOid));
    }

    /** Forgets an index, after the caller deleted its catalog row. */
    public void drop(IndexDefinition def) {
        synchronized (this) {
            Entry e = entries.get(def.qualifiedName());
            if (e != null) {
                dropEntry(e);
            }
            droppedAt.put(def.qualifiedName(), changes.incrementAndGet());
            IndexSync s = sync;
            if (s != null) {
                s.forget(def);
            }
            updateIndexes(list -> {
                list.removeIf(d -> d.qualifiedName().equals(def.qualifiedName()));
                return list;
            });
        }
        log.info("event=index_dropped db={} index={}", database, def.qualifiedName());
    }

    private void dropEntry(Entry e) {
        entries.remove(e.def.qualifiedName(), e);
        synchronized (e) {
            e.dropped = true;
            if (e.timer >= 0) {
                vertx.cancelTimer(e.timer);
                e.timer = -1;
            }
            e.index = null;
            for (Promise<Void> w : e.nextWaiters) {
                w.tryFail(new VectorSqlException(VectorSqlException.UNDEFINED_OBJECT, "index \"" + e.def.name() + "\" was dropped"));
            }
            e.nextWaiters.clear();
        }
    }

    /**
     * {@code REINDEX INDEX}: builds a replacement from the table and swaps it in; the old one
     * keeps serving meanwhile. Completes when the new one is in place (or fails with the build's error).
     */
    public Future<Void> rebuild(IndexDefinition def) {
        Entry e = entries.get(def.qualifiedName());
        if (e == null) {
            return Future.failedFuture(new VectorSqlException(VectorSqlException.UNDEFINED_OBJECT,
                    "index \"" + def.name() + "\" does not exist"));
        }
        Promise<Void> done = Promise.promise();
        requestBuild(e, done);
        return done.future();
    }

    /**
     * Rows of these tables were written through the proxy and committed: their indexes are
     * stale (not served) until a rebuild, started after a short quiet period, catches up.
     */
    public void tablesChanged(List<TableName> tables) {
        if (sync != null) {
            return; // the replication stream brings these writes
        }
        for (Entry e : indexesOn(tables)) {
            markWritten(e);
        }
    }

    /**
     * These tables were truncated: their indexes are emptied and stay served, or, when a build
     * is running, treated as written.
     */
    public void tablesTruncated(List<TableName> tables) {
        if (sync != null) {
            return; // the replication stream brings the TRUNCATE
        }
        for (Entry e : indexesOn(tables)) {
            synchronized (e) {
                if (e.dropped) {
                    continue;
                }
                VectorIndex old = e.index;
                if (e.running || old == null) {
                    markWritten(e);
                    continue;
                }
                e.writeSeq++;
                e.index = IndexBuilds.empty(e.def, old.dims(), compute);
                e.current = true;
                e.state = IndexState.READY;
                e.error = null;
            }
        }
    }

    private List<Entry> indexesOn(List<TableName> tables) {
        VectorCatalog c = catalog;
        List<TableName> resolved = new ArrayList<>();
        for (TableName t : tables) {
            resolved.add(c.table(t).map(VectorCatalog.Table::tableName).orElse(t));
        }
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries.values()) {
            TableName it = e.def.table();
            for (TableName t : resolved) {
                if (t.name().equals(it.name()) && (!t.qualified() || t.schema().equals(it.schema()))) {
                    out.add(e);
                    break;
                }
            }
        }
        return out;
    }

    private void markWritten(Entry e) {
        synchronized (e) {
            if (e.dropped) {
                return;
            }
            e.writeSeq++;
            e.current = false;
            e.state = IndexState.STALE;
            if (e.timer < 0 && !closed) {
                e.timer = vertx.setTimer(debounceMillis, id -> {
                    synchronized (e) {
                        if (e.timer != id) {
                            return;
                        }
                        e.timer = -1;
                    }
                    requestBuild(e, null);
                });
            }
        }
    }

    // ------------------------------------------------------------------ builds

    /** Starts a build of {@code e}, or queues one after the running build. */
    private void requestBuild(Entry e, Promise<Void> waiter) {
        IndexSync s = sync;
        if (s != null) {
            if (!s.takingEntries() && waiter == null) {
                s.start(); // a first index (another proxy's, found in the catalog) starts the sync
                return; // the sync's first start builds every entry from its slot's snapshot
            }
            syncBuild(s, e, waiter);
            return;
        }
        List<Promise<Void>> waiters;
        long seq;
        synchronized (e) {
            if (e.dropped || closed) {
                if (waiter != null) {
                    waiter.tryFail(new VectorSqlException(VectorSqlException.UNDEFINED_OBJECT, "index \"" + e.def.name() + "\" was dropped"));
                }
                return;
            }
            if (waiter != null) {
                e.nextWaiters.add(waiter);
            }
            if (e.running) {
                e.again = true;
                return;
            }
            e.running = true;
            e.again = false;
            waiters = new ArrayList<>(e.nextWaiters);
            e.nextWaiters.clear();
            seq = e.writeSeq;
            e.state = e.current ? IndexState.BUILDING : IndexState.STALE;
        }
        IndexDefinition def = e.def;
        Integer dims = catalog.table(def.table()).map(t -> t.vectorDims().get(def.column())).orElse(null);
        buildFromTable(def, dims).onComplete(result -> {
            boolean again;
            synchronized (e) {
                e.running = false;
                again = e.again && !e.dropped;
                e.again = false;
                if (e.dropped) {
                    waiters.forEach(w -> w.tryFail(new VectorSqlException(VectorSqlException.UNDEFINED_OBJECT,
                            "index \"" + def.name() + "\" was dropped")));
                    return;
                }
                if (result.succeeded()) {
                    Built b = result.result();
                    e.index = b.index;
                    e.keyTypeOid = b.keyTypeOid;
                    e.buildSeconds = b.seconds;
                    e.builds.incrementAndGet();
                    e.error = null;
                    if (e.writeSeq == seq) {
                        e.current = true;
                        e.state = IndexState.READY;
                    } else {
                        e.state = IndexState.STALE;
                    }
                    log.info("event=index_built db={} index={} rows={} build_seconds={} state={}", database, def.qualifiedName(),
                            b.rows, String.format("%.3f", b.seconds), e.state.sqlName());
                    waiters.forEach(Promise::tryComplete);
                } else {
                    VectorSqlException x = VectorSqlException.from(result.cause());
                    e.state = IndexState.FAILED;
                    e.error = x.getMessage();
                    log.warn("event=index_build_failed db={} index={} sqlstate={} error=\"{}\"", database, def.qualifiedName(),
                            x.sqlState(), x.getMessage());
                    waiters.forEach(w -> w.tryFail(x));
                }
            }
            if (again) {
                requestBuild(e, null);
            }
        });
    }

    record Built(VectorIndex index, int keyTypeOid, long rows, double seconds) {
    }

    /** Loads the column (on the pool's event loop, streamed) and builds on the build executor. */
    private Future<Built> buildFromTable(IndexDefinition def, Integer dims) {
        return buildFromSnapshot(def, dims, null);
    }

    /** As {@link #buildFromTable}, inside an exported snapshot when {@code snapshot} is not null. */
    Future<Built> buildFromSnapshot(IndexDefinition def, Integer dims, String snapshot) {
        long start = System.nanoTime();
        return TableRows.load(pool, def.table(), def.column(), def.keyColumn(), dims, snapshot)
                .compose(rows -> builds.executeBlocking(() -> {
                    VectorIndex index = IndexBuilds.build(def, rows, compute, buildThreads);
                    return new Built(index, rows.keyTypeOid(), rows.count(), (System.nanoTime() - start) / 1e9);
                }, false))
                .recover(t -> Future.failedFuture(VectorSqlException.from(t)));
    }

    // ------------------------------------------------------------------ replication sync

    /** Follows this database through logical replication from now on (before {@link #start}). */
    void followBy(IndexSync s) {
        this.sync = s;
    }

    IndexSync sync() {
        return sync;
    }

    /** Replication is not possible here: indexes follow writes through the proxy by rebuilds, as without it. */
    void fallBackToRebuilds() {
        sync = null;
        for (Entry e : List.copyOf(entries.values())) {
            if (e.index == null) {
                requestBuild(e, null);
            }
        }
    }

    /** A build of {@code e} consistent with the stream (REINDEX, or an index added while streaming). */
    private void syncBuild(IndexSync s, Entry e, Promise<Void> waiter) {
        synchronized (e) {
            if (e.dropped || closed) {
                if (waiter != null) {
                    waiter.tryFail(new VectorSqlException(VectorSqlException.UNDEFINED_OBJECT, "index \"" + e.def.name() + "\" was dropped"));
                }
                return;
            }
            if (e.index == null) {
                e.state = IndexState.BUILDING;
            }
        }
        s.prepare(e.def, dimsOf(e.def))
                .compose(b -> s.attach(e, b.index()).map(v -> b))
                .onSuccess(b -> {
                    installBuilt(e, b);
                    if (waiter != null) {
                        waiter.tryComplete();
                    }
                })
                .onFailure(x -> {
                    buildFailed(e, x);
                    if (waiter != null) {
                        waiter.tryFail(VectorSqlException.from(x));
                    }
                });
    }

    void requestSyncBuild(Entry e) {
        IndexSync s = sync;
        if (s != null) {
            syncBuild(s, e, null);
        }
    }

    List<Entry> entriesForSync() {
        return List.copyOf(entries.values());
    }

    Integer dimsOf(IndexDefinition def) {
        return catalog.table(def.table()).map(t -> t.vectorDims().get(def.column())).orElse(null);
    }

    /** A build finished and its index already holds what the stream applied: served from now on. */
    void installBuilt(Entry e, Built b) {
        synchronized (e) {
            if (e.dropped) {
                return;
            }
            e.index = b.index();
            e.keyTypeOid = b.keyTypeOid();
            e.buildSeconds = b.seconds();
            e.builds.incrementAndGet();
            e.error = null;
            e.current = true;
            e.state = IndexState.READY;
        }
        log.info("event=index_built db={} index={} rows={} build_seconds={} state=ready", database, e.def.qualifiedName(),
                b.rows(), String.format("%.3f", b.seconds()));
    }

    /** An index loaded from its checkpoint: served from now on, the stream brings it up to date. */
    void installLoaded(Entry e, VectorIndex index, int keyTypeOid) {
        synchronized (e) {
            if (e.dropped) {
                return;
            }
            e.index = index;
            e.keyTypeOid = keyTypeOid;
            e.error = null;
            e.current = true;
            e.state = IndexState.READY;
        }
    }

    void buildFailed(Entry e, Throwable t) {
        VectorSqlException x = markFailed(e, t);
        log.warn("event=index_build_failed db={} index={} sqlstate={} error=\"{}\"", database, e.def.qualifiedName(),
                x.sqlState(), x.getMessage());
    }

    /** Not served, for a reason the caller has logged already (no build ran, so no build failure is logged). */
    void reportUnavailable(Entry e, Throwable t) {
        markFailed(e, t);
    }

    private static VectorSqlException markFailed(Entry e, Throwable t) {
        VectorSqlException x = VectorSqlException.from(t);
        synchronized (e) {
            e.state = IndexState.FAILED;
            e.error = x.getMessage();
        }
        return x;
    }

    /** The index is about to be rebuilt from a new snapshot: not served until then. */
    void replicaStale(Entry e) {
        synchronized (e) {
            e.current = false;
            e.state = IndexState.BUILDING;
        }
    }

    /** TRUNCATE arrived through the stream: an empty index of the same kind takes its place. */
    void replaceWithEmpty(Entry e, int dims) {
        e.index = IndexBuilds.empty(e.def, dims, compute);
    }

    // ------------------------------------------------------------------ stats

    /** One row per engine index, for {@code neurondb.index_stats()}, ordered by name. */
    public List<IndexStatus> stats() {
        List<IndexStatus> out = new ArrayList<>();
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparing(e -> e.def.qualifiedName()));
        VectorCatalog c = catalog;
        for (Entry e : sorted) {
            IndexDefinition d = e.def;
            // State before index: builds publish the index first, then READY, so a READY read
            // here always comes with its index (never "ready with 0 rows").
            IndexState state = e.state;
            String error = e.error;
            double buildSeconds = e.buildSeconds;
            VectorIndex index = e.index;
            int dims = index != null ? index.dims()
                    : c.table(d.table()).map(t -> t.vectorDims().get(d.column())).map(x -> (int) x).orElse(0);
            out.add(new IndexStatus(d.name(), d.table().toString(), d.column(), d.method().sqlName(),
                    IndexBuilds.metricName(d.operator()), dims, index == null ? 0 : index.size(),
                    index == null ? 0 : index.memoryBytes(), buildSeconds, state, error, IndexBuilds.settingsInUse(d), e.builds.get()));
        }
        return out;
    }

    /** Whether the engine index {@code schema.name} holds row {@code rowId} now (operators' and tests' view of the contents). */
    public boolean holds(String schema, String name, long rowId) {
        Entry e = entries.get(schema + "." + name);
        VectorIndex index = e == null ? null : e.index;
        return index != null && index.contains(rowId);
    }

    /** Rows the engine index {@code schema.name} holds now, -1 when it holds none. */
    public int rows(String schema, String name) {
        Entry e = entries.get(schema + "." + name);
        VectorIndex index = e == null ? null : e.index;
        return index == null ? -1 : index.size();
    }

    /** The replication position applied to this database's indexes, empty when replication sync is off. */
    public java.util.OptionalLong appliedLsn() {
        IndexSync s = sync;
        return s == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(s.appliedLsn());
    }

    /**
     * {@code neurondb.consistency = read_your_writes}: completes once the indexes have applied
     * everything committed before this call, or fails (SQLSTATE 55000, saying how far behind)
     * after {@code timeoutMillis}. Completes at once when replication sync is off: then writes
     * through the proxy mark their indexes stale and kNN takes the exact path until a rebuild.
     */
    public Future<Void> awaitCommitted(long timeoutMillis) {
        IndexSync s = sync;
        if (s == null || !s.started()) { // not started: no index follows anything yet
            return Future.succeededFuture();
        }
        return AppliedLsnWait.start(vertx, pool, s, database, timeoutMillis);
    }

    /** Bytes of WAL the server has written beyond what the indexes applied; empty when replication sync is off. */
    public java.util.OptionalLong lagBytes() {
        IndexSync s = sync;
        return s == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(s.lagBytes());
    }

    /** Age of the last applied commit while behind, 0 when current; empty when replication sync is off. */
    public java.util.OptionalDouble lagSeconds() {
        IndexSync s = sync;
        return s == null ? java.util.OptionalDouble.empty() : java.util.OptionalDouble.of(s.lagSeconds());
    }

    /** Whether this database's indexes follow the tables through replication sync now. */
    public boolean replicating() {
        return sync != null;
    }

    /** This database's replication slot name, empty when replication sync is off. */
    public Optional<String> replicationSlot() {
        IndexSync s = sync;
        return s == null ? Optional.empty() : Optional.of(s.slot());
    }

    /** The state of one index, or empty when the engine does not hold it. */
    public Optional<IndexState> state(String schema, String name) {
        Entry e = entries.get(schema + "." + name);
        return e == null ? Optional.empty() : Optional.of(e.state);
    }

    // ------------------------------------------------------------------ life

    /** Starts from a freshly read catalog: every listed index starts building. */
    void start(VectorCatalog initial) {
        install(initial, changes.get());
    }

    /** The pool catalog reads and table loads use now. */
    Pool pool() {
        return pool;
    }

    /**
     * Disconnects from the database without forgetting it, so that PostgreSQL lets a
     * {@code DROP DATABASE} through (it refuses while another session or an active logical slot
     * uses the database): the replication stream stops after a last checkpoint, the pool is
     * closed and replaced by an unconnected one. Indexes are kept but not served meanwhile (the
     * stopped stream is not current: kNN runs in PostgreSQL). Blocks
     * until the replication thread has ended: call it on a worker thread.
     */
    Future<Void> suspend() {
        IndexSync s = sync;
        if (s != null) {
            s.close();
        }
        Pool old = pool;
        pool = pools.get();
        return old.close();
    }

    /** After {@link #suspend} when the database was not dropped: follows it again from the last checkpoint and the slot. */
    void resume(java.util.function.Function<VectorDatabase, IndexSync> syncs) {
        if (sync == null || closed) {
            return; // not following by replication: nothing was stopped
        }
        IndexSync next = syncs.apply(this);
        boolean wasStarted = sync.started();
        sync = next;
        if (wasStarted) {
            next.start();
        }
    }

    /**
     * Stops following the database and drops its indexes. Stopping the replication thread waits
     * for its last checkpoint and for the thread to end, which takes up to a minute when the
     * server does not answer, so it runs on a worker: close is also called where an open
     * completes, an event loop, which it once blocked for 68 s.
     */
    Future<Void> close() {
        synchronized (this) {
            closed = true;
        }
        IndexSync s = sync;
        Future<Void> stopped = s == null ? Future.succeededFuture() : vertx.<Void>executeBlocking(() -> {
            s.close();
            return null;
        }, false).recover(t -> {
            log.warn("event=replication_stop_failed db={} error=\"{}\"", database, t.toString());
            return Future.succeededFuture();
        });
        return stopped.compose(v -> {
            for (Entry e : List.copyOf(entries.values())) {
                dropEntry(e);
            }
            return pool.close();
        });
    }

    /** One engine index and its build state; fields written under the entry's lock. */
    static final class Entry {
        final IndexDefinition def;
        final long born;
        volatile VectorIndex index;
        volatile int keyTypeOid;
        volatile double buildSeconds;
        /** Builds of this index completed (the first one, REINDEX, rebuilds after writes): a metric. */
        final java.util.concurrent.atomic.AtomicLong builds = new java.util.concurrent.atomic.AtomicLong();
        volatile IndexState state = IndexState.BUILDING;
        volatile String error;
        /** Whether {@link #index} reflects the table (no write since its build started). */
        volatile boolean current = true;
        long writeSeq;
        boolean running;
        boolean again;
        boolean dropped;
        long timer = -1;
        final List<Promise<Void>> nextWaiters = new ArrayList<>();

        Entry(IndexDefinition def, long born) {
            this.def = def;
            this.born = born;
        }
    }
}
