package io.neurondb.gpu;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * {@link CudaProbe} through JCuda's driver API: the first call loads JCuda's JNI library,
 * which in turn needs the driver's {@code libcuda.so.1}; then {@code cuInit} and
 * {@code cuDeviceGetCount}. On a machine without an NVIDIA driver the first step already
 * fails, with an {@link UnsatisfiedLinkError} that is reported, not thrown.
 *
 * <p>The answer is computed once per JVM: a JNI library that failed to load cannot be
 * loaded again (later attempts only say "Could not initialize class"), so a second probe
 * would only lose the real reason.
 */
final class JCudaProbe implements CudaProbe {

    private static final class Once {
        static final Result RESULT = probeDriver();
    }

    @Override
    public Result probe() {
        return Once.RESULT;
    }

    private static Result probeDriver() {
        int init;
        try {
            init = JCudaDriver.cuInit(0);
        } catch (Throwable t) {
            Failures.rethrowIfFatal(t);
            return Result.none("JCuda native libraries not loadable: " + Failures.describe(t));
        }
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            return Result.none("no CUDA device found (cuInit: CUDA_ERROR_NO_DEVICE)");
        }
        if (init != CUresult.CUDA_SUCCESS) {
            return Result.none("CUDA driver not usable (cuInit: " + CUresult.stringFor(init) + ")");
        }
        int[] count = new int[1];
        int counted;
        try {
            counted = JCudaDriver.cuDeviceGetCount(count);
        } catch (Throwable t) {
            Failures.rethrowIfFatal(t);
            return Result.none("cuDeviceGetCount failed: " + Failures.describe(t));
        }
        if (counted != CUresult.CUDA_SUCCESS) {
            return Result.none("CUDA driver not usable (cuDeviceGetCount: " + CUresult.stringFor(counted) + ")");
        }
        if (count[0] == 0) {
            return Result.none("no CUDA device found (cuDeviceGetCount: 0)");
        }
        return Result.found(count[0]);
    }
}
