package io.neurondb.proxy.vectors;

import io.neurondb.proxy.replication.TupleData;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/** The key and vector of a replicated row, read from pgoutput's text (or binary) column values. */
final class RowValues {

    private RowValues() {
    }

    /** The integer key; the column must hold a value (a replica identity column never is NULL). */
    static long key(TupleData.Value v) {
        return switch (v) {
            case TupleData.Text t -> Long.parseLong(t.asString().strip());
            case TupleData.Binary b -> switch (b.bytes().length) {
                case 2 -> Buffer.buffer(b.bytes()).getShort(0);
                case 4 -> Buffer.buffer(b.bytes()).getInt(0);
                case 8 -> Buffer.buffer(b.bytes()).getLong(0);
                default -> throw new IllegalArgumentException("key of " + b.bytes().length + " bytes");
            };
            case TupleData.Null n -> throw new IllegalArgumentException("key is NULL");
            case TupleData.UnchangedToast u -> throw new IllegalArgumentException("key is an unchanged TOAST value");
        };
    }

    /**
     * A {@code real[]} value of {@code dims} elements, as text ({@code {1,2.5,-3e-05}}) or in
     * array_send's binary form.
     *
     * @throws VectorSqlException when it is not a one-dimensional array of {@code dims} numbers
     */
    static float[] vector(TupleData.Value v, int dims) {
        return switch (v) {
            case TupleData.Text t -> parseText(t.bytes(), dims);
            case TupleData.Binary b -> {
                float[] out = new float[dims];
                TableRows.readArray(Buffer.buffer(b.bytes()), out, 0, dims);
                yield out;
            }
            default -> throw new IllegalArgumentException("not a value: " + v.kind());
        };
    }

    static float[] parseText(byte[] text, int dims) {
        int n = text.length;
        int start = 0;
        // An array with explicit bounds ("[1:3]={...}") starts with its dimensions.
        if (n > 0 && text[0] == '[') {
            while (start < n && text[start] != '=') {
                start++;
            }
            start++;
        }
        if (start >= n || text[start] != '{' || text[n - 1] != '}') {
            throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "vector value is not a real[] literal");
        }
        float[] out = new float[dims];
        int count = 0;
        int i = start + 1;
        int end = n - 1;
        if (i == end) {
            throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "expected " + dims + " dimensions, not 0");
        }
        while (i <= end) {
            int j = i;
            while (j < end && text[j] != ',') {
                if (text[j] == '{') {
                    throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "array must be 1-D");
                }
                j++;
            }
            String element = new String(text, i, j - i, StandardCharsets.US_ASCII).strip();
            if (element.equalsIgnoreCase("NULL")) {
                throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "array must not contain nulls");
            }
            if (count < dims) {
                out[count] = Float.parseFloat(element);
            }
            count++;
            i = j + 1;
        }
        if (count != dims) {
            throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION, "expected " + dims + " dimensions, not " + count);
        }
        return out;
    }
}
