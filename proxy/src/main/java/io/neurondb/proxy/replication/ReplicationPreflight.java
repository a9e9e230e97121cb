package io.neurondb.proxy.replication;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.util.ArrayList;
import java.util.List;

/**
 * The checks made before a database is followed through logical replication, each failure
 * worded as what to change on the server.
 */
public final class ReplicationPreflight {

    static final String QUERY = """
            SELECT current_setting('wal_level') AS wal_level,
                   current_user::text AS role_name,
                   (r.rolreplication OR r.rolsuper) AS can_replicate,
                   current_setting('max_replication_slots')::int AS max_slots,
                   current_setting('max_wal_senders')::int AS max_senders,
                   (SELECT count(*) FROM pg_replication_slots)::int AS used_slots,
                   has_database_privilege(current_database(), 'CREATE') AS can_create_publication
              FROM pg_roles r WHERE r.rolname = current_user""";

    private ReplicationPreflight() {
    }

    /** The problems found, empty when the database can be followed; one sentence of advice each. */
    public static Future<List<String>> check(SqlClient client, String slotName) {
        return client.query(QUERY).execute().map(rows -> {
            Row r = rows.iterator().next();
            List<String> problems = new ArrayList<>();
            String walLevel = r.getString("wal_level");
            if (!"logical".equals(walLevel)) {
                problems.add("wal_level is '" + walLevel + "', logical replication needs 'logical': run "
                        + "ALTER SYSTEM SET wal_level = logical; as a superuser and restart PostgreSQL");
            }
            String role = r.getString("role_name");
            if (!Boolean.TRUE.equals(r.getBoolean("can_replicate"))) {
                problems.add("role \"" + role + "\" (the proxy's upstream login) lacks the REPLICATION attribute: run "
                        + "ALTER ROLE \"" + role.replace("\"", "\"\"") + "\" REPLICATION; as a superuser");
            }
            if (!Boolean.TRUE.equals(r.getBoolean("can_create_publication"))) {
                problems.add("role \"" + role + "\" may not create a publication in this database: run "
                        + "GRANT CREATE ON DATABASE <this database> TO \"" + role.replace("\"", "\"\"") + "\";");
            }
            if (r.getInteger("max_senders") < 1) {
                problems.add("max_wal_senders is 0: set it to at least 2 and restart PostgreSQL");
            }
            return problems;
        });
    }

    /**
     * Whether {@code slot} exists, its wal_status ("lost" when the server invalidated it), its
     * confirmed position, and who holds it now (PID, application_name and client address of the
     * walsender streaming from it, if any).
     */
    public static Future<SlotState> slotState(SqlClient client, String slot) {
        return client.preparedQuery("SELECT s.wal_status, s.confirmed_flush_lsn::text AS confirmed, s.active_pid, "
                        + "a.application_name::text AS holder_application, host(a.client_addr) AS holder_address "
                        + "FROM pg_replication_slots s LEFT JOIN pg_stat_activity a ON a.pid = s.active_pid "
                        + "WHERE s.slot_name = $1")
                .execute(io.vertx.sqlclient.Tuple.of(slot))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return SlotState.ABSENT;
                    }
                    Row r = rows.iterator().next();
                    String confirmed = r.getString("confirmed");
                    return new SlotState(true, r.getString("wal_status"), confirmed == null ? 0 : Lsn.parse(confirmed),
                            r.getInteger("active_pid"), r.getString("holder_application"), r.getString("holder_address"));
                });
    }

    /** Whether the server is in recovery: a standby, or a restored copy not yet promoted (no logical decoding there). */
    public static Future<Boolean> inRecovery(SqlClient client) {
        return client.query("SELECT pg_is_in_recovery()").execute().map(rows -> rows.iterator().next().getBoolean(0));
    }

    /**
     * @param activePid         the walsender streaming from the slot now, or null
     * @param holderApplication that backend's application_name (null when not visible)
     * @param holderAddress     its client address (null for a Unix socket or when not visible)
     */
    public record SlotState(boolean exists, String walStatus, long confirmedFlush, Integer activePid,
                            String holderApplication, String holderAddress) {
        public static final SlotState ABSENT = new SlotState(false, null, 0, null, null, null);

        public SlotState(boolean exists, String walStatus, long confirmedFlush) {
            this(exists, walStatus, confirmedFlush, null, null, null);
        }

        public boolean lost() {
            return exists && "lost".equals(walStatus);
        }

        public boolean active() {
            return activePid != null;
        }
    }
}
