package io.neurondb.proxy.route;

import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.arithmetic.BitwiseAnd;
import net.sf.jsqlparser.expression.operators.arithmetic.BitwiseLeftShift;
import net.sf.jsqlparser.expression.operators.arithmetic.BitwiseOr;
import net.sf.jsqlparser.expression.operators.arithmetic.BitwiseRightShift;
import net.sf.jsqlparser.expression.operators.arithmetic.BitwiseXor;
import net.sf.jsqlparser.expression.operators.arithmetic.Modulo;
import net.sf.jsqlparser.expression.operators.relational.CosineSimilarity;
import net.sf.jsqlparser.expression.operators.relational.DoubleAnd;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.GeometryDistance;
import net.sf.jsqlparser.expression.operators.relational.Matches;
import net.sf.jsqlparser.expression.operators.relational.NotEqualsTo;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.util.deparser.ExpressionDeParser;
import net.sf.jsqlparser.util.deparser.SelectDeParser;
import net.sf.jsqlparser.util.deparser.StatementDeParser;

import java.util.List;
import java.util.Set;

/**
 * Rule 2 of the rewriter: vector values in DML and queries. JSqlParser's deparser is used as
 * the traversal, because it must reach every expression of the statement to print it; each
 * node that can hold a vector is rewritten in place just before it is printed: a vector
 * literal becomes a {@code $k} parameter, a client parameter in a vector position is marked,
 * a cast to vector becomes a cast to {@code real[]}.
 */
final class VectorLiteralLifter extends ExpressionDeParser {

    /** pgvector's functions whose arguments are vectors. */
    static final Set<String> VECTOR_FUNCTIONS = Set.of("l2_distance", "cosine_distance", "inner_product",
            "l1_distance", "vector_dims", "vector_norm", "l2_normalize");

    private final RewriteContext ctx;

    private VectorLiteralLifter(RewriteContext ctx) {
        this.ctx = ctx;
    }

    /** Rewrites {@code statement} in place and returns it printed. */
    static String rewrite(Statement statement, RewriteContext ctx) {
        StringBuilder out = new StringBuilder();
        VectorLiteralLifter expressions = new VectorLiteralLifter(ctx);
        SelectDeParser selects = new SelectDeParser(expressions, out);
        expressions.setSelectVisitor(selects);
        expressions.setBuilder(out);
        StatementDeParser statements = new StatementDeParser(expressions, selects, out);
        statement.accept(statements, null);
        return out.toString();
    }

    @Override
    public <S> StringBuilder visit(CastExpression cast, S context) {
        ctx.rewriteCast(cast);
        return super.visit(cast, context);
    }

    @Override
    public <S> StringBuilder visit(GeometryDistance e, S context) {
        distance(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(CosineSimilarity e, S context) {
        distance(e);
        return super.visit(e, context);
    }

    // Placeholders: operators JSqlParser accepts, standing in for the distance operators it does not.

    @Override
    public <S> StringBuilder visit(Matches e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(DoubleAnd e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(BitwiseLeftShift e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(BitwiseRightShift e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(BitwiseAnd e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(BitwiseOr e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(BitwiseXor e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(Modulo e, S context) {
        placeholder(e);
        return super.visit(e, context);
    }

    private void placeholder(BinaryExpression e) {
        if (ctx.placeholderOperator(e) != null) {
            distance(e);
        }
    }

    @Override
    public <S> StringBuilder visit(EqualsTo e, S context) {
        comparison(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(NotEqualsTo e, S context) {
        comparison(e);
        return super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(Function f, S context) {
        function(f);
        return super.visit(f, context);
    }

    /**
     * The operands of a distance operator. {@code <->} is also PostgreSQL's geometric distance
     * and pg_trgm's similarity distance ({@code name <-> 'word'}), so an operand is taken as a
     * vector only when it looks like one or the other side is known to be one.
     */
    private void distance(BinaryExpression e) {
        Expression left = e.getLeftExpression();
        Expression right = e.getRightExpression();
        boolean leftVector = vectorSide(left);
        boolean rightVector = vectorSide(right);
        if (leftVector || rightVector) {
            e.setLeftExpression(ctx.vectorOperand(left));
            e.setRightExpression(ctx.vectorOperand(right));
        }
    }

    private boolean vectorSide(Expression e) {
        return ctx.isVectorish(e)
                || (e instanceof StringValue s && io.neurondb.proxy.values.VectorText.looksLikeVector(s.getValue()));
    }

    /** {@code vcol = '[..]'} (either way round). */
    private void comparison(BinaryExpression e) {
        if (ctx.isVectorColumn(e.getLeftExpression()) && isValue(e.getRightExpression())) {
            e.setRightExpression(ctx.vectorOperand(e.getRightExpression()));
        } else if (ctx.isVectorColumn(e.getRightExpression()) && isValue(e.getLeftExpression())) {
            e.setLeftExpression(ctx.vectorOperand(e.getLeftExpression()));
        }
    }

    @SuppressWarnings("unchecked")
    private void function(Function f) {
        if (f.getName() == null || f.getParameters() == null) {
            return;
        }
        String name = f.getName();
        int dot = name.lastIndexOf('.');
        name = RewriteContext.fold(dot >= 0 ? name.substring(dot + 1) : name);
        if (!VECTOR_FUNCTIONS.contains(name)) {
            return;
        }
        List<Expression> args = (List<Expression>) (ExpressionList<?>) f.getParameters();
        boolean vectorContext = args.size() == 1 || args.stream().anyMatch(ctx::isVectorish);
        for (int i = 0; i < args.size(); i++) {
            Expression arg = args.get(i);
            if (arg instanceof StringValue s) {
                if (vectorContext || io.neurondb.proxy.values.VectorText.looksLikeVector(s.getValue())) {
                    args.set(i, ctx.lift(s, null));
                }
            } else if (arg instanceof JdbcParameter p && vectorContext) {
                ctx.markVectorParam(p);
            }
        }
    }

    private static boolean isValue(Expression e) {
        return e instanceof StringValue || e instanceof JdbcParameter;
    }
}
