package io.neurondb.proxy.vectors;

import io.neurondb.proxy.route.SqlIdentifiers;
import io.neurondb.proxy.route.TableName;
import io.vertx.core.Future;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.Arrays;

/**
 * The (key, vector) pairs of one column, loaded for a build: keys and vectors in primitive
 * arrays (row-major), sized from a count taken in the same snapshot so the data is held once.
 */
record TableRows(long[] keys, float[] vectors, int count, int dims, int keyTypeOid) {

    /**
     * Loads {@code key, column} of every row whose vector is not null, streaming the rows with
     * a cursor inside a read-only repeatable-read transaction.
     *
     * @param dims the column's declared dimension count; null fails with pgvector's
     *             {@code column does not have dimensions}
     */
    static Future<TableRows> load(Pool pool, TableName table, String column, String keyColumn, Integer dims) {
        if (dims == null) {
            return Future.failedFuture(new VectorSqlException(VectorSqlException.INTERNAL_ERROR, "column does not have dimensions"));
        }
        String qualified = table.toSql();
        String col = SqlIdentifiers.quote(column);
        String key = SqlIdentifiers.quote(keyColumn);
        return pool.withTransaction(conn -> conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute()
                .compose(v -> conn.preparedQuery("""
                        SELECT a.atttypid::int8 AS key_type FROM pg_attribute a
                         WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped""")
                        .execute(Tuple.of(qualified, keyColumn)))
                .compose(keyRows -> {
                    if (keyRows.size() == 0) {
                        // Either the table or the key column is gone; let the server say which.
                        return conn.query("SELECT " + key + " FROM " + qualified + " LIMIT 0").execute()
                                .compose(x -> Future.failedFuture(new VectorSqlException(VectorSqlException.UNDEFINED_COLUMN,
                                        "column \"" + keyColumn + "\" does not exist")));
                    }
                    int keyType = (int) (long) keyRows.iterator().next().getLong("key_type");
                    return conn.query("SELECT count(*) AS n FROM " + qualified + " WHERE " + col + " IS NOT NULL").execute()
                            .compose(countRows -> {
                                long n = countRows.iterator().next().getLong("n");
                                if ((long) n * dims > Integer.MAX_VALUE - 16) {
                                    return Future.failedFuture(new VectorSqlException("54000",
                                            "index would hold " + n + " vectors of " + dims + " dimensions, more than one build can load"));
                                }
                                Builder b = new Builder((int) n, dims, keyType);
                                return conn.prepare("SELECT " + key + ", " + col + " FROM " + qualified + " WHERE " + col + " IS NOT NULL")
                                        .compose(ps -> {
                                            Cursor cursor = ps.cursor();
                                            return readAll(cursor, b, Math.max(64, Math.min(4096, 1_000_000 / dims)))
                                                    .eventually(() -> cursor.close());
                                        })
                                        .map(x -> b.finish());
                            });
                }));
    }

    private static Future<Void> readAll(Cursor cursor, Builder b, int fetch) {
        return cursor.read(fetch).compose((RowSet<Row> rows) -> {
            for (Row r : rows) {
                b.add(r);
            }
            return cursor.hasMore() ? readAll(cursor, b, fetch) : Future.succeededFuture();
        });
    }

    /** Growing primitive arrays, pre-sized from the count. */
    private static final class Builder {
        private final int dims;
        private final int keyType;
        private long[] keys;
        private float[] vectors;
        private int count;

        Builder(int expected, int dims, int keyType) {
            this.dims = dims;
            this.keyType = keyType;
            this.keys = new long[expected];
            this.vectors = new float[expected * dims];
        }

        void add(Row r) {
            if (count == keys.length) {
                int grown = Math.max(16, keys.length + (keys.length >> 1));
                keys = Arrays.copyOf(keys, grown);
                vectors = Arrays.copyOf(vectors, grown * dims);
            }
            Float[] v = r.getArrayOfFloats(1);
            if (v.length != dims) {
                throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "expected " + dims + " dimensions, not " + v.length);
            }
            int base = count * dims;
            for (int i = 0; i < dims; i++) {
                Float f = v[i];
                if (f == null) {
                    throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "array must not contain nulls");
                }
                vectors[base + i] = f;
            }
            keys[count++] = r.getLong(0);
        }

        TableRows finish() {
            if (count != keys.length) {
                keys = Arrays.copyOf(keys, count);
                vectors = Arrays.copyOf(vectors, count * dims);
            }
            return new TableRows(keys, vectors, count, dims, keyType);
        }
    }

    @Override
    public String toString() {
        return "TableRows[count=" + count + ", dims=" + dims + "]";
    }
}
