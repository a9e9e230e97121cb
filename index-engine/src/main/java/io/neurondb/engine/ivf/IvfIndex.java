package io.neurondb.engine.ivf;

import io.neurondb.engine.Metric;
import io.neurondb.engine.RowFilter;
import io.neurondb.engine.SearchParams;
import io.neurondb.engine.SearchResult;
import io.neurondb.engine.VectorEngineException.InvalidVectorException;
import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.VectorValidation;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.engine.compute.ComputeBackend.TopK;
import io.neurondb.engine.compute.CpuComputeBackend;
import io.neurondb.engine.util.LongIntHashMap;
import io.neurondb.engine.util.NodeHeap;
import io.neurondb.engine.vector.Distance;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * IVF-flat (pgvector's ivfflat): k-means centroids split the rows into lists; a search scans
 * the {@code probes} lists whose centroids are nearest the query. Until {@link #train} runs
 * (or {@link #insertAll} trains it), every row sits in one list and searches are exact.
 *
 * <p>Training and list scans go through a {@link ComputeBackend}, so a GPU can take them over.
 *
 * <p>Concurrency: one read-write lock. Searches share the read lock; inserts, deletes and
 * training take the write lock. Simple, and an IVF insert is short (one centroid scan).
 */
public final class IvfIndex implements VectorIndex {

    /** pgvector samples 50 rows per list for k-means. */
    private static final int SAMPLE_ROWS_PER_LIST = 50;

    private final int dims;
    private final IvfParams params;
    private final Distance distance;
    private final ComputeBackend backend;
    /** Cosine rows are stored unit length, so the backend can rank them by inner product. */
    private final Metric backendMetric;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private float[] centroids; // null until trained; guarded by lock
    private InvertedList[] lists; // guarded by lock
    private final LongIntHashMap listOfRow = new LongIntHashMap(1024); // guarded by lock

    public IvfIndex(int dims, Metric metric, IvfParams params) {
        this(dims, metric, params, new CpuComputeBackend());
    }

    public IvfIndex(int dims, Metric metric, IvfParams params, ComputeBackend backend) {
        VectorValidation.checkDims(dims);
        this.dims = dims;
        this.params = params;
        this.distance = Distance.of(metric);
        this.backend = backend;
        this.backendMetric = metric == Metric.COSINE ? Metric.INNER_PRODUCT : metric;
        this.lists = new InvertedList[] {new InvertedList(dims, 16)};
    }

    @Override
    public int dims() {
        return dims;
    }

    @Override
    public Metric metric() {
        return distance.metric();
    }

    public boolean isTrained() {
        lock.readLock().lock();
        try {
            return centroids != null;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void insert(long rowId, float[] vector) {
        VectorValidation.checkVector(vector, dims, distance.metric());
        float[] p = distance.prepare(vector);
        lock.writeLock().lock();
        try {
            addLocked(rowId, p, 0);
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void addLocked(long rowId, float[] p, int offset) {
        int old = listOfRow.remove(rowId);
        if (old >= 0) {
            lists[old].remove(rowId);
        }
        int list = 0;
        if (centroids != null) {
            float[] row = offset == 0 && p.length == dims ? p : Arrays.copyOfRange(p, offset, offset + dims);
            list = backend.assignNearest(row, 1, centroids, lists.length, dims, backendMetric)[0];
        }
        lists[list].add(rowId, p, offset);
        listOfRow.put(rowId, list);
    }

    /** Inserts a batch, then trains the lists if they were not trained yet. */
    public void insertAll(long[] rowIds, float[] vectors) {
        int n = rowIds.length;
        if (vectors.length != (long) n * dims) {
            throw new InvalidVectorException("expected " + ((long) n * dims) + " floats for "
                    + n + " vectors of " + dims + " dimensions, not " + vectors.length);
        }
        float[] prepared = new float[vectors.length];
        for (int i = 0; i < n; i++) {
            float[] row = Arrays.copyOfRange(vectors, i * dims, (i + 1) * dims);
            VectorValidation.checkVector(row, dims, distance.metric());
            System.arraycopy(distance.prepare(row), 0, prepared, i * dims, dims);
        }
        lock.writeLock().lock();
        try {
            if (centroids == null) {
                for (int i = 0; i < n; i++) {
                    addLocked(rowIds[i], prepared, i * dims);
                }
                trainLocked();
            } else {
                int[] assignment = backend.assignNearest(prepared, n, centroids, lists.length, dims, backendMetric);
                for (int i = 0; i < n; i++) {
                    int old = listOfRow.remove(rowIds[i]);
                    if (old >= 0) {
                        lists[old].remove(rowIds[i]);
                    }
                    lists[assignment[i]].add(rowIds[i], prepared, i * dims);
                    listOfRow.put(rowIds[i], assignment[i]);
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * (Re)clusters the current rows: k-means++ and Lloyd on a sample of {@code 50 * lists}
     * rows, then every row is moved to the list of its nearest centroid.
     */
    public void train() {
        lock.writeLock().lock();
        try {
            trainLocked();
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void trainLocked() {
        int total = listOfRow.size();
        if (total == 0) {
            return;
        }
        float[] all = new float[total * dims];
        long[] ids = new long[total];
        int n = 0;
        for (InvertedList list : lists) {
            System.arraycopy(list.vectors, 0, all, n * dims, list.size * dims);
            System.arraycopy(list.rowIds, 0, ids, n, list.size);
            n += list.size;
        }
        int k = Math.min(params.lists(), total);
        int sampleRows = Math.min(total, Math.max(k, k * SAMPLE_ROWS_PER_LIST));
        float[] sample = sample(all, total, sampleRows);
        float[] c = KMeans.train(sample, sampleRows, dims, k, backendMetric,
                distance.metric() == Metric.COSINE, backend, 7);
        int[] assignment = backend.assignNearest(all, total, c, k, dims, backendMetric);
        // Sized exactly, so a freshly trained index carries no growth slack.
        int[] sizes = new int[k];
        for (int a : assignment) {
            sizes[a]++;
        }
        InvertedList[] fresh = new InvertedList[k];
        for (int i = 0; i < k; i++) {
            fresh[i] = new InvertedList(dims, sizes[i]);
        }
        for (int i = 0; i < total; i++) {
            fresh[assignment[i]].add(ids[i], all, i * dims);
            listOfRow.put(ids[i], assignment[i]);
        }
        centroids = c;
        lists = fresh;
    }

    /** A uniform sample without replacement (partial Fisher-Yates over row indexes). */
    private float[] sample(float[] all, int total, int rows) {
        if (rows == total) {
            return all;
        }
        int[] idx = new int[total];
        for (int i = 0; i < total; i++) {
            idx[i] = i;
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        float[] out = new float[rows * dims];
        for (int i = 0; i < rows; i++) {
            int j = i + random.nextInt(total - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            System.arraycopy(all, idx[i] * dims, out, i * dims, dims);
        }
        return out;
    }

    @Override
    public boolean delete(long rowId) {
        lock.writeLock().lock();
        try {
            int list = listOfRow.remove(rowId);
            return list >= 0 && lists[list].remove(rowId);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Scans the nearest {@code probes} lists. With a filter, it keeps probing further lists, in
     * centroid order, until {@code k} rows pass or {@code maxVisited} rows were scanned
     * (pgvector's iterative scan for ivfflat).
     */
    @Override
    public SearchResult search(float[] query, SearchParams p, RowFilter filter) {
        VectorValidation.checkVector(query, dims, distance.metric());
        float[] q = distance.prepare(query);
        int k = p.k();
        lock.readLock().lock();
        try {
            int listCount = lists.length;
            int[] order;
            if (centroids == null) {
                order = new int[] {0};
            } else {
                boolean filtered = filter != RowFilter.ALL;
                int want = filtered ? listCount : Math.min(p.probes(), listCount);
                order = backend.topK(q, 1, centroids, listCount, dims, backendMetric, want)[0].rows();
            }
            // Candidates are numbered in scan order; their row ids are kept beside the heap.
            NodeHeap top = NodeHeap.farthestFirst(k + 1);
            long[] candidateRows = new long[Math.max(16, k)];
            int candidates = 0;
            int scanned = 0;
            for (int probe = 0; probe < order.length; probe++) {
                if (probe >= p.probes() && (top.size() >= k || scanned >= p.maxVisited())) {
                    break;
                }
                InvertedList list = lists[order[probe]];
                if (filter == RowFilter.ALL) {
                    TopK t = backend.topK(q, 1, list.vectors, list.size, dims, backendMetric, k)[0];
                    for (int i = 0; i < t.size(); i++) {
                        if (candidates == candidateRows.length) {
                            candidateRows = Arrays.copyOf(candidateRows, candidates * 2);
                        }
                        candidateRows[candidates] = list.rowIds[t.rows()[i]];
                        top.pushBounded(candidates++, toInternal(t.distances()[i]), k);
                    }
                } else {
                    for (int r = 0; r < list.size; r++) {
                        if (!filter.accept(list.rowIds[r])) {
                            continue;
                        }
                        float d = distance.between(q, 0, list.vectors, r * dims, dims);
                        if (top.pushBounded(candidates, d, k)) {
                            if (candidates == candidateRows.length) {
                                candidateRows = Arrays.copyOf(candidateRows, candidates * 2);
                            }
                            candidateRows[candidates++] = list.rowIds[r];
                        }
                    }
                }
                scanned += list.size;
            }
            long[] sorted = top.toEncodedArray();
            Arrays.sort(sorted);
            long[] rowIds = new long[sorted.length];
            float[] dists = new float[sorted.length];
            for (int i = 0; i < sorted.length; i++) {
                rowIds[i] = candidateRows[NodeHeap.node(sorted[i])];
                dists[i] = distance.metric().reported(NodeHeap.distance(sorted[i]));
            }
            return new SearchResult(rowIds, dists);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Backend distances use {@link #backendMetric}; cosine ranked as -dot is 1 - dot minus one. */
    private float toInternal(float backendDistance) {
        return distance.metric() == Metric.COSINE ? 1f + backendDistance : backendDistance;
    }

    @Override
    public boolean contains(long rowId) {
        lock.readLock().lock();
        try {
            return listOfRow.get(rowId) >= 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public int size() {
        lock.readLock().lock();
        try {
            return listOfRow.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long memoryBytes() {
        lock.readLock().lock();
        try {
            long bytes = listOfRow.memoryBytes() + (centroids == null ? 0 : (long) centroids.length * Float.BYTES);
            for (InvertedList l : lists) {
                bytes += l.memoryBytes();
            }
            return bytes;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** For {@code IndexCheckpoint}; takes the read lock, so the snapshot is consistent. */
    public void writeState(DataOutput out) throws IOException {
        lock.readLock().lock();
        try {
            out.writeInt(dims);
            out.writeByte(distance.metric().ordinal());
            out.writeInt(params.lists());
            out.writeBoolean(centroids != null);
            out.writeInt(lists.length);
            if (centroids != null) {
                for (float f : centroids) {
                    out.writeFloat(f);
                }
            }
            for (InvertedList l : lists) {
                out.writeInt(l.size);
                for (int i = 0; i < l.size; i++) {
                    out.writeLong(l.rowIds[i]);
                }
                for (int i = 0; i < l.size * dims; i++) {
                    out.writeFloat(l.vectors[i]);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    public static IvfIndex readState(DataInput in, ComputeBackend backend) throws IOException {
        int dims = in.readInt();
        int metricOrdinal = in.readByte();
        if (metricOrdinal < 0 || metricOrdinal >= Metric.values().length) {
            throw new IOException("unknown metric code " + metricOrdinal);
        }
        IvfIndex index = new IvfIndex(dims, Metric.values()[metricOrdinal], new IvfParams(in.readInt()), backend);
        boolean trained = in.readBoolean();
        int listCount = in.readInt();
        if (listCount < 1 || listCount > 32768 || (!trained && listCount != 1)) {
            throw new IOException("bad list count " + listCount);
        }
        if (trained) {
            index.centroids = new float[listCount * dims];
            for (int i = 0; i < index.centroids.length; i++) {
                index.centroids[i] = in.readFloat();
            }
        }
        index.lists = new InvertedList[listCount];
        for (int l = 0; l < listCount; l++) {
            int size = in.readInt();
            if (size < 0) {
                throw new IOException("negative list size");
            }
            InvertedList list = new InvertedList(dims, size);
            for (int i = 0; i < size; i++) {
                list.rowIds[i] = in.readLong();
                index.listOfRow.put(list.rowIds[i], l);
            }
            for (int i = 0; i < size * dims; i++) {
                list.vectors[i] = in.readFloat();
            }
            list.size = size;
            index.lists[l] = list;
        }
        return index;
    }
}
