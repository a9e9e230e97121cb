package io.neurondb.proxy.replication;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Who a walsender connection of this proxy belongs to. Every replication connection carries
 * {@code application_name = neurondb-replication/<id>}, where {@code <id>} is a random value
 * kept in {@code <data_dir>/replication/owner_id}: the same for every run of the proxy on that
 * data directory, different for another proxy. A slot held by a walsender with our id is a
 * leftover of this proxy (a connection that died, a process killed before it) and may be taken
 * back; a slot held by anyone else is another proxy configured with the same {@code instance_id}.
 */
public final class ReplicationOwner {

    public static final String APPLICATION_PREFIX = "neurondb-replication/";
    private static final String FILE = "owner_id";

    private final String id;

    private ReplicationOwner(String id) {
        this.id = id;
    }

    /** Reads the data directory's id, creating it on first use; a random one for this process if the directory is not writable. */
    public static ReplicationOwner of(Path dataDir) {
        Path file = dataDir.resolve("replication").resolve(FILE);
        try {
            Files.createDirectories(file.getParent());
            try {
                Files.writeString(file, random() + "\n", StandardCharsets.US_ASCII, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException exists) {
                // written by an earlier run: keep it
            }
            String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (id.matches("[0-9a-f]{16}")) {
                return new ReplicationOwner(id);
            }
        } catch (IOException ignored) {
            // not writable: this process's own id below (leftovers of earlier runs then look foreign)
        }
        return new ReplicationOwner(random());
    }

    /** For tests and tools: a fixed id. */
    public static ReplicationOwner withId(String id) {
        return new ReplicationOwner(id);
    }

    private static String random() {
        byte[] b = new byte[8];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    public String id() {
        return id;
    }

    /** The application_name this proxy's replication connections use (fits NAMEDATALEN). */
    public String applicationName() {
        return APPLICATION_PREFIX + id;
    }

    /** Whether a backend with this application_name is one of ours. */
    public boolean owns(String applicationName) {
        return applicationName().equals(applicationName);
    }
}
