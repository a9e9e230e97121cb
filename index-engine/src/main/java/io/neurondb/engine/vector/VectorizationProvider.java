package io.neurondb.engine.vector;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Distance kernels over dense float rows, chosen once per JVM: the Panama Vector API
 * implementation when {@code jdk.incubator.vector} is available and worth using, the scalar
 * one otherwise. {@code -Dneurondb.vectorization=scalar|panama} forces a choice (tests use it
 * to compare both).
 *
 * <p>Every kernel reads {@code len} floats of {@code a} from {@code aOffset} and of {@code b}
 * from {@code bOffset}, so callers can pass rows of a storage block without copying them.
 */
public abstract class VectorizationProvider {

    public static final String PROPERTY = "neurondb.vectorization";

    private static final Logger LOG = LoggerFactory.getLogger(VectorizationProvider.class);

    /** Lazily initialised holder: the choice is made and logged once, on first use. */
    private static final class Holder {
        static final VectorizationProvider INSTANCE = choose(System.getProperty(PROPERTY, "auto"));
    }

    public static VectorizationProvider get() {
        return Holder.INSTANCE;
    }

    /** The scalar provider, always available; used by tests as the reference. */
    public static VectorizationProvider scalar() {
        return ScalarVectorizationProvider.INSTANCE;
    }

    /** The Panama provider, or null with the reason logged when it cannot run here. */
    public static VectorizationProvider panamaOrNull() {
        String why = panamaUnavailableReason();
        if (why != null) {
            LOG.debug("Panama vectorization unavailable: {}", why);
            return null;
        }
        return loadPanama();
    }

    static VectorizationProvider choose(String requested) {
        String req = requested.strip().toLowerCase(Locale.ROOT);
        switch (req) {
            case "scalar" -> {
                LOG.info("Vectorization: scalar (forced by -D{}=scalar)", PROPERTY);
                return scalar();
            }
            case "panama", "auto" -> {
                String why = panamaUnavailableReason();
                if (why == null) {
                    VectorizationProvider p = loadPanama();
                    LOG.info("Vectorization: {} ({})", p.name(),
                            req.equals("auto") ? "auto-detected" : "forced by -D" + PROPERTY + "=panama");
                    return p;
                }
                LOG.warn("Vectorization: scalar fallback because {}", why);
                return scalar();
            }
            default -> {
                LOG.warn("Vectorization: scalar; unknown -D{}={} (expected auto, scalar or panama)",
                        PROPERTY, requested);
                return scalar();
            }
        }
    }

    /** Null when Panama can be used, otherwise a reason fit for a log line. */
    private static String panamaUnavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "module jdk.incubator.vector is not resolved (run the JVM with --add-modules jdk.incubator.vector)";
        }
        try {
            int lanes = (int) Class.forName("io.neurondb.engine.vector.PanamaVectorizationProvider")
                    .getMethod("preferredLanes").invoke(null);
            // Below four float lanes the vector loop costs more than it saves.
            if (lanes < 4) {
                return "the preferred float vector has only " + lanes + " lanes";
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            return "the Vector API failed to load: " + e;
        }
        return null;
    }

    private static VectorizationProvider loadPanama() {
        try {
            // Loaded reflectively so that this class never links against the incubator module
            // when it is absent.
            return (VectorizationProvider) Class.forName("io.neurondb.engine.vector.PanamaVectorizationProvider")
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** e.g. {@code "scalar"} or {@code "panama-256bit"}. */
    public abstract String name();

    /** Sum of a[i] * b[i]. */
    public abstract float dotProduct(float[] a, int aOffset, float[] b, int bOffset, int len);

    /** Sum of (a[i] - b[i])^2. */
    public abstract float squareDistance(float[] a, int aOffset, float[] b, int bOffset, int len);

    /** Sum of |a[i] - b[i]|. */
    public abstract float l1Distance(float[] a, int aOffset, float[] b, int bOffset, int len);

    /**
     * Dot products of {@code q} with four rows, into {@code out[0..3]}. A graph search scores
     * a node's neighbours in groups like this: the four rows are usually far apart in memory,
     * and loading them in one loop lets the CPU fetch them in parallel instead of one after
     * the other. This default just makes four calls.
     */
    public void dotProduct4(float[] q, int qo, float[] b0, int o0, float[] b1, int o1, float[] b2, int o2,
                            float[] b3, int o3, int len, float[] out) {
        out[0] = dotProduct(q, qo, b0, o0, len);
        out[1] = dotProduct(q, qo, b1, o1, len);
        out[2] = dotProduct(q, qo, b2, o2, len);
        out[3] = dotProduct(q, qo, b3, o3, len);
    }

    /** Squared L2 distances of {@code q} to four rows; see {@link #dotProduct4}. */
    public void squareDistance4(float[] q, int qo, float[] b0, int o0, float[] b1, int o1, float[] b2, int o2,
                                float[] b3, int o3, int len, float[] out) {
        out[0] = squareDistance(q, qo, b0, o0, len);
        out[1] = squareDistance(q, qo, b1, o1, len);
        out[2] = squareDistance(q, qo, b2, o2, len);
        out[3] = squareDistance(q, qo, b3, o3, len);
    }
}
