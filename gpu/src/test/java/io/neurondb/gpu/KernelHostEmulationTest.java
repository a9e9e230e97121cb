package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.neurondb.engine.Metric;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the actual {@code kernels.cu} — not a transcription — on the host, by compiling it
 * with a C++ compiler against a small CUDA shim (each CUDA thread a coroutine, and
 * {@code __syncthreads} a yield to a round-robin scheduler), and requires bit-for-bit the same output as
 * {@link ReferenceTileKernels}. Together with the reference's own brute-force tests, this
 * checks the device algorithm on machines that have no GPU. Skips where no C++20 compiler
 * is installed.
 */
class KernelHostEmulationTest {

    private static final String[] SHIM_FILES = {"cuda_host_shim.h", "kernel_harness.cpp"};

    @TempDir
    static Path work;

    private static Path harness;
    private static String unavailable;

    /** One problem handed to the harness; see kernel_harness.cpp for the protocol. */
    private record Case(String label, int queryRows, int baseRows, int dims, int metric, int k, int segmentRows,
                        int split, float[] queries, float[] base) {
    }

    @BeforeAll
    static void buildHarness() throws IOException, InterruptedException {
        Optional<Path> compiler = onPath("g++");
        if (compiler.isEmpty()) {
            unavailable = "no g++ on PATH to run kernels.cu on the host";
            return;
        }
        Files.writeString(work.resolve("kernels.cu"), KernelSource.load(), StandardCharsets.UTF_8);
        for (String file : SHIM_FILES) {
            try (InputStream in = KernelHostEmulationTest.class.getResourceAsStream("emulation/" + file)) {
                Files.write(work.resolve(file), in.readAllBytes());
            }
        }
        // A compiler or libc that cannot host the shim (C++20, ucontext): skip. Anything the
        // kernels themselves get wrong must fail, so the shim is probed on its own first.
        Path probe = work.resolve("probe.cpp");
        Files.writeString(probe, "#include \"cuda_host_shim.h\"\nint main() { return 0; }\n");
        Run shimOnly = run(List.of(compiler.get().toString(), "-std=c++20", "-fsyntax-only",
                probe.toString()), null);
        if (shimOnly.exit != 0) {
            unavailable = "g++ cannot compile the CUDA host shim: " + Failures.firstLine(shimOnly.output);
            return;
        }
        Path binary = work.resolve("kernel_harness");
        // -ffp-contract=off: no fused multiply-add, so float results match Java's exactly.
        Run build = run(List.of(compiler.get().toString(), "-std=c++20", "-O1", "-ffp-contract=off",
                "-Wall", "-Wno-unknown-pragmas", "-o", binary.toString(),
                work.resolve("kernel_harness.cpp").toString()), null);
        assertThat(build.exit).as("compiling kernels.cu on the host:%n%s", build.output).isZero();
        harness = binary;
    }

