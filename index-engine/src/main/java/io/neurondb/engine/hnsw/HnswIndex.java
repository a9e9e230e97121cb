package io.neurondb.engine.hnsw;

import io.neurondb.engine.Metric;
import io.neurondb.engine.RowFilter;
import io.neurondb.engine.SearchParams;
import io.neurondb.engine.SearchResult;
import io.neurondb.engine.VectorEngineException.InvalidVectorException;
import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.VectorValidation;
import io.neurondb.engine.storage.ExactScan;
import io.neurondb.engine.storage.VectorStore;
import io.neurondb.engine.util.LongIntHashMap;
import io.neurondb.engine.util.NodeHeap;
import io.neurondb.engine.vector.Distance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.IntConsumer;

/**
 * Hierarchical navigable small world graph (Malkov and Yashunin), with pgvector's parameters.
 *
 * <p>Concurrency:
 * <ul>
 * <li>Row-id bookkeeping (map, tombstones, node allocation) serialises on {@code idLock};
 *     the graph work of an insert (search + linking) runs outside it, in parallel with other
 *     inserts and searches.</li>
 * <li>A neighbour list changes only under its node's stripe lock ({@link HnswGraph#lock}); a
 *     thread holds at most one such lock at a time, so there is no lock ordering to get
 *     wrong.</li>
 * <li>Searches take no lock. They only follow ids below the store's published count, read
 *     once per search, so every vector they read is fully written.</li>
 * <li>{@link #repair} serialises with itself; it may run alongside inserts and searches.</li>
 * </ul>
 *
 * <p>Deletes tombstone the node: searches still walk through it (the graph stays connected)
 * but never return it. {@link #repair} relinks live nodes around deleted ones and cuts the
 * deleted nodes out, as pgvector's VACUUM does; their slots are not reused.
 */
public final class HnswIndex implements VectorIndex {

    private static final Logger LOG = LoggerFactory.getLogger(HnswIndex.class);
    private static final int MAX_LEVEL = 30;

    private final int dims;
    private final HnswParams params;
    private final Distance distance;
    private final VectorStore store;
    private final HnswGraph graph;
    private final double levelMultiplier;

    private final Object idLock = new Object();
    private final LongIntHashMap nodeOfRow; // guarded by idLock
    private final SplittableRandom levelRandom; // guarded by idLock
    private final Object repairLock = new Object();
    /**
     * Inserts hold the read side while they link a node; {@link #repair} takes the write side
     * only to cut deleted nodes out. An insert must not watch the graph lose those nodes
     * halfway through its own search: it would see a hole where its neighbourhood was and
     * link to whatever lay beyond it.
     */
    private final ReentrantReadWriteLock cutLock = new ReentrantReadWriteLock();
    private final ThreadLocal<SearchScratch> scratch;

    public HnswIndex(int dims, Metric metric, HnswParams params) {
        this(dims, metric, params, Distance.of(metric));
    }

    /** With explicit kernels: tests use it to run the same index on scalar and Panama code. */
    public HnswIndex(int dims, Metric metric, HnswParams params, Distance distance) {
        VectorValidation.checkDims(dims);
        this.dims = dims;
        this.params = params;
        this.distance = distance;
        this.store = new VectorStore(dims);
        this.graph = new HnswGraph(params.m());
        this.levelMultiplier = 1.0 / Math.log(params.m());
        this.nodeOfRow = new LongIntHashMap(1024);
        this.levelRandom = new SplittableRandom(42);
        this.scratch = ThreadLocal.withInitial(() -> new SearchScratch(graph.maxConn0));
        if (distance.metric() != metric) {
            throw new IllegalArgumentException("distance is for " + distance.metric() + ", not " + metric);
        }
    }

    public HnswParams params() {
        return params;
    }

    @Override
    public int dims() {
        return dims;
    }

    @Override
    public Metric metric() {
        return distance.metric();
    }

    // ---------------------------------------------------------------- inserts and deletes

