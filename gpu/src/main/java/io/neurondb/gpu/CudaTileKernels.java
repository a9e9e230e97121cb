package io.neurondb.gpu;

import static io.neurondb.gpu.CudaFailure.checkDriver;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/**
 * {@link TileKernels} on a GPU: device buffers sized by one {@link TilePlan}, allocated when
 * opened and freed on close, so device memory never outlives a call nor exceeds the plan.
 * Must be used with the device's context current (see {@link CudaDevice#inContext}).
 *
 * <p>All work goes to the default stream, and every copy back is a synchronous
 * {@code cuMemcpyDtoH}, which waits for the kernels before it: no explicit synchronisation.
 */
final class CudaTileKernels implements TileKernels {

    /** Threads per block of the one-dimensional kernels (segmentTopK, nearestUpdate). */
    private static final int THREADS_PER_BLOCK = 128;

    private final CudaDevice device;
    private final int dims;
    private final List<CUdeviceptr> allocations = new ArrayList<>();
    private final CUdeviceptr queries;
    private final CUdeviceptr base;
    private final CUdeviceptr distances;
    private final CUdeviceptr candidateRows;
    private final CUdeviceptr candidateDistances;
    private final CUdeviceptr nearestColumn;
    private final CUdeviceptr nearestDistance;
    private int queryRows;
    private int baseRows;

    CudaTileKernels(CudaDevice device, TilePlan plan, int dims) {
        this.device = device;
        this.dims = dims;
        boolean complete = false;
        try {
            queries = allocate((long) plan.queryRows() * dims * Float.BYTES);
            base = allocate((long) plan.baseRows() * dims * Float.BYTES);
            distances = allocate(plan.distanceBlockElements() * Float.BYTES);
            long slots = plan.selectsOnDevice() ? plan.candidateSlots() : 0;
            candidateRows = slots > 0 ? allocate(slots * Integer.BYTES) : null;
            candidateDistances = slots > 0 ? allocate(slots * Float.BYTES) : null;
            nearestColumn = plan.assignment() ? allocate((long) plan.queryRows() * Integer.BYTES) : null;
            nearestDistance = plan.assignment() ? allocate((long) plan.queryRows() * Float.BYTES) : null;
            complete = true;
        } finally {
            if (!complete) {
                close();
            }
        }
    }

    @Override
    public void loadQueries(float[] source, int firstRow, int rows) {
        copyRows(queries, source, firstRow, rows);
        queryRows = rows;
    }

    @Override
    public void loadBase(float[] source, int firstRow, int rows) {
        copyRows(base, source, firstRow, rows);
        baseRows = rows;
    }

    @Override
    public void computeDistances(int kernelMetric) {
        int side = KernelSource.DISTANCE_BLOCK_SIDE;
        Pointer parameters = Pointer.to(
                Pointer.to(queries), Pointer.to(new int[] {queryRows}),
                Pointer.to(base), Pointer.to(new int[] {baseRows}),
                Pointer.to(new int[] {dims}), Pointer.to(new int[] {kernelMetric}),
                Pointer.to(distances));
        launch(device.batchedDistances, blocks(baseRows, side), blocks(queryRows, side), side, side, parameters);
    }

    @Override
    public void selectSegments(int segmentRows, int segments, int k, int[] rowsOut, float[] distancesOut) {
        int threads = queryRows * segments;
        Pointer parameters = Pointer.to(
                Pointer.to(distances), Pointer.to(new int[] {queryRows}), Pointer.to(new int[] {baseRows}),
                Pointer.to(new int[] {segmentRows}), Pointer.to(new int[] {segments}), Pointer.to(new int[] {k}),
                Pointer.to(candidateRows), Pointer.to(candidateDistances));
        launch(device.segmentTopK, blocks(threads, THREADS_PER_BLOCK), 1, THREADS_PER_BLOCK, 1, parameters);
        long slots = (long) threads * k;
        checkDriver(JCudaDriver.cuMemcpyDtoH(Pointer.to(rowsOut), candidateRows, slots * Integer.BYTES),
                "cuMemcpyDtoH(candidate rows)");
        checkDriver(JCudaDriver.cuMemcpyDtoH(Pointer.to(distancesOut), candidateDistances, slots * Float.BYTES),
                "cuMemcpyDtoH(candidate distances)");
    }

    @Override
    public void readDistances(float[] out) {
        checkDriver(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), distances, (long) queryRows * baseRows * Float.BYTES),
                "cuMemcpyDtoH(distances)");
    }

    @Override
    public void foldNearest(int columnOffset) {
        Pointer parameters = Pointer.to(
                Pointer.to(distances), Pointer.to(new int[] {queryRows}), Pointer.to(new int[] {baseRows}),
                Pointer.to(new int[] {columnOffset}), Pointer.to(nearestColumn), Pointer.to(nearestDistance));
        launch(device.nearestUpdate, blocks(queryRows, THREADS_PER_BLOCK), 1, THREADS_PER_BLOCK, 1, parameters);
    }

    @Override
    public void readNearest(int[] out) {
        checkDriver(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), nearestColumn, (long) queryRows * Integer.BYTES),
                "cuMemcpyDtoH(nearest)");
    }

    @Override
    public void close() {
        // Free everything even if one free fails, then report the first failure.
        CudaFailure first = null;
        for (CUdeviceptr allocation : allocations) {
            try {
                checkDriver(JCudaDriver.cuMemFree(allocation), "cuMemFree");
            } catch (CudaFailure e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        allocations.clear();
        if (first != null) {
            throw first;
        }
    }

    private CUdeviceptr allocate(long bytes) {
        CUdeviceptr pointer = new CUdeviceptr();
        checkDriver(JCudaDriver.cuMemAlloc(pointer, Math.max(bytes, 1)), "cuMemAlloc(" + bytes + " bytes)");
        allocations.add(pointer);
        return pointer;
    }

    private void copyRows(CUdeviceptr target, float[] source, int firstRow, int rows) {
        long offset = (long) firstRow * dims * Float.BYTES;
        checkDriver(JCudaDriver.cuMemcpyHtoD(target, Pointer.to(source).withByteOffset(offset),
                (long) rows * dims * Float.BYTES), "cuMemcpyHtoD");
    }

    private static void launch(CUfunction function, int gridX, int gridY, int blockX, int blockY, Pointer parameters) {
        checkDriver(JCudaDriver.cuLaunchKernel(function, gridX, gridY, 1, blockX, blockY, 1, 0, null, parameters, null),
                "cuLaunchKernel");
    }

    private static int blocks(int items, int perBlock) {
        return Math.max(1, (items + perBlock - 1) / perBlock);
    }
}
