package io.neurondb.proxy.replication;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How the proxy follows its databases through logical replication. Documented key by key in
 * {@code conf/neurondb.yaml} ({@code instance_id}, {@code replication:}).
 *
 * @param enabled            false: the engine follows only writes made through the proxy, by rebuilds
 * @param instanceId         names this proxy's slot and publication; distinct per proxy instance
 * @param checkpointInterval how often each index that changed is written to the data directory;
 *                           the slot's flushed position only advances at checkpoints
 * @param statusInterval     how often standby status updates go to the server
 * @param maxStaleness       how long ago the stream may last have been drained (everything the
 *                           server sent applied) for the indexes still to answer; beyond it, and
 *                           whenever the stream is not running, kNN runs exactly in PostgreSQL
 */
public record ReplicationSettings(boolean enabled, String instanceId, Duration checkpointInterval, Duration statusInterval,
                                  Duration maxStaleness) {

    public static final Duration DEFAULT_MAX_STALENESS = Duration.ofSeconds(5);

    public ReplicationSettings(boolean enabled, String instanceId, Duration checkpointInterval, Duration statusInterval) {
        this(enabled, instanceId, checkpointInterval, statusInterval, DEFAULT_MAX_STALENESS);
    }

    public static final String DEFAULT_INSTANCE_ID = "default";
    /** Lower-case letters, digits and underscores: slot names allow nothing else. */
    public static final Pattern INSTANCE_ID = Pattern.compile("[a-z0-9_]{1,32}");

    public static final ReplicationSettings DISABLED =
            new ReplicationSettings(false, DEFAULT_INSTANCE_ID, Duration.ofSeconds(60), Duration.ofSeconds(1));

    public ReplicationSettings {
        if (!INSTANCE_ID.matcher(instanceId).matches()) {
            throw new IllegalArgumentException("instance_id '" + instanceId
                    + "' must be 1 to 32 lower-case letters, digits or underscores (it names a replication slot)");
        }
    }
}
