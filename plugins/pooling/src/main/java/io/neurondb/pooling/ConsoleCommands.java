package io.neurondb.pooling;

import io.neurondb.plugin.api.AdminCommand;
import io.neurondb.plugin.api.SqlFunctionException;
import io.neurondb.plugin.api.TextResult;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The admin console's commands, with PgBouncer's column names so existing tooling
 * (pgbouncer_exporter, scripts) reads them. SHOW commands are open to admin_users and
 * stats_users; PAUSE, RESUME, RECONNECT, RELOAD and SHUTDOWN to admin_users only.
 */
public final class ConsoleCommands {

    private ConsoleCommands() {
    }

    /** Shared checks and helpers. */
    abstract static class Base implements AdminCommand {
        PoolingService service() {
            PoolingService s = PoolingService.running();
            if (s == null) {
                throw new SqlFunctionException("55000", "pooling is not active");
            }
            return s;
        }

        void requireAdmin(String user) {
            if (!service().settings().adminUsers().contains(user)) {
                throw new SqlFunctionException("42501", "admin access needed: user \"" + user + "\" is not in admin_users");
            }
        }

        static String n(long v) {
            return Long.toString(v);
        }
    }

    @Extension
    public static final class ShowPools extends Base {
        @Override
        public String prefix() {
            return "SHOW POOLS";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            List<List<String>> rows = new ArrayList<>();
            for (Pool p : service().pooler().pools()) {
                Pool.Snapshot s = p.snapshot();
                rows.add(List.of(p.database, p.user, n(s.clActive()), n(s.clWaiting()), "0", "0", n(s.svActive()), "0", "0",
                        n(s.svIdle()), "0", n(s.svTested()), n(s.svLogin()), n(s.maxWaitMicros() / 1_000_000), n(s.maxWaitMicros() % 1_000_000),
                        p.mode().name().toLowerCase(Locale.ROOT)));
            }
            return TextResult.rows(List.of("database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req", "cl_waiting_cancel_req",
                    "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used", "sv_tested", "sv_login", "maxwait",
                    "maxwait_us", "pool_mode"), rows);
        }
    }

    @Extension
    public static final class ShowStats extends Base {
        @Override
        public String prefix() {
            return "SHOW STATS";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            // Totals add up over the database's pools; the period's averages are recomputed from
            // the pools' summed figures, so a time average is weighted by each pool's count.
            Map<String, PoolStats.Period[]> perDb = new java.util.TreeMap<>();
            for (Pool p : service().pooler().pools()) {
                PoolStats.Period[] t = perDb.computeIfAbsent(p.database, k -> new PoolStats.Period[]{PoolStats.Period.EMPTY, PoolStats.Period.EMPTY});
                t[0] = t[0].plus(p.stats.totals(p.acquired.get(), p.waitNanosTotal.get() / 1000));
                t[1] = t[1].plus(p.stats.lastPeriod());
            }
            List<List<String>> rows = new ArrayList<>();
            perDb.forEach((db, t) -> {
                PoolStats.Period total = t[0];
                PoolStats.Period last = t[1];
                rows.add(List.of(db, n(total.transactions()), n(total.queries()), n(total.bytesToServer()), n(total.bytesFromServer()),
                        n(total.transactionMicros()), n(total.queryMicros()), n(total.waitMicros()),
                        n(last.perSecond(last.transactions())), n(last.perSecond(last.queries())),
                        n(last.perSecond(last.bytesToServer())), n(last.perSecond(last.bytesFromServer())),
                        n(PoolStats.Period.per(last.transactionMicros(), last.transactions())),
                        n(PoolStats.Period.per(last.queryMicros(), last.queries())),
                        n(PoolStats.Period.per(last.waitMicros(), last.acquisitions()))));
            });
            return TextResult.rows(List.of("database", "total_xact_count", "total_query_count", "total_received", "total_sent",
                    "total_xact_time", "total_query_time", "total_wait_time", "avg_xact_count", "avg_query_count", "avg_recv",
                    "avg_sent", "avg_xact_time", "avg_query_time", "avg_wait_time"), rows);
        }
    }

    @Extension
    public static final class ShowClients extends Base {
        @Override
        public String prefix() {
            return "SHOW CLIENTS";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            List<List<String>> rows = new ArrayList<>();
            for (PoolingService.ClientInfo c : service().clients()) {
                String[] hostPort = split(c.address());
                rows.add(java.util.Arrays.asList("C", c.user(), c.database(), c.state(), hostPort[0], hostPort[1], null, null,
                        c.connectTime(), c.connectTime(), "0", "0", "0", Integer.toHexString(System.identityHashCode(c)), null, "0", null,
                        c.applicationName(), "0"));
            }
            return TextResult.rows(List.of("type", "user", "database", "state", "addr", "port", "local_addr", "local_port",
                    "connect_time", "request_time", "wait", "wait_us", "close_needed", "ptr", "link", "remote_pid", "tls",
                    "application_name", "prepared_statements"), rows);
        }
    }

    @Extension
    public static final class ShowServers extends Base {
        @Override
        public String prefix() {
            return "SHOW SERVERS";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            List<List<String>> rows = new ArrayList<>();
            var upstream = service().pooler().upstream();
            for (Pool p : service().pooler().pools()) {
                for (ServerConnection c : p.connections()) {
                    String state = switch (c.state) {
                        case ACTIVE -> "active";
                        case IDLE -> "idle";
                        case RESETTING, TESTING -> "tested";
                        case CLOSED -> "closed";
                    };
                    Object prepared = c.attachments.get("prepared-statements");
                    int preparedCount = prepared instanceof Map<?, ?> m ? m.size() : 0;
                    rows.add(java.util.Arrays.asList("S", p.user, p.database, state, upstream.host(), Integer.toString(upstream.port()),
                            null, null, Instant.of(c.createdMillis), Instant.of(c.lastUsedMillis()), "0", "0", "0",
                            Long.toHexString(c.id), null, Integer.toString(c.processId), null, "", Integer.toString(preparedCount)));
                }
            }
            return TextResult.rows(List.of("type", "user", "database", "state", "addr", "port", "local_addr", "local_port",
                    "connect_time", "request_time", "wait", "wait_us", "close_needed", "ptr", "link", "remote_pid", "tls",
                    "application_name", "prepared_statements"), rows);
        }
    }

