package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where NVRTC cannot be loaded but a CUDA toolkit's {@code nvcc} is installed, compiling
 * the kernel source with it still catches syntax and type errors in device code that no
 * other test here can run. Not a substitute for {@link NvrtcCompilerTest}: nvcc
 * pre-includes the CUDA runtime headers, NVRTC does not.
 */
class NvccKernelCompileTest {

    @TempDir
    Path work;

    @Test
    void kernelSourceCompilesWithNvcc() throws IOException, InterruptedException {
        Optional<Path> nvcc = findNvcc();
        assumeTrue(nvcc.isPresent(), "nvcc not found on PATH or in /usr/local/cuda/bin; skipping device-code compile check");

        Path source = work.resolve("kernels.cu");
        Path ptx = work.resolve("kernels.ptx");
        Files.writeString(source, KernelSource.load(), StandardCharsets.UTF_8);
        Process process = new ProcessBuilder(nvcc.get().toString(), "-ptx", "-arch=compute_75",
                "-o", ptx.toString(), source.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean finished = process.waitFor(120, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        assertThat(finished).as("nvcc finished").isTrue();
        assertThat(process.exitValue()).as("nvcc output:%n%s", output).isZero();
        // Only warnings located in our source count; toolkit notices (deprecated
        // architectures and the like) change with nvcc versions and say nothing about it.
        assertThat(output.lines().filter(line -> line.contains("kernels.cu(") && line.contains("warning")))
                .as("nvcc warnings about kernels.cu").isEmpty();
        String compiled = Files.readString(ptx);
        for (String entry : KernelSource.ENTRY_POINTS) {
            assertThat(compiled).contains(".entry " + entry + "(");
        }
    }

    private static Optional<Path> findNvcc() {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.concat(Stream.of(path.split(File.pathSeparator)), Stream.of("/usr/local/cuda/bin"))
                .filter(dir -> !dir.isBlank())
                .map(dir -> Path.of(dir, "nvcc"))
                .filter(Files::isExecutable)
                .findFirst();
    }
}
