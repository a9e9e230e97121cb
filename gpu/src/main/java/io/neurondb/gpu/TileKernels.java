package io.neurondb.gpu;

/**
 * The device half of a tiled search: buffers sized by a {@link TilePlan} and the three
 * kernels of {@code kernels.cu}. {@link TiledSearch} drives it; {@link CudaTileKernels} runs
 * it on a GPU and {@link ReferenceTileKernels} runs the same steps in plain Java, which is
 * how the host logic is tested on machines without a device.
 *
 * <p>Rows are dense {@code float[]} matrices of the {@code dims} given when opened. Row
 * numbers handed back are relative to the loaded tile.
 */
interface TileKernels extends AutoCloseable {

    /** Opens kernels with buffers for one plan and one vector width. */
    @FunctionalInterface
    interface Factory {
        TileKernels open(TilePlan plan, int dims);
    }

    /** Makes rows {@code [firstRow, firstRow + rows)} of {@code source} the current queries. */
    void loadQueries(float[] source, int firstRow, int rows);

    /** Makes rows {@code [firstRow, firstRow + rows)} of {@code source} the current base tile. */
    void loadBase(float[] source, int firstRow, int rows);

    /** Fills the distance block: loaded queries x loaded base tile, row-major by query. */
    void computeDistances(int kernelMetric);

    /**
     * Selects the best {@code k} of each {@code segmentRows} base rows for each query from the
     * distance block and copies them out, slot {@code ((q * segments) + s) * k + i}, nearest
     * first within a segment, row -1 for an unused slot.
     */
    void selectSegments(int segmentRows, int segments, int k, int[] rowsOut, float[] distancesOut);

    /** Copies the distance block out, {@code out[q * baseRows + b]}. */
    void readDistances(float[] out);

    /**
     * Folds the distance block into the running nearest base row of each query;
     * {@code columnOffset} is the first base row of the tile, and 0 starts afresh.
     */
    void foldNearest(int columnOffset);

    /** Copies the running nearest base rows of the loaded queries out. */
    void readNearest(int[] out);

    /** Releases the buffers. */
    @Override
    void close();
}
