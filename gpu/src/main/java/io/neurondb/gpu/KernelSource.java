package io.neurondb.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The CUDA C source of the distance kernels, shipped as a resource and compiled at run
 * time by NVRTC, so the jar carries no per-architecture binaries and runs on whatever GPU
 * the driver reports. Constants here must agree with the {@code #define}s in the source.
 */
final class KernelSource {

    static final String RESOURCE = "kernels.cu";

    static final String BATCHED_DISTANCES = "batchedDistances";
    static final String SEGMENT_TOP_K = "segmentTopK";
    static final String NEAREST_UPDATE = "nearestUpdate";
    static final List<String> ENTRY_POINTS = List.of(BATCHED_DISTANCES, SEGMENT_TOP_K, NEAREST_UPDATE);

    /** Side of the square thread block of {@code batchedDistances} ({@code TILE}). */
    static final int DISTANCE_BLOCK_SIDE = 16;

    /** Largest k selected on the device ({@code MAX_DEVICE_K}); beyond it the host selects. */
    static final int MAX_DEVICE_K = 64;

    private KernelSource() {
    }

    static String load() {
        try (InputStream in = KernelSource.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("kernel source resource missing: " + RESOURCE);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + RESOURCE, e);
        }
    }
}
