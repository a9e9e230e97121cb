package io.neurondb.engine.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on the Panama Vector API, at the CPU's preferred width (256 bits on AVX2, 512 on
 * AVX-512). Layout of each kernel:
 * <ol>
 * <li>short rows (under two vectors) go to the scalar kernel: setting up vectors and reducing
 *     lanes would cost more than the loop saves;</li>
 * <li>main loop unrolled four vectors at a time into four accumulators, so consecutive FMAs do
 *     not wait on each other's result (FMA latency is about four cycles);</li>
 * <li>a one-vector loop for what is left in whole vectors;</li>
 * <li>a scalar tail for the last {@code len % lanes} floats, cheaper than masked loads.</li>
 * </ol>
 * Only loaded when {@code jdk.incubator.vector} is present (see {@link VectorizationProvider}).
 */
final class PanamaVectorizationProvider extends VectorizationProvider {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int THRESHOLD = 2 * LANES;

    private static final VectorizationProvider SCALAR = ScalarVectorizationProvider.INSTANCE;

    public static int preferredLanes() {
        return LANES;
    }

    @Override
    public String name() {
        return "panama-" + SPECIES.vectorBitSize() + "bit";
    }

    @Override
    public float dotProduct(float[] a, int ao, float[] b, int bo, int len) {
        if (len < THRESHOLD) {
            return SCALAR.dotProduct(a, ao, b, bo, len);
        }
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        FloatVector acc2 = FloatVector.zero(SPECIES);
        FloatVector acc3 = FloatVector.zero(SPECIES);
        int i = 0;
        int unrolledBound = len - 4 * LANES;
        for (; i <= unrolledBound; i += 4 * LANES) {
            acc0 = FloatVector.fromArray(SPECIES, a, ao + i)
                    .fma(FloatVector.fromArray(SPECIES, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(SPECIES, a, ao + i + LANES)
                    .fma(FloatVector.fromArray(SPECIES, b, bo + i + LANES), acc1);
            acc2 = FloatVector.fromArray(SPECIES, a, ao + i + 2 * LANES)
                    .fma(FloatVector.fromArray(SPECIES, b, bo + i + 2 * LANES), acc2);
            acc3 = FloatVector.fromArray(SPECIES, a, ao + i + 3 * LANES)
                    .fma(FloatVector.fromArray(SPECIES, b, bo + i + 3 * LANES), acc3);
        }
        int vectorBound = SPECIES.loopBound(len);
        for (; i < vectorBound; i += LANES) {
            acc0 = FloatVector.fromArray(SPECIES, a, ao + i)
                    .fma(FloatVector.fromArray(SPECIES, b, bo + i), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    @Override
    public float squareDistance(float[] a, int ao, float[] b, int bo, int len) {
        if (len < THRESHOLD) {
            return SCALAR.squareDistance(a, ao, b, bo, len);
        }
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        FloatVector acc2 = FloatVector.zero(SPECIES);
        FloatVector acc3 = FloatVector.zero(SPECIES);
        int i = 0;
        int unrolledBound = len - 4 * LANES;
        for (; i <= unrolledBound; i += 4 * LANES) {
            FloatVector d0 = FloatVector.fromArray(SPECIES, a, ao + i)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i));
            FloatVector d1 = FloatVector.fromArray(SPECIES, a, ao + i + LANES)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i + LANES));
            FloatVector d2 = FloatVector.fromArray(SPECIES, a, ao + i + 2 * LANES)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i + 2 * LANES));
            FloatVector d3 = FloatVector.fromArray(SPECIES, a, ao + i + 3 * LANES)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i + 3 * LANES));
            acc0 = d0.fma(d0, acc0);
            acc1 = d1.fma(d1, acc1);
            acc2 = d2.fma(d2, acc2);
            acc3 = d3.fma(d3, acc3);
        }
        int vectorBound = SPECIES.loopBound(len);
        for (; i < vectorBound; i += LANES) {
            FloatVector d = FloatVector.fromArray(SPECIES, a, ao + i)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i));
            acc0 = d.fma(d, acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            float d = a[ao + i] - b[bo + i];
            sum += d * d;
        }
        return sum;
    }

    @Override
    public float l1Distance(float[] a, int ao, float[] b, int bo, int len) {
        if (len < THRESHOLD) {
            return SCALAR.l1Distance(a, ao, b, bo, len);
        }
        // No FMA here: |a - b| then add; two accumulators suffice since add latency is short.
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        int i = 0;
        int unrolledBound = len - 2 * LANES;
        for (; i <= unrolledBound; i += 2 * LANES) {
            acc0 = acc0.add(FloatVector.fromArray(SPECIES, a, ao + i)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i)).abs());
            acc1 = acc1.add(FloatVector.fromArray(SPECIES, a, ao + i + LANES)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i + LANES)).abs());
        }
        int vectorBound = SPECIES.loopBound(len);
        for (; i < vectorBound; i += LANES) {
            acc0 = acc0.add(FloatVector.fromArray(SPECIES, a, ao + i)
                    .sub(FloatVector.fromArray(SPECIES, b, bo + i)).abs());
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            sum += Math.abs(a[ao + i] - b[bo + i]);
        }
        return sum;
    }

    /**
     * One pass over four rows: the query chunk is loaded once per step and each row has its
     * own accumulator, which also gives four independent FMA chains (no unrolling needed).
     */
    @Override
    public void dotProduct4(float[] q, int qo, float[] b0, int o0, float[] b1, int o1, float[] b2, int o2,
                            float[] b3, int o3, int len, float[] out) {
        if (len < THRESHOLD) {
            super.dotProduct4(q, qo, b0, o0, b1, o1, b2, o2, b3, o3, len, out);
            return;
        }
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        FloatVector acc2 = FloatVector.zero(SPECIES);
        FloatVector acc3 = FloatVector.zero(SPECIES);
        int i = 0;
        int vectorBound = SPECIES.loopBound(len);
        for (; i < vectorBound; i += LANES) {
            FloatVector qv = FloatVector.fromArray(SPECIES, q, qo + i);
            acc0 = qv.fma(FloatVector.fromArray(SPECIES, b0, o0 + i), acc0);
            acc1 = qv.fma(FloatVector.fromArray(SPECIES, b1, o1 + i), acc1);
            acc2 = qv.fma(FloatVector.fromArray(SPECIES, b2, o2 + i), acc2);
            acc3 = qv.fma(FloatVector.fromArray(SPECIES, b3, o3 + i), acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            float x = q[qo + i];
            s0 += x * b0[o0 + i];
            s1 += x * b1[o1 + i];
            s2 += x * b2[o2 + i];
            s3 += x * b3[o3 + i];
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    @Override
    public void squareDistance4(float[] q, int qo, float[] b0, int o0, float[] b1, int o1, float[] b2, int o2,
                                float[] b3, int o3, int len, float[] out) {
        if (len < THRESHOLD) {
            super.squareDistance4(q, qo, b0, o0, b1, o1, b2, o2, b3, o3, len, out);
            return;
        }
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        FloatVector acc2 = FloatVector.zero(SPECIES);
        FloatVector acc3 = FloatVector.zero(SPECIES);
        int i = 0;
        int vectorBound = SPECIES.loopBound(len);
        for (; i < vectorBound; i += LANES) {
            FloatVector qv = FloatVector.fromArray(SPECIES, q, qo + i);
            FloatVector d0 = qv.sub(FloatVector.fromArray(SPECIES, b0, o0 + i));
            FloatVector d1 = qv.sub(FloatVector.fromArray(SPECIES, b1, o1 + i));
            FloatVector d2 = qv.sub(FloatVector.fromArray(SPECIES, b2, o2 + i));
            FloatVector d3 = qv.sub(FloatVector.fromArray(SPECIES, b3, o3 + i));
            acc0 = d0.fma(d0, acc0);
            acc1 = d1.fma(d1, acc1);
            acc2 = d2.fma(d2, acc2);
            acc3 = d3.fma(d3, acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            float x = q[qo + i];
            float d0 = x - b0[o0 + i];
            float d1 = x - b1[o1 + i];
            float d2 = x - b2[o2 + i];
            float d3 = x - b3[o3 + i];
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }
}
