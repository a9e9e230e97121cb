package io.neurondb.proxy.route;

import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlTokenizer;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.CosineSimilarity;
import net.sf.jsqlparser.expression.operators.relational.GeometryDistance;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Rule 3 of the rewriter: a kNN SELECT ({@code ORDER BY col <op> v LIMIT k}) on a table with an
 * engine index becomes one statement that is right for any candidate list the engine gives:
 *
 * <pre>
 * (SELECT items' FROM t JOIN unnest($I::bigint[], $D::real[]) WITH ORDINALITY AS "__neurondb_knn"(...)
 *     ON t.key = "__neurondb_knn"."__neurondb_id" joins [WHERE w] ORDER BY "__neurondb_knn"."__neurondb_rank" LIMIT k+o)
 * UNION ALL
 * (SELECT items FROM t joins WHERE [(w) AND] t.key &lt;&gt; ALL($I::bigint[]) AND neurondb.no_parallel()
 *     ORDER BY original LIMIT k+o)
 * LIMIT k [OFFSET o]
 * </pre>
 *
 * The first branch returns the candidates that still exist and pass the filter, in the
 * engine's order, with the engine's distance; the second computes, exactly and inside
 * PostgreSQL, every other row. With a complete candidate list the second branch only fills
 * up what the first could not; with an empty one it is the original query.
 *
 * <p>The candidate extras must be bound as arrays, never NULL: an empty list is {@code '{}'}
 * ({@code key <> ALL('{}')} holds for every row, {@code key <> ALL(NULL)} for none).
 *
 * <p>Cost: the outer LIMIT stops pulling rows once the first branch has given enough, so with a
 * complete candidate list PostgreSQL never starts the second branch (EXPLAIN ANALYZE shows it
 * "never executed"); it scans the table only when candidates are missing.
 *
 * <p>The unnest columns get names of their own ({@code __neurondb_id} ...) rather than
 * {@code id}, so that the user's unqualified {@code id} never becomes ambiguous.
 */
final class KnnSelectRewriter {

    static final String KNN = "__neurondb_knn";
    static final String KNN_ID = "__neurondb_id";
    static final String KNN_DISTANCE = "__neurondb_distance";
    static final String KNN_RANK = "__neurondb_rank";

    /** Aggregates and the OVER of window functions: either makes the query something other than a row kNN. */
    private static final Set<String> AGGREGATES = Set.of("count", "sum", "avg", "min", "max", "array_agg",
            "string_agg", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor", "json_agg", "jsonb_agg",
            "json_object_agg", "jsonb_object_agg", "json_objectagg", "json_arrayagg", "stddev", "stddev_pop",
            "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp", "regr_avgx",
            "regr_avgy", "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy",
            "percentile_cont", "percentile_disc", "mode", "xmlagg", "range_agg", "range_intersect_agg", "any_value",
            "rank", "dense_rank", "percent_rank", "cume_dist", "grouping");

    private KnnSelectRewriter() {
    }

    /** What the analysis found, on the statement as the client wrote it. */
    record Analysis(PlainSelect select, Table driving, VectorCatalog.Table table, IndexDefinition index,
                    String column, DistanceOperator operator, BinaryExpression distance, String distanceText,
                    List<SelectItem<?>> distanceItems, StringValue queryLiteral, KnnSpec.VectorSource querySource,
                    KnnSpec.Bound limit, KnnSpec.Bound offset, boolean filtered, KnnSpec.LocalAnswer localAnswer) {
    }

