package io.neurondb.pooling;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PoolPlacementTest {

    private final Object loopA = new Object();
    private final Object loopB = new Object();

    private static List<Object> times(Object loop, int n) {
        return new ArrayList<>(Collections.nCopies(n, loop));
    }

    @Test
    void aNewConnectionGoesToTheLoopWithTheMostClientsPerConnection() {
        List<Object> clients = times(loopA, 128);
        clients.addAll(times(loopB, 128));
        assertThat(Pool.mostUnderserved(clients, List.of(loopA, loopA, loopB))).isSameAs(loopB);
        assertThat(Pool.mostUnderserved(clients, List.of(loopB))).isSameAs(loopA);
        // Ties go to the loop seen first.
        assertThat(Pool.mostUnderserved(clients, List.of(loopA, loopB))).isSameAs(loopA);
        // Three times the clients: that loop gets more of the connections.
        List<Object> skewed = times(loopA, 300);
        skewed.addAll(times(loopB, 100));
        assertThat(Pool.mostUnderserved(skewed, List.of(loopA, loopB))).isSameAs(loopA);
        assertThat(Pool.mostUnderserved(skewed, List.of(loopA, loopA, loopA))).isSameAs(loopB); // 300 / 4 against 100 / 1
    }

    @Test
    void withoutClientsThereIsNoPreference() {
        assertThat(Pool.mostUnderserved(List.of(), List.of(loopA))).isNull();
    }

    @Test
    void connectionsOpenedOneByOneFollowTheClients() {
        List<Object> clients = times(loopA, 128);
        clients.addAll(times(loopB, 128));
        List<Object> taken = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            taken.add(Pool.mostUnderserved(clients, taken));
        }
        assertThat(taken.stream().filter(t -> t == loopA).count()).isEqualTo(5);
        assertThat(taken.stream().filter(t -> t == loopB).count()).isEqualTo(5);
    }
}
