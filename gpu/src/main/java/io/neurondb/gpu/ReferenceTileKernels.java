package io.neurondb.gpu;

/**
 * {@code kernels.cu} in plain Java, step for step: same accumulation order per distance,
 * same insertion-list selection per segment, same running-minimum fold. It exists so the
 * host side of the GPU path ({@link TilePlan}, {@link TiledSearch}, {@link BoundedTopK})
 * is exercised by ordinary tests, and so a reader can check the device algorithm against
 * brute force without a GPU. Not a production CPU backend: the engine has its own.
 */
final class ReferenceTileKernels implements TileKernels {

    private final int dims;
    private final float[] queries;
    private final float[] base;
    private final float[] distances;
    private final int[] nearestColumn;
    private final float[] nearestDistance;
    private int queryRows;
    private int baseRows;

    ReferenceTileKernels(TilePlan plan, int dims) {
        this.dims = dims;
        this.queries = new float[Math.multiplyExact(plan.queryRows(), dims)];
        this.base = new float[Math.multiplyExact(plan.baseRows(), dims)];
        this.distances = new float[Math.toIntExact(plan.distanceBlockElements())];
        this.nearestColumn = new int[plan.queryRows()];
        this.nearestDistance = new float[plan.queryRows()];
    }

    @Override
    public void loadQueries(float[] source, int firstRow, int rows) {
        System.arraycopy(source, firstRow * dims, queries, 0, rows * dims);
        queryRows = rows;
    }

    @Override
    public void loadBase(float[] source, int firstRow, int rows) {
        System.arraycopy(source, firstRow * dims, base, 0, rows * dims);
        baseRows = rows;
    }

    @Override
    public void computeDistances(int kernelMetric) {
        for (int q = 0; q < queryRows; q++) {
            for (int b = 0; b < baseRows; b++) {
                distances[q * baseRows + b] = distance(kernelMetric, q * dims, b * dims);
            }
        }
    }

    /** One thread of {@code batchedDistances}; the shared-memory slicing does not change the order of the sums. */
    private float distance(int kernelMetric, int queryOffset, int baseOffset) {
        float acc = 0f;
        float queryNorm2 = 0f;
        float baseNorm2 = 0f;
        for (int d = 0; d < dims; d++) {
            float x = queries[queryOffset + d];
            float y = base[baseOffset + d];
            switch (kernelMetric) {
                case KernelMetric.L2 -> {
                    float diff = x - y;
                    acc += diff * diff;
                }
                case KernelMetric.L1 -> acc += Math.abs(x - y);
                case KernelMetric.COSINE -> {
                    queryNorm2 += x * x;
                    baseNorm2 += y * y;
                    acc += x * y;
                }
                default -> acc += x * y;
            }
        }
        return finishDistance(kernelMetric, acc, queryNorm2, baseNorm2);
    }

    static float finishDistance(int kernelMetric, float acc, float queryNorm2, float baseNorm2) {
        return switch (kernelMetric) {
            case KernelMetric.INNER_PRODUCT -> -acc;
            case KernelMetric.COSINE -> {
                float denominator = (float) Math.sqrt(queryNorm2) * (float) Math.sqrt(baseNorm2);
                yield denominator == 0f ? 1f : 1f - acc / denominator;
            }
            default -> acc;
        };
    }

    @Override
    public void selectSegments(int segmentRows, int segments, int k, int[] rowsOut, float[] distancesOut) {
        float[] bestDistance = new float[k];
        int[] bestRow = new int[k];
        for (int slot = 0; slot < queryRows * segments; slot++) {
            int query = slot / segments;
            int segment = slot - query * segments;
            int from = segment * segmentRows;
            int to = Math.min(from + segmentRows, baseRows);
            int rowStart = query * baseRows;
            int count = 0;
            for (int r = from; r < to; r++) {
                float d = distances[rowStart + r];
                if (count == k && !DistanceOrder.ranksBefore(d, r, bestDistance[k - 1], bestRow[k - 1])) {
                    continue;
                }
                int pos = count < k ? count++ : k - 1;
                while (pos > 0 && DistanceOrder.ranksBefore(d, r, bestDistance[pos - 1], bestRow[pos - 1])) {
                    bestDistance[pos] = bestDistance[pos - 1];
                    bestRow[pos] = bestRow[pos - 1];
                    --pos;
                }
                bestDistance[pos] = d;
                bestRow[pos] = r;
            }
            int out = slot * k;
            for (int i = 0; i < k; i++) {
                rowsOut[out + i] = i < count ? bestRow[i] : -1;
                distancesOut[out + i] = i < count ? bestDistance[i] : 0f;
            }
        }
    }

    @Override
    public void readDistances(float[] out) {
        System.arraycopy(distances, 0, out, 0, queryRows * baseRows);
    }

    @Override
    public void foldNearest(int columnOffset) {
        for (int r = 0; r < queryRows; r++) {
            int best = -1;
            float bestD = 0f;
            if (columnOffset > 0) {
                best = nearestColumn[r];
                bestD = nearestDistance[r];
            }
            for (int c = 0; c < baseRows; c++) {
                float d = distances[r * baseRows + c];
                int column = columnOffset + c;
                if (best < 0 || DistanceOrder.ranksBefore(d, column, bestD, best)) {
                    best = column;
                    bestD = d;
                }
            }
            nearestColumn[r] = best;
            nearestDistance[r] = bestD;
        }
    }

    @Override
    public void readNearest(int[] out) {
        System.arraycopy(nearestColumn, 0, out, 0, queryRows);
    }

    @Override
    public void close() {
        // heap arrays only
    }
}
