package io.neurondb.proxy.vectors;

import io.neurondb.proxy.replication.Lsn;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

/**
 * {@code neurondb.consistency = read_your_writes}: waits until the replication stream has
 * applied a session's last commit to the indexes. The commit's own LSN is not known to the
 * proxy, so the server's current WAL position is taken instead (read on the proxy's own pool,
 * never on the client's connection): it is at or after that commit, so waiting for it is safe,
 * at worst a little longer than needed. The applied position is polled on the event loop
 * (reading a volatile every few milliseconds costs nothing and needs no hook in the apply thread).
 */
final class AppliedLsnWait {

    static final String OBJECT_NOT_IN_PREREQUISITE_STATE = "55000";
    private static final long POLL_MILLIS = 2;

    private AppliedLsnWait() {
    }

    static Future<Void> start(Vertx vertx, Pool pool, IndexSync sync, String database, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        return pool.query("SELECT pg_current_wal_lsn()::text").execute().compose(rows -> {
            long target = Lsn.parse(rows.iterator().next().getString(0));
            Promise<Void> done = Promise.promise();
            poll(vertx, sync, database, target, deadline, timeoutMillis, done);
            return done.future();
        });
    }

    private static void poll(Vertx vertx, IndexSync sync, String database, long target, long deadline, long timeoutMillis,
                             Promise<Void> done) {
        long applied = sync.appliedLsn();
        if (applied >= target) {
            done.tryComplete();
            return;
        }
        if (System.nanoTime() - deadline >= 0) {
            done.tryFail(behind(database, applied, target, timeoutMillis));
            return;
        }
        vertx.setTimer(POLL_MILLIS, id -> poll(vertx, sync, database, target, deadline, timeoutMillis, done));
    }

    static VectorSqlException behind(String database, long applied, long target, long timeoutMillis) {
        return new VectorSqlException(OBJECT_NOT_IN_PREREQUISITE_STATE,
                "vector indexes of database \"" + database + "\" are behind this session's last commit by " + (target - applied)
                        + " bytes after waiting " + timeoutMillis + " ms (neurondb.consistency_timeout)",
                "applied LSN " + Lsn.format(applied) + ", needed " + Lsn.format(target) + ".",
                "Raise neurondb.consistency_timeout, retry later, or SET neurondb.consistency = 'eventual' to accept possibly stale results.",
                null);
    }
}
