package io.neurondb.engine.ivf;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.engine.vector.Distance;
import io.neurondb.engine.vector.VectorizationProvider;

import java.util.SplittableRandom;

/**
 * k-means++ seeding then Lloyd iterations on a sample, as pgvector's ivfflat build does.
 * Assignment, the expensive step, goes through the {@link ComputeBackend} so an accelerator
 * can take it over; the seeding and the mean updates are cheap and stay here.
 */
final class KMeans {

    private static final int ITERATIONS = 10;

    private KMeans() {
    }

    /**
     * Returns {@code k} centroids (row-major) for {@code n} sample rows. {@code assignMetric}
     * is the metric rows are later assigned with; for cosine the rows are unit length and the
     * centroids are renormalised after every update (spherical k-means).
     */
    static float[] train(float[] sample, int n, int dims, int k, Metric assignMetric, boolean spherical,
                         ComputeBackend backend, long seed) {
        VectorizationProvider kernels = VectorizationProvider.get();
        SplittableRandom random = new SplittableRandom(seed);
        float[] centroids = seedPlusPlus(sample, n, dims, k, kernels, random);
        for (int iter = 0; iter < ITERATIONS; iter++) {
            int[] assignment = backend.assignNearest(sample, n, centroids, k, dims, assignMetric);
            float[] sums = new float[k * dims];
            int[] counts = new int[k];
            for (int i = 0; i < n; i++) {
                int c = assignment[i];
                counts[c]++;
                for (int d = 0; d < dims; d++) {
                    sums[c * dims + d] += sample[i * dims + d];
                }
            }
            for (int c = 0; c < k; c++) {
                if (counts[c] == 0) {
                    // An empty cluster would waste a list: restart it on a random sample row.
                    System.arraycopy(sample, random.nextInt(n) * dims, centroids, c * dims, dims);
                    continue;
                }
                float inv = 1f / counts[c];
                for (int d = 0; d < dims; d++) {
                    centroids[c * dims + d] = sums[c * dims + d] * inv;
                }
            }
            if (spherical) {
                for (int c = 0; c < k; c++) {
                    float[] row = new float[dims];
                    System.arraycopy(centroids, c * dims, row, 0, dims);
                    Distance.normalize(row, kernels);
                    System.arraycopy(row, 0, centroids, c * dims, dims);
                }
            }
        }
        return centroids;
    }

    /**
     * k-means++: each next seed is drawn with probability proportional to its squared distance
     * from the nearest seed so far, which spreads seeds over the clusters.
     */
    private static float[] seedPlusPlus(float[] sample, int n, int dims, int k, VectorizationProvider kernels,
                                        SplittableRandom random) {
        float[] centroids = new float[k * dims];
        double[] nearest = new double[n];
        java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
        int chosen = random.nextInt(n);
        for (int c = 0; c < k; c++) {
            System.arraycopy(sample, chosen * dims, centroids, c * dims, dims);
            double total = 0;
            for (int i = 0; i < n; i++) {
                double d = kernels.squareDistance(sample, i * dims, centroids, c * dims, dims);
                if (d < nearest[i]) {
                    nearest[i] = d;
                }
                total += nearest[i];
            }
            if (total == 0) {
                chosen = random.nextInt(n); // fewer distinct rows than lists
                continue;
            }
            double target = random.nextDouble() * total;
            chosen = n - 1;
            for (int i = 0; i < n; i++) {
                target -= nearest[i];
                if (target <= 0) {
                    chosen = i;
                    break;
                }
            }
        }
        return centroids;
    }
}
