package io.neurondb.proxy.vectors;

import io.neurondb.engine.VectorIndex;
import io.neurondb.proxy.route.IndexDefinition;

/**
 * An index built for {@code CREATE INDEX} but not yet registered: the caller records it in
 * {@code neurondb.indexes}, then {@link VectorDatabase#register registers} it (or
 * {@link VectorDatabase#discard discards} it if the catalog write failed).
 *
 * @param index         null when {@code alreadyExists}
 * @param keyTypeOid    the primary key's type: 20 (int8), 23 (int4) or 21 (int2)
 * @param alreadyExists IF NOT EXISTS met an existing relation of that name: nothing was built,
 *                      the caller sends the NOTICE {@code relation "name" already exists, skipping}
 */
public record PreparedIndex(IndexDefinition def, VectorIndex index, int keyTypeOid, long rows, double buildSeconds,
                            boolean alreadyExists) {

    /** The NOTICE text for {@code alreadyExists}. */
    public String skipNotice() {
        return "relation \"" + def.name() + "\" already exists, skipping";
    }
}
