package io.neurondb.engine.storage;

import io.neurondb.engine.Metric;
import io.neurondb.engine.RowFilter;
import io.neurondb.engine.SearchResult;
import io.neurondb.engine.util.NodeHeap;
import io.neurondb.engine.vector.Distance;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Brute-force k-nearest search over a {@link VectorStore}: every live row is compared. Used for
 * ground truth and while an approximate index is being built. Large stores are scanned in
 * parallel, one block per task; each task keeps its own top-k heap and the heaps are merged.
 */
public final class ExactScan {

    /** Below this many rows, forking tasks costs more than the scan itself. */
    private static final int PARALLEL_THRESHOLD_ROWS = 16_384;

    private ExactScan() {
    }

    public static SearchResult search(VectorStore store, Distance distance, float[] preparedQuery, int k,
                                      RowFilter filter) {
        int count = store.count();
        int blocks = (count + store.rowsPerBlock() - 1) / store.rowsPerBlock();
        NodeHeap top;
        if (count < PARALLEL_THRESHOLD_ROWS || blocks < 2) {
            top = NodeHeap.farthestFirst(k + 1);
            for (int b = 0; b < blocks; b++) {
                scanBlock(store, distance, preparedQuery, k, filter, b, count, top);
            }
        } else {
            top = IntStream.range(0, blocks).parallel()
                    .mapToObj(b -> {
                        NodeHeap h = NodeHeap.farthestFirst(k + 1);
                        scanBlock(store, distance, preparedQuery, k, filter, b, count, h);
                        return h;
                    })
                    .reduce((a, b) -> merge(a, b, k))
                    .orElseGet(() -> NodeHeap.farthestFirst(1));
        }
        return toResult(top, store, distance.metric());
    }

    private static void scanBlock(VectorStore store, Distance distance, float[] q, int k, RowFilter filter,
                                  int b, int count, NodeHeap top) {
        int first = b * store.rowsPerBlock();
        int last = Math.min(count, first + store.rowsPerBlock());
        float[] block = store.blockAt(b);
        int dims = store.dims();
        for (int node = first; node < last; node++) {
            if (store.isDeleted(node) || !filter.accept(store.rowId(node))) {
                continue;
            }
            float d = distance.between(q, 0, block, (node - first) * dims, dims);
            top.pushBounded(node, d, k);
        }
    }

    private static NodeHeap merge(NodeHeap a, NodeHeap b, int k) {
        for (long e : b.toEncodedArray()) {
            a.pushBounded(NodeHeap.node(e), NodeHeap.distance(e), k);
        }
        return a;
    }

    /** Sorts a farthest-first heap of nodes into a nearest-first result of caller row ids. */
    public static SearchResult toResult(NodeHeap top, VectorStore store, Metric metric) {
        long[] encoded = top.toEncodedArray();
        Arrays.sort(encoded);
        long[] rowIds = new long[encoded.length];
        float[] distances = new float[encoded.length];
        for (int i = 0; i < encoded.length; i++) {
            rowIds[i] = store.rowId(NodeHeap.node(encoded[i]));
            distances[i] = metric.reported(NodeHeap.distance(encoded[i]));
        }
        return new SearchResult(rowIds, distances);
    }
}
