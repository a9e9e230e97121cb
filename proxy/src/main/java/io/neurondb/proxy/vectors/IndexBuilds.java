package io.neurondb.proxy.vectors;

import io.neurondb.engine.VectorEngineException;
import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.engine.hnsw.HnswIndex;
import io.neurondb.engine.hnsw.HnswParams;
import io.neurondb.engine.ivf.IvfIndex;
import io.neurondb.engine.ivf.IvfParams;
import io.neurondb.proxy.route.DistanceOperator;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.IndexMethod;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Index parameters from {@code WITH (...)} options, and the CPU-heavy build itself. */
final class IndexBuilds {

    private IndexBuilds() {
    }

    /** pgvector's operator classes per access method: ivfflat has no L1 class. */
    static DistanceOperator operator(IndexMethod method, String opclass) {
        String name = opclass == null ? DistanceOperator.L2.opclass() : opclass;
        var op = DistanceOperator.fromOpclass(name);
        if (op.isEmpty() || (method == IndexMethod.IVFFLAT && op.get() == DistanceOperator.L1)) {
            throw new VectorSqlException(VectorSqlException.UNDEFINED_OBJECT,
                    "operator class \"" + name + "\" does not exist for access method \"" + method.sqlName() + "\"");
        }
        return op.get();
    }

    /**
     * Checks {@code WITH (...)} as PostgreSQL checks reloptions: known names only, integer
     * values within pgvector's ranges. Returns the given options as integers.
     */
    static Map<String, Integer> parseOptions(IndexMethod method, Map<String, String> given) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : given.entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            int[] range = switch (method) {
                case HNSW -> switch (key) {
                    case "m" -> new int[]{2, 100};
                    case "ef_construction" -> new int[]{4, 1000};
                    default -> null;
                };
                case IVFFLAT -> key.equals("lists") ? new int[]{1, 32768} : null;
            };
            if (range == null) {
                throw new VectorSqlException(VectorSqlException.INVALID_PARAMETER_VALUE, "unrecognized parameter \"" + key + "\"");
            }
            String text = e.getValue() == null ? "" : e.getValue().strip();
            int value;
            try {
                value = Integer.parseInt(text);
            } catch (NumberFormatException ex) {
                throw new VectorSqlException(VectorSqlException.INVALID_PARAMETER_VALUE,
                        "invalid value for integer option \"" + key + "\": " + text);
            }
            if (value < range[0] || value > range[1]) {
                throw new VectorSqlException(VectorSqlException.INVALID_PARAMETER_VALUE,
                        "value " + text + " out of bounds for option \"" + key + "\"",
                        "Valid values are between \"" + range[0] + "\" and \"" + range[1] + "\".", null, null);
            }
            out.put(key, value);
        }
        if (method == IndexMethod.HNSW) {
            hnswParams(out); // ef_construction >= 2 * m
        }
        return out;
    }

    static HnswParams hnswParams(Map<String, Integer> options) {
        try {
            return new HnswParams(options.getOrDefault("m", HnswParams.DEFAULT.m()),
                    options.getOrDefault("ef_construction", HnswParams.DEFAULT.efConstruction()));
        } catch (VectorEngineException e) {
            throw VectorSqlException.from(e);
        }
    }

    static IvfParams ivfParams(Map<String, Integer> options) {
        try {
            return new IvfParams(options.getOrDefault("lists", IvfParams.DEFAULT.lists()));
        } catch (VectorEngineException e) {
            throw VectorSqlException.from(e);
        }
    }

    /**
     * The recall-affecting build settings an index of {@code def} uses, defaults filled in:
     * {@code m} and {@code ef_construction} (HNSW) or {@code lists} (IVF). For metrics and
     * stats, so options that do not make valid parameters are shown as given.
     */
    static Map<String, Integer> settingsInUse(IndexDefinition def) {
        Map<String, Integer> o = def.options();
        return switch (def.method()) {
            case HNSW -> Map.of("m", o.getOrDefault("m", HnswParams.DEFAULT.m()),
                    "ef_construction", o.getOrDefault("ef_construction", HnswParams.DEFAULT.efConstruction()));
            case IVFFLAT -> Map.of("lists", o.getOrDefault("lists", IvfParams.DEFAULT.lists()));
        };
    }

    /** An empty index of {@code def}'s kind. */
    static VectorIndex empty(IndexDefinition def, int dims, ComputeBackend compute) {
        try {
            return switch (def.method()) {
                case HNSW -> new HnswIndex(dims, def.operator().metric(), hnswParams(def.options()));
                case IVFFLAT -> new IvfIndex(dims, def.operator().metric(), ivfParams(def.options()), compute);
            };
        } catch (VectorEngineException e) {
            throw VectorSqlException.from(e);
        }
    }

    /** Builds the index over the loaded rows. Blocking and CPU-heavy: call off the event loop. */
    static VectorIndex build(IndexDefinition def, TableRows rows, ComputeBackend compute, int threads) {
        try {
            VectorIndex index = empty(def, rows.dims(), compute);
            if (rows.count() == 0) {
                return index;
            }
            long[] ids = rows.keys();
            float[] vectors = rows.vectors();
            switch (index) {
                case HnswIndex h -> h.insertAll(ids, vectors, Math.max(1, threads));
                case IvfIndex ivf -> ivf.insertAll(ids, vectors); // trains k-means on the loaded rows
                default -> throw new IllegalStateException("unexpected index type " + index.getClass());
            }
            return index;
        } catch (VectorEngineException e) {
            throw VectorSqlException.from(e);
        }
    }

    static String metricName(DistanceOperator op) {
        return switch (op) {
            case L2 -> "l2";
            case NEGATIVE_INNER_PRODUCT -> "ip";
            case COSINE -> "cosine";
            case L1 -> "l1";
        };
    }
}
