package io.neurondb.plugins.slowquery;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The records waiting for the table, at most {@code capacity} of them: when PostgreSQL is
 * slow or down and the buffer is full, the oldest record makes room for the newest and the
 * drop is counted. Capture thus never grows memory without bound, and never waits.
 */
final class RecordBuffer {

    /** Told how many records were dropped, each time some are. */
    interface DropListener {
        void dropped(int count);
    }

    private final int capacity;
    private final ArrayDeque<SlowQueryRecord> records;
    private final DropListener drops;
    /** Records taken for a batch that is being written: still held, until written or put back. */
    private int inFlight;

    RecordBuffer(int capacity, DropListener drops) {
        this.capacity = capacity;
        this.records = new ArrayDeque<>(Math.min(capacity, 1024));
        this.drops = drops;
    }

    void add(SlowQueryRecord record) {
        boolean dropped;
        synchronized (this) {
            dropped = records.size() >= capacity;
            if (dropped) {
                records.pollFirst();
            }
            records.addLast(record);
        }
        if (dropped) {
            drops.dropped(1);
        }
    }

    /** Up to {@code max} of the oldest records, removed. */
    synchronized List<SlowQueryRecord> take(int max) {
        int n = Math.min(max, records.size());
        List<SlowQueryRecord> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(records.pollFirst());
        }
        inFlight += n;
        return out;
    }

    /**
     * A batch the table did not take goes back in front, as far as there is room: records
     * that arrived meanwhile are newer and keep their place; what does not fit is dropped.
     */
    void putBack(List<SlowQueryRecord> batch) {
        int dropped = 0;
        synchronized (this) {
            inFlight -= batch.size();
            for (int i = batch.size() - 1; i >= 0; i--) {
                if (records.size() >= capacity) {
                    dropped = i + 1; // the oldest ones left
                    break;
                }
                records.addFirst(batch.get(i));
            }
        }
        if (dropped > 0) {
            drops.dropped(dropped);
        }
    }

    /** A batch from {@link #take} is in the table. */
    synchronized void written(int count) {
        inFlight -= count;
    }

    /**
     * Records held: waiting, or in a batch being written. Counting the batch keeps the figure
     * steady while PostgreSQL is down (each failed attempt takes the records out and puts them back).
     */
    synchronized int size() {
        return records.size() + inFlight;
    }

    /** Records waiting for a batch. */
    synchronized int waiting() {
        return records.size();
    }

    int capacity() {
        return capacity;
    }
}
