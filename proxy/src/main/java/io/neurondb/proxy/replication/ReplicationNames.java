package io.neurondb.proxy.replication;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * Names of the server objects one proxy instance owns: one publication per database
 * ({@code neurondb_<instance>}) and one logical slot per database
 * ({@code neurondb_<instance>_<database>}; slots are per database and share one namespace per
 * cluster). Slot names allow only {@code [a-z0-9_]} and 63 bytes, so a database name outside
 * that is folded and suffixed with a hash of the real name.
 */
public final class ReplicationNames {

    private static final int MAX_NAME = 63;

    private ReplicationNames() {
    }

    public static String publication(String instanceId) {
        return "neurondb_" + instanceId;
    }

    public static String slot(String instanceId, String database) {
        String base = "neurondb_" + instanceId + "_";
        String folded = database.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        boolean exact = folded.equals(database);
        String name = base + folded;
        if (exact && name.length() <= MAX_NAME) {
            return name;
        }
        CRC32C crc = new CRC32C();
        crc.update(database.getBytes(StandardCharsets.UTF_8));
        String suffix = "_" + String.format("%08x", crc.getValue());
        int room = MAX_NAME - base.length() - suffix.length();
        return base + folded.substring(0, Math.min(folded.length(), Math.max(0, room))) + suffix;
    }

    /** A temporary slot used to export one snapshot for an index added while streaming. */
    public static String temporarySlot(String instanceId, long sequence) {
        return "neurondb_" + instanceId + "_tmp_" + ProcessHandle.current().pid() + "_" + sequence;
    }
}
