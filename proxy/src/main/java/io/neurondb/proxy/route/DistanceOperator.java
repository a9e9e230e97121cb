package io.neurondb.proxy.route;

import io.neurondb.engine.Metric;

import java.util.Optional;

/** pgvector's distance operators, their operator classes and the engine metric behind each. */
public enum DistanceOperator {
    L2("<->", "vector_l2_ops", "l2_distance", Metric.L2),
    NEGATIVE_INNER_PRODUCT("<#>", "vector_ip_ops", "inner_product", Metric.INNER_PRODUCT),
    COSINE("<=>", "vector_cosine_ops", "cosine_distance", Metric.COSINE),
    L1("<+>", "vector_l1_ops", "l1_distance", Metric.L1);

    private final String symbol;
    private final String opclass;
    private final String function;
    private final Metric metric;

    DistanceOperator(String symbol, String opclass, String function, Metric metric) {
        this.symbol = symbol;
        this.opclass = opclass;
        this.function = function;
        this.metric = metric;
    }

    public String symbol() {
        return symbol;
    }

    public String opclass() {
        return opclass;
    }

    /** The shim's function for this distance (note: inner_product is not negated, {@code <#>} is). */
    public String function() {
        return function;
    }

    public Metric metric() {
        return metric;
    }

    public static Optional<DistanceOperator> fromSymbol(String symbol) {
        for (DistanceOperator op : values()) {
            if (op.symbol.equals(symbol)) {
                return Optional.of(op);
            }
        }
        return Optional.empty();
    }

    public static Optional<DistanceOperator> fromOpclass(String opclass) {
        for (DistanceOperator op : values()) {
            if (op.opclass.equalsIgnoreCase(opclass)) {
                return Optional.of(op);
            }
        }
        return Optional.empty();
    }
}
