package io.neurondb.proxy.route;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A catalog for the rewriter's tests: public.items (id, name, embedding vector(3), category) with engine indexes. */
final class RewriteFixtures {

    private RewriteFixtures() {
    }

    static final TableName ITEMS = TableName.of("public", "items");

    static VectorCatalog catalog() {
        Map<String, Integer> itemsDims = new LinkedHashMap<>();
        itemsDims.put("embedding", 3);
        VectorCatalog.Table items = new VectorCatalog.Table("public", "items", 1001,
                List.of("id", "name", "embedding", "category"), itemsDims, Map.of("embedding", 3));
        Map<String, Integer> docsDims = new LinkedHashMap<>();
        docsDims.put("Emb", null);
        VectorCatalog.Table docs = new VectorCatalog.Table("app", "Docs", 1002,
                List.of("doc_id", "Emb", "body"), docsDims, Map.of("Emb", 2));
        List<IndexDefinition> indexes = List.of(
                index("items_l2", DistanceOperator.L2),
                index("items_cos", DistanceOperator.COSINE),
                index("items_l1", DistanceOperator.L1));
        return new VectorCatalog(7, List.of(items, docs), indexes);
    }

    private static IndexDefinition index(String name, DistanceOperator op) {
        return new IndexDefinition("public", name, ITEMS, "embedding", "id", IndexMethod.HNSW, op, Map.of("m", 16));
    }
}
