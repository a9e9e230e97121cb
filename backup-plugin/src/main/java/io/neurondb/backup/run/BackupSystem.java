package io.neurondb.backup.run;

import io.neurondb.backup.config.BackupSettings;
import io.neurondb.backup.pg.Pg;
import io.neurondb.backup.pg.PgTools;
import io.neurondb.backup.store.BackupKey;
import io.neurondb.backup.store.BackupTarget;
import io.neurondb.backup.store.DirectoryTarget;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.ProxyStatus;
import io.neurondb.plugin.api.UpstreamServer;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Everything a backup, restore or check needs, built from the plugin context and checked before
 * any work starts: settings, the key, the repository and off-host target (writable), the client
 * tools of the server's version, the catalog and the meters. Bad input fails here, with a
 * message saying what to fix, before anything is changed.
 */
public final class BackupSystem {

    private static final Logger log = LoggerFactory.getLogger(BackupSystem.class);

    private final BackupSettings settings;
    private final Vertx vertx;
    private final UpstreamServer upstream;
    private final PgTools tools;
    private final BackupKey key;
    private final DirectoryTarget repository;
    private final DirectoryTarget offsite;
    private final Catalog catalog;
    private final BackupMetrics metrics;
    private final Map<String, String> env;
    private final ProxyStatus status;
    private final boolean insideProxy;
    /** The host's {@link PluginContext#releaseDatabase}: lets go of a database before a restore or restore test drops it. */
    private final java.util.function.Function<String, io.vertx.core.Future<PluginContext.DatabaseHold>> releases;

    private BackupSystem(BackupSettings settings, Vertx vertx, UpstreamServer upstream, PgTools tools, BackupKey key,
                         DirectoryTarget repository, DirectoryTarget offsite, BackupMetrics metrics, Map<String, String> env,
                         ProxyStatus status, boolean insideProxy,
                         java.util.function.Function<String, io.vertx.core.Future<PluginContext.DatabaseHold>> releases) {
        this.settings = settings;
        this.vertx = vertx;
        this.upstream = upstream;
        this.tools = tools;
        this.key = key;
        this.repository = repository;
        this.offsite = offsite;
        this.catalog = new Catalog(vertx, upstream, settings.database());
        this.metrics = metrics;
        this.env = env;
        this.status = status;
        this.insideProxy = insideProxy;
        this.releases = releases;
    }

    /**
     * @throws IllegalArgumentException for bad settings, a missing or malformed key, an unwritable
     *                                  repository or missing tools, saying what to fix
     */
    /** @param insideProxy true in the running proxy (its engine state is visible), false in a CLI process */
    public static BackupSystem open(PluginContext context, boolean insideProxy) {
        if (context.upstream() == null || context.upstream().user() == null) {
            throw new IllegalArgumentException("the backup plugin needs the proxy's own login: set a user in upstream (postgresql://user:password@host:port/db)");
        }
        BackupSettings settings = BackupSettings.parse(context.settings(), context.dataDir(), context.upstream().database(),
                context.environment());
        BackupKey key = BackupKey.load(settings, context.environment());
        // the tools before the directories: a refusal for missing tools leaves no directory behind
        int major = serverMajor(context.vertx(), context.upstream());
        PgTools tools = PgTools.find(settings.binDir(), major);
        DirectoryTarget repository = new DirectoryTarget(settings.repository());
        DirectoryTarget offsite = settings.offsite() == null ? null : new DirectoryTarget(settings.offsite());
        if (offsite != null && offsite.root().normalize().equals(repository.root().normalize())) {
            throw new IllegalArgumentException("plugins.backup.offsite is the repository itself; point it at another disk or host mount");
        }
        try {
            repository.checkWritable();
        } catch (IOException e) {
            throw new IllegalArgumentException("plugins.backup.repository: " + e.getMessage());
        }
        if (offsite != null) {
            try {
                offsite.checkWritable();
            } catch (IOException e) {
                throw new IllegalArgumentException("plugins.backup.offsite: " + e.getMessage());
            }
        }
        log.info("event=backup_configured repository={} offsite={} database={} tools={} encrypted={} schedules={}",
                repository.root(), offsite == null ? "none" : offsite.root(), settings.database(), tools.binDir(),
                key != null, settings.schedules());
        return new BackupSystem(settings, context.vertx(), context.upstream(), tools, key, repository, offsite,
                new BackupMetrics(context.meterRegistry()), context.environment(), context.status(), insideProxy,
                context::releaseDatabase);
    }

    /** The server's major version, or 0 when it cannot be reached now (tools are then found without it). */
    private static int serverMajor(Vertx vertx, UpstreamServer upstream) {
        try (Pg pg = Pg.connect(vertx, upstream, upstream.database() == null ? "postgres" : upstream.database())) {
            return Integer.parseInt(pg.value("SHOW server_version_num")) / 10000;
        } catch (RuntimeException e) {
            log.warn("event=backup_server_unreachable upstream={} error=\"{}\"; finding client tools without the server's version",
                    upstream, e.getMessage());
            return 0;
        }
    }

    public BackupSettings settings() {
        return settings;
    }

    public Vertx vertx() {
        return vertx;
    }

    public UpstreamServer upstream() {
        return upstream;
    }

    public PgTools tools() {
        return tools;
    }

    /** The encryption key, or null when backups are not encrypted. */
    public BackupKey key() {
        return key;
    }

    public DirectoryTarget repository() {
        return repository;
    }

    /** The off-host copy, or null. */
    public DirectoryTarget offsite() {
        return offsite;
    }

    /** Repository first, then the off-host copy. */
    public List<BackupTarget> targets() {
        List<BackupTarget> all = new ArrayList<>();
        all.add(repository);
        if (offsite != null) {
            all.add(offsite);
        }
        return all;
    }

    public Catalog catalog() {
        return catalog;
    }

    public BackupMetrics metrics() {
        return metrics;
    }

    public Map<String, String> env() {
        return env;
    }

    public ProxyStatus status() {
        return status;
    }

    /** The same system with another per-run timeout (the CLI's --timeout-minutes, tests). */
    public BackupSystem withTimeout(java.time.Duration timeout) {
        return new BackupSystem(settings.withTimeout(timeout), vertx, upstream, tools, key, repository, offsite, metrics, env,
                status, insideProxy, releases);
    }

    public boolean insideProxy() {
        return insideProxy;
    }

    /**
     * Makes the proxy let go of {@code database} before it is dropped (its replication slot and
     * connections would make PostgreSQL refuse); blocks, so call it on a worker thread. Outside a
     * running proxy (the CLI) there is nothing to release.
     */
    public PluginContext.DatabaseHold releaseForDrop(String database) {
        try {
            return releases.apply(database).toCompletionStage().toCompletableFuture().get(2, java.util.concurrent.TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException("the proxy did not let go of database \"" + database + "\": " + e.getMessage(), e);
        }
    }

    public Pg connect(String database) {
        return Pg.connect(vertx, upstream, database);
    }
}
