package io.neurondb.engine.hnsw;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * Neighbour lists of an HNSW graph, laid out for memory: no object per node.
 * <ul>
 * <li>Layer 0 (every node): one int array per block of nodes, aligned with the vector store's
 *     blocks; a node's slot is {@code 1 + 2m} ints: the count, then the neighbour ids.</li>
 * <li>Upper layers (about 1 node in m): allocated from a pool of fixed-size int chunks only for
 *     nodes that have them, {@code 1 + m} ints per layer. Chunks never move, so writers never
 *     lose an update to a concurrent resize.</li>
 * <li>Per node: its level (a byte) and the start of its upper-layer lists (an int).</li>
 * </ul>
 *
 * <p>Concurrency: {@link #allocate} runs under the vector store's append lock, before the node
 * is published. A list is modified only under {@link #lock} of its node; readers read lists
 * without locking and may see a list mid-update. That is safe because every id ever written to
 * a list is a node id that was already published, and harmless for an approximate search.
 */
public final class HnswGraph {

    private static final int CHUNK_SHIFT = 16;
    private static final int CHUNK_INTS = 1 << CHUNK_SHIFT;
    /** First upper-layer chunk; later ones double up to CHUNK_INTS, so small graphs stay small. */
    private static final int FIRST_CHUNK_INTS = 1 << 10;
    /** Nodes per layer-0 block: 256 * (1 + 2m) ints, so at most 255 empty slots are wasted. */
    private static final int BLOCK_SHIFT = 8;
    private static final int LOCK_STRIPES = 1 << 12;
    private static final long NO_ENTRY = -1L;

    final int m;
    final int maxConn0;
    private final int slot0;
    private final int slotUpper;
    private final int shift;
    private final int mask;

    private volatile int[][] layer0 = new int[0][];
    private volatile byte[][] levels = new byte[0][];
    private volatile int[][] upperStart = new int[0][];
    private volatile int[][] upperChunks = new int[0][];
    private int upperUsed; // ints used in the last chunk

    private final Object[] locks = new Object[LOCK_STRIPES];
    /** Entry point packed as {@code level << 32 | node}; -1 while the graph is empty. */
    private volatile long entry = NO_ENTRY;

    HnswGraph(int m) {
        this.m = m;
        this.maxConn0 = 2 * m;
        this.slot0 = 1 + maxConn0;
        this.slotUpper = 1 + m;
        this.shift = BLOCK_SHIFT;
        this.mask = (1 << BLOCK_SHIFT) - 1;
        for (int i = 0; i < LOCK_STRIPES; i++) {
            locks[i] = new Object();
        }
    }

    /** Sizes the structures for {@code node}. Called under the store's append lock, in id order. */
    void allocate(int node, int level) {
        int block = node >>> shift;
        if (block == layer0.length) {
            int rows = mask + 1;
            int[][] l0 = Arrays.copyOf(layer0, block + 1);
            l0[block] = new int[rows * slot0];
            byte[][] lv = Arrays.copyOf(levels, block + 1);
            lv[block] = new byte[rows];
            int[][] us = Arrays.copyOf(upperStart, block + 1);
            us[block] = new int[rows];
            levels = lv;
            upperStart = us;
            layer0 = l0;
        }
        levels[block][node & mask] = (byte) level;
        if (level > 0) {
            int ints = level * slotUpper;
            int n = upperChunks.length;
            if (n == 0 || upperUsed + ints > upperChunks[n - 1].length) {
                int[][] chunks = Arrays.copyOf(upperChunks, n + 1);
                chunks[n] = new int[Math.min(CHUNK_INTS, FIRST_CHUNK_INTS << Math.min(n, 6))];
                upperChunks = chunks;
                upperUsed = 0;
            }
            upperStart[block][node & mask] = ((upperChunks.length - 1) << CHUNK_SHIFT) | upperUsed;
            upperUsed += ints;
        }
    }

    int level(int node) {
        return levels[node >>> shift][node & mask];
    }

    int maxConn(int level) {
        return level == 0 ? maxConn0 : m;
    }

    /** The array holding {@code node}'s list at {@code level}; the list starts at {@link #offset}. */
    int[] array(int node, int level) {
        if (level == 0) {
            return layer0[node >>> shift];
        }
        return upperChunks[upperStart[node >>> shift][node & mask] >>> CHUNK_SHIFT];
    }

    /** Offset of the count; ids follow at {@code offset + 1 ...}. */
    int offset(int node, int level) {
        if (level == 0) {
            return (node & mask) * slot0;
        }
        return (upperStart[node >>> shift][node & mask] & (CHUNK_INTS - 1)) + (level - 1) * slotUpper;
    }

    Object lock(int node) {
        return locks[node & (LOCK_STRIPES - 1)];
    }

    /** Replaces a list; the caller holds {@link #lock} of {@code node}. */
    void setNeighbors(int node, int level, int[] ids, int count) {
        int[] a = array(node, level);
        int off = offset(node, level);
        System.arraycopy(ids, 0, a, off + 1, count);
        a[off] = count;
    }

    long entry() {
        return entry;
    }

    static int entryNode(long packed) {
        return (int) packed;
    }

    static int entryLevel(long packed) {
        return (int) (packed >>> 32);
    }

    /** Makes {@code node} the entry point if the graph is empty or it is higher than the current one. */
    synchronized boolean offerEntry(int node, int level) {
        if (entry == NO_ENTRY || level > entryLevel(entry)) {
            entry = ((long) level << 32) | node;
            return true;
        }
        return false;
    }

    synchronized void setEntry(int node, int level) {
        entry = node < 0 ? NO_ENTRY : ((long) level << 32) | node;
    }

    long memoryBytes() {
        long rows = (long) layer0.length * (mask + 1);
        long l0 = rows * slot0 * Integer.BYTES;
        long perNode = rows * (1 + Integer.BYTES);
        long upper = 0;
        for (int[] c : upperChunks) {
            upper += (long) c.length * Integer.BYTES;
        }
        return l0 + perNode + upper + layer0.length * 3L * 16;
    }

    /** Writes entry, then per node: level, and each layer's count and ids. */
    void writeTo(DataOutput out, int nodeCount) throws IOException {
        long e = entry;
        out.writeLong(e != NO_ENTRY && entryNode(e) >= nodeCount ? NO_ENTRY : e);
        for (int node = 0; node < nodeCount; node++) {
            int level = level(node);
            out.writeByte(level);
            for (int l = 0; l <= level; l++) {
                int[] a = array(node, l);
                int off = offset(node, l);
                int cnt = Math.min(a[off], maxConn(l));
                // Nodes appended while the checkpoint runs are not in it: drop links to them.
                int kept = 0;
                for (int i = 1; i <= cnt; i++) {
                    if (a[off + i] < nodeCount) {
                        kept++;
                    }
                }
                out.writeShort(kept);
                for (int i = 1; i <= cnt; i++) {
                    if (a[off + i] < nodeCount) {
                        out.writeInt(a[off + i]);
                    }
                }
            }
        }
    }

    /** Reads what {@link #writeTo} wrote into a graph whose nodes were allocated already. */
    void readFrom(DataInput in, int nodeCount) throws IOException {
        long e = in.readLong();
        int[] buf = new int[maxConn0];
        for (int node = 0; node < nodeCount; node++) {
            int level = in.readByte();
            if (level != level(node)) {
                throw new IOException("level mismatch at node " + node);
            }
            for (int l = 0; l <= level; l++) {
                int cnt = in.readShort();
                if (cnt < 0 || cnt > maxConn(l)) {
                    throw new IOException("bad neighbour count " + cnt + " at node " + node);
                }
                for (int i = 0; i < cnt; i++) {
                    int id = in.readInt();
                    if (id < 0 || id >= nodeCount) {
                        throw new IOException("neighbour id " + id + " out of range at node " + node);
                    }
                    buf[i] = id;
                }
                setNeighbors(node, l, buf, cnt);
            }
        }
        if (e != NO_ENTRY && (entryNode(e) < 0 || entryNode(e) >= nodeCount)) {
            throw new IOException("entry point out of range");
        }
        entry = e;
    }
}
