package io.neurondb.engine.util;

import java.util.Arrays;

/**
 * Open-addressing map from row id (long) to node id (int), without boxing. Linear probing with
 * backward-shift deletion, so there are no tombstones to slow lookups after many deletes.
 * Not thread-safe: owners guard it with their own lock.
 */
public final class LongIntHashMap {

    private static final int MISSING = -1;

    private long[] keys;
    private int[] values;
    private boolean[] used;
    private int size;
    private int mask;

    public LongIntHashMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 4 / 3) - 1) << 1;
        allocate(cap);
    }

    private void allocate(int cap) {
        keys = new long[cap];
        values = new int[cap];
        used = new boolean[cap];
        mask = cap - 1;
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    public int size() {
        return size;
    }

    /** The node of {@code key}, or -1. */
    public int get(long key) {
        for (int i = mix(key) & mask; used[i]; i = (i + 1) & mask) {
            if (keys[i] == key) {
                return values[i];
            }
        }
        return MISSING;
    }

    /** Sets {@code key -> value}; returns the previous value or -1. */
    public int put(long key, int value) {
        // Resize at 3/4 full: past that, linear probe chains grow quickly.
        if ((size + 1) * 4L > keys.length * 3L) {
            rehash(keys.length * 2);
        }
        int i = mix(key) & mask;
        for (; used[i]; i = (i + 1) & mask) {
            if (keys[i] == key) {
                int old = values[i];
                values[i] = value;
                return old;
            }
        }
        used[i] = true;
        keys[i] = key;
        values[i] = value;
        size++;
        return MISSING;
    }

    /** Removes {@code key}; returns its value or -1. */
    public int remove(long key) {
        int i = mix(key) & mask;
        for (; used[i]; i = (i + 1) & mask) {
            if (keys[i] == key) {
                int old = values[i];
                shiftBack(i);
                size--;
                return old;
            }
        }
        return MISSING;
    }

    /** Closes the gap at {@code gap} by moving later entries of the probe chain back. */
    private void shiftBack(int gap) {
        int i = gap;
        while (true) {
            i = (i + 1) & mask;
            if (!used[i]) {
                break;
            }
            int home = mix(keys[i]) & mask;
            // Move the entry if its home slot is not cyclically within (gap, i].
            boolean inRange = gap <= i ? (gap < home && home <= i) : (gap < home || home <= i);
            if (!inRange) {
                keys[gap] = keys[i];
                values[gap] = values[i];
                gap = i;
            }
        }
        used[gap] = false;
    }

    private void rehash(int newCap) {
        long[] oldKeys = keys;
        int[] oldValues = values;
        boolean[] oldUsed = used;
        allocate(newCap);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldUsed[i]) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    public long memoryBytes() {
        return keys.length * (long) (Long.BYTES + Integer.BYTES + 1) + 64;
    }

    public void clear() {
        Arrays.fill(used, false);
        size = 0;
    }
}