    @Override
    public void insert(long rowId, float[] vector) {
        VectorValidation.checkVector(vector, dims, distance.metric());
        float[] prepared = distance.prepare(vector);
        int node = allocate(rowId, prepared);
        connect(node, prepared, 0);
    }

    /**
     * Inserts a batch using {@code threads} threads for the graph work, e.g. the initial build
     * of an index from a table. {@code vectors} is row-major, {@code rowIds.length * dims}
     * floats. Every row is validated before any is inserted.
     */
    public void insertAll(long[] rowIds, float[] vectors, int threads) {
        int n = rowIds.length;
        if (vectors.length != (long) n * dims) {
            throw new InvalidVectorException("expected " + ((long) n * dims) + " floats for "
                    + n + " vectors of " + dims + " dimensions, not " + vectors.length);
        }
        float[][] prepared = new float[n][];
        for (int i = 0; i < n; i++) {
            float[] row = Arrays.copyOfRange(vectors, i * dims, (i + 1) * dims);
            VectorValidation.checkVector(row, dims, distance.metric());
            prepared[i] = distance.prepare(row);
        }
        int[] nodes = new int[n];
        for (int i = 0; i < n; i++) {
            nodes[i] = allocate(rowIds[i], prepared[i]);
            prepared[i] = null; // the store holds the copy now; let the garbage go early
        }
        AtomicInteger next = new AtomicInteger();
        runInParallel(threads, () -> {
            for (int i; (i = next.getAndIncrement()) < n; ) {
                int node = nodes[i];
                connect(node, store.block(node), store.offset(node));
            }
        });
    }

    private static void runInParallel(int threads, Runnable work) {
        if (threads <= 1) {
            work.run();
            return;
        }
        Thread[] workers = new Thread[threads];
        RuntimeException[] failure = new RuntimeException[1];
        for (int t = 0; t < threads; t++) {
            workers[t] = Thread.ofPlatform().name("hnsw-build-" + t).start(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            });
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while building", e);
            }
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private int allocate(long rowId, float[] prepared) {
        synchronized (idLock) {
            int level = randomLevel();
            int old = nodeOfRow.get(rowId);
            if (old >= 0) {
                store.markDeleted(old); // an update: the old version becomes a tombstone
            }
            int node = store.append(rowId, prepared, n -> graph.allocate(n, level));
            nodeOfRow.put(rowId, node);
            return node;
        }
    }

    /** Exponentially distributed level with mean 1 / ln(m), as in the HNSW paper. */
    private int randomLevel() {
        double u = 1.0 - levelRandom.nextDouble(); // in (0, 1], so log is finite
        return Math.min(MAX_LEVEL, (int) (-Math.log(u) * levelMultiplier));
    }

    @Override
    public boolean delete(long rowId) {
        synchronized (idLock) {
            int node = nodeOfRow.remove(rowId);
            return node >= 0 && store.markDeleted(node);
        }
    }

    /** Links a freshly allocated node into every layer up to its level. */
    private void connect(int node, float[] q, int qo) {
        cutLock.readLock().lock();
        try {
            connectLocked(node, q, qo);
        } finally {
            cutLock.readLock().unlock();
        }
    }

    private void connectLocked(int node, float[] q, int qo) {
        int level = graph.level(node);
        long entry = graph.entry();
        if (entry < 0) {
            if (graph.offerEntry(node, level)) {
                return;
            }
            entry = graph.entry();
        }
        SearchScratch s = scratch.get();
        int visible = store.count();
        int top = HnswGraph.entryLevel(entry);
        long cur = descend(q, qo, HnswGraph.entryNode(entry), top, level, visible);
        for (int l = Math.min(level, top); l >= 0; l--) {
            searchLayer(q, qo, NodeHeap.node(cur), NodeHeap.distance(cur), params.efConstruction(), l,
                    null, Integer.MAX_VALUE, visible, node, s);
            long[] found = s.results.toEncodedArray();
            Arrays.sort(found);
            if (found.length > 0) {
                cur = found[0];
            }
            int n = selectDiverse(found, found.length, params.m(), s);
            int[] chosen = Arrays.copyOf(s.selected, n);
            // Added one by one rather than set: a concurrent insert that reached this node
            // through a higher layer may already have linked itself here.
            for (int neighbor : chosen) {
                addLink(node, neighbor, l, s);
            }
            for (int neighbor : chosen) {
                addLink(neighbor, node, l, s);
            }
        }
        if (level > top) {
            graph.offerEntry(node, level);
        }
    }

