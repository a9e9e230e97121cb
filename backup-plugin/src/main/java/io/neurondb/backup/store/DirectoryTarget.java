package io.neurondb.backup.store;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A {@link BackupTarget} in a directory (local disk, or a mount of another host). Sets are
 * copied into {@code .incomplete/} first and renamed into place, so a crash leaves only
 * something under {@code .incomplete/}, which no listing shows.
 */
public final class DirectoryTarget implements BackupTarget {

    public static final String INCOMPLETE = ".incomplete";

    private final Path root;

    public DirectoryTarget(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return "dir:" + root;
    }

    @Override
    public void checkWritable() throws IOException {
        try {
            Files.createDirectories(root.resolve(INCOMPLETE));
            Path probe = Files.createTempFile(root.resolve(INCOMPLETE), "probe", ".tmp");
            Files.delete(probe);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(root + " cannot be used as a backup directory: " + e.getFile() + " exists and is not a directory");
        } catch (AccessDeniedException e) {
            throw new IOException(root + " is not writable (permission denied on " + e.getFile() + "); give the proxy's user write access or choose another directory");
        } catch (IOException e) {
            throw new IOException(root + " is not writable (" + e.getClass().getSimpleName() + ": " + e.getMessage() + "); choose a writable directory");
        }
    }

    /** A fresh directory under {@code .incomplete/} to build a set in. */
    public Path newStagingDir(String label) throws IOException {
        return Files.createDirectories(root.resolve(INCOMPLETE).resolve(label + "-" + UUID.randomUUID()));
    }

    /** Makes a set built in a staging directory of this target visible under {@code name}: one rename. */
    public void publish(Path staging, String name) throws IOException {
        Path dest = root.resolve(name);
        Files.createDirectories(dest.getParent());
        Files.move(staging, dest, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void storeSet(String name, Path localDir) throws IOException {
        Path staging = newStagingDir(name.replace('/', '-'));
        try {
            try (Stream<Path> files = Files.list(localDir)) {
                for (Path f : files.toList()) {
                    Files.copy(f, staging.resolve(f.getFileName().toString()));
                }
            }
            publish(staging, name);
        } catch (IOException | RuntimeException e) {
            deleteTree(staging);
            throw e;
        }
    }

    @Override
    public List<String> listSets(String kind) throws IOException {
        Path dir = root.resolve(kind);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p.resolve(Manifest.FILE)))
                    .map(p -> kind + "/" + p.getFileName()).sorted().toList();   // <stamp>-<id>: sorts by time
        }
    }

    @Override
    public Path fetch(String name, String file) throws IOException {
        Path p = root.resolve(name).resolve(file);
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString());
        }
        return p;
    }

    @Override
    public void deleteSet(String name) throws IOException {
        Path dir = root.resolve(name);
        if (!Files.exists(dir)) {
            return;
        }
        // Hide it from listings first (manifest gone), then remove the rest.
        Path hidden = root.resolve(INCOMPLETE).resolve("deleting-" + UUID.randomUUID());
        Files.createDirectories(hidden.getParent());
        Files.move(dir, hidden, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(hidden);
    }

    @Override
    public void storeWal(Path segment) throws IOException {
        Path dir = Files.createDirectories(root.resolve("wal"));
        Path dest = dir.resolve(segment.getFileName().toString());
        if (Files.exists(dest)) {
            return;
        }
        Path tmp = root.resolve(INCOMPLETE).resolve(segment.getFileName() + "-" + UUID.randomUUID());
        Files.createDirectories(tmp.getParent());
        try {
            Files.copy(segment, tmp);
            Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public List<String> listWal() throws IOException {
        Path dir = root.resolve("wal");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Override
    public Path fetchWal(String file) throws IOException {
        Path p = root.resolve("wal").resolve(file);
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString());
        }
        return p;
    }

    @Override
    public void deleteWal(String file) throws IOException {
        Files.deleteIfExists(root.resolve("wal").resolve(file));
    }

    /** Deletes a directory tree; used for staging directories this plugin made. */
    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(walk.toList());
            all.sort(Comparator.reverseOrder());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(DirectoryTarget.class).warn("event=backup_cleanup_failed path={} error=\"{}\"", dir, e.getMessage());
        }
    }
}
