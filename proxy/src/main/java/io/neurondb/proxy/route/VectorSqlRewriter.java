package io.neurondb.proxy.route;

import io.neurondb.proxy.sql.SqlSyntaxException;
import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlTokenizer;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.ExplainStatement;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.alter.Alter;
import net.sf.jsqlparser.statement.create.table.CreateTable;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;
import net.sf.jsqlparser.util.TablesNamesFinder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites one statement that involves pgvector's SQL surface into SQL stock PostgreSQL runs
 * with the proxy's shim: {@code vector(n)} columns become {@code real[]} with a dimension
 * CHECK, vector literals become bind parameters, and a kNN SELECT on a table with an engine
 * index becomes a statement that joins the engine's candidates ({@link KnnSelectRewriter}).
 *
 * <p>Pure and thread-safe. Everything the proxy does not generate itself is the client's SQL as
 * JSqlParser re-prints it; the re-print is checked to keep every string literal, quoted
 * identifier, number and parameter of the original (minus lifted literals), otherwise the
 * statement passes through unchanged. Values are never pasted into SQL.
 *
 * <p>Statements JSqlParser cannot parse pass through. {@code <+>}, which JSqlParser rejects, is
 * replaced for parsing by an operator JSqlParser accepts that the statement does not otherwise
 * use ({@code @@} or {@code &&}), located by the tokenizer so string literals and comments are
 * never touched, and mapped back in the output. When that parse fails (JSqlParser takes
 * {@code <->} only where a comparison may stand, so {@code embedding <-> $1 < 0.5} fails), every
 * distance operator is replaced the same way by an arithmetic-level operator the statement does
 * not use ({@code << >> & | ^ %}). The re-printed text keeps the client's operator order, so
 * PostgreSQL's own precedence applies to the output whatever tree JSqlParser built.
 */
public final class VectorSqlRewriter {

    static final Set<String> DISTANCE_OPERATORS = Set.of("<->", "<#>", "<=>", "<+>");
    static final Set<String> VECTOR_WORDS = Set.of("vector", "halfvec", "sparsevec");
    private static final List<String> L1_PLACEHOLDERS = List.of("@@", "&&");
    private static final List<String> ARITHMETIC_PLACEHOLDERS = List.of("<<", ">>", "&", "|", "^", "%");

    public StatementPlan rewrite(String sql, VectorCatalog catalog) {
        List<SqlToken> tokens;
        try {
            tokens = SqlTokenizer.tokenize(sql);
        } catch (SqlSyntaxException e) {
            return StatementPlan.Passthrough.PLAIN;
        }
        return rewrite(sql, tokens, catalog);
    }