    /** The kNN shape of {@code ps}, or null when it is not one the engine can serve. Must run before any rewriting. */
    static Analysis analyze(PlainSelect ps, RewriteContext ctx) {
        if (ps.getWithItemsList() != null || ps.getDistinct() != null || ps.getGroupBy() != null
                || ps.getHaving() != null || ps.getForMode() != null || ps.getIntoTables() != null
                || ps.getFetch() != null || ps.getWindowDefinitions() != null || ps.getQualify() != null
                || ps.getOrderByElements() == null || ps.getOrderByElements().isEmpty()
                || ps.getLimit() == null || ps.getSelectItems() == null) {
            return null;
        }
        if (!(ps.getFromItem() instanceof Table driving) || driving.getName() == null || driving.getSampleClause() != null) {
            return null;
        }
        VectorCatalog.Table table = ctx.catalog.table(RewriteContext.tableName(driving)).orElse(null);
        if (table == null) {
            return null;
        }
        boolean star = ps.getSelectItems().stream().anyMatch(i -> i.getExpression() instanceof AllColumns
                && !(i.getExpression() instanceof AllTableColumns));
        if (ps.getJoins() != null) {
            for (Join j : ps.getJoins()) {
                boolean kindOk = !j.isSimple() && !j.isNatural() && !j.isFull() && !j.isRight() && !j.isCross()
                        && !j.isApply() && !j.isSemi() && !j.isStraight() && !j.isWindowJoin() && !j.isGlobal();
                boolean hasOn = j.getOnExpressions() != null && !j.getOnExpressions().isEmpty();
                boolean hasUsing = j.getUsingColumns() != null && !j.getUsingColumns().isEmpty();
                if (!kindOk || !(hasOn || hasUsing) || (star && (hasUsing || joinRef(j) == null))) {
                    return null;
                }
            }
        }
        if (containsAggregateOrWindow(ps)) {
            return null;
        }
        // LIMIT: a literal or a parameter; OFFSET likewise.
        Limit limit = ps.getLimit();
        if (limit.isLimitAll() || limit.isLimitNull() || limit.getOffset() != null || limit.getByExpressions() != null) {
            return null;
        }
        KnnSpec.Bound limitBound = bound(limit.getRowCount());
        if (limitBound == null) {
            return null;
        }
        KnnSpec.Bound offsetBound = null;
        if (ps.getOffset() != null) {
            offsetBound = bound(ps.getOffset().getOffset());
            if (offsetBound == null) {
                return null;
            }
        }
        // The first ORDER BY item: ascending, NULLS LAST (the default), a distance from a vector column of t.
        OrderByElement first = ps.getOrderByElements().getFirst();
        if (!first.isAsc() || first.getNullOrdering() == OrderByElement.NullOrdering.NULLS_FIRST) {
            return null;
        }
        Expression ordered = first.getExpression();
        SelectItem<?> referenced = referencedItem(ps, ordered);
        if (referenced != null) {
            ordered = referenced.getExpression();
        }
        DistanceOperator op = operator(ordered, ctx);
        if (op == null) {
            return null;
        }
        BinaryExpression distance = (BinaryExpression) ordered;
        if (!(distance.getLeftExpression() instanceof Column col) || !ownColumn(col, driving)) {
            return null;
        }
        String column = RewriteContext.fold(col.getColumnName());
        if (!table.isVector(column)) {
            return null;
        }
        Expression q = distance.getRightExpression();
        if (q instanceof CastExpression cast && VectorColumnDdl.classify(cast.getColDataType()).isVector()) {
            q = cast.getLeftExpression();
        }
        KnnSpec.VectorSource source;
        StringValue queryLiteral = null;
        if (q instanceof JdbcParameter p && p.getIndex() != null && p.getIndex() >= 1) {
            source = KnnSpec.VectorSource.ofParam(p.getIndex());
        } else if (q instanceof StringValue s) {
            queryLiteral = s;
            float[] v = RewriteContext.parseLiteral(s);
            Integer dims = table.vectorDims().get(column);
            if (dims != null && dims != v.length) {
                return null; // PostgreSQL reports the dimension mismatch (rule 2 still lifts the literal)
            }
            source = KnnSpec.VectorSource.ofLiteral(v);
        } else {
            return null;
        }
        IndexDefinition index = ctx.catalog.indexFor(table, column, op).orElse(null);
        if (index == null) {
            return null;
        }
        String distanceText = distance.toString();
        List<SelectItem<?>> distanceItems = new ArrayList<>();
        for (SelectItem<?> item : ps.getSelectItems()) {
            if (item == referenced || (item.getExpression() != null && item.getExpression().toString().equals(distanceText)
                    && operator(item.getExpression(), ctx) != null)) {
                distanceItems.add(item);
            }
        }
        boolean filtered = ps.getWhere() != null || (ps.getJoins() != null && !ps.getJoins().isEmpty());
        KnnSpec.LocalAnswer local = filtered ? null : localAnswer(ps, driving, index.keyColumn(), distanceItems);
        return new Analysis(ps, driving, table, index, column, op, distance, distanceText, distanceItems, queryLiteral,
                source, limitBound, offsetBound, filtered, local);
    }

