// NeuronDB distance kernels, compiled at run time with NVRTC (see NvrtcCompiler).
//
// Kept free of #include, and of library helpers beyond sqrtf/fabsf, so NVRTC needs no
// header search path on the target machine and the file also compiles as plain C++ for
// KernelHostEmulationTest.
// ReferenceTileKernels.java is the line-by-line Java mirror of this file: change both.
//
// Metric ids must match KernelMetric.java; KernelSourceTest checks that they do.
#define METRIC_L2 0
#define METRIC_INNER_PRODUCT 1
#define METRIC_COSINE 2
#define METRIC_L1 3

// Side of the square thread block of batchedDistances, and of the slices of the
// dimension axis staged through shared memory.
#define TILE 16

// Largest k that segmentTopK keeps in per-thread arrays; larger k is selected on the host.
#define MAX_DEVICE_K 64

// NaN is the only float unequal to itself (no --use_fast_math, so this is kept).
__device__ __forceinline__ bool isNaN(float x) {
    return x != x;
}

__device__ __forceinline__ int minInt(int a, int b) {
    return a < b ? a : b;
}

// Order of candidates: smaller distance first, equal distances by lower row, NaN last (only
// NaN input produces one; it must not displace real matches). Same rule as
// DistanceOrder.java, so the device and the host agree on which of two tied rows survives
// a cut.
__device__ __forceinline__ bool ranksBefore(float a, int rowA, float b, int rowB) {
    if (isNaN(a)) {
        return isNaN(b) && rowA < rowB;
    }
    if (isNaN(b)) {
        return true;
    }
    return a < b || (a == b && rowA < rowB);
}

__device__ __forceinline__ float finishDistance(int metric, float acc, float queryNorm2, float baseNorm2) {
    switch (metric) {
    case METRIC_INNER_PRODUCT:
        return -acc;
    case METRIC_COSINE: {
        // As the engine's CpuComputeBackend: 1 - dot / (|q| |b|), and 1 when either vector
        // is zero (the engine refuses such vectors for cosine, but must not produce NaN).
        const float denominator = sqrtf(queryNorm2) * sqrtf(baseNorm2);
        return denominator == 0.0f ? 1.0f : 1.0f - acc / denominator;
    }
    default: // METRIC_L2 (squared) and METRIC_L1 are plain sums
        return acc;
    }
}

// out[q * baseRows + b] = distance(queries[q], base[b]) for a queries x base-tile block.
// Grid: x over base rows, y over query rows, blocks of TILE x TILE threads. The dimension
// axis is walked in TILE-wide slices staged in shared memory, as in a tiled matrix
// product: each global element is read once per block instead of once per thread, and the
// loads are coalesced along the dimension axis. The +1 column pad avoids bank conflicts
// when threads of a warp read different rows of the same column.
extern "C" __global__ void batchedDistances(const float* __restrict__ queries, int queryRows,
                                            const float* __restrict__ base, int baseRows,
                                            int dims, int metric, float* __restrict__ out) {
    __shared__ float querySlice[TILE][TILE + 1];
    __shared__ float baseSlice[TILE][TILE + 1];

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int queryRow = blockIdx.y * TILE + ty;
    const int baseRow = blockIdx.x * TILE + tx;
    // Row each thread stages: the block's rows are indexed by ty for both slices.
    const int stagedQueryRow = blockIdx.y * TILE + ty;
    const int stagedBaseRow = blockIdx.x * TILE + ty;

    float acc = 0.0f;
    float queryNorm2 = 0.0f;
    float baseNorm2 = 0.0f;

    for (int d0 = 0; d0 < dims; d0 += TILE) {
        const int d = d0 + tx;
        querySlice[ty][tx] = (stagedQueryRow < queryRows && d < dims)
                ? queries[(long long) stagedQueryRow * dims + d] : 0.0f;
        baseSlice[ty][tx] = (stagedBaseRow < baseRows && d < dims)
                ? base[(long long) stagedBaseRow * dims + d] : 0.0f;
        __syncthreads();

        const int width = minInt(TILE, dims - d0);
        for (int j = 0; j < width; ++j) {
            const float x = querySlice[ty][j];
            const float y = baseSlice[tx][j];
            switch (metric) {
            case METRIC_L2: {
                const float diff = x - y;
                acc += diff * diff;
                break;
            }
            case METRIC_L1:
                acc += fabsf(x - y);
                break;
            case METRIC_COSINE:
                queryNorm2 += x * x;
                baseNorm2 += y * y;
                acc += x * y;
                break;
            default: // METRIC_INNER_PRODUCT
                acc += x * y;
                break;
            }
        }
        __syncthreads();
    }

    if (queryRow < queryRows && baseRow < baseRows) {
        out[(long long) queryRow * baseRows + baseRow] = finishDistance(metric, acc, queryNorm2, baseNorm2);
    }
}

