package io.neurondb.engine.util;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class LongIntHashMapTest {

    @Test
    void behavesLikeAHashMapUnderRandomPutsAndRemoves() {
        LongIntHashMap map = new LongIntHashMap(4);
        Map<Long, Integer> reference = new HashMap<>();
        Random r = new Random(5);
        for (int i = 0; i < 200_000; i++) {
            // A small key range forces collisions, overwrites and removal of chained keys.
            long key = r.nextInt(5_000) * 0x1_0000_0001L - 17;
            if (r.nextInt(3) == 0) {
                Integer expected = reference.remove(key);
                assertThat(map.remove(key)).isEqualTo(expected == null ? -1 : expected);
            } else {
                Integer expected = reference.put(key, i);
                assertThat(map.put(key, i)).isEqualTo(expected == null ? -1 : expected);
            }
        }
        assertThat(map.size()).isEqualTo(reference.size());
        for (var e : reference.entrySet()) {
            assertThat(map.get(e.getKey())).isEqualTo(e.getValue());
        }
        assertThat(map.get(Long.MIN_VALUE)).isEqualTo(-1);
    }
}
