package io.neurondb.proxy.vectors;

import io.neurondb.proxy.route.DistanceOperator;
import io.neurondb.proxy.route.IndexMethod;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** CREATE INDEX options, operator classes and generated names, checked as PostgreSQL / pgvector check them. */
class IndexOptionsTest {

    private static VectorSqlException refused(Runnable r) {
        try {
            r.run();
        } catch (VectorSqlException e) {
            return e;
        }
        throw new AssertionError("expected a VectorSqlException");
    }

    @Test
    void settingsInUseFillInTheDefaults() {
        io.neurondb.proxy.route.TableName t = io.neurondb.proxy.route.TableName.of("public", "items");
        assertThat(IndexBuilds.settingsInUse(new io.neurondb.proxy.route.IndexDefinition("public", "i", t, "e", "id",
                IndexMethod.HNSW, DistanceOperator.L2, Map.of("m", 8)))).isEqualTo(Map.of("m", 8, "ef_construction", 64));
        assertThat(IndexBuilds.settingsInUse(new io.neurondb.proxy.route.IndexDefinition("public", "i", t, "e", "id",
                IndexMethod.HNSW, DistanceOperator.L2, Map.of()))).isEqualTo(Map.of("m", 16, "ef_construction", 64));
        assertThat(IndexBuilds.settingsInUse(new io.neurondb.proxy.route.IndexDefinition("public", "i", t, "e", "id",
                IndexMethod.IVFFLAT, DistanceOperator.COSINE, Map.of()))).isEqualTo(Map.of("lists", 100));
        assertThat(IndexBuilds.settingsInUse(new io.neurondb.proxy.route.IndexDefinition("public", "i", t, "e", "id",
                IndexMethod.IVFFLAT, DistanceOperator.L2, Map.of("lists", 7)))).isEqualTo(Map.of("lists", 7));
    }

    @Test
    void hnswOptionsWithinPgvectorRanges() {
        assertThat(IndexBuilds.parseOptions(IndexMethod.HNSW, Map.of("M", " 8 ", "ef_construction", "100")))
                .isEqualTo(Map.of("m", 8, "ef_construction", 100));
        assertThat(IndexBuilds.parseOptions(IndexMethod.HNSW, Map.of())).isEmpty();
        VectorSqlException low = refused(() -> IndexBuilds.parseOptions(IndexMethod.HNSW, Map.of("m", "1")));
        assertThat(low.sqlState()).isEqualTo("22023");
        assertThat(low.getMessage()).isEqualTo("value 1 out of bounds for option \"m\"");
        assertThat(low.detail()).isEqualTo("Valid values are between \"2\" and \"100\".");
        assertThat(refused(() -> IndexBuilds.parseOptions(IndexMethod.HNSW, Map.of("ef_construction", "1001"))).getMessage())
                .isEqualTo("value 1001 out of bounds for option \"ef_construction\"");
        assertThat(refused(() -> IndexBuilds.parseOptions(IndexMethod.HNSW, Map.of("m", "abc"))).getMessage())
                .isEqualTo("invalid value for integer option \"m\": abc");
        assertThat(refused(() -> IndexBuilds.parseOptions(IndexMethod.HNSW, Map.of("lists", "10"))).getMessage())
                .isEqualTo("unrecognized parameter \"lists\"");
        Map<String, String> both = new LinkedHashMap<>();
        both.put("m", "32");
        both.put("ef_construction", "40");
        VectorSqlException pair = refused(() -> IndexBuilds.parseOptions(IndexMethod.HNSW, both));
        assertThat(pair.sqlState()).isEqualTo("22023");
        assertThat(pair.getMessage()).isEqualTo("ef_construction must be greater than or equal to 2 * m");
    }

    @Test
    void ivfflatOptions() {
        assertThat(IndexBuilds.parseOptions(IndexMethod.IVFFLAT, Map.of("lists", "1000"))).isEqualTo(Map.of("lists", 1000));
        assertThat(refused(() -> IndexBuilds.parseOptions(IndexMethod.IVFFLAT, Map.of("lists", "32769"))).getMessage())
                .isEqualTo("value 32769 out of bounds for option \"lists\"");
        assertThat(refused(() -> IndexBuilds.parseOptions(IndexMethod.IVFFLAT, Map.of("m", "16"))).getMessage())
                .isEqualTo("unrecognized parameter \"m\"");
        assertThat(IndexBuilds.ivfParams(Map.of()).lists()).isEqualTo(100);
        assertThat(IndexBuilds.hnswParams(Map.of()).m()).isEqualTo(16);
        assertThat(IndexBuilds.hnswParams(Map.of()).efConstruction()).isEqualTo(64);
    }

