package io.neurondb.proxy.vectors;

import io.neurondb.proxy.replication.TupleData;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RowValuesTest {

    private static float[] parse(String text, int dims) {
        return RowValues.vector(TupleData.Text.of(text), dims);
    }

    @Test
    void readsPostgresRealArrayText() {
        assertThat(parse("{1,2.5,-3e-05}", 3)).containsExactly(1f, 2.5f, -3e-05f);
        assertThat(parse("[1:2]={Infinity,-0}", 2)).containsExactly(Float.POSITIVE_INFINITY, -0f);
        assertThat(RowValues.key(TupleData.Text.of("-42"))).isEqualTo(-42L);
    }

    @Test
    void refusesWhatAnIndexCannotHold() {
        assertThatThrownBy(() -> parse("{1,2}", 3)).isInstanceOf(VectorSqlException.class).hasMessage("expected 3 dimensions, not 2");
        assertThatThrownBy(() -> parse("{}", 3)).hasMessage("expected 3 dimensions, not 0");
        assertThatThrownBy(() -> parse("{1,NULL,3}", 3)).hasMessage("array must not contain nulls");
        assertThatThrownBy(() -> parse("{{1,2},{3,4}}", 4)).hasMessage("array must be 1-D");
        assertThatThrownBy(() -> RowValues.vector(new TupleData.Text("x".getBytes(StandardCharsets.US_ASCII)), 1))
                .hasMessage("vector value is not a real[] literal");
        assertThatThrownBy(() -> RowValues.key(TupleData.Null.INSTANCE)).isInstanceOf(IllegalArgumentException.class);
    }
}
