package io.neurondb.gpu;

import jcuda.driver.CUresult;
import jcuda.nvrtc.nvrtcResult;

/**
 * A CUDA driver or NVRTC call that did not succeed. JCuda's own exceptions are switched
 * on by a process-wide flag; checking return codes here instead leaves that flag alone for
 * any other JCuda user in the same JVM.
 */
public final class CudaFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    CudaFailure(String message) {
        super(message);
    }

    CudaFailure(String message, Throwable cause) {
        super(message, cause);
    }

    /** Throws unless {@code result} is {@code CUDA_SUCCESS}. */
    static void checkDriver(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaFailure(call + " failed: " + CUresult.stringFor(result));
        }
    }

    /** Throws unless {@code result} is {@code NVRTC_SUCCESS}. */
    static void checkNvrtc(int result, String call) {
        if (result != nvrtcResult.NVRTC_SUCCESS) {
            throw new CudaFailure(call + " failed: " + nvrtcResult.stringFor(result));
        }
    }
}
