package io.neurondb.engine.bench;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A benchmark dataset: base vectors and held-out queries, both row-major. */
record Dataset(String name, int dims, float[] base, int baseCount, float[] queries, int queryCount) {

    float[] baseRow(int i) {
        float[] v = new float[dims];
        System.arraycopy(base, i * dims, v, 0, dims);
        return v;
    }

    float[] queryRow(int i) {
        float[] v = new float[dims];
        System.arraycopy(queries, i * dims, v, 0, dims);
        return v;
    }

    long rawBytes() {
        return (long) baseCount * dims * Float.BYTES;
    }

    /** Caches a matrix as: int rows, int dims, then floats; written to a temp file and renamed. */
    static void writeMatrix(Path file, float[] data, int rows, int dims) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (var out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
            out.writeInt(rows);
            out.writeInt(dims);
            for (int i = 0; i < rows * dims; i++) {
                out.writeFloat(data[i]);
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static float[] readMatrix(Path file, int[] shape) throws IOException {
        try (var in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            shape[0] = in.readInt();
            shape[1] = in.readInt();
            float[] data = new float[shape[0] * shape[1]];
            for (int i = 0; i < data.length; i++) {
                data[i] = in.readFloat();
            }
            return data;
        }
    }
}