    /** {@link #rewrite(String, VectorCatalog)} with {@code sql}'s tokens already read (the router tokenizes once). */
    StatementPlan rewrite(String sql, List<SqlToken> tokens, VectorCatalog catalog) {
        if (!relevant(tokens, catalog)) {
            return StatementPlan.Passthrough.PLAIN;
        }
        // What to do when the statement cannot be rewritten: forward it, still noting a write
        // to a table with engine indexes (found from the tokens, so it works unparsed too).
        StatementPlan fallback = writeFallback(tokens, catalog);
        int clientParams = 0;
        boolean hasL1 = false;
        Set<String> operators = new HashSet<>();
        for (SqlToken t : tokens) {
            if (t.kind() == SqlToken.Kind.PARAMETER) {
                try {
                    clientParams = Math.max(clientParams, Integer.parseInt(t.text().substring(1)));
                } catch (NumberFormatException e) {
                    return StatementPlan.Passthrough.PLAIN;
                }
            } else if (t.kind() == SqlToken.Kind.OPERATOR) {
                operators.add(t.text());
                hasL1 |= t.text().equals("<+>");
            }
        }
        // JSqlParser knows <-> <#> <=> only at the level of comparisons, and not <+> at all.
        // First try: the text as written, with <+> replaced by an operator of the same level
        // that the statement does not use. Should that fail (e.g. "embedding <-> $1 < 0.5"),
        // every distance operator is replaced by an arithmetic-level one the statement does not use.
        Map<String, DistanceOperator> placeholders = new HashMap<>();
        String parseText = sql;
        if (hasL1) {
            String p = L1_PLACEHOLDERS.stream().filter(o -> !operators.contains(o)).findFirst().orElse(null);
            if (p != null) {
                placeholders.put(p, DistanceOperator.L1);
                parseText = replaceOperators(sql, tokens, Map.of("<+>", " " + p + " "));
            }
        }
        Statement statement = placeholders.isEmpty() && hasL1 ? null : parse(parseText);
        if (statement == null) {
            placeholders.clear();
            Map<String, String> replacements = new HashMap<>();
            List<String> pool = new ArrayList<>(ARITHMETIC_PLACEHOLDERS);
            pool.removeAll(operators);
            for (DistanceOperator op : DistanceOperator.values()) {
                if (operators.contains(op.symbol())) {
                    if (pool.isEmpty()) {
                        return fallback;
                    }
                    String p = pool.removeFirst();
                    placeholders.put(p, op);
                    replacements.put(op.symbol(), " " + p + " ");
                }
            }
            if (replacements.isEmpty()) {
                return fallback;
            }
            statement = parse(replaceOperators(sql, tokens, replacements));
            if (statement == null) {
                return fallback;
            }
        }
        RewriteContext ctx = new RewriteContext(catalog, clientParams, placeholders);
        StatementPlan plan;
        try {
            plan = plan(statement, ctx);
        } catch (RewriteRejection r) {
            return r.toPlan();
        } catch (RuntimeException | StackOverflowError e) {
            // A statement shape the deparser or this rewriter does not cope with: let PostgreSQL judge it.
            return fallback;
        }
        return finish(plan, sql, tokens, ctx, fallback);
    }

    private static Statement parse(String text) {
        try {
            return CCJSqlParserUtil.parse(text);
        } catch (Exception | StackOverflowError e) {
            return null;
        }
    }

    private static StatementPlan plan(Statement statement, RewriteContext ctx) {
        switch (statement) {
            case CreateTable create -> {
                StatementPlan p = VectorColumnDdl.createTable(create, ctx.clientParams);
                return p != null ? p : general(statement, ctx, List.of());
            }
            case Alter alter -> {
                StatementPlan p = VectorColumnDdl.alter(alter, ctx.clientParams);
                return p != null ? p : StatementPlan.Passthrough.PLAIN;
            }
            case PlainSelect select -> {
                collectScope(statement, ctx);
                KnnSelectRewriter.Analysis knn = KnnSelectRewriter.analyze(select, ctx);
                String text = VectorLiteralLifter.rewrite(statement, ctx);
                if (knn != null) {
                    String sql = KnnSelectRewriter.build(knn, ctx);
                    if (sql != null) {
                        return new StatementPlan.Knn(sql, ctx.params(), KnnSelectRewriter.spec(knn));
                    }
                }
                return rule2Plan(text, ctx, Effect.NONE);
            }
            case Insert insert -> {
                VectorCatalog.Table target = ctx.addToScope(insert.getTable());
                collectScope(statement, ctx);
                if (target != null) {
                    assignInsertValues(insert, target, ctx);
                    if (insert.getConflictAction() != null && insert.getConflictAction().getUpdateSets() != null) {
                        assignUpdateSets(insert.getConflictAction().getUpdateSets(), target, ctx);
                    }
                }
                return general(statement, ctx, written(target, ctx));
            }
            case Update update -> {
                VectorCatalog.Table target = ctx.addToScope(update.getTable());
                collectScope(statement, ctx);
                if (target != null && update.getUpdateSets() != null) {
                    assignUpdateSets(update.getUpdateSets(), target, ctx);
                }
                return general(statement, ctx, written(target, ctx));
            }
            case Delete delete -> {
                VectorCatalog.Table target = ctx.addToScope(delete.getTable());
                collectScope(statement, ctx);
                return general(statement, ctx, written(target, ctx));
            }
            case Merge merge -> {
                VectorCatalog.Table target = ctx.addToScope(merge.getTable());
                collectScope(statement, ctx);
                return general(statement, ctx, written(target, ctx));
            }
            case Select select -> {
                collectScope(statement, ctx);
                return general(select, ctx, List.of());
            }
            case ExplainStatement explain -> {
                collectScope(statement, ctx);
                return general(explain, ctx, List.of());
            }
            default -> {
                // Other statements (CREATE VIEW, CREATE FUNCTION, ...) cannot take parameters,
                // so their vector literals cannot be lifted: PostgreSQL judges them as written.
                return StatementPlan.Passthrough.PLAIN;
            }
        }
    }

