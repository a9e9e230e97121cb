package io.neurondb.backup.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where finished backups are kept: the local repository, an off-host copy. A backup is a set of
 * files with a {@code manifest.json}, named {@code <kind>/<stamp>-<id>}; a set becomes visible
 * only whole (files first, manifest with them, one atomic rename), so a set that is listed is
 * complete. A second directory (a mount of another host) is the implementation today; an
 * S3-compatible store would be another.
 */
public interface BackupTarget {

    /** For logs and messages, e.g. {@code dir:/mnt/offsite}. */
    String describe();

    /** @throws IOException saying why nothing can be written there (missing, read-only, not a directory) */
    void checkWritable() throws IOException;

    /** Copies the complete set in {@code localDir} to {@code name}; all or nothing. */
    void storeSet(String name, Path localDir) throws IOException;

    /** Names of the complete sets of one kind, oldest first. */
    List<String> listSets(String kind) throws IOException;

    /** A readable local path of one file of a set (a download for remote stores). */
    Path fetch(String name, String file) throws IOException;

    void deleteSet(String name) throws IOException;

    /** Copies a finished WAL segment to {@code wal/<file>} unless it is there already. */
    void storeWal(Path segment) throws IOException;

    /** Names of the archived WAL files ({@code wal/}), sorted. */
    List<String> listWal() throws IOException;

    /** A readable local path of one archived WAL file (a download for remote stores). */
    Path fetchWal(String file) throws IOException;

    void deleteWal(String file) throws IOException;
}