    static KnnSpec spec(Analysis a) {
        return new KnnSpec(a.table().tableName(), a.column(), a.operator(), a.querySource(), a.limit(), a.offset(),
                a.filtered(), a.localAnswer());
    }

    /**
     * The two-branch statement, built after rule 2 rewrote the statement's nodes in place (so
     * the parts print with their literals lifted). Adds the candidate extras. Returns null when
     * the statement has clauses this builder does not reproduce (then rule 2's text serves).
     */
    static String build(Analysis a, RewriteContext ctx) {
        PlainSelect ps = a.select();
        String from = ps.getFromItem().toString();
        String joins = ps.getJoins() == null ? "" : ps.getJoins().stream().map(j -> " " + j).collect(Collectors.joining());
        String where = ps.getWhere() == null ? null : ps.getWhere().toString();
        String orderBy = ps.getOrderByElements().stream().map(Object::toString).collect(Collectors.joining(", "));
        String limit = boundSql(a.limit());
        String offset = a.offset() == null ? null : boundSql(a.offset());
        String items = ps.getSelectItems().stream().map(Object::toString).collect(Collectors.joining(", "));

        // Guard: the statement must be exactly the clauses reproduced below, nothing JSqlParser
        // knows of that this builder would drop.
        String skeleton = "SELECT " + items + " FROM " + from + joins + (where == null ? "" : " WHERE " + where)
                + " ORDER BY " + orderBy + " LIMIT " + limit + (offset == null ? "" : " OFFSET " + offset);
        if (!sameTokens(skeleton, ps.toString())) {
            return null;
        }
        String both;
        if (a.offset() == null) {
            both = limit;
        } else if (!a.limit().isParam() && !a.offset().isParam()) {
            try {
                both = Long.toString(Math.addExact(a.limit().literal(), a.offset().literal()));
            } catch (ArithmeticException e) {
                return null;
            }
        } else {
            // Typed: a client may leave LIMIT/OFFSET parameters untyped (node-postgres, asyncpg),
            // and "unknown + unknown" does not resolve, where LIMIT $n alone would infer bigint.
            both = "(" + typedBound(a.limit()) + " + " + typedBound(a.offset()) + ")";
        }
        String ref = a.driving().getAlias() != null && a.driving().getAlias().getName() != null
                ? SqlIdentifiers.quote(RewriteContext.fold(a.driving().getAlias().getName()))
                : RewriteContext.tableName(a.driving()).toSql();
        String key = ref + "." + SqlIdentifiers.quote(a.index().keyColumn());

        List<String> firstItems = new ArrayList<>();
        for (SelectItem<?> item : ps.getSelectItems()) {
            if (a.distanceItems().contains(item)) {
                String label = item.getAlias() != null && item.getAlias().getName() != null
                        ? RewriteContext.fold(item.getAlias().getName()) : "?column?";
                firstItems.add(SqlIdentifiers.quote(KNN) + "." + SqlIdentifiers.quote(KNN_DISTANCE) + "::float8 AS "
                        + SqlIdentifiers.quote(label));
            } else if (item.getExpression() instanceof AllColumns && !(item.getExpression() instanceof AllTableColumns)) {
                // "*" would also expand to the unnest columns: spell out the user's tables.
                List<String> parts = new ArrayList<>();
                parts.add(ref + ".*");
                if (ps.getJoins() != null) {
                    for (Join j : ps.getJoins()) {
                        parts.add(joinRef(j) + ".*");
                    }
                }
                firstItems.add(String.join(", ", parts));
            } else {
                firstItems.add(item.toString());
            }
        }
        int ids = ctx.addExtra(new ParamPlan.CandidateIds());
        int dists = ctx.addExtra(new ParamPlan.CandidateDistances());
        String knn = SqlIdentifiers.quote(KNN);
        String first = "(SELECT " + String.join(", ", firstItems)
                + " FROM " + from
                + " JOIN unnest($" + ids + "::bigint[], $" + dists + "::real[]) WITH ORDINALITY AS " + knn + "("
                + SqlIdentifiers.quote(KNN_ID) + ", " + SqlIdentifiers.quote(KNN_DISTANCE) + ", " + SqlIdentifiers.quote(KNN_RANK) + ")"
                + " ON " + key + " = " + knn + "." + SqlIdentifiers.quote(KNN_ID)
                + joins
                + (where == null ? "" : " WHERE " + where)
                + " ORDER BY " + knn + "." + SqlIdentifiers.quote(KNN_RANK)
                + " LIMIT " + both + ")";
        // neurondb.no_parallel() is a PARALLEL UNSAFE function of the shim: naming it keeps the
        // whole plan serial, so the Append under UNION ALL runs its branches one after the
        // other and the candidates (first branch, engine order) come out before the exact
        // remainder (second branch). A Parallel Append could interleave them.
        String second = "(SELECT " + items
                + " FROM " + from + joins
                + " WHERE " + (where == null ? "" : "(" + where + ") AND ")
                + key + " <> ALL($" + ids + "::bigint[]) AND neurondb.no_parallel()"
                + " ORDER BY " + orderBy
                + " LIMIT " + both + ")";
        return first + " UNION ALL " + second + " LIMIT " + limit + (offset == null ? "" : " OFFSET " + offset);
    }

