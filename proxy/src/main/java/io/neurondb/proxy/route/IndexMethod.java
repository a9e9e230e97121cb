package io.neurondb.proxy.route;

import java.util.Locale;
import java.util.Optional;

/** The access methods pgvector offers, both served by the engine. */
public enum IndexMethod {
    HNSW, IVFFLAT;

    public String sqlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<IndexMethod> fromSql(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "hnsw" -> Optional.of(HNSW);
            case "ivfflat" -> Optional.of(IVFFLAT);
            default -> Optional.empty();
        };
    }
}