    /**
     * Adds {@code node} to {@code target}'s list at {@code level}.
     *
     * <p>A full list is not re-chosen from scratch (that costs about cnt^2 / 2 distances): its
     * members already passed the diversity heuristic, so only pairs involving the newcomer can
     * change the outcome. That needs at most 2 * cnt distances: the newcomer is dropped if a
     * closer member already covers it, otherwise it replaces a tombstone, else the farthest
     * member it makes redundant, else the farthest member if it is closer than that one.
     */
    private void addLink(int target, int node, int level, SearchScratch s) {
        int max = graph.maxConn(level);
        synchronized (graph.lock(target)) {
            int[] a = graph.array(target, level);
            int off = graph.offset(target, level);
            int cnt = a[off];
            for (int i = 1; i <= cnt; i++) {
                if (a[off + i] == node) {
                    return;
                }
            }
            if (cnt < max) {
                a[off + 1 + cnt] = node;
                a[off] = cnt + 1;
                return;
            }
            float[] tb = store.block(target);
            int to = store.offset(target);
            float[] nb = store.block(node);
            int no = store.offset(node);
            float toNew = distance.between(tb, to, nb, no, dims);
            int victim = -1;
            float victimDist = Float.NEGATIVE_INFINITY;
            int farthest = -1;
            float farthestDist = Float.NEGATIVE_INFINITY;
            for (int i = 1; i <= cnt; i++) {
                int x = a[off + i];
                if (store.isDeleted(x)) {
                    a[off + i] = node;
                    return;
                }
                float[] xb = store.block(x);
                int xo = store.offset(x);
                float toX = distance.between(tb, to, xb, xo, dims);
                float newToX = distance.between(nb, no, xb, xo, dims);
                if (toX < toNew && newToX < toNew) {
                    return; // a closer member already points the newcomer's way
                }
                if (toX > toNew && newToX < toX && toX > victimDist) {
                    victim = i;
                    victimDist = toX;
                }
                if (toX > farthestDist) {
                    farthest = i;
                    farthestDist = toX;
                }
            }
            if (victim > 0) {
                a[off + victim] = node;
            } else if (farthestDist > toNew) {
                a[off + farthest] = node;
            }
        }
    }

    /**
     * The HNSW paper's neighbour heuristic: walking candidates nearest first, keep one only if
     * it is closer to the base than to every neighbour already kept. This favours links in
     * different directions over a clump of near-duplicates, which keeps the graph navigable.
     * Candidates are encoded (node, distance-to-base) pairs, sorted; fills {@code s.selected}.
     */
    private int selectDiverse(long[] sorted, int count, int max, SearchScratch s) {
        s.ensureSelection(max);
        int n = 0;
        for (int i = 0; i < count && n < max; i++) {
            int c = NodeHeap.node(sorted[i]);
            if (n > 0 && s.selected[n - 1] == c) {
                continue; // the same node from two candidate sources
            }
            float toBase = NodeHeap.distance(sorted[i]);
            float[] cb = store.block(c);
            int co = store.offset(c);
            boolean keep = true;
            for (int j = 0; j < n && keep; j++) {
                int kept = s.selected[j];
                keep = distance.between(cb, co, store.block(kept), store.offset(kept), dims) >= toBase;
            }
            if (keep) {
                s.selected[n++] = c;
            }
        }
        return n;
    }

