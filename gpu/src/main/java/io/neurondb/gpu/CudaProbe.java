package io.neurondb.gpu;

/**
 * Looks for CUDA devices without building anything on them. A seam so the fallback policy
 * of {@link GpuSupport} can be tested without a driver.
 */
@FunctionalInterface
interface CudaProbe {

    /** Never throws: every failure, native loading included, comes back as a reason. */
    Result probe();

    /**
     * @param deviceCount devices found; 0 when none or when CUDA is unusable
     * @param problem     why none can be used, or {@code null} when {@code deviceCount > 0}
     */
    record Result(int deviceCount, String problem) {

        static Result found(int deviceCount) {
            return new Result(deviceCount, null);
        }

        static Result none(String problem) {
            return new Result(0, problem);
        }
    }
}
