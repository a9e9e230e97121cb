package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FailuresTest {

    /** Shape of the message JCuda 12.6's LibUtils throws when libcuda.so.1 is missing. */
    private static final String JCUDA_LOADER_MESSAGE = """
            Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
            Operating system name: Linux
            Architecture         : amd64
            ---(start of nested stack traces)---
            Stack trace from the attempt to load the library as a file:
            java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib
            \tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2285)
            Stack trace from the attempt to load the library as a resource:
            java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file or directory
            \tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)
            ---(end of nested stack traces)---
            """;

    @Test
    void pullsTheLinkerComplaintOutOfJCudasLoaderMessage() {
        String reason = Failures.describe(new UnsatisfiedLinkError(JCUDA_LOADER_MESSAGE));
        assertThat(reason).isEqualTo("Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\""
                + " (libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file:"
                + " No such file or directory)");
        assertThat(reason).doesNotContain("\n");
    }

    @Test
    void findsTheComplaintInACauseAfterAFailedClassInit() {
        NoClassDefFoundError again = new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver");
        again.initCause(new ExceptionInInitializerError("Exception java.lang.UnsatisfiedLinkError: "
                + JCUDA_LOADER_MESSAGE));
        assertThat(Failures.describe(again)).startsWith("Could not initialize class jcuda.driver.JCudaDriver (")
                .contains("libcuda.so.1: cannot open shared object file");
    }

    @Test
    void plainFailuresKeepTheirFirstLine() {
        assertThat(Failures.describe(new CudaFailure("cuInit failed: CUDA_ERROR_UNKNOWN\nmore")))
                .isEqualTo("cuInit failed: CUDA_ERROR_UNKNOWN");
        assertThat(Failures.describe(new IllegalStateException())).isEqualTo("java.lang.IllegalStateException");
    }
}
