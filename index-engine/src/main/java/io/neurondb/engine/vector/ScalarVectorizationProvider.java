package io.neurondb.engine.vector;

/**
 * Plain Java kernels: the fallback, and the reference the Panama kernels are tested against.
 * Four accumulators break the loop-carried dependency on a single sum, which lets the CPU
 * overlap the adds even without SIMD; the tail loop handles the last {@code len % 4}.
 */
final class ScalarVectorizationProvider extends VectorizationProvider {

    static final ScalarVectorizationProvider INSTANCE = new ScalarVectorizationProvider();

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public float dotProduct(float[] a, int ao, float[] b, int bo, int len) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (int bound = len & ~3; i < bound; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < len; i++) {
            s0 += a[ao + i] * b[bo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public float squareDistance(float[] a, int ao, float[] b, int bo, int len) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (int bound = len & ~3; i < bound; i += 4) {
            float d0 = a[ao + i] - b[bo + i];
            float d1 = a[ao + i + 1] - b[bo + i + 1];
            float d2 = a[ao + i + 2] - b[bo + i + 2];
            float d3 = a[ao + i + 3] - b[bo + i + 3];
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; i < len; i++) {
            float d = a[ao + i] - b[bo + i];
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public float l1Distance(float[] a, int ao, float[] b, int bo, int len) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (int bound = len & ~3; i < bound; i += 4) {
            s0 += Math.abs(a[ao + i] - b[bo + i]);
            s1 += Math.abs(a[ao + i + 1] - b[bo + i + 1]);
            s2 += Math.abs(a[ao + i + 2] - b[bo + i + 2]);
            s3 += Math.abs(a[ao + i + 3] - b[bo + i + 3]);
        }
        for (; i < len; i++) {
            s0 += Math.abs(a[ao + i] - b[bo + i]);
        }
        return (s0 + s1) + (s2 + s3);
    }
}
