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

    /**
     * One issued key and where its cancels go now. The session keeps it: retargeting (twice per
     * pooled transaction) is a field write, not a map lookup.
     */
    public static final class Registration {
        private final BackendKeyData key;
        private volatile CancelTarget target;

        private Registration(BackendKeyData key, CancelTarget target) {
            this.key = key;
            this.target = target;
        }

        /** The key the client was given. */
        public BackendKeyData key() {
            return key;
        }

        /** Points the key at another server connection (pooling moves clients around). */
        public void retarget(CancelTarget to) {
            target = to;
        }
    }

    private final ConcurrentHashMap<Long, Registration> targets = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /** Issues a fresh client-facing key for {@code target}. */
    public Registration register(CancelTarget target) {
        while (true) {
            // Positive process ids: some clients print or parse them as PIDs.
            BackendKeyData key = new BackendKeyData(1 + random.nextInt(Integer.MAX_VALUE - 1), random.nextInt());
            Registration r = new Registration(key, target);
            if (targets.putIfAbsent(key.asLong(), r) == null) {
                return r;
            }
        }
    }

    public void unregister(Registration registration) {
        if (registration != null) {
            targets.remove(registration.key.asLong(), registration);
        }
    }

    public Optional<CancelTarget> lookup(int processId, int secretKey) {
        Registration r = targets.get(new BackendKeyData(processId, secretKey).asLong());
        return Optional.ofNullable(r == null ? null : r.target);
    }

    public int size() {
        return targets.size();
    }
}