    /** Rule 2 only: vector values anywhere in the statement. */
    private static StatementPlan general(Statement statement, RewriteContext ctx, List<TableName> written) {
        String text = VectorLiteralLifter.rewrite(statement, ctx);
        Effect effect = written.isEmpty() ? Effect.NONE : new Effect.TablesWritten(written);
        return rule2Plan(text, ctx, effect);
    }

    private static StatementPlan rule2Plan(String text, RewriteContext ctx, Effect effect) {
        if (!ctx.anyChange()) {
            return effect == Effect.NONE ? StatementPlan.Passthrough.PLAIN : new StatementPlan.Passthrough(effect);
        }
        // Only parameters marked as vectors: the client's own text serves (null = keep it).
        return new StatementPlan.Rewrite(ctx.textChanged() ? text : null, ctx.params(), effect);
    }

    /** Maps the {@code <+>} placeholder back, checks the re-print kept the client's values, keeps the text when only parameters changed. */
    private static StatementPlan finish(StatementPlan plan, String sql, List<SqlToken> original, RewriteContext ctx,
                                        StatementPlan fallback) {
        return switch (plan) {
            case StatementPlan.Rewrite r -> {
                if (r.sql() == null) {
                    yield new StatementPlan.Rewrite(sql, r.params(), r.effect());
                }
                String out = restoreL1(r.sql(), ctx);
                if (out == null || !keepsClientText(original, out, ctx.liftedLiterals())) {
                    yield fallback;
                }
                yield new StatementPlan.Rewrite(out, r.params(), r.effect());
            }
            case StatementPlan.Knn k -> {
                String out = restoreL1(k.sql(), ctx);
                if (out == null || !keepsClientText(original, out, ctx.liftedLiterals())) {
                    yield fallback;
                }
                yield new StatementPlan.Knn(out, k.params(), k.spec());
            }
            default -> plan;
        };
    }

    private static String restoreL1(String out, RewriteContext ctx) {
        if (ctx.placeholders.isEmpty()) {
            return out;
        }
        Map<String, String> back = new HashMap<>();
        ctx.placeholders.forEach((placeholder, op) -> back.put(placeholder, op.symbol()));
        try {
            return replaceOperators(out, SqlTokenizer.tokenize(out), back);
        } catch (SqlSyntaxException e) {
            return null;
        }
    }

    /** {@code sql} with operator tokens replaced as {@code replacements} says (never inside literals or comments). */
    private static String replaceOperators(String sql, List<SqlToken> tokens, Map<String, String> replacements) {
        StringBuilder out = new StringBuilder(sql.length() + 8);
        int at = 0;
        for (SqlToken t : tokens) {
            String r = t.kind() == SqlToken.Kind.OPERATOR ? replacements.get(t.text()) : null;
            if (r != null) {
                out.append(sql, at, t.start()).append(r);
                at = t.end();
            }
        }
        return out.append(sql, at, sql.length()).toString();
    }