    private static boolean contains(int[] a, int x) {
        return contains(a, a.length, x);
    }

    private static boolean contains(int[] a, int n, int x) {
        for (int i = 0; i < n; i++) {
            if (a[i] == x) {
                return true;
            }
        }
        return false;
    }

    /**
     * Tops {@code s.selected} up to {@code max} with the nearest candidates the heuristic
     * pruned (the paper's "keep pruned connections"). A repaired node would otherwise keep only
     * its diverse core, about half of what inserts give it through reverse links over time, and
     * the thinner graph loses recall.
     */
    private int fillWithNearest(long[] sorted, int count, int max, int n, SearchScratch s) {
        for (int i = 0; i < count && n < max; i++) {
            int c = NodeHeap.node(sorted[i]);
            boolean present = false;
            for (int j = 0; j < n && !present; j++) {
                present = s.selected[j] == c;
            }
            if (!present) {
                s.selected[n++] = c;
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- search

    @Override
    public SearchResult search(float[] query, SearchParams p, RowFilter filter) {
        VectorValidation.checkVector(query, dims, distance.metric());
        float[] q = distance.prepare(query);
        long entry = graph.entry();
        if (entry < 0) {
            return SearchResult.EMPTY;
        }
        int visible = store.count();
        long cur = descend(q, 0, HnswGraph.entryNode(entry), HnswGraph.entryLevel(entry), 0, visible);
        SearchScratch s = scratch.get();
        int ef = Math.max(p.efSearch(), p.k());
        // Only a filter or tombstones can make the beam run dry of acceptable rows; then the
        // search keeps exploring (pgvector's iterative scan) up to maxVisited nodes.
        boolean iterative = filter != RowFilter.ALL || store.deletedCount() > 0;
        searchLayer(q, 0, NodeHeap.node(cur), NodeHeap.distance(cur), ef, 0, filter,
                iterative ? p.maxVisited() : Integer.MAX_VALUE, visible, -1, s);
        NodeHeap results = s.results;
        while (results.size() > p.k()) {
            results.pop();
        }
        return ExactScan.toResult(results, store, distance.metric());
    }

    /** Greedy walk down from {@code fromLevel} to just above {@code toLevel}; returns (node, distance). */
    private long descend(float[] q, int qo, int start, int fromLevel, int toLevel, int visible) {
        int cur = start;
        float curDist = distance.between(q, qo, store.block(cur), store.offset(cur), dims);
        for (int l = fromLevel; l > toLevel; l--) {
            boolean moved = true;
            while (moved) {
                moved = false;
                int[] a = graph.array(cur, l);
                int off = graph.offset(cur, l);
                int cnt = a[off];
                for (int i = 1; i <= cnt; i++) {
                    int nb = a[off + i];
                    if (nb >= visible) {
                        continue;
                    }
                    float d = distance.between(q, qo, store.block(nb), store.offset(nb), dims);
                    if (d < curDist) {
                        curDist = d;
                        cur = nb;
                        moved = true;
                    }
                }
            }
        }
        return NodeHeap.encode(cur, curDist);
    }

    /**
     * Beam search of one layer. Leaves in {@code s.results} up to {@code ef} nearest nodes that
     * are acceptable: not deleted, not {@code exclude}, and passing {@code filter} (null during
     * construction, meaning no filter). Rejected nodes are still expanded, so the walk goes on
     * through them; it stops when the nearest unexpanded candidate is farther than the worst
     * of {@code ef} results, or after {@code maxVisited} nodes.
     */
    private void searchLayer(float[] q, int qo, int entry, float entryDist, int ef, int level,
                             RowFilter filter, int maxVisited, int visible, int exclude, SearchScratch s) {
        s.visited.reset(visible);
        NodeHeap candidates = s.candidates;
        NodeHeap results = s.results;
        candidates.clear();
        results.clear();
        boolean checkFilter = filter != null && filter != RowFilter.ALL;
        s.visited.visit(entry);
        candidates.push(entry, entryDist);
        if (acceptable(entry, exclude, checkFilter, filter)) {
            results.push(entry, entryDist);
        }
        int visitedCount = 1;
        while (!candidates.isEmpty()) {
            long top = candidates.pop();
            if (results.size() >= ef && NodeHeap.distance(top) > results.topDistance()) {
                break;
            }
            int node = NodeHeap.node(top);
            int[] a = graph.array(node, level);
            int off = graph.offset(node, level);
            int cnt = a[off];
            int fresh = 0;
            for (int i = 1; i <= cnt; i++) {
                int nb = a[off + i];
                if (nb < visible && s.visited.visit(nb)) {
                    s.batch[fresh++] = nb;
                }
            }
            visitedCount += fresh;
            scoreBatch(q, qo, s.batch, fresh, s);
            for (int i = 0; i < fresh; i++) {
                int nb = s.batch[i];
                float d = s.batchDistances[i];
                if (results.size() < ef || d < results.topDistance()) {
                    candidates.push(nb, d);
                    if (acceptable(nb, exclude, checkFilter, filter)) {
                        results.pushBounded(nb, d, ef);
                    }
                }
            }
            if (visitedCount >= maxVisited) {
                break;
            }
        }
    }

    /** Distances from the query to {@code nodes[0..count)}, four at a time, into {@code s.batchDistances}. */
    private void scoreBatch(float[] q, int qo, int[] nodes, int count, SearchScratch s) {
        float[] out = s.batchDistances;
        int i = 0;
        for (; i + 4 <= count; i += 4) {
            int n0 = nodes[i];
            int n1 = nodes[i + 1];
            int n2 = nodes[i + 2];
            int n3 = nodes[i + 3];
            distance.between4(q, qo, store.block(n0), store.offset(n0), store.block(n1), store.offset(n1),
                    store.block(n2), store.offset(n2), store.block(n3), store.offset(n3), dims, s.four);
            System.arraycopy(s.four, 0, out, i, 4);
        }
        if (i < count) {
            // Pad the last group by repeating its final node: one four-row pass over rows
            // already in cache costs less than up to three single-row passes.
            int n0 = nodes[i];
            int n1 = nodes[Math.min(i + 1, count - 1)];
            int n2 = nodes[Math.min(i + 2, count - 1)];
            distance.between4(q, qo, store.block(n0), store.offset(n0), store.block(n1), store.offset(n1),
                    store.block(n2), store.offset(n2), store.block(n2), store.offset(n2), dims, s.four);
            System.arraycopy(s.four, 0, out, i, count - i);
        }
    }

    private boolean acceptable(int node, int exclude, boolean checkFilter, RowFilter filter) {
        return node != exclude && !store.isDeleted(node) && (!checkFilter || filter.accept(store.rowId(node)));
    }

    // ---------------------------------------------------------------- repair

    /**
     * Relinks every live node that points at a deleted one, then cuts the deleted nodes out of
     * the graph (pgvector's VACUUM). Relinking searches the graph again for the node, as an
     * insert would, and merges the result with its surviving neighbours, so recall holds up
     * after many deletes. Returns the number of nodes relinked.
     */
    public int repair(int threads) {
        synchronized (repairLock) {
            int visible = store.count();
            boolean[] dead = new boolean[visible];
            int deadCount = 0;
            for (int node = 0; node < visible; node++) {
                dead[node] = store.isDeleted(node);
                deadCount += dead[node] ? 1 : 0;
            }
            if (deadCount == 0) {
                return reconnectUnreachable(3);
            }
            moveEntryOffDeleted(visible);
            // Affected: live nodes that link to a deleted one (they lose out-links), and live
            // nodes a deleted one links to (they may lose their only in-links and become
            // unreachable). Relinking gives both fresh lists and fresh reverse links.
            boolean[] isAffected = new boolean[visible];
            for (int node = 0; node < visible; node++) {
                if (dead[node]) {
                    markLiveNeighbors(node, dead, isAffected);
                } else if (linksToDead(node, dead)) {
                    isAffected[node] = true;
                }
            }
            int[] affected = new int[visible];
            int affectedCount = 0;
            for (int node = 0; node < visible; node++) {
                if (isAffected[node]) {
                    affected[affectedCount++] = node;
                }
            }
            int total = affectedCount;
            AtomicInteger next = new AtomicInteger();
            runInParallel(threads, () -> {
                for (int i; (i = next.getAndIncrement()) < total; ) {
                    relink(affected[i]);
                }
            });
            cutLock.writeLock().lock();
            try {
                for (int node = 0; node < visible; node++) {
                    if (dead[node]) {
                        for (int l = graph.level(node); l >= 0; l--) {
                            synchronized (graph.lock(node)) {
                                graph.setNeighbors(node, l, new int[0], 0);
                            }
                        }
                    }
                }
            } finally {
                cutLock.writeLock().unlock();
            }
            int rescued = reconnectUnreachable(3);
            LOG.debug("HNSW repair: {} deleted nodes cut out, {} nodes relinked, {} unreachable nodes reconnected",
                    deadCount, total, rescued);
            return total + rescued;
        }
    }

    /**
     * Pruning can, rarely, take away a node's last in-link (in any HNSW, not only after
     * deletes), and then no search reaches it. This walks layer 0 from the entry point and
     * relinks every live node it did not reach, forcing one in-link from its nearest
     * neighbour. Forcing may in turn strand the member it displaced, hence a few rounds.
     * Returns the number of nodes reconnected.
     */
    private int reconnectUnreachable(int rounds) {
        int total = 0;
        for (int round = 0; round < rounds; round++) {
            long entry = graph.entry();
            int visible = store.count();
            if (entry < 0) {
                return total;
            }
            boolean[] seen = new boolean[visible];
            int[] queue = new int[visible];
            int head = 0;
            int tail = 0;
            queue[tail++] = HnswGraph.entryNode(entry);
            seen[queue[0]] = true;
            while (head < tail) {
                int node = queue[head++];
                int[] a = graph.array(node, 0);
                int off = graph.offset(node, 0);
                for (int i = 1, cnt = a[off]; i <= cnt; i++) {
                    int nb = a[off + i];
                    if (nb < visible && !seen[nb]) {
                        seen[nb] = true;
                        queue[tail++] = nb;
                    }
                }
            }
            int stranded = 0;
            SearchScratch s = scratch.get();
            for (int node = 0; node < visible; node++) {
                if (!seen[node] && !store.isDeleted(node)) {
                    stranded++;
                    relink(node);
                    int[] a = graph.array(node, 0);
                    int off = graph.offset(node, 0);
                    if (a[off] > 0) {
                        forceLink(a[off + 1], node, s);
                    }
                }
            }
            total += stranded;
            if (stranded == 0) {
                break;
            }
        }
        return total;
    }

    /** Puts {@code node} in {@code target}'s layer-0 list, displacing its farthest member if full. */
    private void forceLink(int target, int node, SearchScratch s) {
        synchronized (graph.lock(target)) {
            int[] a = graph.array(target, 0);
            int off = graph.offset(target, 0);
            int cnt = a[off];
            for (int i = 1; i <= cnt; i++) {
                if (a[off + i] == node) {
                    return;
                }
            }
            if (cnt < graph.maxConn0) {
                a[off + 1 + cnt] = node;
                a[off] = cnt + 1;
                return;
            }
            float[] tb = store.block(target);
            int to = store.offset(target);
            int farthest = 1;
            float farthestDist = Float.NEGATIVE_INFINITY;
            for (int i = 1; i <= cnt; i++) {
                int x = a[off + i];
                float d = distance.between(tb, to, store.block(x), store.offset(x), dims);
                if (d > farthestDist) {
                    farthestDist = d;
                    farthest = i;
                }
            }
            a[off + farthest] = node;
        }
    }

    private void markLiveNeighbors(int node, boolean[] dead, boolean[] out) {
        for (int l = graph.level(node); l >= 0; l--) {
            int[] a = graph.array(node, l);
            int off = graph.offset(node, l);
            for (int i = 1, cnt = a[off]; i <= cnt; i++) {
                int nb = a[off + i];
                if (nb < dead.length && !dead[nb]) {
                    out[nb] = true;
                }
            }
        }
    }

    private boolean linksToDead(int node, boolean[] dead) {
        for (int l = graph.level(node); l >= 0; l--) {
            int[] a = graph.array(node, l);
            int off = graph.offset(node, l);
            for (int i = 1, cnt = a[off]; i <= cnt; i++) {
                int nb = a[off + i];
                if (nb < dead.length && dead[nb]) {
                    return true;
                }
            }
        }
        return false;
    }

    /** If the entry point is deleted, moves it to a live node of the highest level. */
    private void moveEntryOffDeleted(int visible) {
        long entry = graph.entry();
        if (entry >= 0 && !store.isDeleted(HnswGraph.entryNode(entry))) {
            return;
        }
        int best = -1;
        int bestLevel = -1;
        for (int node = 0; node < visible; node++) {
            if (!store.isDeleted(node) && graph.level(node) > bestLevel) {
                best = node;
                bestLevel = graph.level(node);
            }
        }
        graph.setEntry(best, bestLevel);
    }

    private void relink(int node) {
        // Read now, not at the start of the repair: nodes inserted meanwhile are legitimate
        // neighbours, and leaving them out here would drop their links.
        int visible = store.count();
        float[] q = store.block(node);
        int qo = store.offset(node);
        long entry = graph.entry();
        if (entry < 0) {
            return;
        }
        SearchScratch s = scratch.get();
        int level = graph.level(node);
        int top = HnswGraph.entryLevel(entry);
        long cur = descend(q, qo, HnswGraph.entryNode(entry), top, level, visible);
        for (int l = Math.min(level, top); l >= 0; l--) {
            searchLayer(q, qo, NodeHeap.node(cur), NodeHeap.distance(cur), params.efConstruction(), l,
                    null, Integer.MAX_VALUE, visible, node, s);
            long[] found = s.results.toEncodedArray();
            int[] a = graph.array(node, l);
            int off = graph.offset(node, l);
            int cnt = Math.min(a[off], graph.maxConn(l));
            long[] pool = Arrays.copyOf(found, found.length + cnt);
            int poolSize = found.length;
            for (int i = 1; i <= cnt; i++) {
                int nb = a[off + i];
                if (nb < visible && nb != node && !store.isDeleted(nb)) {
                    pool[poolSize++] = NodeHeap.encode(nb, distance.between(q, qo, store.block(nb), store.offset(nb), dims));
                }
            }
            Arrays.sort(pool, 0, poolSize);
            if (poolSize > 0) {
                cur = pool[0];
            }
            int max = graph.maxConn(l);
            int n = selectDiverse(pool, poolSize, max, s);
            n = fillWithNearest(pool, poolSize, max, n, s);
            int[] before = Arrays.copyOfRange(a, off + 1, off + 1 + cnt);
            int[] chosen = Arrays.copyOf(s.selected, n);
            synchronized (graph.lock(node)) {
                // Inserts running meanwhile may have linked themselves here since the list was
                // read; they keep their place (ahead of the nearest-fill), or they would lose
                // an in-link that nothing else restores.
                int[] merged = new int[max];
                int m = 0;
                for (int i = 1, now = a[off]; i <= now && m < max; i++) {
                    int x = a[off + i];
                    if (!contains(before, x) && !store.isDeleted(x)) {
                        merged[m++] = x;
                    }
                }
                for (int i = 0; i < n && m < max; i++) {
                    if (!contains(merged, m, chosen[i])) {
                        merged[m++] = chosen[i];
                    }
                }
                graph.setNeighbors(node, l, merged, m);
            }
            for (int neighbor : chosen) {
                addLink(neighbor, node, l, s);
            }
        }
    }

    // ---------------------------------------------------------------- bookkeeping

    @Override
    public boolean contains(long rowId) {
        synchronized (idLock) {
            return nodeOfRow.get(rowId) >= 0;
        }
    }

    @Override
    public int size() {
        synchronized (idLock) {
            return nodeOfRow.size();
        }
    }

    /** Deleted nodes not yet reclaimed, as a fraction of all nodes; a hint for when to {@link #repair}. */
    public double deletedFraction() {
        int n = store.count();
        return n == 0 ? 0 : (double) store.deletedCount() / n;
    }

    @Override
    public long memoryBytes() {
        synchronized (idLock) {
            return store.memoryBytes() + graph.memoryBytes() + nodeOfRow.memoryBytes();
        }
    }

    // ---------------------------------------------------------------- checkpoint

    /**
     * For {@code IndexCheckpoint}. Writes a consistent graph even if inserts run meanwhile
     * (nodes added after the count is read are left out), but the caller's position (LSN) is
     * only meaningful if writers were paused.
     */
    public void writeState(DataOutput out) throws IOException {
        int n = store.count();
        out.writeInt(dims);
        out.writeByte(distance.metric().ordinal());
        out.writeInt(params.m());
        out.writeInt(params.efConstruction());
        out.writeInt(n);
        for (int node = 0; node < n; node++) {
            out.writeByte(graph.level(node));
        }
        store.writeTo(out, n);
        graph.writeTo(out, n);
    }

    public static HnswIndex readState(DataInput in) throws IOException {
        int dims = in.readInt();
        int metricOrdinal = in.readByte();
        if (metricOrdinal < 0 || metricOrdinal >= Metric.values().length) {
            throw new IOException("unknown metric code " + metricOrdinal);
        }
        Metric metric = Metric.values()[metricOrdinal];
        VectorValidation.checkDims(dims);
        HnswParams params = new HnswParams(in.readInt(), in.readInt());
        int n = in.readInt();
        if (n < 0) {
            throw new IOException("negative node count");
        }
        byte[] levels = new byte[n];
        in.readFully(levels);
        for (byte level : levels) {
            if (level < 0 || level > MAX_LEVEL) {
                throw new IOException("bad node level " + level);
            }
        }
        HnswGraph graph = new HnswGraph(params.m());
        VectorStore store = VectorStore.readFrom(in, dims, (IntConsumer) node -> graph.allocate(node, levels[node]));
        if (store.count() != n) {
            throw new IOException("node count mismatch");
        }
        graph.readFrom(in, n);
        HnswIndex index = new HnswIndex(dims, params, Distance.of(metric), store, graph);
        for (int node = 0; node < n; node++) {
            if (!store.isDeleted(node)) {
                index.nodeOfRow.put(store.rowId(node), node);
            }
        }
        if (graph.entry() < 0 && n > 0) {
            index.moveEntryOffDeleted(n);
        }
        return index;
    }

    /** Wraps loaded state; see {@link #readState}. */
    private HnswIndex(int dims, HnswParams params, Distance distance, VectorStore store, HnswGraph graph) {
        this.dims = dims;
        this.params = params;
        this.distance = distance;
        this.store = store;
        this.graph = graph;
        this.levelMultiplier = 1.0 / Math.log(params.m());
        this.nodeOfRow = new LongIntHashMap(Math.max(1024, store.count()));
        // A different stream from the original build's, which is fine: levels only need to be
        // exponentially distributed, not reproducible across a restart.
        this.levelRandom = new SplittableRandom(42 + store.count());
        this.scratch = ThreadLocal.withInitial(() -> new SearchScratch(graph.maxConn0));
    }
}