    private static String typedBound(KnnSpec.Bound b) {
        return b.isParam() ? "$" + b.param() + "::bigint" : Long.toString(b.literal());
    }

    private static String boundSql(KnnSpec.Bound b) {
        return b.isParam() ? "$" + b.param() : Long.toString(b.literal());
    }

    private static KnnSpec.Bound bound(Expression e) {
        if (e instanceof LongValue v) {
            long n = v.getValue();
            return n >= 0 ? KnnSpec.Bound.ofLiteral(n) : null;
        }
        if (e instanceof JdbcParameter p && p.getIndex() != null && p.getIndex() >= 1) {
            return KnnSpec.Bound.ofParam(p.getIndex());
        }
        return null;
    }

    /** The select item an ORDER BY ordinal or output-column name refers to, or null. */
    private static SelectItem<?> referencedItem(PlainSelect ps, Expression ordered) {
        List<SelectItem<?>> items = ps.getSelectItems();
        if (ordered instanceof LongValue v) {
            long n = v.getValue();
            return n >= 1 && n <= items.size() ? items.get((int) n - 1) : null;
        }
        if (ordered instanceof Column c && (c.getTable() == null || c.getTable().getName() == null)) {
            String name = RewriteContext.fold(c.getColumnName());
            for (SelectItem<?> item : items) {
                if (item.getAlias() != null && item.getAlias().getName() != null
                        && RewriteContext.fold(item.getAlias().getName()).equals(name)) {
                    return item;
                }
            }
        }
        return null;
    }

