package io.neurondb.proxy.vectors;

import io.neurondb.engine.IndexCheckpoint;
import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.proxy.replication.Lsn;
import io.neurondb.proxy.route.IndexDefinition;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The durable state of one database's replicated indexes under
 * {@code <data_dir>/replication/<slot>/}: one engine checkpoint per index (the index and the
 * LSN it covers) and {@code manifest.properties}, which names the cluster (system identifier,
 * timeline) and slot the checkpoints belong to and, per index, the LSN it is known current
 * through (an index that did not change since its file was written stays current as the
 * stream moves on, without rewriting the file). Files are replaced atomically (temp, fsync,
 * rename), the manifest after the index files it names.
 */
final class CheckpointStore {

    /** One index's entry in the manifest. */
    record Saved(String definition, String file, long fileLsn, long throughLsn, int keyTypeOid) {
    }

    /** The manifest: empty identity fields when none was written yet. */
    record Manifest(String systemId, int timeline, String slot, Map<String, Saved> indexes) {
        static final Manifest NONE = new Manifest(null, 0, null, Map.of());

        boolean present() {
            return systemId != null;
        }

        /** The newest position any listed index is known current through (0 when none): what the checkpoints hold. */
        long newestPosition() {
            long newest = 0;
            for (Saved s : indexes.values()) {
                newest = Math.max(newest, Math.max(s.fileLsn(), s.throughLsn()));
            }
            return newest;
        }
    }

    private final Path dir;
    private final Path manifestFile;

    CheckpointStore(Path dir) {
        this.dir = dir;
        this.manifestFile = dir.resolve("manifest.properties");
    }

    Path dir() {
        return dir;
    }

    /** A definition as a stable string: the index's identity across restarts. */
    static String definitionKey(IndexDefinition d) {
        return d.qualifiedName() + "|" + d.table().schema() + "." + d.table().name() + "|" + d.column() + "|" + d.keyColumn()
                + "|" + d.method().sqlName() + "|" + d.operator().opclass() + "|" + new TreeMap<>(d.options());
    }

    Manifest load() throws IOException {
        if (!Files.exists(manifestFile)) {
            return Manifest.NONE;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(manifestFile, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Map<String, Saved> indexes = new HashMap<>();
        int n = Integer.parseInt(p.getProperty("indexes", "0"));
        for (int i = 0; i < n; i++) {
            String prefix = "index." + i + ".";
            indexes.put(p.getProperty(prefix + "name"), new Saved(p.getProperty(prefix + "definition"), p.getProperty(prefix + "file"),
                    Lsn.parse(p.getProperty(prefix + "file_lsn")), Lsn.parse(p.getProperty(prefix + "through_lsn")),
                    Integer.parseInt(p.getProperty(prefix + "key_type", "20"))));
        }
        return new Manifest(p.getProperty("system_identifier"), Integer.parseInt(p.getProperty("timeline", "0")),
                p.getProperty("slot"), indexes);
    }

    void save(Manifest m) throws IOException {
        Properties p = new Properties();
        p.setProperty("system_identifier", m.systemId());
        p.setProperty("timeline", String.valueOf(m.timeline()));
        p.setProperty("slot", m.slot());
        p.setProperty("indexes", String.valueOf(m.indexes().size()));
        int i = 0;
        for (Map.Entry<String, Saved> e : new TreeMap<>(m.indexes()).entrySet()) {
            String prefix = "index." + i++ + ".";
            p.setProperty(prefix + "name", e.getKey());
            p.setProperty(prefix + "definition", e.getValue().definition());
            p.setProperty(prefix + "file", e.getValue().file());
            p.setProperty(prefix + "file_lsn", Lsn.format(e.getValue().fileLsn()));
            p.setProperty(prefix + "through_lsn", Lsn.format(e.getValue().throughLsn()));
            p.setProperty(prefix + "key_type", String.valueOf(e.getValue().keyTypeOid()));
        }
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "manifest", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                p.store(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), "NeuronDB replicated index checkpoints");
                ch.force(true);
            }
            try {
                Files.move(tmp, manifestFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, manifestFile, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The checkpoint file name of an index: its name folded, plus a hash of its exact name. */
    static String fileName(String qualifiedName) {
        CRC32C crc = new CRC32C();
        crc.update(qualifiedName.getBytes(StandardCharsets.UTF_8));
        String folded = qualifiedName.replaceAll("[^A-Za-z0-9_.]", "_");
        if (folded.length() > 100) {
            folded = folded.substring(0, 100);
        }
        return folded + "-" + String.format("%08x", crc.getValue()) + ".ndbi";
    }

    void writeIndex(String file, VectorIndex index, long lsn) throws IOException {
        IndexCheckpoint.write(dir.resolve(file), index, lsn);
    }

    IndexCheckpoint.Loaded readIndex(String file, ComputeBackend compute) throws IOException {
        return IndexCheckpoint.read(dir.resolve(file), compute);
    }

    void deleteIndex(String file) {
        try {
            Files.deleteIfExists(dir.resolve(file));
        } catch (IOException ignored) {
            // a stale file is ignored: the manifest no longer names it
        }
    }

    /** Removes everything: the slot is gone, so no checkpoint can be resumed. */
    void clear() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
        }
    }
}