    @Test
    void kernelsComputeExactlyWhatTheJavaReferenceComputes() throws IOException, InterruptedException {
        assumeTrue(harness != null, () -> unavailable);
        List<Case> cases = cases();
        StringBuilder input = new StringBuilder();
        for (Case c : cases) {
            input.append(c.queryRows).append(' ').append(c.baseRows).append(' ').append(c.dims).append(' ')
                    .append(c.metric).append(' ').append(c.k).append(' ').append(c.segmentRows).append(' ')
                    .append(c.split).append('\n');
            appendFloats(input, c.queries);
            appendFloats(input, c.base);
        }
        Run result = run(List.of(harness.toString()), input.toString());
        assertThat(result.exit).as("harness output:%n%s", result.output).isZero();
        String[] lines = result.output.split("\n");
        assertThat(lines).hasSize(4 * cases.size());

        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            int segments = (c.baseRows + c.segmentRows - 1) / c.segmentRows;
            TilePlan plan = new TilePlan(c.queryRows, c.baseRows, c.segmentRows, c.k, true);
            try (ReferenceTileKernels reference = new ReferenceTileKernels(plan, c.dims)) {
                reference.loadQueries(c.queries, 0, c.queryRows);
                reference.loadBase(c.base, 0, c.baseRows);
                reference.computeDistances(c.metric);
                float[] distances = new float[c.queryRows * c.baseRows];
                reference.readDistances(distances);
                assertThat(bits(parseFloats(lines[4 * i]))).as("%s: batchedDistances", c.label)
                        .containsExactly(bits(distances));

                int[] rows = new int[c.queryRows * segments * c.k];
                float[] candidates = new float[rows.length];
                reference.selectSegments(c.segmentRows, segments, c.k, rows, candidates);
                assertThat(parseInts(lines[4 * i + 1])).as("%s: segmentTopK rows", c.label).containsExactly(rows);
                assertThat(bits(parseFloats(lines[4 * i + 2]))).as("%s: segmentTopK distances", c.label)
                        .containsExactly(bits(candidates));

                reference.loadBase(c.base, 0, c.split);
                reference.computeDistances(c.metric);
                reference.foldNearest(0);
                reference.loadBase(c.base, c.split, c.baseRows - c.split);
                reference.computeDistances(c.metric);
                reference.foldNearest(c.split);
                int[] nearest = new int[c.queryRows];
                reference.readNearest(nearest);
                assertThat(parseInts(lines[4 * i + 3])).as("%s: nearestUpdate", c.label).containsExactly(nearest);
            }
        }
    }

    /**
     * Shapes that are not multiples of the 16-wide thread blocks, ties (duplicated rows),
     * zero vectors (cosine's special case), a NaN component (NaN distances rank last) and a
     * k larger than a segment (padded slots).
     */
    private static List<Case> cases() {
        Random random = new Random(2024);
        List<Case> cases = new ArrayList<>();
        for (Metric metric : Metric.values()) {
            int queryRows = 13;
            int baseRows = 45;
            int dims = 21;
            float[] queries = BruteForce.randomMatrix(random, queryRows, dims);
            float[] base = BruteForce.randomMatrix(random, baseRows, dims);
            for (int row : new int[] {7, 30, 44}) {
                System.arraycopy(base, 3 * dims, base, row * dims, dims);
            }
            Arrays.fill(base, 11 * dims, 12 * dims, 0f);
            Arrays.fill(queries, 5 * dims, 6 * dims, 0f);
            base[20 * dims + 4] = Float.NaN;
            cases.add(new Case(metric + " k=4", queryRows, baseRows, dims, KernelMetric.idOf(metric), 4, 10, 17,
                    queries, base));
            cases.add(new Case(metric + " k>segment", queryRows, baseRows, dims, KernelMetric.idOf(metric), 12, 10,
                    32, queries, base));
        }
        return cases;
    }

    private record Run(int exit, String output) {
    }

    private static Run run(List<String> command, String stdin) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Path output = Files.createTempFile(work, "out", ".txt");
        builder.redirectOutput(output.toFile());
        if (stdin != null) {
            Path in = Files.createTempFile(work, "in", ".txt");
            Files.writeString(in, stdin);
            builder.redirectInput(in.toFile());
        }
        Process process = builder.start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Run(process.exitValue(), Files.readString(output));
    }

    private static Optional<Path> onPath(String program) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(dir -> !dir.isBlank())
                .map(dir -> Path.of(dir, program))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private static void appendFloats(StringBuilder out, float[] values) {
        for (float v : values) {
            out.append(Float.toHexString(v)).append(' ');
        }
        out.append('\n');
    }

    private static float[] parseFloats(String line) {
        String[] tokens = line.strip().split("\\s+");
        float[] values = new float[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            values[i] = tokens[i].contains("nan") ? Float.NaN : Float.parseFloat(tokens[i]);
        }
        return values;
    }

    private static int[] parseInts(String line) {
        return Stream.of(line.strip().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    /** Bit patterns, so -0.0 and 0.0 differ and every NaN is the same. */
    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToIntBits(values[i]);
        }
        return bits;
    }
}
