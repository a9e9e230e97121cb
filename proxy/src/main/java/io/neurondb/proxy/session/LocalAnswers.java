package io.neurondb.proxy.session;

import io.neurondb.proxy.plugin.PluginFunctions;
import io.neurondb.proxy.route.ProxyCommand;
import io.neurondb.proxy.route.ProxyCommand.CallFunction;
import io.neurondb.proxy.vectors.IndexStatus;
import io.neurondb.proxy.vectors.VectorDatabase;

import java.util.List;
import java.util.Locale;

/** The result sets of the statements the proxy answers about itself. */
final class LocalAnswers {

    private static final List<LocalResults.Column> INDEX_STATS = List.of(
            LocalResults.Column.text("index_name"), LocalResults.Column.text("table_name"), LocalResults.Column.text("column_name"),
            LocalResults.Column.text("method"), LocalResults.Column.text("metric"), LocalResults.Column.int4("dims"),
            LocalResults.Column.int8("rows"), LocalResults.Column.int8("memory_bytes"), LocalResults.Column.float8("build_seconds"),
            LocalResults.Column.text("state"),
            // replication sync position of the index's database (shim 1.2); NULL when replication is off
            LocalResults.Column.text("applied_lsn"), LocalResults.Column.int8("lag_bytes"), LocalResults.Column.float8("lag_seconds"));

    private LocalAnswers() {
    }

    /** The columns of a statement's answer (for Describe), or null when it returns no rows. */
    static LocalResults shapeOf(ProxyCommand command, ProxyFacts facts, PluginFunctions functions) {
        return switch (command) {
            case ProxyCommand.ShowSetting show -> LocalResults.select(List.of(LocalResults.Column.text(show.name())));
            case CallFunction call -> LocalResults.select(columns(call));
            case ProxyCommand.CallPluginFunction call -> LocalResults.select(PluginCalls.columns(call, functions.find(call.name())));
            default -> null;
        };
    }

    private static List<LocalResults.Column> columns(CallFunction call) {
        return switch (call.function()) {
            case VERSION -> List.of(LocalResults.Column.text(call.columnName()));
            case GPU_ENABLED -> List.of(LocalResults.Column.bool(call.columnName()));
            case GPU_DEVICE_COUNT -> List.of(LocalResults.Column.int4(call.columnName()));
            case INDEX_STATS -> INDEX_STATS;
        };
    }

    /** The same figures as JSON, for {@code neurondb.index_stats(jsonb)} in PostgreSQL. */
    static String indexStatsJson(VectorDatabase database) {
        io.vertx.core.json.JsonArray rows = new io.vertx.core.json.JsonArray();
        if (database != null) {
            Replication r = Replication.of(database);
            for (IndexStatus s : database.stats()) {
                rows.add(new io.vertx.core.json.JsonObject()
                        .put("index_name", s.indexName()).put("table_name", s.tableName()).put("column_name", s.columnName())
                        .put("method", s.method()).put("metric", s.metric()).put("dims", s.dims()).put("rows", s.rows())
                        .put("memory_bytes", s.memoryBytes()).put("build_seconds", s.buildSeconds())
                        .put("state", s.state().name().toLowerCase(Locale.ROOT))
                        .put("applied_lsn", r.appliedLsn()).put("lag_bytes", r.lagBytes()).put("lag_seconds", r.lagSeconds()));
            }
        }
        return rows.encode();
    }

    static LocalResults call(CallFunction call, ProxyFacts facts, VectorDatabase database) {
        LocalResults result = LocalResults.select(columns(call));
        switch (call.function()) {
            case GPU_ENABLED -> result.row(facts.gpuEnabled());
            case GPU_DEVICE_COUNT -> result.row(facts.gpuDeviceCount());
            case INDEX_STATS -> {
                if (database != null) {
                    Replication r = Replication.of(database);
                    for (IndexStatus s : database.stats()) {
                        result.row(s.indexName(), s.tableName(), s.columnName(), s.method(), s.metric(), s.dims(), s.rows(),
                                s.memoryBytes(), s.buildSeconds(), s.state().name().toLowerCase(Locale.ROOT),
                                r.appliedLsn(), r.lagBytes(), r.lagSeconds());
                    }
                }
            }
            case VERSION -> throw new IllegalStateException("neurondb.version() is answered by the installed extension");
        }
        return result;
    }

    /** The database's replication position and lag, read once per answer; nulls when replication sync is off. */
    private record Replication(String appliedLsn, Long lagBytes, Double lagSeconds) {
        static Replication of(VectorDatabase database) {
            var applied = database.appliedLsn();
            var bytes = database.lagBytes();
            var seconds = database.lagSeconds();
            return new Replication(applied.isPresent() ? io.neurondb.proxy.replication.Lsn.format(applied.getAsLong()) : null,
                    bytes.isPresent() ? bytes.getAsLong() : null, seconds.isPresent() ? seconds.getAsDouble() : null);
        }
    }
}
