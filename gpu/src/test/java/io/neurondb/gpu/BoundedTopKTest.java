package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.neurondb.engine.compute.ComputeBackend.TopK;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BoundedTopKTest {

    @Test
    void keepsTheKSmallestOfARandomStreamNearestFirst() {
        Random random = new Random(1);
        for (int k : new int[] {1, 2, 7, 50}) {
            float[] distances = new float[500];
            for (int i = 0; i < distances.length; i++) {
                distances[i] = random.nextInt(100) / 10f; // plenty of ties
            }
            BoundedTopK top = new BoundedTopK(k);
            // Offered out of row order, as tiles and segments deliver them.
            int[] order = IntStream.range(0, distances.length).boxed()
                    .sorted(Comparator.comparingInt(i -> (i * 7919) % distances.length))
                    .mapToInt(Integer::intValue).toArray();
            for (int row : order) {
                top.offer(row, distances[row]);
            }
            int[] expected = IntStream.range(0, distances.length).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> distances[i]).thenComparingInt(i -> i))
                    .limit(k).mapToInt(Integer::intValue).toArray();
            TopK result = top.drain();
            assertThat(result.rows()).as("k=%d", k).containsExactly(expected);
            for (int i = 0; i < k; i++) {
                assertThat(result.distances()[i]).isEqualTo(distances[expected[i]]);
            }
        }
    }

    @Test
    void nanRanksAfterEveryNumber() {
        BoundedTopK top = new BoundedTopK(3);
        top.offer(0, Float.NaN);
        top.offer(1, 5f);
        top.offer(2, Float.NaN);
        top.offer(3, Float.POSITIVE_INFINITY);
        TopK result = top.drain();
        assertThat(result.rows()).containsExactly(1, 3, 0);
    }

    @Test
    void fewerCandidatesThanKAndZeroK() {
        BoundedTopK top = new BoundedTopK(4);
        top.offer(9, 1f);
        top.offer(3, 0.5f);
        assertThat(top.drain().rows()).containsExactly(3, 9);

        BoundedTopK none = new BoundedTopK(0);
        none.offer(1, 0f);
        assertThat(none.drain().size()).isZero();
    }
}
