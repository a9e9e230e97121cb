package io.neurondb.proxy.replication;

import io.neurondb.proxy.config.TlsSettings;
import io.neurondb.proxy.config.UpstreamUrl;
import io.neurondb.proxy.net.UpstreamConnector;
import io.neurondb.proxy.route.SqlIdentifiers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Retires a proxy instance's replication objects ({@code bin/neurondb-proxy
 * --drop-replication-slot}): in every database of the server, the instance's logical slot and
 * its publication, and the instance's local checkpoints, so the server stops keeping WAL for
 * an instance that will not come back. Refuses to drop a slot a running proxy is streaming from.
 */
public final class ReplicationRetirement {

    private ReplicationRetirement() {
    }

    /** What was dropped, one line each. */
    public static List<String> retire(UpstreamUrl upstream, TlsSettings tls, ReplicationSettings settings, Path dataDir)
            throws Exception {
        if (upstream == null || upstream.user() == null) {
            throw new IllegalArgumentException("--drop-replication-slot needs an upstream URL with a user (the proxy's login)");
        }
        List<String> done = new ArrayList<>();
        Vertx vertx = Vertx.vertx();
        try {
            String maintenance = upstream.database() == null ? upstream.user() : upstream.database();
            List<String> databases = new ArrayList<>();
            List<Row> slots = new ArrayList<>();
            withConnection(vertx, upstream, tls, maintenance, c -> c.query(
                            "SELECT datname::text FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname").execute()
                    .compose(dbs -> {
                        dbs.forEach(r -> databases.add(r.getString(0)));
                        return c.query("SELECT slot_name::text AS slot_name, database::text AS database, active_pid "
                                + "FROM pg_replication_slots WHERE slot_type = 'logical' AND NOT temporary").execute();
                    })
                    .map(rows -> {
                        rows.forEach(slots::add);
                        return null;
                    }));
            for (Row slot : slots) {
                String db = slot.getString("database");
                String name = slot.getString("slot_name");
                if (db == null || !name.equals(ReplicationNames.slot(settings.instanceId(), db))) {
                    continue;
                }
                Integer pid = slot.getInteger("active_pid");
                if (pid != null) {
                    throw new IllegalStateException("replication slot \"" + name + "\" is in use by server process " + pid
                            + ": stop the proxy instance '" + settings.instanceId() + "' first");
                }
                withConnection(vertx, upstream, tls, maintenance,
                        c -> c.preparedQuery("SELECT pg_drop_replication_slot($1)").execute(Tuple.of(name)).mapEmpty());
                done.add("dropped replication slot " + name + " (database " + db + ")");
            }
            String publication = ReplicationNames.publication(settings.instanceId());
            for (String db : databases) {
                withConnection(vertx, upstream, tls, db, c -> c.preparedQuery("SELECT 1 FROM pg_publication WHERE pubname = $1")
                        .execute(Tuple.of(publication))
                        .compose(rows -> rows.size() == 0 ? Future.succeededFuture()
                                : c.query("DROP PUBLICATION " + SqlIdentifiers.quote(publication)).execute()
                                .map(x -> done.add("dropped publication " + publication + " (database " + db + ")")))
                        .mapEmpty());
            }
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
        Path checkpoints = dataDir.resolve("replication");
        if (Files.isDirectory(checkpoints)) {
            for (Path dir : list(checkpoints)) {
                if (dir.getFileName().toString().startsWith("neurondb_" + settings.instanceId() + "_")) {
                    deleteTree(dir);
                    done.add("deleted local checkpoints " + dir);
                }
            }
        }
        return done;
    }

    private static void withConnection(Vertx vertx, UpstreamUrl upstream, TlsSettings tls, String database,
                                       java.util.function.Function<PgConnection, Future<?>> work) throws Exception {
        PgConnectOptions options = new PgConnectOptions().setHost(upstream.host()).setPort(upstream.port())
                .setDatabase(database).setUser(upstream.user());
        if (upstream.password() != null) {
            options.setPassword(upstream.password());
        }
        if (tls != null && tls.upstreamMode() != TlsSettings.UpstreamTlsMode.DISABLE) {
            options.setSslMode(switch (tls.upstreamMode()) {
                case PREFER -> SslMode.PREFER;
                case REQUIRE -> SslMode.REQUIRE;
                case VERIFY_FULL -> SslMode.VERIFY_FULL;
                case DISABLE -> SslMode.DISABLE;
            });
            options.setSslOptions(UpstreamConnector.sslOptions(tls));
        }
        PgConnection.connect(vertx, options)
                .compose(c -> work.apply(c).eventually(c::close))
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
