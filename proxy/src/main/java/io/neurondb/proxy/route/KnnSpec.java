package io.neurondb.proxy.route;

import java.util.List;

/**
 * A kNN SELECT the engine can serve: {@code ORDER BY column <op> vector LIMIT k [OFFSET o]}.
 *
 * @param table      the driving table (resolved against the catalog)
 * @param query      where the query vector comes from
 * @param limit      k
 * @param offset     rows skipped, or null
 * @param filtered   whether WHERE / JOIN conditions may reject candidates (then the proxy over-fetches)
 * @param localAnswer when every output column is known to the engine (the key, the distance),
 *                   the columns to answer with, without asking PostgreSQL; else null
 */
public record KnnSpec(TableName table, String column, DistanceOperator operator, VectorSource query,
                      Bound limit, Bound offset, boolean filtered, LocalAnswer localAnswer) {

    /** The query vector: a client parameter ({@code param} 1-based), or a literal of the statement. */
    public record VectorSource(int param, float[] literal) {
        public static VectorSource ofParam(int param) {
            return new VectorSource(param, null);
        }

        public static VectorSource ofLiteral(float[] v) {
            return new VectorSource(0, v);
        }

        public boolean isParam() {
            return param > 0;
        }
    }

    /** A LIMIT or OFFSET: a literal count, or a client parameter ({@code param} 1-based). */
    public record Bound(long literal, int param) {
        public static Bound ofLiteral(long n) {
            return new Bound(n, 0);
        }

        public static Bound ofParam(int param) {
            return new Bound(0, param);
        }

        public boolean isParam() {
            return param > 0;
        }
    }

    /** The result columns of a statement the engine answers alone. */
    public record LocalAnswer(List<OutputColumn> columns) {
        public LocalAnswer {
            columns = List.copyOf(columns);
        }
    }

    /** @param name the column label PostgreSQL would give it */
    public record OutputColumn(String name, Source source) {
    }

    public enum Source { KEY, DISTANCE }
}
