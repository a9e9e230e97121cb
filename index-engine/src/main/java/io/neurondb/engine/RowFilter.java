package io.neurondb.engine;

import java.util.BitSet;

/**
 * Which row ids a search may return, e.g. the rows that pass a SQL WHERE clause. Called from
 * search threads, possibly several at once: implementations must be thread-safe and cheap.
 */
@FunctionalInterface
public interface RowFilter {

    /** Accepts every row. */
    RowFilter ALL = rowId -> true;

    boolean accept(long rowId);

    /** Rows whose id is a set bit; ids outside {@code 0..Integer.MAX_VALUE} are rejected. */
    static RowFilter of(BitSet allowed) {
        return rowId -> rowId >= 0 && rowId <= Integer.MAX_VALUE && allowed.get((int) rowId);
    }
}
