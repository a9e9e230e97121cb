package io.neurondb.engine;

import io.neurondb.engine.storage.ExactScan;
import io.neurondb.engine.storage.VectorStore;
import io.neurondb.engine.util.LongIntHashMap;
import io.neurondb.engine.vector.Distance;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Brute-force index: compares the query with every live row (SIMD kernels, parallel over
 * storage blocks). Always exact; the ground truth for the approximate indexes and the
 * fallback while one is being built. Deleted rows are tombstoned, their space is not reused.
 *
 * <p>Concurrency: inserts and deletes serialise on {@code idLock}; searches take no lock
 * (see {@link VectorStore} for what they see).
 */
public final class ExactIndex implements VectorIndex {

    private final int dims;
    private final Distance distance;
    private final VectorStore store;
    private final Object idLock = new Object();
    private final LongIntHashMap nodeOfRow;

    public ExactIndex(int dims, Metric metric) {
        this(dims, metric, new VectorStore(checkedDims(dims)), new LongIntHashMap(1024));
    }

    private ExactIndex(int dims, Metric metric, VectorStore store, LongIntHashMap nodeOfRow) {
        this.dims = dims;
        this.distance = Distance.of(metric);
        this.store = store;
        this.nodeOfRow = nodeOfRow;
    }

    private static int checkedDims(int dims) {
        VectorValidation.checkDims(dims);
        return dims;
    }

    @Override
    public void insert(long rowId, float[] vector) {
        VectorValidation.checkVector(vector, dims, distance.metric());
        float[] prepared = distance.prepare(vector);
        synchronized (idLock) {
            int old = nodeOfRow.get(rowId);
            if (old >= 0) {
                store.markDeleted(old);
            }
            nodeOfRow.put(rowId, store.append(rowId, prepared, null));
        }
    }

    @Override
    public boolean delete(long rowId) {
        synchronized (idLock) {
            int node = nodeOfRow.remove(rowId);
            return node >= 0 && store.markDeleted(node);
        }
    }

    @Override
    public SearchResult search(float[] query, SearchParams params, RowFilter filter) {
        VectorValidation.checkVector(query, dims, distance.metric());
        return ExactScan.search(store, distance, distance.prepare(query), params.k(), filter);
    }

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

    @Override
    public long memoryBytes() {
        synchronized (idLock) {
            return store.memoryBytes() + nodeOfRow.memoryBytes();
        }
    }

    @Override
    public int dims() {
        return dims;
    }

    @Override
    public Metric metric() {
        return distance.metric();
    }

    /** For {@link IndexCheckpoint}. Callers must stop writers while it runs. */
    void writeState(DataOutput out) throws IOException {
        out.writeInt(dims);
        out.writeByte(distance.metric().ordinal());
        store.writeTo(out, store.count());
    }

    static ExactIndex readState(DataInput in) throws IOException {
        int dims = in.readInt();
        Metric metric = IndexCheckpoint.metricFromOrdinal(in.readByte());
        VectorStore store = VectorStore.readFrom(in, checkedDims(dims), null);
        LongIntHashMap ids = new LongIntHashMap(store.count());
        for (int node = 0; node < store.count(); node++) {
            if (!store.isDeleted(node)) {
                ids.put(store.rowId(node), node);
            }
        }
        return new ExactIndex(dims, metric, store, ids);
    }
}
