package io.neurondb.engine.util;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class NodeHeapTest {

    @Test
    void encodingOrdersByDistanceThenNodeIncludingNegatives() {
        float[] ds = {-3.5f, -0.0001f, 0f, 1e-7f, 2.5f, 1e9f};
        long prev = Long.MIN_VALUE;
        for (float d : ds) {
            long e = NodeHeap.encode(7, d);
            assertThat(e).isGreaterThan(prev);
            assertThat(NodeHeap.distance(e)).isEqualTo(d);
            assertThat(NodeHeap.node(e)).isEqualTo(7);
            prev = e;
        }
        assertThat(NodeHeap.encode(1, 2f)).isLessThan(NodeHeap.encode(2, 2f));
    }

    @Test
    void boundedMaxHeapKeepsTheNearest() {
        Random r = new Random(3);
        float[] d = new float[1000];
        NodeHeap heap = NodeHeap.farthestFirst(4);
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextFloat() * 10 - 5;
            heap.pushBounded(i, d[i], 10);
        }
        float[] sorted = d.clone();
        Arrays.sort(sorted);
        assertThat(heap.size()).isEqualTo(10);
        assertThat(heap.topDistance()).isEqualTo(sorted[9]);
        float[] popped = new float[10];
        for (int i = 9; i >= 0; i--) {
            popped[i] = NodeHeap.distance(heap.pop());
        }
        assertThat(popped).containsExactly(Arrays.copyOf(sorted, 10));
    }

    @Test
    void minHeapPopsNearestFirst() {
        NodeHeap heap = NodeHeap.nearestFirst(2);
        heap.push(1, 5f);
        heap.push(2, -1f);
        heap.push(3, 2f);
        assertThat(NodeHeap.node(heap.pop())).isEqualTo(2);
        assertThat(NodeHeap.node(heap.pop())).isEqualTo(3);
        assertThat(NodeHeap.node(heap.pop())).isEqualTo(1);
        assertThat(heap.isEmpty()).isTrue();
    }
}