    /** The distance operator of {@code e} when it is {@code a <op> b}, else null. */
    static DistanceOperator operator(Expression e, RewriteContext ctx) {
        if (e instanceof GeometryDistance g) {
            return DistanceOperator.fromSymbol(g.getStringExpression().trim()).orElse(null);
        }
        if (e instanceof CosineSimilarity) {
            return DistanceOperator.COSINE;
        }
        return ctx.placeholderOperator(e);
    }

    /** A column of the driving table: unqualified, or qualified by its alias (or its name when it has none). */
    private static boolean ownColumn(Column c, Table driving) {
        Table q = c.getTable();
        if (q == null || q.getName() == null) {
            return true;
        }
        String name = RewriteContext.fold(q.getName());
        if (driving.getAlias() != null && driving.getAlias().getName() != null) {
            return q.getSchemaName() == null && name.equals(RewriteContext.fold(driving.getAlias().getName()));
        }
        if (!name.equals(RewriteContext.fold(driving.getName()))) {
            return false;
        }
        return q.getSchemaName() == null || RewriteContext.fold(q.getSchemaName()).equals(RewriteContext.fold(driving.getSchemaName()));
    }

    /** How a joined item's columns are referred to, or null when it has no name. */
    private static String joinRef(Join j) {
        FromItem item = j.getRightItem();
        if (item.getAlias() != null && item.getAlias().getName() != null) {
            return SqlIdentifiers.quote(RewriteContext.fold(item.getAlias().getName()));
        }
        if (item instanceof Table t && t.getName() != null) {
            return RewriteContext.tableName(t).toSql();
        }
        return null;
    }

    private static KnnSpec.LocalAnswer localAnswer(PlainSelect ps, Table driving, String key, List<SelectItem<?>> distanceItems) {
        List<KnnSpec.OutputColumn> columns = new ArrayList<>();
        for (SelectItem<?> item : ps.getSelectItems()) {
            String alias = item.getAlias() != null && item.getAlias().getName() != null
                    ? RewriteContext.fold(item.getAlias().getName()) : null;
            if (distanceItems.contains(item)) {
                columns.add(new KnnSpec.OutputColumn(alias != null ? alias : "?column?", KnnSpec.Source.DISTANCE));
            } else if (item.getExpression() instanceof Column c && !(item.getExpression() instanceof AllColumns)
                    && key.equals(RewriteContext.fold(c.getColumnName())) && ownColumn(c, driving)) {
                columns.add(new KnnSpec.OutputColumn(alias != null ? alias : key, KnnSpec.Source.KEY));
            } else {
                return null;
            }
        }
        return new KnnSpec.LocalAnswer(columns);
    }

    /** Aggregate calls or OVER anywhere in the select list or ORDER BY (a cheap token scan; false positives only forgo kNN). */
    private static boolean containsAggregateOrWindow(PlainSelect ps) {
        StringBuilder text = new StringBuilder();
        for (SelectItem<?> item : ps.getSelectItems()) {
            text.append(item).append(", ");
        }
        for (OrderByElement o : ps.getOrderByElements()) {
            text.append(o).append(", ");
        }
        List<SqlToken> tokens;
        try {
            tokens = SqlTokenizer.tokenize(text.toString());
        } catch (RuntimeException e) {
            return true;
        }
        for (int i = 0; i < tokens.size(); i++) {
            SqlToken t = tokens.get(i);
            if (t.kind() == SqlToken.Kind.WORD && (t.isWord("over") || t.isWord("filter")
                    || (AGGREGATES.contains(t.normalized()) && i + 1 < tokens.size() && tokens.get(i + 1).isPunctuation('(')))) {
                return true;
            }
        }
        return false;
    }

    /** Same token texts, whatever the spacing. */
    private static boolean sameTokens(String a, String b) {
        try {
            List<SqlToken> x = SqlTokenizer.tokenize(a);
            List<SqlToken> y = SqlTokenizer.tokenize(b);
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!x.get(i).text().equalsIgnoreCase(y.get(i).text())) {
                    return false;
                }
            }
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
