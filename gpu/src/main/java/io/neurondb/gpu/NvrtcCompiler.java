package io.neurondb.gpu;

import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;
import jcuda.nvrtc.nvrtcResult;

/**
 * Compiles CUDA C to PTX with NVRTC. PTX rather than a cubin because the driver JIT-compiles
 * PTX for the actual GPU, including GPUs newer than this NVRTC knows.
 *
 * <p>Loading this class's JCuda counterpart needs {@code libnvrtc} of the CUDA major version
 * JCuda was built for; callers treat any {@link LinkageError} from here as "NVRTC not
 * available".
 */
final class NvrtcCompiler {

    private NvrtcCompiler() {
    }

    /** NVRTC's version as {@code major.minor}; loads the native library, so it doubles as a probe. */
    static String version() {
        int[] major = new int[1];
        int[] minor = new int[1];
        CudaFailure.checkNvrtc(JNvrtc.nvrtcVersion(major, minor), "nvrtcVersion");
        return major[0] + "." + minor[0];
    }

    /** The virtual architectures this NVRTC can target, e.g. {@code [50, 52, ..., 90]}. */
    static int[] supportedArchitectures() {
        int[] count = new int[1];
        CudaFailure.checkNvrtc(JNvrtc.nvrtcGetNumSupportedArchs(count), "nvrtcGetNumSupportedArchs");
        int[] archs = new int[count[0]];
        CudaFailure.checkNvrtc(JNvrtc.nvrtcGetSupportedArchs(archs), "nvrtcGetSupportedArchs");
        return archs;
    }

    /**
     * The newest supported architecture not newer than the device's compute capability
     * ({@code major * 10 + minor}): PTX runs on its own and on later GPUs, not on earlier
     * ones. A device older than every supported architecture gets the oldest, and the
     * module load will then say so.
     */
    static int targetArchitecture(int[] supported, int deviceCapability) {
        if (supported.length == 0) {
            throw new IllegalArgumentException("NVRTC reports no supported architectures");
        }
        int best = -1;
        int oldest = Integer.MAX_VALUE;
        for (int arch : supported) {
            oldest = Math.min(oldest, arch);
            if (arch <= deviceCapability && arch > best) {
                best = arch;
            }
        }
        return best >= 0 ? best : oldest;
    }

    /** PTX of {@code source} for virtual architecture {@code compute_<arch>}. */
    static String compileToPtx(String source, String programName, int arch) {
        nvrtcProgram program = new nvrtcProgram();
        CudaFailure.checkNvrtc(JNvrtc.nvrtcCreateProgram(program, source, programName, 0, null, null),
                "nvrtcCreateProgram");
        try {
            // No --use_fast_math: its approximate sqrt and division would make cosine
            // distances drift from the CPU backend's beyond float rounding.
            String[] options = {"--gpu-architecture=compute_" + arch};
            int compiled = JNvrtc.nvrtcCompileProgram(program, options.length, options);
            if (compiled != nvrtcResult.NVRTC_SUCCESS) {
                throw new CudaFailure("NVRTC could not compile " + programName + " for compute_" + arch + ": "
                        + nvrtcResult.stringFor(compiled) + "\n" + programLog(program));
            }
            String[] ptx = new String[1];
            CudaFailure.checkNvrtc(JNvrtc.nvrtcGetPTX(program, ptx), "nvrtcGetPTX");
            return ptx[0];
        } finally {
            JNvrtc.nvrtcDestroyProgram(program);
        }
    }

    private static String programLog(nvrtcProgram program) {
        String[] log = new String[1];
        int result = JNvrtc.nvrtcGetProgramLog(program, log);
        return result == nvrtcResult.NVRTC_SUCCESS && log[0] != null ? log[0] : "(no compiler log)";
    }
}
