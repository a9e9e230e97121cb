package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend.TopK;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The kernel-time wrapper on the CPU: {@link TimedTileKernels} around the reference kernels,
 * driven by the real {@link TiledSearch}, on a clock whose time source ticks by a known step
 * per reading, so the totals are exact: one launch per kernel step, time for the launching
 * steps and the copies back, none for uploads, and results unchanged by the wrapping.
 */
class TimedTileKernelsTest {

    /** Each reading of the time source moves it 1 ms on. */
    private static final long TICK = 1_000_000;

    /** Counts the wrapped kernels' calls by name, to check the totals against. */
    private static class CountingKernels implements TileKernels {
        final TileKernels inner;
        final List<String> calls;

        CountingKernels(TileKernels inner, List<String> calls) {
            this.inner = inner;
            this.calls = calls;
        }

        @Override
        public void loadQueries(float[] source, int firstRow, int rows) {
            calls.add("loadQueries");
            inner.loadQueries(source, firstRow, rows);
        }

        @Override
        public void loadBase(float[] source, int firstRow, int rows) {
            calls.add("loadBase");
            inner.loadBase(source, firstRow, rows);
        }

        @Override
        public void computeDistances(int kernelMetric) {
            calls.add("computeDistances");
            inner.computeDistances(kernelMetric);
        }

        @Override
        public void selectSegments(int segmentRows, int segments, int k, int[] rowsOut, float[] distancesOut) {
            calls.add("selectSegments");
            inner.selectSegments(segmentRows, segments, k, rowsOut, distancesOut);
        }

        @Override
        public void readDistances(float[] out) {
            calls.add("readDistances");
            inner.readDistances(out);
        }

        @Override
        public void foldNearest(int columnOffset) {
            calls.add("foldNearest");
            inner.foldNearest(columnOffset);
        }

        @Override
        public void readNearest(int[] out) {
            calls.add("readNearest");
            inner.readNearest(out);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    private static KernelClock tickingClock() {
        AtomicLong now = new AtomicLong();
        return new KernelClock(() -> now.addAndGet(TICK));
    }

    @Test
    void topKCountsEveryLaunchAndTimesOnlyKernelSteps() {
        Random random = new Random(7);
        int dims = 12;
        int queryCount = 30;
        int baseCount = 3000;
        float[] queries = BruteForce.randomMatrix(random, queryCount, dims);
        float[] base = BruteForce.randomMatrix(random, baseCount, dims);
        KernelClock clock = tickingClock();
        List<String> calls = new ArrayList<>();
        long budget = 20_000; // several tiles and query batches
        TiledSearch timed = new TiledSearch(TimedTileKernels.timed(
                (plan, d) -> new CountingKernels(new ReferenceTileKernels(plan, d), calls), clock), budget);

        TopK[] got = timed.topK(queries, queryCount, base, baseCount, dims, Metric.L2, 10);

        long launches = calls.stream().filter(c -> c.equals("computeDistances") || c.equals("selectSegments")).count();
        long reads = calls.stream().filter(c -> c.equals("readDistances")).count();
        assertThat(launches).as("several tiles, so several launches").isGreaterThan(4);
        assertThat(calls).contains("loadBase", "loadQueries");
        assertThat(clock.launches()).isEqualTo(launches);
        // Two readings (start, stop) per timed step, one tick apart; uploads take no reading.
        assertThat(clock.nanos()).isEqualTo((launches + reads) * TICK);
        assertThat(clock.seconds()).isEqualTo((launches + reads) * TICK / 1e9);

        TopK[] plain = new TiledSearch(ReferenceTileKernels::new, budget).topK(queries, queryCount, base, baseCount, dims, Metric.L2, 10);
        for (int q = 0; q < queryCount; q++) {
            assertThat(got[q].rows()).isEqualTo(plain[q].rows());
            assertThat(got[q].distances()).isEqualTo(plain[q].distances());
        }
    }

    @Test
    void assignmentCountsDistanceAndFoldLaunches() {
        Random random = new Random(11);
        int dims = 8;
        float[] vectors = BruteForce.randomMatrix(random, 500, dims);
        float[] centroids = BruteForce.randomMatrix(random, 300, dims);
        KernelClock clock = tickingClock();
        List<String> calls = new ArrayList<>();
        TiledSearch timed = new TiledSearch(TimedTileKernels.timed(
                (plan, d) -> new CountingKernels(new ReferenceTileKernels(plan, d), calls), clock), 20_000);

        int[] nearest = timed.assignNearest(vectors, 500, centroids, 300, dims, Metric.L2);

        long computes = calls.stream().filter(c -> c.equals("computeDistances")).count();
        long folds = calls.stream().filter(c -> c.equals("foldNearest")).count();
        long reads = calls.stream().filter(c -> c.equals("readNearest")).count();
        assertThat(folds).isEqualTo(computes).isGreaterThan(1);
        assertThat(clock.launches()).isEqualTo(computes + folds);
        assertThat(clock.nanos()).isEqualTo((computes + folds + reads) * TICK);
        assertThat(nearest).isEqualTo(new TiledSearch(ReferenceTileKernels::new, 20_000)
                .assignNearest(vectors, 500, centroids, 300, dims, Metric.L2));
    }

    @Test
    void aFailingStepIsStillTimedAndThrows() {
        KernelClock clock = tickingClock();
        TileKernels failing = new CountingKernels(null, new ArrayList<>()) {
            @Override
            public void computeDistances(int kernelMetric) {
                throw new CudaFailure("cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED");
            }
        };
        TimedTileKernels timed = new TimedTileKernels(failing, clock);
        assertThatThrownBy(() -> timed.computeDistances(0)).isInstanceOf(CudaFailure.class);
        assertThat(clock.launches()).isEqualTo(1);
        assertThat(clock.nanos()).isEqualTo(TICK);
    }

    @Test
    void theRealClockStartsAtZeroAndOnlyGrows() {
        KernelClock clock = new KernelClock();
        assertThat(clock.nanos()).isZero();
        assertThat(clock.launches()).isZero();
        long t = clock.start();
        clock.stop(t, 1);
        assertThat(clock.nanos()).isGreaterThanOrEqualTo(0);
        assertThat(clock.launches()).isEqualTo(1);
    }
}
