package io.neurondb.metrics;

import io.neurondb.plugin.api.ProxyStatus.IndexInfo;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class ReadinessTest {

    private static IndexInfo index(String name, String state) {
        return new IndexInfo("app", name, "public.items", "embedding", "hnsw", state, 10, 1000, 0.5);
    }

    @Test
    void readyWithNoIndexes() {
        assertThat(Readiness.judge(null, List.of())).isEqualTo(new Readiness.Verdict(true, "ready"));
    }

    @Test
    void readyWhenEveryIndexIsReady() {
        assertThat(Readiness.judge(null, List.of(index("a", "ready"), index("b", "ready"))).ready()).isTrue();
    }

    @Test
    void upstreamFailureComesFirst() {
        Readiness.Verdict v = Readiness.judge(new ConnectException("Connection refused\nmore"), List.of(index("a", "building")));
        assertThat(v.ready()).isFalse();
        assertThat(v.reason()).isEqualTo("upstream unreachable: Connection refused more");
    }

    @Test
    void aBuildingIndexMakesItUnready() {
        Readiness.Verdict v = Readiness.judge(null, List.of(index("a", "ready"), index("b", "building"), index("c", "failed")));
        assertThat(v).isEqualTo(new Readiness.Verdict(false, "indexes building: app/b"));
    }

    @Test
    void staleAndFailedIndexesDoNot() {
        Readiness.Verdict v = Readiness.judge(null, List.of(index("a", "stale"), index("c", "failed")));
        assertThat(v).isEqualTo(new Readiness.Verdict(true, "ready; failed index builds: app/c"));
    }

    @Test
    void longListsAreCut() {
        List<IndexInfo> many = IntStream.range(0, 5).mapToObj(i -> index("i" + i, "building")).toList();
        assertThat(Readiness.judge(null, many).reason())
                .isEqualTo("indexes building: app/i0, app/i1, app/i2 and 2 more");
    }
}
