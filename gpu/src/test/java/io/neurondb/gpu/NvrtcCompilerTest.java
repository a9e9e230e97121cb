package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import org.junit.jupiter.api.Test;

class NvrtcCompilerTest {

    @Test
    void targetsTheNewestArchitectureTheDeviceCanRun() {
        int[] supported = {50, 52, 60, 70, 75, 80, 86, 89, 90};
        assertThat(NvrtcCompiler.targetArchitecture(supported, 86)).isEqualTo(86);
        assertThat(NvrtcCompiler.targetArchitecture(supported, 87)).isEqualTo(86);
        assertThat(NvrtcCompiler.targetArchitecture(supported, 120)).as("newer GPU runs older PTX").isEqualTo(90);
        assertThat(NvrtcCompiler.targetArchitecture(supported, 35)).as("too old: let the load fail").isEqualTo(50);
    }

    /**
     * Needs the NVRTC library JCuda 12.6 links against (libnvrtc.so.12), which a CUDA
     * toolkit or the CUDA 12 runtime packages provide; no GPU is needed.
     */
    @Test
    void kernelSourceCompilesToPtxWithEveryEntryPoint() {
        String version;
        try {
            version = NvrtcCompiler.version();
        } catch (Throwable t) {
            Failures.rethrowIfFatal(t);
            abort("NVRTC not loadable, so the kernels cannot be compiled here (JCuda 12.6 needs libnvrtc.so.12): "
                    + Failures.describe(t));
            return;
        }
        int arch = NvrtcCompiler.targetArchitecture(NvrtcCompiler.supportedArchitectures(), 75);
        String ptx = NvrtcCompiler.compileToPtx(KernelSource.load(), KernelSource.RESOURCE, arch);
        assertThat(ptx).as("PTX from NVRTC %s for compute_%d", version, arch).contains(".target sm_" + arch);
        for (String entry : KernelSource.ENTRY_POINTS) {
            assertThat(ptx).contains(".entry " + entry + "(");
        }
    }
}
