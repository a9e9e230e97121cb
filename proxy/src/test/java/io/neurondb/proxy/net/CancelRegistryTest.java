package io.neurondb.proxy.net;

import io.neurondb.proxy.config.HostAndPort;
import io.neurondb.proxy.net.CancelRegistry.CancelTarget;
import io.neurondb.proxy.protocol.BackendKeyData;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class CancelRegistryTest {

    private static final HostAndPort SERVER = new HostAndPort("127.0.0.1", 5432);

    @Test
    void issuedKeysAreUniquePositiveAndMapToTheServersKey() {
        CancelRegistry registry = new CancelRegistry();
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            BackendKeyData serverKey = new BackendKeyData(i, i * 31);
            BackendKeyData issued = registry.register(new CancelTarget(SERVER, serverKey)).key();
            assertThat(issued.processId()).isPositive();
            assertThat(seen.add(issued.asLong())).isTrue();
            assertThat(registry.cancel(issued.processId(), issued.secretKey()))
                    .contains(new CancelTarget(SERVER, serverKey));
        }
        assertThat(registry.size()).isEqualTo(10_000);
    }

    @Test
    void aGuessedOrRetiredKeyFindsNothing() {
        CancelRegistry registry = new CancelRegistry();
        CancelRegistry.Registration registration = registry.register(new CancelTarget(SERVER, new BackendKeyData(7, 8)));
        BackendKeyData issued = registration.key();
        // The server's own key is never valid at the proxy: clients only ever saw the issued one.
        assertThat(registry.cancel(7, 8)).isEmpty();
        assertThat(registry.cancel(issued.processId(), issued.secretKey() + 1)).isEmpty();
        registry.unregister(registration);
        assertThat(registry.cancel(issued.processId(), issued.secretKey())).isEmpty();
        assertThat(registry.size()).isZero();
    }

    @Test
    void retargetMovesAKeyToAnotherServerConnection() {
        CancelRegistry registry = new CancelRegistry();
        CancelRegistry.Registration registration = registry.register(new CancelTarget(SERVER, new BackendKeyData(1, 1)));
        BackendKeyData issued = registration.key();
        CancelTarget moved = new CancelTarget(new HostAndPort("127.0.0.1", 5433), new BackendKeyData(2, 2));
        registration.retarget(moved);
        assertThat(registry.cancel(issued.processId(), issued.secretKey())).contains(moved);
    }

    @Test
    void aCancelWhileHeldIsKeptAndHandedOverAtTheNextRetarget() {
        CancelRegistry registry = new CancelRegistry();
        CancelRegistry.Registration registration = registry.register(new CancelTarget(SERVER, new BackendKeyData(1, 1)));
        BackendKeyData issued = registration.key();
        CancelTarget next = new CancelTarget(SERVER, new BackendKeyData(2, 2));

        registration.hold();
        // Held: the server connection still runs another client's statement.
        assertThat(registry.cancel(issued.processId(), issued.secretKey())).isEmpty();
        assertThat(registry.cancel(issued.processId(), issued.secretKey())).isEmpty();
        assertThat(registration.retarget(next)).as("the held cancel is handed to the session once").isTrue();
        assertThat(registry.cancel(issued.processId(), issued.secretKey())).contains(next);

        registration.hold();
        assertThat(registration.retarget(next)).as("no cancel came while held").isFalse();
        assertThat(registry.cancel(issued.processId(), issued.secretKey())).contains(next);
    }
}
