// Runs the three kernels of kernels.cu on the host (see cuda_host_shim.h) for
// KernelHostEmulationTest. Floats cross in C99 hex notation so nothing is rounded.
//
// stdin, repeated until EOF:
//   queryRows baseRows dims metric k segmentRows split
//   queryRows*dims floats, baseRows*dims floats
// stdout, per case:
//   queryRows*baseRows distances (batchedDistances)
//   queryRows*segments*k candidate rows, then their distances (segmentTopK)
//   queryRows nearest columns (nearestUpdate over columns [0,split) then [split,baseRows))
#include "cuda_host_shim.h"
#include "kernels.cu"

#include <cstdio>
#include <cstdlib>

static float readFloat() {
    char token[64];
    if (std::scanf("%63s", token) != 1) {
        std::exit(2);
    }
    return std::strtof(token, nullptr);
}

static unsigned blocks(int items, int perBlock) {
    return (unsigned) std::max(1, (items + perBlock - 1) / perBlock);
}

int main() {
    int queryRows, baseRows, dims, metric, k, segmentRows, split;
    while (std::scanf("%d %d %d %d %d %d %d", &queryRows, &baseRows, &dims, &metric, &k, &segmentRows, &split) == 7) {
        std::vector<float> queries(queryRows * dims), base(baseRows * dims);
        for (float& x : queries) x = readFloat();
        for (float& x : base) x = readFloat();

        std::vector<float> distances(queryRows * baseRows);
        launch(batchedDistances, dim3{blocks(baseRows, TILE), blocks(queryRows, TILE), 1}, dim3{TILE, TILE, 1},
               queries.data(), queryRows, base.data(), baseRows, dims, metric, distances.data());
        for (float d : distances) std::printf("%a ", d);
        std::printf("\n");

        int segments = (baseRows + segmentRows - 1) / segmentRows;
        std::vector<int> rows(queryRows * segments * k);
        std::vector<float> candidates(queryRows * segments * k);
        launch(segmentTopK, dim3{blocks(queryRows * segments, 128), 1, 1}, dim3{128, 1, 1},
               distances.data(), queryRows, baseRows, segmentRows, segments, k, rows.data(), candidates.data());
        for (int r : rows) std::printf("%d ", r);
        std::printf("\n");
        for (float d : candidates) std::printf("%a ", d);
        std::printf("\n");

        // Two column tiles, each its own distance block, as the host sends them.
        std::vector<int> nearest(queryRows);
        std::vector<float> nearestDistance(queryRows);
        int tileStarts[2] = {0, split};
        int tileEnds[2] = {split, baseRows};
        for (int t = 0; t < 2; ++t) {
            int columns = tileEnds[t] - tileStarts[t];
            std::vector<float> block(queryRows * columns);
            launch(batchedDistances, dim3{blocks(columns, TILE), blocks(queryRows, TILE), 1}, dim3{TILE, TILE, 1},
                   queries.data(), queryRows, base.data() + (size_t) tileStarts[t] * dims, columns, dims, metric,
                   block.data());
            launch(nearestUpdate, dim3{blocks(queryRows, 128), 1, 1}, dim3{128, 1, 1},
                   block.data(), queryRows, columns, tileStarts[t], nearest.data(), nearestDistance.data());
        }
        for (int n : nearest) std::printf("%d ", n);
        std::printf("\n");
        std::fflush(stdout);
    }
    return 0;
}
