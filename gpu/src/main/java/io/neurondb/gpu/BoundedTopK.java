package io.neurondb.gpu;

import io.neurondb.engine.compute.ComputeBackend.TopK;

/**
 * The k best candidates of one query seen so far, merged from any number of tiles and
 * segments. A binary max-heap on {@link DistanceOrder}: the worst kept candidate sits at the
 * root, so each offer costs O(log k) and candidates that cannot make the cut cost O(1).
 */
final class BoundedTopK {

    private final int capacity;
    private final int[] rows;
    private final float[] distances;
    private int size;

    BoundedTopK(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0: " + k);
        }
        this.capacity = k;
        this.rows = new int[k];
        this.distances = new float[k];
    }

    void offer(int row, float distance) {
        if (size < capacity) {
            rows[size] = row;
            distances[size] = distance;
            siftUp(size++);
        } else if (capacity > 0 && DistanceOrder.ranksBefore(distance, row, distances[0], rows[0])) {
            rows[0] = row;
            distances[0] = distance;
            siftDown(0);
        }
    }

    int size() {
        return size;
    }

    /** The kept candidates, nearest first. Leaves this collector empty. */
    TopK drain() {
        int n = size;
        int[] outRows = new int[n];
        float[] outDistances = new float[n];
        // Popping the worst repeatedly fills the arrays from the back.
        for (int i = n - 1; i >= 0; i--) {
            outRows[i] = rows[0];
            outDistances[i] = distances[0];
            size--;
            if (size > 0) {
                rows[0] = rows[size];
                distances[0] = distances[size];
                siftDown(0);
            }
        }
        return new TopK(outRows, outDistances);
    }

    /** True when the candidate at {@code a} must sit above the one at {@code b} in the heap. */
    private boolean worse(int a, int b) {
        return DistanceOrder.ranksBefore(distances[b], rows[b], distances[a], rows[a]);
    }

    private void siftUp(int index) {
        while (index > 0) {
            int parent = (index - 1) >>> 1;
            if (!worse(index, parent)) {
                return;
            }
            swap(index, parent);
            index = parent;
        }
    }

    private void siftDown(int index) {
        while (true) {
            int left = 2 * index + 1;
            if (left >= size) {
                return;
            }
            int right = left + 1;
            int worst = right < size && worse(right, left) ? right : left;
            if (!worse(worst, index)) {
                return;
            }
            swap(index, worst);
            index = worst;
        }
    }

    private void swap(int a, int b) {
        int row = rows[a];
        rows[a] = rows[b];
        rows[b] = row;
        float distance = distances[a];
        distances[a] = distances[b];
        distances[b] = distance;
    }
}
