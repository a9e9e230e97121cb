package io.neurondb.tests.backup;

import io.neurondb.backup.store.BackupKey;
import io.neurondb.backup.store.FileCipher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileCipherTest {

    @TempDir
    Path dir;

    private static BackupKey key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return BackupKey.of(k);
    }

    private Path plain(int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        return Files.write(dir.resolve("plain-" + size), data);
    }

    @Test
    void roundTripsFilesAroundTheChunkSize() throws IOException {
        for (int size : new int[]{0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17}) {
            Path p = plain(size);
            Path sealed = dir.resolve("sealed-" + size);
            Path back = dir.resolve("back-" + size);
            FileCipher.encrypt(p, sealed, key(1));
            assertThat(Files.size(sealed)).isGreaterThan(size);
            FileCipher.decrypt(sealed, back, key(1));
            assertThat(Files.mismatch(p, back)).as("size %d", size).isEqualTo(-1);
        }
    }

    @Test
    void alteredByteWrongKeyAndTruncationAreRefused() throws IOException {
        Path p = plain(2 * (1 << 20) + 5);
        Path sealed = dir.resolve("sealed");
        FileCipher.encrypt(p, sealed, key(1));

        assertThatThrownBy(() -> FileCipher.decrypt(sealed, dir.resolve("x1"), key(2)))
                .hasMessageContaining("integrity check").hasMessageContaining("key");

        byte[] bytes = Files.readAllBytes(sealed);
        bytes[8 + 12 + 5 + 1000] ^= 1;   // inside the first chunk's ciphertext
        Path tampered = Files.write(dir.resolve("tampered"), bytes);
        assertThatThrownBy(() -> FileCipher.decrypt(tampered, dir.resolve("x2"), key(1))).hasMessageContaining("integrity check");

        byte[] all = Files.readAllBytes(sealed);
        // drop the last chunk entirely: the stream then ends without a final chunk
        int firstChunkEnd = 8 + 12 + 5 + (1 << 20) + 16;
        Path truncated = Files.write(dir.resolve("truncated"), java.util.Arrays.copyOf(all, firstChunkEnd));
        assertThatThrownBy(() -> FileCipher.decrypt(truncated, dir.resolve("x3"), key(1))).hasMessageContaining("truncated");
    }

    @Test
    void keyIdDependsOnTheKeyOnly() {
        assertThat(key(1).id()).isEqualTo(key(1).id()).hasSize(16).isNotEqualTo(key(2).id());
        assertThat(key(1).toString()).doesNotContain(java.util.HexFormat.of().formatHex(new byte[0]) + "00000000");
    }
}