    @Extension
    public static final class ShowDatabases extends Base {
        @Override
        public String prefix() {
            return "SHOW DATABASES";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            PoolingSettings s = service().settings();
            var upstream = service().pooler().upstream();
            java.util.Set<String> names = new java.util.TreeSet<>(s.databases().keySet());
            service().pooler().pools().forEach(p -> names.add(p.database));
            List<List<String>> rows = new ArrayList<>();
            for (String db : names) {
                PoolingSettings.DatabaseSettings d = s.databases().get(db);
                int current = service().pooler().pools().stream().filter(p -> p.database.equals(db))
                        .mapToInt(p -> p.connections().size()).sum();
                rows.add(java.util.Arrays.asList(db, upstream.host(), Integer.toString(upstream.port()),
                        service().pooler().serverDatabase(db), d == null ? null : d.user(), Integer.toString(s.poolSizeFor(db)),
                        Integer.toString(s.minPoolSize()), Integer.toString(s.reservePoolSize()),
                        d != null && d.poolMode() != null ? d.poolMode().name().toLowerCase(Locale.ROOT) : null,
                        Integer.toString(s.maxDbConnectionsFor(db)), Integer.toString(current),
                        service().pooler().paused() ? "1" : "0", "0"));
            }
            return TextResult.rows(List.of("name", "host", "port", "database", "force_user", "pool_size", "min_pool_size",
                    "reserve_pool", "pool_mode", "max_connections", "current_connections", "paused", "disabled"), rows);
        }
    }

    @Extension
    public static final class ShowConfig extends Base {
        @Override
        public String prefix() {
            return "SHOW CONFIG";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            Map<String, String> now = service().settings().asConfigRows();
            Map<String, String> defaults = PoolingSettings.from(Map.of(), Map.of()).asConfigRows();
            List<List<String>> rows = new ArrayList<>();
            now.forEach((k, v) -> rows.add(List.of(k, v, defaults.getOrDefault(k, ""), "yes")));
            return TextResult.rows(List.of("key", "value", "default", "changeable"), rows);
        }
    }

    @Extension
    public static final class ShowVersion extends Base {
        @Override
        public String prefix() {
            return "SHOW VERSION";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            return TextResult.rows(List.of("version"), List.of(List.of("NeuronDB pooler " + version() + " (PgBouncer-compatible console)")));
        }

        private static String version() {
            String v = ConsoleCommands.class.getPackage().getImplementationVersion();
            return v == null ? "0.1.0" : v;
        }
    }

    /** Drivers set parameters after connecting (pgjdbc: application_name); the console accepts and ignores them, as PgBouncer's does. */
    @Extension
    public static final class Set extends Base {
        @Override
        public String prefix() {
            return "SET";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            return TextResult.tagOnly("SET");
        }
    }

    @Extension
    public static final class Pause extends Base {
        @Override
        public String prefix() {
            return "PAUSE";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            requireAdmin(user);
            // As PgBouncer's PAUSE: no new transaction gets a server connection, and the command
            // completes once every server connection is back in its pool.
            service().pooler().pause(true);
            try {
                if (!service().pooler().awaitDrained()) {
                    throw new SqlFunctionException("57014", "PAUSE canceled: RESUME came before every server connection was back");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SqlFunctionException("57014", "PAUSE interrupted");
            }
            return TextResult.tagOnly("PAUSE");
        }
    }

    @Extension
    public static final class Resume extends Base {
        @Override
        public String prefix() {
            return "RESUME";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            requireAdmin(user);
            service().pooler().pause(false);
            return TextResult.tagOnly("RESUME");
        }
    }

    @Extension
    public static final class Reconnect extends Base {
        @Override
        public String prefix() {
            return "RECONNECT";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            requireAdmin(user);
            service().pooler().pools().forEach(Pool::reconnect);
            return TextResult.tagOnly("RECONNECT");
        }
    }

    @Extension
    public static final class Reload extends Base {
        @Override
        public String prefix() {
            return "RELOAD";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            requireAdmin(user);
            // The host re-reads its configuration file and reloads every plugin, as on SIGHUP.
            if (!service().context().requestReload()) {
                throw new SqlFunctionException("F0000", "RELOAD refused, the running configuration stays (the proxy's log says why)");
            }
            return TextResult.tagOnly("RELOAD");
        }
    }

    @Extension
    public static final class Shutdown extends Base {
        @Override
        public String prefix() {
            return "SHUTDOWN";
        }

        @Override
        public TextResult execute(String commandText, String user) {
            requireAdmin(user);
            // As PgBouncer's SHUTDOWN: the process stops. The pools close first, so no client is
            // lent a connection while the host shuts down.
            service().shutdown();
            service().context().requestShutdown();
            return TextResult.tagOnly("SHUTDOWN");
        }
    }

    private static String[] split(String address) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            return new String[]{address, null};
        }
        return new String[]{address.substring(0, colon).replace("/", ""), address.substring(colon + 1)};
    }

    /** Timestamps as PgBouncer prints them. */
    private static final class Instant {
        static String of(long millis) {
            return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z")
                    .format(java.time.Instant.ofEpochMilli(millis).atZone(java.time.ZoneOffset.UTC));
        }
    }
}
