package io.neurondb.engine;

import java.util.SplittableRandom;

/** Small clustered datasets for tests: a Gaussian mixture, reproducible from a seed. */
public final class TestData {

    private TestData() {
    }

    /** {@code rows} vectors (row-major) drawn around {@code clusters} random centres. */
    public static float[] clustered(int rows, int dims, int clusters, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] centres = new float[clusters * dims];
        for (int i = 0; i < centres.length; i++) {
            centres[i] = (float) gaussian(random);
        }
        float[] out = new float[rows * dims];
        for (int r = 0; r < rows; r++) {
            int c = random.nextInt(clusters);
            for (int d = 0; d < dims; d++) {
                out[r * dims + d] = centres[c * dims + d] + 0.3f * (float) gaussian(random);
            }
        }
        return out;
    }

    /**
     * Held-out queries for data made by {@link #clustered}(rows, dims, clusters, seed): the
     * next {@code count} draws of the same mixture, so they resemble the data but are not in it.
     */
    public static float[] heldOutQueries(int rows, int count, int dims, int clusters, long seed) {
        float[] all = clustered(rows + count, dims, clusters, seed);
        return java.util.Arrays.copyOfRange(all, rows * dims, (rows + count) * dims);
    }

    public static float[] row(float[] matrix, int i, int dims) {
        float[] v = new float[dims];
        System.arraycopy(matrix, i * dims, v, 0, dims);
        return v;
    }

    public static float[] random(int len, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[len];
        for (int i = 0; i < len; i++) {
            v[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return v;
    }

    static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    /** Fraction of {@code expected} ids found in {@code actual}. */
    public static double recall(long[] actual, long[] expected) {
        int hits = 0;
        for (long e : expected) {
            for (long a : actual) {
                if (a == e) {
                    hits++;
                    break;
                }
            }
        }
        return expected.length == 0 ? 1 : (double) hits / expected.length;
    }
}
