package io.neurondb.proxy.vectors;

import java.util.Locale;

/** Where an engine index is in its life, as {@code neurondb.index_stats()} shows it. */
public enum IndexState {
    /** Being built from the table; not served unless an older build of it still is (REINDEX). */
    BUILDING,
    /** Built and current: served. */
    READY,
    /** The last build failed; not served. */
    FAILED,
    /** Rows were written since the index was built; not served until a rebuild catches up. */
    STALE;

    public String sqlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
