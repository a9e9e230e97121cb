package io.neurondb.tests.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories of the test fixtures, removed when the fixture is done with them. */
public final class TempDirs {

    private TempDirs() {
    }

    /** Deletes {@code dir} and everything in it; a file that cannot go is left behind. */
    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort: a leftover temp file must not fail a test
                }
            });
        } catch (IOException e) {
            // same
        }
    }
}
