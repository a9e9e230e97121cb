package io.neurondb.proxy.net;

import io.neurondb.proxy.config.HostAndPort;
import io.neurondb.proxy.protocol.BackendKeyData;

import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps the BackendKeyData the proxy gave each client to the server connection that runs its
 * queries. Clients never see a server's real key, so a cancel can only reach the server
 * connection of the client that holds the proxy's key, never another client's. Shared by all
 * event loops, hence the concurrent map.
 */
public final class CancelRegistry {

    /** Where to send a cancel: the server and the key it gave the proxy. */
    public record CancelTarget(HostAndPort server, BackendKeyData serverKey) {
    }

    /** Per issued key, where its cancels go now: retargeting (twice per pooled transaction) is a field write, not a map update. */
    private static final class Slot {
        volatile CancelTarget target;

        Slot(CancelTarget target) {
            this.target = target;
        }
    }

    private final ConcurrentHashMap<Long, Slot> targets = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /** Issues a fresh client-facing key for {@code target}. */
    public BackendKeyData register(CancelTarget target) {
        while (true) {
            // Positive process ids: some clients print or parse them as PIDs.
            BackendKeyData key = new BackendKeyData(1 + random.nextInt(Integer.MAX_VALUE - 1), random.nextInt());
            if (targets.putIfAbsent(key.asLong(), new Slot(target)) == null) {
                return key;
            }
        }
    }

    /** Points an issued key at another server connection (pooling moves clients around). */
    public void retarget(BackendKeyData clientKey, CancelTarget target) {
        Slot slot = targets.get(clientKey.asLong());
        if (slot != null) {
            slot.target = target;
        }
    }

    public void unregister(BackendKeyData clientKey) {
        if (clientKey != null) {
            targets.remove(clientKey.asLong());
        }
    }

    public Optional<CancelTarget> lookup(int processId, int secretKey) {
        Slot slot = targets.get(new BackendKeyData(processId, secretKey).asLong());
        return Optional.ofNullable(slot == null ? null : slot.target);
    }

    public int size() {
        return targets.size();
    }
}
