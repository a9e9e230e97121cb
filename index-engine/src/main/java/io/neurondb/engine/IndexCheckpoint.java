package io.neurondb.engine;

import io.neurondb.engine.VectorEngineException.CorruptCheckpointException;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.engine.compute.CpuComputeBackend;
import io.neurondb.engine.hnsw.HnswIndex;
import io.neurondb.engine.ivf.IvfIndex;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * Saves an index (vectors, row ids, graph or lists) with a caller-supplied position, such as
 * the WAL LSN the index is current up to, and loads it back.
 *
 * <p>File layout, big-endian: magic {@code "NDBI"}, format version, index kind, position, the
 * index's own state, then the CRC32C of everything before it. A file is written to a temp file
 * in the same directory, forced to disk, then renamed over the target, so a crash leaves either
 * the old checkpoint or the new one. On load the checksum is verified over the whole file
 * before anything is parsed, so a truncated or corrupt file is refused, never half-loaded.
 */
public final class IndexCheckpoint {

    private static final int MAGIC = 0x4E444249; // "NDBI"
    /** Bump on any change to the layout; readers refuse versions they do not know. */
    public static final int FORMAT_VERSION = 1;
    private static final int TRAILER_BYTES = Integer.BYTES;

    private static final byte KIND_EXACT = 1;
    private static final byte KIND_HNSW = 2;
    private static final byte KIND_IVF = 3;

    private IndexCheckpoint() {
    }

    /** A loaded index and the position it was saved at. */
    public record Loaded(VectorIndex index, long position) {
    }

    public static void write(Path file, VectorIndex index, long position) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream raw = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                CheckedOutputStream checked = new CheckedOutputStream(raw, new CRC32C());
                DataOutputStream out = new DataOutputStream(checked);
                out.writeInt(MAGIC);
                out.writeInt(FORMAT_VERSION);
                switch (index) {
                    case ExactIndex e -> {
                        out.writeByte(KIND_EXACT);
                        out.writeLong(position);
                        e.writeState(out);
                    }
                    case HnswIndex h -> {
                        out.writeByte(KIND_HNSW);
                        out.writeLong(position);
                        h.writeState(out);
                    }
                    case IvfIndex v -> {
                        out.writeByte(KIND_IVF);
                        out.writeLong(position);
                        v.writeState(out);
                    }
                    default -> throw new IllegalArgumentException("cannot checkpoint " + index.getClass());
                }
                out.flush();
                // The checksum itself goes to the raw stream, outside what it covers.
                new DataOutputStream(raw).writeInt((int) checked.getChecksum().getValue());
                raw.flush();
                channel.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static Loaded read(Path file) throws IOException {
        return read(file, new CpuComputeBackend());
    }

    /** Loads a checkpoint; an IVF index gets {@code backend} for its scans. */
    public static Loaded read(Path file, ComputeBackend backend) throws IOException {
        long size = Files.size(file);
        if (size < 4 + 4 + 1 + 8 + TRAILER_BYTES) {
            throw corrupt(file, "is truncated (" + size + " bytes)", null);
        }
        verifyChecksum(file, size);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            DataInputStream in = new DataInputStream(raw);
            if (in.readInt() != MAGIC) {
                throw corrupt(file, "is not a NeuronDB index checkpoint", null);
            }
            int version = in.readInt();
            if (version != FORMAT_VERSION) {
                throw corrupt(file, "has format version " + version + "; this build reads version "
                        + FORMAT_VERSION, null);
            }
            byte kind = in.readByte();
            long position = in.readLong();
            VectorIndex index = switch (kind) {
                case KIND_EXACT -> ExactIndex.readState(in);
                case KIND_HNSW -> HnswIndex.readState(in);
                case KIND_IVF -> IvfIndex.readState(in, backend);
                default -> throw corrupt(file, "has unknown index kind " + kind, null);
            };
            // Everything but the trailer must have been consumed by the state reader.
            if (in.skipBytes(TRAILER_BYTES) != TRAILER_BYTES || in.read() != -1) {
                throw corrupt(file, "has trailing bytes after the index state", null);
            }
            return new Loaded(index, position);
        } catch (CorruptCheckpointException e) {
            throw e;
        } catch (EOFException e) {
            throw corrupt(file, "ends before the index state does", e);
        } catch (IOException | RuntimeException e) {
            throw corrupt(file, "has an invalid index state: " + e.getMessage(), e);
        }
    }

    private static void verifyChecksum(Path file, long size) throws IOException {
        CRC32C crc = new CRC32C();
        int stored;
        try (InputStream in = new CheckedInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16), crc)) {
            byte[] buf = new byte[1 << 16];
            long remaining = size - TRAILER_BYTES;
            while (remaining > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, remaining));
                if (r < 0) {
                    throw corrupt(file, "is truncated", null);
                }
                remaining -= r;
            }
            long computed = crc.getValue();
            byte[] trailer = in.readNBytes(TRAILER_BYTES);
            if (trailer.length != TRAILER_BYTES) {
                throw corrupt(file, "is truncated", null);
            }
            stored = ByteBuffer.wrap(trailer).getInt();
            if (stored != (int) computed) {
                throw corrupt(file, "fails its CRC32C check (truncated or corrupt)", null);
            }
        }
    }

    private static CorruptCheckpointException corrupt(Path file, String what, Throwable cause) {
        return new CorruptCheckpointException("index checkpoint \"" + file + "\" " + what, cause);
    }

    static Metric metricFromOrdinal(int ordinal) throws IOException {
        if (ordinal < 0 || ordinal >= Metric.values().length) {
            throw new IOException("unknown metric code " + ordinal);
        }
        return Metric.values()[ordinal];
    }
}
