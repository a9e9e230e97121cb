package io.neurondb.proxy.session;

import io.neurondb.engine.SearchResult;
import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.proxy.metrics.SessionMeters;
import io.neurondb.proxy.protocol.BindMessage;
import io.neurondb.proxy.protocol.TransactionStatus;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.IndexMethod;
import io.neurondb.proxy.route.KnnSpec;
import io.neurondb.proxy.route.ParamPlan;
import io.neurondb.proxy.route.StatementPlan;
import io.neurondb.proxy.route.TableName;
import io.neurondb.proxy.route.VectorCatalog;
import io.neurondb.proxy.values.RealArrayText;
import io.neurondb.proxy.vectors.ServedIndex;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.proxy.vectors.VectorSqlException;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Serves one execution of a kNN statement: asks the engine for the candidates and either
 * answers alone (every output column is the key or the distance) or hands the candidates to
 * the rewritten statement as parameters. When the engine cannot serve (no ready index, the
 * session wrote the table in this transaction, an aborted transaction) the candidate lists
 * are empty and the statement's exact branch computes the answer in PostgreSQL.
 *
 * <p>Answering alone skips PostgreSQL's privilege and row-security checks, so it is done only
 * for tables the session has been shown to read in full (see {@code RequestPipeline}).
 */
final class KnnExecutor {

    /** Rows fetched per row asked for when a WHERE or a join may reject candidates. */
    private static final int FILTER_OVERFETCH = 4;
    private static final int FILTER_MIN_CANDIDATES = 100;
    /** Beyond this many rows the engine's answer is no cheaper than the exact branch. */
    private static final long MAX_SERVED = 10_000;

    /**
     * @param localAnswer the whole result when the engine answers alone, else null
     * @param route       how it was served, for the session's log: {@code engine}, {@code candidates}
     *                    (PostgreSQL joins the engine's rows) or {@code exact} (PostgreSQL alone), with why
     * @param search      the index, k and search settings used, for statement observers
     */
    record Prepared(List<Buffer> extras, LocalResults localAnswer, String route, float[] query, StatementEvent.VectorSearch search) {
    }

    private final SessionSettings settings;
    private final SessionMeters meters;

    KnnExecutor(SessionSettings settings, SessionMeters meters) {
        this.settings = settings;
        this.meters = meters;
    }

    /**
     * @param bind the client's Bind, or null in the simple protocol (then every value is a literal)
     */
    Prepared prepare(StatementPlan.Knn plan, BindMessage bind, VectorDatabase database, VectorCatalog catalog,
                     TransactionStatus status, Set<TableName> writtenTables, Set<TableName> readableTables) {
        KnnSpec spec = plan.spec();
        float[] query = spec.query().isParam() ? ParamValues.vector(bind, spec.query().param()) : spec.query().literal();
        Long limit = bound(spec.limit(), bind);
        Long offset = spec.offset() == null ? Long.valueOf(0) : bound(spec.offset(), bind);
        Optional<ServedIndex> served = served(spec, database, catalog, status, writtenTables);
        if (query == null || limit == null || offset == null || limit < 0 || offset < 0 || limit + offset > MAX_SERVED || served.isEmpty()) {
            String why = served.isEmpty() ? "no ready index the session may use" : "limit/offset/vector not servable";
            int k = limit == null || offset == null ? -1 : (int) Math.min(Integer.MAX_VALUE, Math.max(-1, limit + offset));
            return new Prepared(candidates(plan.params(), SearchResult.EMPTY), null, "exact (" + why + ")", query,
                    new StatementEvent.VectorSearch(null, k, null, null));
        }
        ServedIndex index = served.get();
        int wanted = (int) (limit + offset);
        int fetch = spec.filtered() ? (int) Math.min(MAX_SERVED, Math.max((long) wanted * FILTER_OVERFETCH, FILTER_MIN_CANDIDATES)) : wanted;
        int efSearch = Math.max(settings.intValue("hnsw.ef_search"), fetch);
        int probes = settings.intValue("ivfflat.probes");
        SearchResult found = SearchResult.EMPTY;
        if (wanted > 0) {
            long started = System.nanoTime();
            found = index.search(query, fetch, efSearch, probes);
            IndexDefinition d = index.definition();
            meters.searched(database.database(), d.table().toString(), d.name(), System.nanoTime() - started);
        }
        boolean hnsw = index.definition().method() == IndexMethod.HNSW;
        StatementEvent.VectorSearch search = new StatementEvent.VectorSearch(index.definition().qualifiedName(), wanted,
                hnsw ? Integer.valueOf(efSearch) : null, hnsw ? null : Integer.valueOf(probes));
        if (spec.localAnswer() != null && !spec.filtered() && readableTables.contains(spec.table())) {
            return new Prepared(List.of(), localRows(spec.localAnswer(), index, found, (int) (long) offset, wanted),
                    "engine index=" + index.definition().qualifiedName() + " k=" + wanted + " found=" + found.size(), query, search);
        }
        return new Prepared(candidates(plan.params(), found), null,
                "candidates index=" + index.definition().qualifiedName() + " k=" + wanted + " fetched=" + found.size(), query, search);
    }

    private static Long bound(KnnSpec.Bound b, BindMessage bind) {
        if (!b.isParam()) {
            return b.literal();
        }
        if (bind == null) {
            throw new VectorSqlException(VectorSqlException.INTERNAL_ERROR, "kNN plan refers to a parameter in a simple query");
        }
        return ParamValues.integer(bind, b.param());
    }

    private static Optional<ServedIndex> served(KnnSpec spec, VectorDatabase database, VectorCatalog catalog,
                                                TransactionStatus status, Set<TableName> writtenTables) {
        if (database == null || status == TransactionStatus.FAILED || writtenTables.contains(spec.table())) {
            return Optional.empty();
        }
        Optional<IndexDefinition> def = catalog.table(spec.table())
                .flatMap(t -> catalog.indexFor(t, spec.column(), spec.operator()));
        return def.flatMap(database::served);
    }

    /** The candidate id and distance arrays, in the order the plan's extras want them. */
    private static List<Buffer> candidates(ParamPlan params, SearchResult found) {
        List<Buffer> out = new ArrayList<>(2);
        for (ParamPlan.Extra e : params.extras()) {
            switch (e) {
                case ParamPlan.CandidateIds ids -> out.add(ParamValues.text(idArray(found.rowIds())));
                case ParamPlan.CandidateDistances d -> out.add(ParamValues.text(RealArrayText.format(found.distances())));
                case ParamPlan.VectorValue v -> {
                }
                case ParamPlan.IndexStatsJson j -> out.add(ParamValues.text("[]"));
            }
        }
        return out;
    }

    private static String idArray(long[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 8 + 2).append('{');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(ids[i]);
        }
        return sb.append('}').toString();
    }

    private static LocalResults localRows(KnnSpec.LocalAnswer answer, ServedIndex index, SearchResult found, int offset, int wanted) {
        List<LocalResults.Column> columns = new ArrayList<>(answer.columns().size());
        for (KnnSpec.OutputColumn c : answer.columns()) {
            columns.add(c.source() == KnnSpec.Source.KEY ? LocalResults.Column.ofType(c.name(), index.keyTypeOid())
                    : LocalResults.Column.float8(c.name()));
        }
        LocalResults rows = LocalResults.select(columns);
        int end = Math.min(found.size(), wanted);
        for (int r = offset; r < end; r++) {
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = answer.columns().get(i).source() == KnnSpec.Source.KEY ? (Object) found.rowIds()[r] : (Object) found.distances()[r];
            }
            rows.row(values);
        }
        return rows;
    }
}
