package io.neurondb.backup.restore;

import io.neurondb.backup.run.BackupSystem;
import io.neurondb.backup.store.BackupKey;
import io.neurondb.backup.store.BackupTarget;
import io.neurondb.backup.store.FileCipher;
import io.neurondb.backup.store.Manifest;
import io.neurondb.backup.store.Sha256;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One complete backup in a target, found by id or as the latest of its kind, with the checks a
 * restore makes before it changes anything: the key is the one the backup was sealed with, and
 * every file matches its SHA-256.
 */
public record BackupSet(BackupTarget target, String name, Manifest manifest) {

    /**
     * @param id "latest" or a backup id
     * @throws IllegalArgumentException when there is no such backup
     */
    public static BackupSet find(BackupTarget target, String kind, String id) throws IOException {
        List<String> sets = target.listSets(kind);
        if (sets.isEmpty()) {
            throw new IllegalArgumentException("there is no " + kind + " backup in " + target.describe()
                    + "; take one first (neurondb-proxy backup " + kind + ")");
        }
        String name;
        if (id == null || id.equals("latest")) {
            name = sets.getLast();
        } else {
            long wanted;
            try {
                wanted = Long.parseLong(id);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--backup '" + id + "' is not a backup id; use a number from 'backups list' or latest");
            }
            name = sets.stream().filter(s -> s.endsWith("-" + String.format("%08d", wanted))).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no " + kind + " backup with id " + wanted + " in "
                            + target.describe() + "; see neurondb-proxy backups list"));
        }
        return new BackupSet(target, name, Manifest.read(target.fetch(name, Manifest.FILE)));
    }

    public static BackupTarget source(BackupSystem sys, String from) {
        if (from == null || from.equals("repository")) {
            return sys.repository();
        }
        if (from.equals("offsite")) {
            if (sys.offsite() == null) {
                throw new IllegalArgumentException("--from offsite, but plugins.backup.offsite is not set");
            }
            return sys.offsite();
        }
        throw new IllegalArgumentException("--from '" + from + "': use repository or offsite");
    }

    /** Refuses a missing or wrong key before anything is restored. */
    public void checkKey(BackupKey key) {
        if (!manifest.json().getBoolean("encrypted", false)) {
            return;
        }
        if (key == null) {
            throw new IllegalArgumentException("backup " + manifest.id() + " is encrypted (key id " + manifest.keyId()
                    + "); set plugins.backup.encryption.key_file or key_env to its key");
        }
        if (!key.id().equals(manifest.keyId())) {
            throw new IllegalArgumentException("the configured key (id " + key.id() + ") is not the key backup " + manifest.id()
                    + " was encrypted with (id " + manifest.keyId() + "); configure that key");
        }
    }

    /** Checks every file's SHA-256 against the manifest. */
    public void checkFiles() throws IOException {
        for (Map.Entry<String, String> f : manifest.files().entrySet()) {
            Path p = target.fetch(name, f.getKey());
            String actual = Sha256.of(p);
            if (!actual.equals(f.getValue())) {
                throw new IllegalArgumentException("file " + f.getKey() + " of backup " + manifest.id() + " (" + p
                        + ") does not match its SHA-256 in the manifest: it is damaged or was altered; restore another backup"
                        + " (or the off-host copy with --from offsite)");
            }
        }
    }

    /**
     * The plain content of one file (decrypted into {@code workDir} when the backup is encrypted).
     *
     * @param plainName the name before encryption, e.g. {@code database.dump}
     */
    public Path plainFile(String plainName, BackupKey key, Path workDir) throws IOException {
        if (!manifest.json().getBoolean("encrypted", false)) {
            return target.fetch(name, plainName);
        }
        Path out = workDir.resolve(plainName);
        try {
            FileCipher.decrypt(target.fetch(name, plainName + ".enc"), out, key);
        } catch (IOException e) {
            Files.deleteIfExists(out);
            throw new IllegalArgumentException("backup " + manifest.id() + ": " + e.getMessage());
        }
        return out;
    }
}