    /**
     * Whether the re-printed SQL still holds every string literal (other than the lifted ones),
     * quoted identifier, number and parameter of the client's statement: a cheap check that
     * JSqlParser's printer did not change a value (it would, for example, split U&'...').
     */
    static boolean keepsClientText(List<SqlToken> original, String out, List<String> lifted) {
        List<SqlToken> printed;
        try {
            printed = SqlTokenizer.tokenize(out);
        } catch (SqlSyntaxException e) {
            return false;
        }
        Map<String, Integer> available = new HashMap<>();
        for (SqlToken t : printed) {
            if (checked(t)) {
                available.merge(key(t), 1, Integer::sum);
            }
        }
        Map<String, Integer> liftedLeft = new HashMap<>();
        for (String l : lifted) {
            liftedLeft.merge(l, 1, Integer::sum);
        }
        for (int i = 0; i < original.size(); i++) {
            SqlToken t = original.get(i);
            if (!checked(t) || isVectorTypmod(original, i)) {
                continue;
            }
            if (t.kind() == SqlToken.Kind.STRING && liftedLeft.getOrDefault(t.text(), 0) > 0) {
                liftedLeft.merge(t.text(), -1, Integer::sum);
                continue;
            }
            String k = key(t);
            int n = available.getOrDefault(k, 0);
            if (n == 0) {
                // A parameter may be printed any number of times; others are counted.
                return false;
            }
            if (t.kind() != SqlToken.Kind.PARAMETER) {
                available.put(k, n - 1);
            }
        }
        return true;
    }

    /** The n of {@code vector(n)}: gone once the type is {@code real[]}. */
    private static boolean isVectorTypmod(List<SqlToken> tokens, int i) {
        return tokens.get(i).kind() == SqlToken.Kind.NUMBER && i >= 2 && tokens.get(i - 1).isPunctuation('(')
                && VECTOR_WORDS.contains(tokens.get(i - 2).normalized()) && tokens.get(i - 2).kind() == SqlToken.Kind.WORD;
    }

    private static boolean checked(SqlToken t) {
        return switch (t.kind()) {
            case STRING, QUOTED_IDENTIFIER, NUMBER, PARAMETER -> true;
            default -> false;
        };
    }

    private static String key(SqlToken t) {
        // JSqlParser prints an E'...' prefix in upper case.
        String text = t.kind() == SqlToken.Kind.STRING && (t.text().startsWith("e'")) ? "E" + t.text().substring(1) : t.text();
        return t.kind().name() + ":" + text;
    }

