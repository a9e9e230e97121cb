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
        private static final int OPEN = 0;
        private static final int HOLDING = 1;
        private static final int HELD_ONE = 2;

        private final BackendKeyData key;
        private volatile CancelTarget target;
        /**
         * OPEN: cancels go to {@link #target}. HOLDING: the client's work is on its way to a server
         * connection that still runs another client's statement, so a cancel now would reach that
         * one; it is kept instead (HELD_ONE) and handed over at the next {@link #retarget}.
         */
        private final java.util.concurrent.atomic.AtomicInteger holding = new java.util.concurrent.atomic.AtomicInteger(OPEN);

        private Registration(BackendKeyData key, CancelTarget target) {
            this.key = key;
            this.target = target;
        }

        /** The key the client was given. */
        public BackendKeyData key() {
            return key;
        }

        /**
         * Points the key at another server connection (pooling moves clients around). True when
         * a cancel came while cancels were held: the caller sends it there now.
         */
        public boolean retarget(CancelTarget to) {
            target = to;
            return holding.getAndSet(OPEN) == HELD_ONE;
        }

        /** Cancels are kept from now until the next {@link #retarget}, not sent anywhere. */
        public void hold() {
            holding.set(HOLDING);
        }

        /** Where a cancel goes now; null when it was kept for later (or the client holds no server connection). */
        private CancelTarget cancel() {
            if (holding.compareAndSet(HOLDING, HELD_ONE) || holding.get() == HELD_ONE) {
                return null;
            }
            // Open (maybe since just now, in which case the target was set before).
            return target;
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

    /**
     * A cancel request with this key: where to send it now. Empty for an unknown key, and when
     * the client's cancels are held ({@link Registration#hold}): then its session sends it once
     * its work reaches the server.
     */
    public Optional<CancelTarget> cancel(int processId, int secretKey) {
        Registration r = targets.get(new BackendKeyData(processId, secretKey).asLong());
        return Optional.ofNullable(r == null ? null : r.cancel());
    }

    public int size() {
        return targets.size();
    }
}
