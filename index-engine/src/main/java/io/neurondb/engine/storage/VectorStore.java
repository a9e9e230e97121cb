package io.neurondb.engine.storage;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Dense, append-only storage of prepared vectors, addressed by node id (0, 1, 2, ...). Rows
 * live in blocks: one float array per block of {@code rowsPerBlock} rows (a power of two near
 * 1 MiB), never one object per vector. Each block also holds the rows' caller ids and a
 * tombstone bitmap.
 *
 * <p>Concurrency: {@link #append} is serialised on this store. It writes the row, then
 * publishes it by incrementing the volatile {@link #count()}. A reader that sees
 * {@code node < count()} therefore sees the node's vector and id (happens-before through the
 * volatile). Tombstones are set under the store's lock and read without it: a search racing a
 * delete may still return the row being deleted, as a concurrent SQL scan may.
 */
public final class VectorStore {

    /** About 1 MiB of floats per block: big enough for sequential scans, small enough that the
     *  unused tail of the last block stays under 1% of a large index. */
    private static final int TARGET_FLOATS_PER_BLOCK = 1 << 18;

    private final int dims;
    private final int shift;
    private final int mask;

    private volatile float[][] vectorBlocks = new float[0][];
    private volatile long[][] rowIdBlocks = new long[0][];
    private volatile long[][] deletedBlocks = new long[0][];
    private volatile int count;
    private int deletedCount;

    public VectorStore(int dims) {
        this.dims = dims;
        int rows = Integer.highestOneBit(Math.max(1, TARGET_FLOATS_PER_BLOCK / dims));
        this.shift = Integer.numberOfTrailingZeros(rows);
        this.mask = rows - 1;
    }

    public int dims() {
        return dims;
    }

    public int rowsPerBlock() {
        return mask + 1;
    }

    /** Rows appended and visible to readers, deleted ones included. */
    public int count() {
        return count;
    }

    public synchronized int deletedCount() {
        return deletedCount;
    }

    /**
     * Appends a prepared row and returns its node id. {@code onAllocate} runs under the same
     * lock before the row is published, so an index can size its per-node structures for the
     * new id atomically with it.
     */
    public synchronized int append(long rowId, float[] prepared, IntConsumer onAllocate) {
        int node = count;
        int block = node >>> shift;
        if (block == vectorBlocks.length) {
            addBlock();
        } else if ((node & mask) == rowIdBlocks[block].length) {
            growLastBlock(block);
        }
        System.arraycopy(prepared, 0, vectorBlocks[block], (node & mask) * dims, dims);
        rowIdBlocks[block][node & mask] = rowId;
        if (onAllocate != null) {
            onAllocate.accept(node);
        }
        count = node + 1;
        return node;
    }

    /**
     * Starts a new block. The first block starts small and doubles (see {@link #growLastBlock})
     * so that a small table does not pay for a whole block; later blocks start full size.
     */
    private void addBlock() {
        int n = vectorBlocks.length;
        int rows = n == 0 ? Math.min(mask + 1, 64) : mask + 1;
        float[][] v = Arrays.copyOf(vectorBlocks, n + 1);
        v[n] = new float[rows * dims];
        long[][] r = Arrays.copyOf(rowIdBlocks, n + 1);
        r[n] = new long[rows];
        long[][] d = Arrays.copyOf(deletedBlocks, n + 1);
        d[n] = new long[(rows + 63) >>> 6];
        publish(v, r, d);
    }

    /**
     * Doubles a block that started small. Safe under concurrent readers: a copy holds every
     * row published so far, and all writes to a block (rows, ids, tombstones) happen under this
     * store's lock, so none can land in the old copy after it was taken.
     */
    private void growLastBlock(int block) {
        int rows = Math.min(mask + 1, rowIdBlocks[block].length * 2);
        float[][] v = vectorBlocks.clone();
        v[block] = Arrays.copyOf(v[block], rows * dims);
        long[][] r = rowIdBlocks.clone();
        r[block] = Arrays.copyOf(r[block], rows);
        long[][] d = deletedBlocks.clone();
        d[block] = Arrays.copyOf(d[block], (rows + 63) >>> 6);
        publish(v, r, d);
    }

    private void publish(float[][] v, long[][] r, long[][] d) {
        // Vectors last: readers reach ids and tombstones only for rows whose vector they saw.
        rowIdBlocks = r;
        deletedBlocks = d;
        vectorBlocks = v;
    }

    /** The block array holding {@code node}'s vector; its row starts at {@link #offset}. */
    public float[] block(int node) {
        return vectorBlocks[node >>> shift];
    }

    public int offset(int node) {
        return (node & mask) * dims;
    }

    /** The whole block {@code b}, for scans. Rows past {@link #count()} are unused. */
    public float[] blockAt(int b) {
        return vectorBlocks[b];
    }

    public int blockCount() {
        return vectorBlocks.length;
    }

    public long rowId(int node) {
        return rowIdBlocks[node >>> shift][node & mask];
    }

    /** Java masks a long shift to its low six bits, so {@code 1L << node} is bit {@code node % 64}. */
    public boolean isDeleted(int node) {
        return (deletedBlocks[node >>> shift][(node & mask) >>> 6] & (1L << node)) != 0;
    }

    /** Tombstones {@code node}; returns false if it already was. */
    public synchronized boolean markDeleted(int node) {
        long[] words = deletedBlocks[node >>> shift];
        int w = (node & mask) >>> 6;
        long bit = 1L << node;
        if ((words[w] & bit) != 0) {
            return false;
        }
        words[w] |= bit;
        deletedCount++;
        return true;
    }

    public float[] copyRow(int node) {
        float[] out = new float[dims];
        System.arraycopy(block(node), offset(node), out, 0, dims);
        return out;
    }

    public long memoryBytes() {
        long bytes = 0;
        float[][] v = vectorBlocks;
        long[][] r = rowIdBlocks;
        long[][] d = deletedBlocks;
        for (int b = 0; b < v.length; b++) {
            bytes += (long) v[b].length * Float.BYTES + (long) r[b].length * Long.BYTES
                    + (long) d[b].length * Long.BYTES + 3 * 16;
        }
        return bytes;
    }

    /** Writes {@code n} (at most {@link #count()}), then per node: row id, tombstone flag, vector. */
    public void writeTo(DataOutput out, int n) throws IOException {
        out.writeInt(n);
        for (int node = 0; node < n; node++) {
            out.writeLong(rowId(node));
            out.writeBoolean(isDeleted(node));
            float[] b = block(node);
            int off = offset(node);
            for (int i = 0; i < dims; i++) {
                out.writeFloat(b[off + i]);
            }
        }
    }

    /**
     * Reads what {@link #writeTo} wrote, calling {@code onAllocate} for each node as
     * {@link #append} would.
     */
    public static VectorStore readFrom(DataInput in, int dims, IntConsumer onAllocate) throws IOException {
        VectorStore store = new VectorStore(dims);
        int n = in.readInt();
        if (n < 0) {
            throw new IOException("negative row count " + n);
        }
        float[] row = new float[dims];
        for (int node = 0; node < n; node++) {
            long rowId = in.readLong();
            boolean deleted = in.readBoolean();
            for (int i = 0; i < dims; i++) {
                row[i] = in.readFloat();
            }
            store.append(rowId, row, onAllocate);
            if (deleted) {
                store.markDeleted(node);
            }
        }
        return store;
    }
}
