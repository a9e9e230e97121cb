package io.neurondb.engine.hnsw;

import io.neurondb.engine.util.NodeHeap;
import io.neurondb.engine.util.VisitedSet;

/**
 * Per-thread working memory of a graph search, reused across searches so that a query
 * allocates nothing proportional to the graph. Confined to one thread (held in a ThreadLocal).
 */
final class SearchScratch {
    final VisitedSet visited = new VisitedSet();
    final NodeHeap candidates = NodeHeap.nearestFirst(256);
    final NodeHeap results = NodeHeap.farthestFirst(256);
    /** Neighbour selection buffers, sized for the largest list (2m + 1 candidates). */
    int[] selected = new int[0];
    /** A node's unvisited neighbours and their distances, scored as a batch; sized for 2m. */
    final int[] batch;
    final float[] batchDistances;
    final float[] four = new float[4];

    SearchScratch(int maxNeighbors) {
        batch = new int[maxNeighbors];
        batchDistances = new float[maxNeighbors];
    }
    long[] pool = new long[0];

    void ensureSelection(int size) {
        if (selected.length < size) {
            selected = new int[size];
        }
    }
}
