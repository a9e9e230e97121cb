package io.neurondb.engine.bench;

import java.util.SplittableRandom;

/**
 * A Gaussian mixture: {@code clusters} centres drawn from N(0, 1) per dimension, each row a
 * centre plus N(0, spread^2) noise. Clustered like real embeddings (unlike uniform noise, on
 * which every index looks the same), and reproducible from the seed. Queries are fresh draws
 * from the same mixture, so none is in the base set.
 */
final class SyntheticDataset {

    private SyntheticDataset() {
    }

    static Dataset generate(int baseCount, int queryCount, int dims, int clusters, float spread, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] centres = new float[clusters * dims];
        for (int i = 0; i < centres.length; i++) {
            centres[i] = (float) gaussian(random);
        }
        float[] base = draw(baseCount, dims, clusters, spread, centres, random);
        float[] queries = draw(queryCount, dims, clusters, spread, centres, random);
        return new Dataset("synthetic-gaussian-mixture", dims, base, baseCount, queries, queryCount);
    }

    private static float[] draw(int rows, int dims, int clusters, float spread, float[] centres, SplittableRandom random) {
        float[] out = new float[rows * dims];
        for (int r = 0; r < rows; r++) {
            int c = random.nextInt(clusters);
            for (int d = 0; d < dims; d++) {
                out[r * dims + d] = centres[c * dims + d] + spread * (float) gaussian(random);
            }
        }
        return out;
    }

    /** Box-Muller; SplittableRandom has no nextGaussian of its own. */
    private static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
