package io.neurondb.engine.util;

/**
 * A bounded or unbounded binary heap of (node, distance) pairs packed into primitive longs, so
 * a search allocates nothing per visited node. The distance's bits go in the high word in a
 * form whose signed-int order equals float order, the node id in the low word; comparing the
 * longs therefore orders by distance, then by node id.
 *
 * <p>A min-heap pops the nearest pair first; a max-heap (stored as the bitwise complement,
 * which reverses long order) pops the farthest. Not thread-safe: one per search.
 */
public final class NodeHeap {

    private final boolean maxHeap;
    private long[] heap;
    private int size;

    public NodeHeap(int initialCapacity, boolean maxHeap) {
        this.heap = new long[Math.max(4, initialCapacity)];
        this.maxHeap = maxHeap;
    }

    public static NodeHeap nearestFirst(int capacity) {
        return new NodeHeap(capacity, false);
    }

    public static NodeHeap farthestFirst(int capacity) {
        return new NodeHeap(capacity, true);
    }

    public static long encode(int node, float distance) {
        int bits = Float.floatToIntBits(distance);
        // Flip the magnitude bits of negatives so that int order matches float order.
        int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) sortable << 32) | (node & 0xffffffffL);
    }

    public static int node(long encoded) {
        return (int) encoded;
    }

    public static float distance(long encoded) {
        int sortable = (int) (encoded >> 32);
        return Float.intBitsToFloat(sortable ^ ((sortable >> 31) & 0x7fffffff));
    }

    public void clear() {
        size = 0;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public void push(int node, float distance) {
        long v = encode(node, distance);
        if (maxHeap) {
            v = ~v;
        }
        if (size == heap.length) {
            heap = java.util.Arrays.copyOf(heap, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= v) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = v;
    }

    /**
     * Pushes while the heap holds fewer than {@code capacity} pairs; afterwards replaces the
     * top only if the new pair beats it. Only meaningful on a max-heap (top = worst kept).
     * Returns whether the pair was kept.
     */
    public boolean pushBounded(int node, float distance, int capacity) {
        if (size < capacity) {
            push(node, distance);
            return true;
        }
        long v = ~encode(node, distance);
        if (v <= heap[0]) {
            return false;
        }
        heap[0] = v;
        siftDown();
        return true;
    }

    /** The top pair, still encoded; see {@link #node} and {@link #distance}. */
    public long peek() {
        return maxHeap ? ~heap[0] : heap[0];
    }

    public int topNode() {
        return node(peek());
    }

    public float topDistance() {
        return distance(peek());
    }

    public long pop() {
        long top = heap[0];
        heap[0] = heap[--size];
        siftDown();
        return maxHeap ? ~top : top;
    }

    private void siftDown() {
        int i = 0;
        long v = heap[0];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right] < heap[child]) {
                child = right;
            }
            if (v <= heap[child]) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        if (size > 0) {
            heap[i] = v;
        }
    }

    /** Raw encoded entries in heap order (not sorted), for callers that sort them themselves. */
    public long[] toEncodedArray() {
        long[] out = new long[size];
        for (int i = 0; i < size; i++) {
            out[i] = maxHeap ? ~heap[i] : heap[i];
        }
        return out;
    }
}
