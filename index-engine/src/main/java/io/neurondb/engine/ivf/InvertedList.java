package io.neurondb.engine.ivf;

import java.util.Arrays;

/**
 * The rows of one IVF list, stored densely so that a probe is one sequential scan: vectors
 * row-major in one float array, row ids alongside. Deleting swaps the last row into the hole,
 * so the list stays dense. Not thread-safe: {@link IvfIndex} guards it.
 */
final class InvertedList {

    private final int dims;
    float[] vectors;
    long[] rowIds;
    int size;

    InvertedList(int dims, int capacity) {
        this.dims = dims;
        this.vectors = new float[Math.max(1, capacity) * dims];
        this.rowIds = new long[Math.max(1, capacity)];
    }

    void add(long rowId, float[] v, int vOffset) {
        if (size == rowIds.length) {
            int cap = rowIds.length + (rowIds.length >> 1) + 1;
            rowIds = Arrays.copyOf(rowIds, cap);
            vectors = Arrays.copyOf(vectors, cap * dims);
        }
        System.arraycopy(v, vOffset, vectors, size * dims, dims);
        rowIds[size++] = rowId;
    }

    boolean remove(long rowId) {
        for (int i = 0; i < size; i++) {
            if (rowIds[i] == rowId) {
                int last = --size;
                rowIds[i] = rowIds[last];
                System.arraycopy(vectors, last * dims, vectors, i * dims, dims);
                return true;
            }
        }
        return false;
    }

    long memoryBytes() {
        return (long) vectors.length * Float.BYTES + (long) rowIds.length * Long.BYTES + 48;
    }
}
