package io.neurondb.proxy.vectors;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Parsing PostgreSQL's binary array form (array_send) of real[] into primitive floats. */
class TableRowsTest {

    /** What array_send returns for a one-dimensional float4 array; null elements as length -1. */
    private static Buffer arraySend(int elementType, Float... values) {
        Buffer b = Buffer.buffer();
        b.appendInt(1); // ndim
        b.appendInt(0); // has nulls (ignored by the reader)
        b.appendInt(elementType);
        b.appendInt(values.length);
        b.appendInt(1); // lower bound
        for (Float v : values) {
            if (v == null) {
                b.appendInt(-1);
            } else {
                b.appendInt(4);
                b.appendFloat(v);
            }
        }
        return b;
    }

    @Test
    void readsTheFloatsAtTheOffset() {
        float[] out = new float[6];
        TableRows.readArray(arraySend(700, 1.5f, -2f, Float.MIN_VALUE), out, 3, 3);
        assertThat(out).containsExactly(0f, 0f, 0f, 1.5f, -2f, Float.MIN_VALUE);
    }

    @Test
    void refusesWrongShapes() {
        VectorSqlException dims = catchThrowableOfType(VectorSqlException.class,
                () -> TableRows.readArray(arraySend(700, 1f, 2f), new float[3], 0, 3));
        assertThat(dims.sqlState()).isEqualTo("22000");
        assertThat(dims.getMessage()).isEqualTo("expected 3 dimensions, not 2");
        VectorSqlException nulls = catchThrowableOfType(VectorSqlException.class,
                () -> TableRows.readArray(arraySend(700, 1f, null), new float[2], 0, 2));
        assertThat(nulls.getMessage()).isEqualTo("array must not contain nulls");
        VectorSqlException type = catchThrowableOfType(VectorSqlException.class,
                () -> TableRows.readArray(arraySend(701, 1f), new float[1], 0, 1));
        assertThat(type.sqlState()).isEqualTo("42804");
        Buffer empty = Buffer.buffer().appendInt(0).appendInt(0).appendInt(700);
        assertThat(catchThrowableOfType(VectorSqlException.class, () -> TableRows.readArray(empty, new float[2], 0, 2)).getMessage())
                .isEqualTo("expected 2 dimensions, not 0");
    }
}
