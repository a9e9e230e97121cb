package io.neurondb.proxy.values;

import java.util.Objects;

/**
 * A {@code vector} column among the columns a COPY carries.
 *
 * @param position   zero-based position among the copied columns
 * @param name       the column name, for error context
 * @param dimensions the n of {@code vector(n)}, or 0 when the column has no dimension limit;
 *                   checked here because the server only sees a {@code real[]}
 */
public record VectorColumn(int position, String name, int dimensions) {

    public VectorColumn {
        Objects.requireNonNull(name, "name");
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0: " + position);
        }
        if (dimensions < 0 || dimensions > VectorFormatException.MAX_DIMENSIONS) {
            throw new IllegalArgumentException("dimensions out of range: " + dimensions);
        }
    }

    public VectorColumn(int position, String name) {
        this(position, name, 0);
    }
}