    @Test
    void operatorClassesPerAccessMethod() {
        assertThat(IndexBuilds.operator(IndexMethod.HNSW, null)).isEqualTo(DistanceOperator.L2);
        assertThat(IndexBuilds.operator(IndexMethod.HNSW, "VECTOR_L1_OPS")).isEqualTo(DistanceOperator.L1);
        assertThat(IndexBuilds.operator(IndexMethod.IVFFLAT, "vector_ip_ops")).isEqualTo(DistanceOperator.NEGATIVE_INNER_PRODUCT);
        VectorSqlException l1 = refused(() -> IndexBuilds.operator(IndexMethod.IVFFLAT, "vector_l1_ops"));
        assertThat(l1.sqlState()).isEqualTo("42704");
        assertThat(l1.getMessage()).isEqualTo("operator class \"vector_l1_ops\" does not exist for access method \"ivfflat\"");
        assertThat(refused(() -> IndexBuilds.operator(IndexMethod.HNSW, "int4_ops")).sqlState()).isEqualTo("42704");
        assertThat(IndexBuilds.metricName(DistanceOperator.NEGATIVE_INNER_PRODUCT)).isEqualTo("ip");
    }

    @Test
    void generatedNamesAreClippedLikePostgres() {
        assertThat(VectorDatabase.makeObjectName("items", "embedding", "idx")).isEqualTo("items_embedding_idx");
        assertThat(VectorDatabase.makeObjectName("items", "embedding", "idx12")).isEqualTo("items_embedding_idx12");
        // 40 + 40 bytes: the longer side is clipped first until both fit 63 - "_idx" - "_".
        String name = VectorDatabase.makeObjectName("t".repeat(40), "c".repeat(40), "idx");
        assertThat(name).isEqualTo("t".repeat(29) + "_" + "c".repeat(29) + "_idx");
        assertThat(name.length()).isEqualTo(63);
        String skewed = VectorDatabase.makeObjectName("t".repeat(70), "col", "idx");
        assertThat(skewed).isEqualTo("t".repeat(55) + "_col_idx");
        // Multi-byte characters are never cut in half.
        String multibyte = VectorDatabase.makeObjectName("é".repeat(40), "c", "idx");
        assertThat(multibyte.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(63);
        assertThat(multibyte).isEqualTo("é".repeat(28) + "_c_idx");
    }

    @Test
    void catalogOptionsFromJson() {
        assertThat(CatalogReader.options("i", "{\"m\": 8, \"ef_construction\": \"40\"}")).isEqualTo(Map.of("m", 8, "ef_construction", 40));
        assertThat(CatalogReader.options("i", null)).isEmpty();
        assertThat(CatalogReader.options("i", "{}")).isEmpty();
        assertThat(CatalogReader.options("i", "{\"m\": \"x\", \"lists\": 5}")).isEqualTo(Map.of("lists", 5));
        assertThat(CatalogReader.options("i", "[1]")).isEmpty();
    }

    @Test
    void engineErrorsKeepTheirSqlState() {
        VectorSqlException e = VectorSqlException.from(new io.neurondb.engine.VectorEngineException.InvalidVectorException("expected 3 dimensions, not 2"));
        assertThat(e.sqlState()).isEqualTo("22000");
        assertThat(e.getMessage()).isEqualTo("expected 3 dimensions, not 2");
        assertThat(VectorSqlException.from(new IllegalStateException("boom")).sqlState()).isEqualTo("XX000");
        assertThatThrownBy(() -> {
            throw VectorSqlException.from(new java.util.concurrent.CompletionException(new VectorSqlException("42P01", "x")));
        }).extracting(t -> ((VectorSqlException) t).sqlState()).isEqualTo("42P01");
    }
}
