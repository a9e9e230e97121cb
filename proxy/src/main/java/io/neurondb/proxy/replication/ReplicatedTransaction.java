package io.neurondb.proxy.replication;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One committed transaction as the slot delivered it: its row changes in order, each with the
 * relation description that was current for it. Applied whole, in commit order.
 *
 * @param endLsn the end of the commit record: the position the transaction is covered up to
 */
public record ReplicatedTransaction(long xid, long commitLsn, long endLsn, Instant commitTime, List<Change> changes) {

    public sealed interface Change permits Upsert, Removal, Truncation {
    }

    /**
     * An insert ({@code oldKey} empty, {@code update} false) or an update; {@code oldKey} is
     * present when an update changed the replica identity (the key).
     */
    public record Upsert(PgOutputMessage.Relation relation, boolean update, Optional<TupleData> oldKey, TupleData row)
            implements Change {
    }

    public record Removal(PgOutputMessage.Relation relation, TupleData oldKey) implements Change {
    }

    public record Truncation(List<PgOutputMessage.Relation> relations) implements Change {
    }
}
