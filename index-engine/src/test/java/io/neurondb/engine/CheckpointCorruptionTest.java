package io.neurondb.engine;

import io.neurondb.engine.VectorEngineException.CorruptCheckpointException;
import io.neurondb.engine.hnsw.HnswIndex;
import io.neurondb.engine.hnsw.HnswParams;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CheckpointCorruptionTest {

    @TempDir
    Path dir;
    Path file;

    @BeforeEach
    void writeCheckpoint() throws IOException {
        HnswIndex index = new HnswIndex(8, Metric.L2, HnswParams.DEFAULT);
        float[] data = TestData.clustered(300, 8, 5, 51);
        for (int i = 0; i < 300; i++) {
            index.insert(i, TestData.row(data, i, 8));
        }
        file = dir.resolve("hnsw.ckpt");
        IndexCheckpoint.write(file, index, 77);
    }

    @Test
    void intactFileLoads() throws IOException {
        IndexCheckpoint.Loaded loaded = IndexCheckpoint.read(file);
        assertThat(loaded.index().size()).isEqualTo(300);
        assertThat(loaded.position()).isEqualTo(77);
    }

    @Test
    void truncatedFileIsRefused() throws IOException {
        long size = Files.size(file);
        for (long keep : new long[] {0, 10, size / 2, size - 1}) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(keep);
            }
            assertThatThrownBy(() -> IndexCheckpoint.read(file))
                    .isInstanceOf(CorruptCheckpointException.class)
                    .hasMessageContaining("hnsw.ckpt")
                    .satisfies(e -> assertThat(((VectorEngineException) e).sqlState()).isEqualTo("XX001"));
        }
    }

    @Test
    void flippedByteAnywhereIsRefused() throws IOException {
        byte[] original = Files.readAllBytes(file);
        for (int pos : new int[] {0, 5, 20, original.length / 2, original.length - 2}) {
            byte[] bad = original.clone();
            bad[pos] ^= 0x10;
            Files.write(file, bad);
            assertThatThrownBy(() -> IndexCheckpoint.read(file))
                    .as("flip at %d", pos)
                    .isInstanceOf(CorruptCheckpointException.class);
        }
    }

    @Test
    void unknownFormatVersionIsRefusedWithAClearMessage() throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).putInt(4, 99);
        // Re-seal the checksum so that only the version is wrong.
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        ByteBuffer.wrap(bytes).putInt(bytes.length - 4, (int) crc.getValue());
        Files.write(file, bytes);
        assertThatThrownBy(() -> IndexCheckpoint.read(file))
                .isInstanceOf(CorruptCheckpointException.class)
                .hasMessageContaining("format version 99");
    }

    @Test
    void rewritingReplacesTheFileAtomically() throws IOException {
        ExactIndex other = new ExactIndex(2, Metric.L1);
        other.insert(5, new float[] {1, 2});
        IndexCheckpoint.write(file, other, 78);
        IndexCheckpoint.Loaded loaded = IndexCheckpoint.read(file);
        assertThat(loaded.index()).isInstanceOf(ExactIndex.class);
        assertThat(loaded.position()).isEqualTo(78);
        try (var files = Files.list(dir)) {
            assertThat(files.count()).isEqualTo(1);
        }
    }
}
