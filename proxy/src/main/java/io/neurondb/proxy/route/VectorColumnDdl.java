package io.neurondb.proxy.route;

import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.alter.Alter;
import net.sf.jsqlparser.statement.alter.AlterExpression;
import net.sf.jsqlparser.statement.alter.AlterOperation;
import net.sf.jsqlparser.statement.create.table.ColDataType;
import net.sf.jsqlparser.statement.create.table.ColumnDefinition;
import net.sf.jsqlparser.statement.create.table.CreateTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * pgvector's column types in DDL. On stock PostgreSQL a {@code vector(n)} column is a
 * {@code real[]} column with {@code CHECK (neurondb.vector_check(col, n))} (the shim's function
 * raises pgvector's errors), and the column is recorded in {@code neurondb.vector_columns}.
 */
final class VectorColumnDdl {

    static final int MAX_DIMENSIONS = 16000;

    private VectorColumnDdl() {
    }

    enum Kind { NONE, VECTOR }

    /** @param dims null for {@code vector} without n */
    record TypeInfo(Kind kind, Integer dims) {
        static final TypeInfo NONE = new TypeInfo(Kind.NONE, null);

        boolean isVector() {
            return kind == Kind.VECTOR;
        }
    }

    /**
     * What a written type is. {@code vector} / {@code vector(n)} (optionally schema-qualified) is
     * a vector; pgvector's other types and arrays of vectors are refused.
     *
     * @throws RewriteRejection for halfvec, sparsevec, vector[] and bad dimension counts
     */
    static TypeInfo classify(ColDataType type) {
        if (type == null || type.getDataType() == null) {
            return TypeInfo.NONE;
        }
        String written = type.getDataType().trim();
        String args = null;
        int paren = written.indexOf('(');
        if (paren >= 0) {
            int close = written.lastIndexOf(')');
            args = written.substring(paren + 1, close > paren ? close : written.length());
            written = written.substring(0, paren).trim();
        }
        String base = written;
        int dot = base.lastIndexOf('.');
        if (dot >= 0 && !base.endsWith("\"")) {
            base = base.substring(dot + 1);
        } else if (base.endsWith("\"") && base.lastIndexOf(".\"") > 0) {
            base = base.substring(base.lastIndexOf(".\"") + 1);
        }
        base = RewriteContext.fold(base);
        if (base.equals("halfvec") || base.equals("sparsevec")) {
            throw new RewriteRejection("0A000", "type " + base
                    + " is not supported by the NeuronDB proxy; use vector(n) (stored as real[])");
        }
        if (!base.equals("vector")) {
            return TypeInfo.NONE;
        }
        List<String> typmods = new ArrayList<>();
        if (type.getArgumentsStringList() != null) {
            typmods.addAll(type.getArgumentsStringList());
        } else if (args != null) {
            for (String a : args.split(",")) {
                typmods.add(a.trim());
            }
        }
        if (type.getArrayData() != null && !type.getArrayData().isEmpty()) {
            throw new RewriteRejection("0A000", "arrays of type vector are not supported by the NeuronDB proxy");
        }
        if (typmods.isEmpty()) {
            return new TypeInfo(Kind.VECTOR, null);
        }
        if (typmods.size() != 1) {
            throw new RewriteRejection("22023", "invalid type modifier");
        }
        int n;
        try {
            n = Integer.parseInt(typmods.getFirst().trim());
        } catch (NumberFormatException e) {
            throw new RewriteRejection("22023", "invalid type modifier");
        }
        if (n < 1) {
            throw new RewriteRejection("22023", "dimensions for type vector must be at least 1");
        }
        if (n > MAX_DIMENSIONS) {
            throw new RewriteRejection("22023", "dimensions for type vector cannot exceed " + MAX_DIMENSIONS);
        }
        return new TypeInfo(Kind.VECTOR, n);
    }

    /** CREATE TABLE with vector columns; null when it has none. */
    static StatementPlan createTable(CreateTable create, int clientParams) {
        if (create.getColumnDefinitions() == null) {
            return null;
        }
        List<Effect.NewVectorColumn> columns = new ArrayList<>();
        for (ColumnDefinition column : create.getColumnDefinitions()) {
            convert(column, columns);
        }
        return columns.isEmpty() ? null : plan(create.toString(), create.getTable(), columns, clientParams);
    }

    /** ALTER TABLE ... ADD [COLUMN] col vector(n); ALTER COLUMN ... TYPE vector is refused. Null when nothing applies. */
    static StatementPlan alter(Alter alter, int clientParams) {
        if (alter.getAlterExpressions() == null) {
            return null;
        }
        List<Effect.NewVectorColumn> columns = new ArrayList<>();
        for (AlterExpression e : alter.getAlterExpressions()) {
            if (e.getColDataTypeList() == null) {
                continue;
            }
            AlterOperation op = e.getOperation();
            for (AlterExpression.ColumnDataType column : e.getColDataTypeList()) {
                if (op == AlterOperation.ADD) {
                    convert(column, columns);
                } else if (classify(column.getColDataType()).isVector()) {
                    throw new RewriteRejection("0A000", "changing the type of column \"" + RewriteContext.fold(column.getColumnName())
                            + "\" to vector is not supported by the NeuronDB proxy; add a new vector column and copy the values into it");
                }
            }
        }
        return columns.isEmpty() ? null : plan(alter.toString(), alter.getTable(), columns, clientParams);
    }

    private static void convert(ColumnDefinition column, List<Effect.NewVectorColumn> out) {
        TypeInfo info = classify(column.getColDataType());
        if (!info.isVector()) {
            return;
        }
        String name = RewriteContext.fold(column.getColumnName());
        column.setColDataType(new ColDataType("real[]"));
        List<String> specs = column.getColumnSpecs() == null ? new ArrayList<>() : new ArrayList<>(column.getColumnSpecs());
        specs.add("CHECK (neurondb.vector_check(" + SqlIdentifiers.quote(name) + ", "
                + (info.dims() == null ? "NULL" : info.dims().toString()) + "))");
        column.setColumnSpecs(specs);
        out.add(new Effect.NewVectorColumn(name, info.dims()));
    }

    private static StatementPlan plan(String sql, Table table, List<Effect.NewVectorColumn> columns, int clientParams) {
        return new StatementPlan.Rewrite(sql, ParamPlan.none(clientParams),
                new Effect.RegisterVectorColumns(RewriteContext.tableName(table), columns));
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