// Per (query, segment) top-k over a distance block from batchedDistances, so that only
// k candidates per segment cross the bus instead of the whole block. One thread per
// (query, segment), a sorted insertion list in registers/local memory: simple and exact,
// and k <= MAX_DEVICE_K keeps it cheap. Rows are scanned in ascending order and ties keep
// the earlier row, matching ranksBefore. Unused slots get row -1.
// Output slot of (q, s, i): ((q * segments) + s) * k + i; rows are tile-relative.
extern "C" __global__ void segmentTopK(const float* __restrict__ distances, int queryRows, int baseRows,
                                       int segmentRows, int segments, int k,
                                       int* __restrict__ outRows, float* __restrict__ outDistances) {
    const int slot = blockIdx.x * blockDim.x + threadIdx.x;
    if (slot >= queryRows * segments) {
        return;
    }
    const int query = slot / segments;
    const int segment = slot - query * segments;
    const int from = segment * segmentRows;
    const int to = minInt(from + segmentRows, baseRows);
    const float* row = distances + (long long) query * baseRows;

    float bestDistance[MAX_DEVICE_K];
    int bestRow[MAX_DEVICE_K];
    int count = 0;

    for (int r = from; r < to; ++r) {
        const float d = row[r];
        if (count == k && !ranksBefore(d, r, bestDistance[k - 1], bestRow[k - 1])) {
            continue;
        }
        int pos = count < k ? count++ : k - 1;
        while (pos > 0 && ranksBefore(d, r, bestDistance[pos - 1], bestRow[pos - 1])) {
            bestDistance[pos] = bestDistance[pos - 1];
            bestRow[pos] = bestRow[pos - 1];
            --pos;
        }
        bestDistance[pos] = d;
        bestRow[pos] = r;
    }

    const long long out = (long long) slot * k;
    for (int i = 0; i < k; ++i) {
        outRows[out + i] = i < count ? bestRow[i] : -1;
        outDistances[out + i] = i < count ? bestDistance[i] : 0.0f;
    }
}

// k-means assignment step: for each row of a vectors x centroid-tile distance block, fold
// the tile's nearest centroid into the running best kept on the device, so assignment over
// many centroid tiles needs no host round trip until the end. columnOffset is the first
// centroid index of this tile; the first tile (offset 0) starts from scratch.
extern "C" __global__ void nearestUpdate(const float* __restrict__ distances, int rows, int columns,
                                         int columnOffset, int* __restrict__ bestColumn,
                                         float* __restrict__ bestDistance) {
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) {
        return;
    }
    int best = -1;
    float bestD = 0.0f;
    if (columnOffset > 0) {
        best = bestColumn[r];
        bestD = bestDistance[r];
    }
    const float* row = distances + (long long) r * columns;
    for (int c = 0; c < columns; ++c) {
        const float d = row[c];
        const int column = columnOffset + c;
        if (best < 0 || ranksBefore(d, column, bestD, best)) {
            best = column;
            bestD = d;
        }
    }
    bestColumn[r] = best;
    bestDistance[r] = bestD;
}