    /** A scan, not a set built per statement: a catalog holds a handful of tables, usually none. */
    private static boolean namesTable(List<VectorCatalog.Table> tables, String name) {
        for (VectorCatalog.Table t : tables) {
            if (t.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** The cheap test that keeps most traffic away from JSqlParser. */
    static boolean relevant(List<SqlToken> tokens, VectorCatalog catalog) {
        List<VectorCatalog.Table> tables = catalog.tables();
        for (SqlToken t : tokens) {
            switch (t.kind()) {
                case WORD, QUOTED_IDENTIFIER -> {
                    String n = t.normalized();
                    if ((t.kind() == SqlToken.Kind.WORD && VECTOR_WORDS.contains(n)) || namesTable(tables, n)) {
                        return true;
                    }
                }
                case OPERATOR -> {
                    if (DISTANCE_OPERATORS.contains(t.text())) {
                        return true;
                    }
                }
                case STRING -> {
                    if (t.text().indexOf('[') >= 0) {
                        return true;
                    }
                }
                default -> {
                }
            }
        }
        return false;
    }

    /**
     * {@code Passthrough(TablesWritten)} for INSERT INTO / UPDATE [ONLY] / DELETE FROM [ONLY] /
     * MERGE INTO [ONLY] a table with engine indexes, read from the tokens; else PLAIN.
     */
    static StatementPlan writeFallback(List<SqlToken> tokens, VectorCatalog catalog) {
        if (tokens.isEmpty() || catalog.indexes().isEmpty()) {
            return StatementPlan.Passthrough.PLAIN;
        }
        int i;
        SqlToken first = tokens.getFirst();
        if ((first.isWord("insert") || first.isWord("merge")) && tokens.size() > 1 && tokens.get(1).isWord("into")) {
            i = 2;
        } else if (first.isWord("delete") && tokens.size() > 1 && tokens.get(1).isWord("from")) {
            i = 2;
        } else if (first.isWord("update")) {
            i = 1;
        } else {
            return StatementPlan.Passthrough.PLAIN;
        }
        if (i < tokens.size() && tokens.get(i).isWord("only")) {
            i++;
        }
        if (i >= tokens.size() || !isName(tokens.get(i))) {
            return StatementPlan.Passthrough.PLAIN;
        }
        TableName name = new TableName(null, tokens.get(i).normalized());
        if (i + 2 < tokens.size() && tokens.get(i + 1).isPunctuation('.') && isName(tokens.get(i + 2))) {
            name = new TableName(tokens.get(i).normalized(), tokens.get(i + 2).normalized());
        }
        VectorCatalog.Table table = catalog.table(name).orElse(null);
        if (table == null || catalog.indexesOn(table).isEmpty()) {
            return StatementPlan.Passthrough.PLAIN;
        }
        return new StatementPlan.Passthrough(new Effect.TablesWritten(List.of(table.tableName())));
    }

    private static boolean isName(SqlToken t) {
        return t.kind() == SqlToken.Kind.WORD || t.kind() == SqlToken.Kind.QUOTED_IDENTIFIER;
    }

    private static List<TableName> written(VectorCatalog.Table target, RewriteContext ctx) {
        if (target == null || ctx.catalog.indexesOn(target).isEmpty()) {
            return List.of();
        }
        return List.of(target.tableName());
    }

    /** Every table the statement names, with its alias, so columns can be told apart. */
    private static void collectScope(Statement statement, RewriteContext ctx) {
        TablesNamesFinder<Void> finder = new TablesNamesFinder<>() {
            @Override
            public <S> Void visit(Table table, S context) {
                ctx.addToScope(table);
                return super.visit(table, context);
            }
        };
        try {
            finder.getTables(statement);
        } catch (RuntimeException e) {
            // Some statement kinds are not supported by the finder; the targets are in scope already.
        }
    }

    /** INSERT ... VALUES: untyped literals and parameters in vector columns. */
    @SuppressWarnings("unchecked")
    private static void assignInsertValues(Insert insert, VectorCatalog.Table target, RewriteContext ctx) {
        if (!(insert.getSelect() instanceof Values values) || values.getExpressions() == null) {
            return; // INSERT ... SELECT: only casts and operators inside it are rewritten
        }
        List<String> columns = new ArrayList<>();
        if (insert.getColumns() != null && !insert.getColumns().isEmpty()) {
            for (Column c : insert.getColumns()) {
                columns.add(RewriteContext.fold(c.getColumnName()));
            }
        } else {
            columns.addAll(target.columns());
        }
        List<Expression> rows = (List<Expression>) (ExpressionList<?>) values.getExpressions();
        boolean multiRow = !rows.isEmpty() && rows.stream().allMatch(r -> r instanceof ParenthesedExpressionList<?>);
        if (multiRow) {
            for (Expression row : rows) {
                assignRow((List<Expression>) (ExpressionList<?>) row, columns, target, ctx);
            }
        } else {
            assignRow(rows, columns, target, ctx);
        }
    }

    private static void assignRow(List<Expression> values, List<String> columns, VectorCatalog.Table target, RewriteContext ctx) {
        for (int i = 0; i < values.size() && i < columns.size(); i++) {
            if (target.isVector(columns.get(i))) {
                values.set(i, assignedValue(values.get(i), target.vectorDims().get(columns.get(i)), ctx));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void assignUpdateSets(List<UpdateSet> sets, VectorCatalog.Table target, RewriteContext ctx) {
        for (UpdateSet set : sets) {
            if (set.getColumns() == null || set.getValues() == null || set.getColumns().size() != set.getValues().size()) {
                continue;
            }
            List<Expression> values = (List<Expression>) (ExpressionList<?>) set.getValues();
            for (int i = 0; i < values.size(); i++) {
                String column = RewriteContext.fold(set.getColumns().get(i).getColumnName());
                if (target.isVector(column)) {
                    values.set(i, assignedValue(values.get(i), target.vectorDims().get(column), ctx));
                }
            }
        }
    }

    /**
     * A value assigned to a vector column. A literal's dimensions are checked against the
     * column's here, as pgvector's typmod coercion does when the statement is parsed (so an
     * UPDATE that matches no row still refuses '[1,2]' for a vector(3)).
     */
    private static Expression assignedValue(Expression value, Integer dims, RewriteContext ctx) {
        if (value instanceof StringValue s) {
            return ctx.lift(s, dims);
        }
        if (value instanceof JdbcParameter) {
            return ctx.vectorOperand(value);
        }
        return value;
    }
}
