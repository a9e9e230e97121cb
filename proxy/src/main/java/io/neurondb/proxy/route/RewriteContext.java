package io.neurondb.proxy.route;

import io.neurondb.proxy.values.VectorFormatException;
import io.neurondb.proxy.values.VectorText;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.create.table.ColDataType;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The state of one {@link VectorSqlRewriter#rewrite} call: the parameters the rewritten
 * statement gains, the client parameters found to carry vectors, and the catalog tables the
 * statement names (to tell vector columns from others). Not thread-safe; one per call.
 */
final class RewriteContext {

    final VectorCatalog catalog;
    final int clientParams;
    /** Operators standing in for distance operators in the text JSqlParser saw (placeholder to operator). */
    final Map<String, DistanceOperator> placeholders;

    private final BitSet vectorParams = new BitSet();
    private final List<ParamPlan.Extra> extras = new ArrayList<>();
    /** Literals taken out of the SQL text, as JSqlParser prints them. */
    private final List<String> liftedLiterals = new ArrayList<>();
    /** Whether the SQL text itself changed (as opposed to only marking parameters). */
    private boolean textChanged;

    /** Catalog tables of the statement, by the name a column may be qualified with (alias, else table name). */
    private final Map<String, VectorCatalog.Table> byQualifier = new HashMap<>();
    private final List<VectorCatalog.Table> inScope = new ArrayList<>();
    /** Qualifiers of every table the statement names, vector or not. */
    private final java.util.Set<String> otherQualifiers = new java.util.HashSet<>();

    RewriteContext(VectorCatalog catalog, int clientParams, Map<String, DistanceOperator> placeholders) {
        this.catalog = catalog;
        this.clientParams = clientParams;
        this.placeholders = Map.copyOf(placeholders);
    }

    /** The distance operator a placeholder node stands for, or null. */
    DistanceOperator placeholderOperator(Expression e) {
        if (placeholders.isEmpty() || !(e instanceof net.sf.jsqlparser.expression.BinaryExpression b)
                || b.getStringExpression() == null) {
            return null;
        }
        return placeholders.get(b.getStringExpression().trim());
    }

    // ---- names ----------------------------------------------------------------------------

    /** An identifier as PostgreSQL folds it: quoted keeps its case (without quotes), unquoted is lower-cased. */
    static String fold(String identifier) {
        if (identifier == null) {
            return null;
        }
        String s = identifier.trim();
        if (s.length() >= 2 && s.charAt(0) == '"' && s.charAt(s.length() - 1) == '"') {
            return s.substring(1, s.length() - 1).replace("\"\"", "\"");
        }
        return s.toLowerCase(Locale.ROOT);
    }

    /** The table name of a JSqlParser table, folded; the schema is null when not written. */
    static TableName tableName(Table table) {
        return new TableName(fold(table.getSchemaName()), fold(table.getName()));
    }

    /** The name a column of {@code table} is qualified with inside the statement. */
    static String qualifier(Table table) {
        return table.getAlias() != null && table.getAlias().getName() != null
                ? fold(table.getAlias().getName()) : fold(table.getName());
    }

    // ---- scope ----------------------------------------------------------------------------

    /** Records a table the statement names; returns its catalog entry, if it has vector columns. */
    VectorCatalog.Table addToScope(Table table) {
        if (table == null || table.getName() == null) {
            return null;
        }
        VectorCatalog.Table t = catalog.table(tableName(table)).orElse(null);
        otherQualifiers.add(qualifier(table));
        if (t != null) {
            byQualifier.putIfAbsent(qualifier(table), t);
            if (!inScope.contains(t)) {
                inScope.add(t);
            }
        }
        return t;
    }

    /** Whether {@code e} is a column that is a vector column of a catalog table of the statement. */
    boolean isVectorColumn(Expression e) {
        if (!(e instanceof Column c) || c.getColumnName() == null) {
            return false;
        }
        String name = fold(c.getColumnName());
        Table q = c.getTable();
        if (q != null && q.getName() != null) {
            String qualifier = fold(q.getName());
            VectorCatalog.Table t = byQualifier.get(qualifier);
            if (t != null || otherQualifiers.contains(qualifier)) {
                return t != null && t.isVector(name);
            }
            // A subquery or CTE alias: its columns come from the tables inside it.
        }
        return inScope.stream().anyMatch(t -> t.isVector(name));
    }

    /** Whether {@code e} is known to be a vector: a vector column, or something cast to vector. */
    boolean isVectorish(Expression e) {
        return isVectorColumn(e)
                || (e instanceof CastExpression cast && VectorColumnDdl.classify(cast.getColDataType()).isVector());
    }

    // ---- parameters -----------------------------------------------------------------------

    /** Marks a client parameter as carrying a vector (no-op for the proxy's own). */
    void markVectorParam(JdbcParameter p) {
        Integer n = p.getIndex();
        if (n != null && n >= 1 && n <= clientParams) {
            vectorParams.set(n);
        }
    }

    /**
     * Takes a vector literal out of the text into a new {@code real[]} parameter.
     *
     * @param expectedDims the dimension count the literal is cast to, or null
     * @throws RewriteRejection with pgvector's error when the literal is not a vector
     */
    JdbcParameter lift(StringValue literal, Integer expectedDims) {
        float[] v = parseLiteral(literal);
        if (expectedDims != null && v.length != expectedDims) {
            VectorFormatException e = VectorFormatException.dimensionMismatch(expectedDims, v.length);
            throw new RewriteRejection(e.sqlState(), e.getMessage());
        }
        extras.add(new ParamPlan.VectorValue(v));
        liftedLiterals.add(literal.toString());
        textChanged = true;
        return param(clientParams + extras.size());
    }

    /** Parses a string literal as pgvector's vector_in would, or rejects with its error. */
    static float[] parseLiteral(StringValue literal) {
        String prefix = literal.getPrefix();
        if (prefix != null && !prefix.isEmpty() && !prefix.equalsIgnoreCase("E") && !prefix.equalsIgnoreCase("N")) {
            throw new RewriteRejection("22P02", "invalid input syntax for type vector: " + literal);
        }
        String text = literal.getValue().replace("''", "'");
        try {
            return VectorText.parse(text);
        } catch (VectorFormatException e) {
            throw new RewriteRejection(e.sqlState(), e.getMessage());
        }
    }

    /** Adds one of the proxy's own parameters; returns its number. */
    int addExtra(ParamPlan.Extra extra) {
        extras.add(extra);
        return clientParams + extras.size();
    }

    static JdbcParameter param(int n) {
        JdbcParameter p = new JdbcParameter();
        p.setParameterCharacter("$");
        p.setIndex(n);
        p.setUseFixedIndex(true);
        return p;
    }

    /** Rewrites a cast to vector in place: the literal or parameter it casts becomes {@code real[]}. */
    void rewriteCast(CastExpression cast) {
        VectorColumnDdl.TypeInfo info = VectorColumnDdl.classify(cast.getColDataType());
        if (!info.isVector()) {
            return;
        }
        Expression left = cast.getLeftExpression();
        if (left instanceof StringValue s) {
            cast.setLeftExpression(lift(s, info.dims()));
        } else if (left instanceof JdbcParameter p) {
            markVectorParam(p);
        }
        cast.setColDataType(new ColDataType("real[]"));
        textChanged = true;
    }

    /** A vector in a vector position: a literal is lifted, a client parameter marked. Returns the replacement. */
    Expression vectorOperand(Expression e) {
        if (e instanceof StringValue s) {
            return lift(s, null);
        }
        if (e instanceof JdbcParameter p) {
            markVectorParam(p);
        }
        return e;
    }

    void markTextChanged() {
        textChanged = true;
    }

    boolean textChanged() {
        return textChanged;
    }

    boolean anyChange() {
        return textChanged || !vectorParams.isEmpty();
    }

    List<String> liftedLiterals() {
        return liftedLiterals;
    }

    int extraCount() {
        return extras.size();
    }

    ParamPlan params() {
        return new ParamPlan(clientParams, vectorParams, extras);
    }
}
