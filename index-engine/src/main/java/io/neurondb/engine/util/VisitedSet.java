package io.neurondb.engine.util;

import java.util.Arrays;

/**
 * Which nodes a search has seen. Clearing is O(1): each search bumps a generation stamp
 * instead of zeroing the array, so a thread can reuse one set for every query.
 * Not thread-safe: one per search thread.
 */
public final class VisitedSet {

    private int[] stamps = new int[1024];
    private int generation = 1;

    /** Starts a new search over node ids below {@code nodeCount}. */
    public void reset(int nodeCount) {
        if (stamps.length < nodeCount) {
            stamps = new int[Math.max(nodeCount, stamps.length + (stamps.length >> 1))];
            generation = 1;
        } else if (++generation == Integer.MAX_VALUE) {
            Arrays.fill(stamps, 0);
            generation = 1;
        }
    }

    /** Marks {@code node}; returns true if it was not yet marked in this search. */
    public boolean visit(int node) {
        if (node >= stamps.length) {
            // A node inserted concurrently after reset(): grow, keeping this search's marks.
            stamps = Arrays.copyOf(stamps, Math.max(node + 1, stamps.length * 2));
        }
        if (stamps[node] == generation) {
            return false;
        }
        stamps[node] = generation;
        return true;
    }
}
