package io.neurondb.proxy.vectors;

import io.neurondb.proxy.route.SqlIdentifiers;
import io.neurondb.proxy.route.TableName;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
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
        return load(pool, table, column, keyColumn, dims, null);
    }

    /**
     * As {@link #load(Pool, TableName, String, String, Integer)}, inside the exported snapshot
     * {@code snapshot} ({@code SET TRANSACTION SNAPSHOT}) when not null, so the rows are exactly
     * those a replication slot's stream continues from. Logs progress (rows, rows/s, ETA).
     */
    static Future<TableRows> load(Pool pool, TableName table, String column, String keyColumn, Integer dims, String snapshot) {
        if (snapshot != null && !snapshot.matches("[0-9A-Fa-f-]+")) {
            return Future.failedFuture(new IllegalArgumentException("not a snapshot name: " + snapshot));
        }
        if (dims == null) {
            return Future.failedFuture(new VectorSqlException(VectorSqlException.INTERNAL_ERROR, "column does not have dimensions"));
        }
        String qualified = table.toSql();
        String col = SqlIdentifiers.quote(column);
        String key = SqlIdentifiers.quote(keyColumn);
        return pool.withTransaction(conn -> conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute()
                .compose(v -> snapshot == null ? Future.succeededFuture()
                        : conn.query("SET TRANSACTION SNAPSHOT '" + snapshot + "'").execute())
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
                                Builder b = new Builder((int) n, dims, keyType, new CopyProgress(table.toString(), n));
                                // array_send: the array's binary form as bytea, parsed straight into the float[]
                                // (no boxed Float per element on the event loop).
                                return conn.prepare("SELECT " + key + ", pg_catalog.array_send(" + col + ") FROM " + qualified
                                                + " WHERE " + col + " IS NOT NULL")
                                        .compose(ps -> {
                                            Cursor cursor = ps.cursor();
                                            return readAll(cursor, b, Math.max(16, Math.min(2048, 131_072 / dims)))
                                                    .eventually(() -> cursor.close());
                                        })
                                        .map(x -> b.finish())
                                        .eventually(() -> {
                                            b.progress.ended(); // a failed copy's expected rows must not stay counted
                                            return Future.succeededFuture();
                                        });
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

        private final CopyProgress progress;

        Builder(int expected, int dims, int keyType, CopyProgress progress) {
            this.progress = progress;
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
            readArray(r.getBuffer(1), vectors, count * dims, dims);
            keys[count++] = r.getLong(0);
            progress.row();
        }

        TableRows finish() {
            progress.done();
            if (count != keys.length) {
                keys = Arrays.copyOf(keys, count);
                vectors = Arrays.copyOf(vectors, count * dims);
            }
            return new TableRows(keys, vectors, count, dims, keyType);
        }
    }

    private static final int FLOAT4_OID = 700;

    /**
     * Parses PostgreSQL's binary array form (array_send) of a one-dimensional {@code real[]}
     * of {@code dims} elements into {@code out} at {@code offset}.
     */
    static void readArray(Buffer b, float[] out, int offset, int dims) {
        int ndim = b.getInt(0);
        int elementType = b.getInt(8);
        if (ndim == 0) {
            throw dimensions(dims, 0);
        }
        if (ndim != 1) {
            throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "array must be 1-D");
        }
        if (elementType != FLOAT4_OID) {
            throw new VectorSqlException(VectorSqlException.DATATYPE_MISMATCH, "vector column is not real[] (element type " + elementType + ")");
        }
        int n = b.getInt(12);
        if (n != dims) {
            throw dimensions(dims, n);
        }
        int pos = 20;
        for (int i = 0; i < n; i++) {
            int len = b.getInt(pos);
            if (len != 4) {
                throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "array must not contain nulls");
            }
            out[offset + i] = b.getFloat(pos + 4);
            pos += 8;
        }
    }

    private static VectorSqlException dimensions(int expected, int actual) {
        return new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "expected " + expected + " dimensions, not " + actual);
    }

    @Override
    public String toString() {
        return "TableRows[count=" + count + ", dims=" + dims + "]";
    }
}
