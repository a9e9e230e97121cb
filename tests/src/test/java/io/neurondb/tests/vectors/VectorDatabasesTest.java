package io.neurondb.tests.vectors;

import io.neurondb.engine.SearchResult;
import io.neurondb.engine.compute.CpuComputeBackend;
import io.neurondb.proxy.config.UpstreamUrl;
import io.neurondb.proxy.route.DistanceOperator;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.IndexMethod;
import io.neurondb.proxy.route.ProxyCommand;
import io.neurondb.proxy.route.TableName;
import io.neurondb.proxy.route.VectorCatalog;
import io.neurondb.proxy.vectors.IndexState;
import io.neurondb.proxy.vectors.IndexStatus;
import io.neurondb.proxy.vectors.PreparedIndex;
import io.neurondb.proxy.vectors.ServedIndex;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.proxy.vectors.VectorDatabases;
import io.neurondb.proxy.vectors.VectorSqlException;
import io.neurondb.tests.support.TestPostgres;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleBiFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The engine side of the databases behind the proxy, against a real PostgreSQL: catalog
 * reading, index builds from tables, CREATE INDEX validation, serving, staleness after writes,
 * REINDEX, and builds that keep the event loop free.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class VectorDatabasesTest {

    private Vertx vertx;
    private VectorDatabases databases;
    private UpstreamUrl upstream;

    @BeforeAll
    void start() {
        var pg = TestPostgres.shared();
        vertx = Vertx.vertx();
        upstream = new UpstreamUrl(pg.host(), pg.port(), null, TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
        databases = new VectorDatabases(vertx, upstream, new CpuComputeBackend(), 2, Duration.ofMillis(100));
    }

    @AfterAll
    void stop() throws Exception {
        databases.closeAsync().await(10, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private VectorDatabase open(VectorTestDatabase db) throws Exception {
        return databases.open(db.name).await(30, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.await(60, TimeUnit.SECONDS);
    }

    private static VectorSqlException failure(Future<?> f) throws Exception {
        Throwable t = f.transform(ar -> Future.succeededFuture(ar.cause())).await(60, TimeUnit.SECONDS);
        assertThat(t).as("expected a failure").isInstanceOf(VectorSqlException.class);
        return (VectorSqlException) t;
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    private static void awaitState(VectorDatabase db, String index, IndexState state) throws InterruptedException {
        eventually(index + " " + state.sqlName(), () -> db.state("public", index).orElse(null) == state);
    }

    private static IndexDefinition def(VectorDatabase db, String index) {
        return db.catalog().index(new TableName("public", index)).orElseThrow(() -> new AssertionError("no index " + index));
    }

    private static ProxyCommand.CreateVectorIndex create(String name, String table, String column, IndexMethod method, String opclass,
                                                         Map<String, String> options) {
        return new ProxyCommand.CreateVectorIndex(name, false, TableName.of(null, table), column, method, opclass, options);
    }

    private static float[] randomVector(Random r, int dims) {
        float[] v = new float[dims];
        for (int i = 0; i < dims; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }

    private static List<Long> ids(SearchResult r) {
        List<Long> out = new ArrayList<>();
        for (long id : r.rowIds()) {
            out.add(id);
        }
        return out;
    }

    // ------------------------------------------------------------------ open and build

    @Test
    void openBuildsEveryListedIndexAndSearchMatchesAnExactScan() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("listed", true);
        pg.vectorTable("items", "bigint", 8, 600);
        pg.catalogIndex("items_l2", "items", "hnsw", "vector_l2_ops", "{\"m\": 8, \"ef_construction\": \"40\"}");
        pg.catalogIndex("items_ip", "items", "hnsw", "vector_ip_ops", "{}");
        pg.catalogIndex("items_cos", "items", "ivfflat", "vector_cosine_ops", "{\"lists\": 10}");
        pg.catalogIndex("items_l1", "items", "hnsw", "vector_l1_ops", "{}");

        // Sessions on several event loops open it at once: one instance.
        List<Future<VectorDatabase>> racing = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Promise<VectorDatabase> p = Promise.promise();
            racing.add(p.future());
            vertx.getOrCreateContext().runOnContext(v -> databases.open(pg.name).onComplete(p));
        }
        VectorDatabase db = open(pg);
        for (Future<VectorDatabase> f : racing) {
            assertThat(f.await(30, TimeUnit.SECONDS)).isSameAs(db);
        }

        VectorCatalog catalog = db.catalog();
        VectorCatalog.Table items = catalog.table(TableName.of(null, "items")).orElseThrow();
        assertThat(items.columns()).containsExactly("id", "embedding", "note", "amount");
        assertThat(items.vectorDims()).containsEntry("embedding", 8);
        assertThat(items.vectorAttnums()).containsEntry("embedding", 2);
        assertThat(catalog.indexes()).extracting(IndexDefinition::name).containsExactlyInAnyOrder("items_l2", "items_ip", "items_cos", "items_l1");
        IndexDefinition l2 = def(db, "items_l2");
        assertThat(l2.options()).isEqualTo(Map.of("m", 8, "ef_construction", 40));
        assertThat(l2.keyColumn()).isEqualTo("id");
        assertThat(l2.table()).isEqualTo(new TableName("public", "items"));

        for (String name : List.of("items_l2", "items_ip", "items_cos", "items_l1")) {
            awaitState(db, name, IndexState.READY);
        }
        Map<Long, float[]> rows = pg.rows("items");
        Random random = new Random(3);
        Map<String, ToDoubleBiFunction<float[], float[]>> distances = Map.of(
                "items_l2", VectorTestDatabase::l2, "items_ip", VectorTestDatabase::negativeInnerProduct,
                "items_cos", VectorTestDatabase::cosine, "items_l1", VectorTestDatabase::l1);
        for (var e : distances.entrySet()) {
            ServedIndex served = db.served(def(db, e.getKey())).orElseThrow();
            assertThat(served.keyTypeOid()).isEqualTo(20);
            for (int q = 0; q < 10; q++) {
                float[] query = randomVector(random, 8);
                // ef_search 400 over 600 rows and probes = lists: the search is exhaustive.
                SearchResult r = served.search(query, 10, 400, 10);
                assertThat(ids(r)).as(e.getKey()).isEqualTo(VectorTestDatabase.exact(rows, query, 10, e.getValue()));
                long first = r.rowIds()[0];
                assertThat((double) r.distances()[0]).isCloseTo(e.getValue().applyAsDouble(rows.get(first), query),
                        org.assertj.core.data.Offset.offset(1e-4));
            }
        }

        List<IndexStatus> stats = db.stats();
        assertThat(stats).extracting(IndexStatus::indexName).containsExactly("items_cos", "items_ip", "items_l1", "items_l2");
        IndexStatus cos = stats.getFirst();
        assertThat(cos.tableName()).isEqualTo("public.items");
        assertThat(cos.columnName()).isEqualTo("embedding");
        assertThat(cos.method()).isEqualTo("ivfflat");
        assertThat(cos.metric()).isEqualTo("cosine");
        assertThat(cos.dims()).isEqualTo(8);
        assertThat(cos.rows()).isEqualTo(600);
        assertThat(cos.memoryBytes()).isGreaterThan(600L * 8 * 4);
        assertThat(cos.buildSeconds()).isPositive();
        assertThat(cos.state()).isEqualTo(IndexState.READY);
        assertThat(stats).extracting(IndexStatus::metric).containsExactly("cosine", "ip", "l1", "l2");
    }

    @Test
    void catalogRowsOfADroppedTableAreIgnored() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("dropped", true);
        pg.vectorTable("kept", "integer", 4, 20);
        pg.vectorTable("gone", "integer", 4, 20);
        pg.catalogIndex("kept_idx", "kept", "hnsw", "vector_l2_ops", "{}");
        pg.catalogIndex("gone_idx", "gone", "hnsw", "vector_l2_ops", "{}");
        pg.exec("DROP TABLE gone");

        VectorDatabase db = open(pg);
        assertThat(db.catalog().tables()).extracting(VectorCatalog.Table::name).containsExactly("kept");
        assertThat(db.catalog().indexes()).extracting(IndexDefinition::name).containsExactly("kept_idx");
        awaitState(db, "kept_idx", IndexState.READY);
        assertThat(db.served(def(db, "kept_idx")).orElseThrow().keyTypeOid()).isEqualTo(23);
        assertThat(db.stats()).hasSize(1);
    }

    @Test
    void aDatabaseWithoutTheCatalogHasAnEmptyOne() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("nocatalog", false);
        VectorDatabase db = open(pg);
        assertThat(db.catalog().isEmpty()).isTrue();
        assertThat(db.stats()).isEmpty();
        assertThat(await(db.refreshCatalog()).version()).isGreaterThan(db.catalog().version() - 1);
        // A table there is no vector column of.
        pg.exec("CREATE TABLE plain (id int PRIMARY KEY, embedding real[])");
        VectorSqlException e = failure(db.prepareIndex(create(null, "plain", "embedding", IndexMethod.HNSW, null, Map.of())));
        assertThat(e.sqlState()).isEqualTo("42804");
        assertThat(e.getMessage()).isEqualTo("operator class \"vector_l2_ops\" does not accept data type real[]");
    }

    // ------------------------------------------------------------------ CREATE INDEX

    @Test
    void prepareIndexRefusesWhatPostgresWould() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("errors", true);
        pg.vectorTable("items", "bigint", 4, 10);
        pg.exec("CREATE TABLE nokey (id bigint, embedding real[])",
                "INSERT INTO neurondb.vector_columns VALUES ('nokey', 'embedding', 4)",
                "CREATE TABLE textkey (id text PRIMARY KEY, embedding real[])",
                "INSERT INTO neurondb.vector_columns VALUES ('textkey', 'embedding', 4)",
                "CREATE TABLE twokeys (a int, b int, embedding real[], PRIMARY KEY (a, b))",
                "INSERT INTO neurondb.vector_columns VALUES ('twokeys', 'embedding', 4)",
                "CREATE TABLE taken (x int)",
                "CREATE VIEW items_view AS SELECT * FROM items");
        VectorDatabase db = open(pg);

        record Case(ProxyCommand.CreateVectorIndex cmd, String state, String message) {
        }
        List<Case> cases = List.of(
                new Case(create(null, "missing", "embedding", IndexMethod.HNSW, null, Map.of()), "42P01", "relation \"missing\" does not exist"),
                new Case(new ProxyCommand.CreateVectorIndex(null, false, TableName.of("nope", "items"), "embedding", IndexMethod.HNSW, null, Map.of()),
                        "42P01", "relation \"nope.items\" does not exist"),
                new Case(create(null, "items", "nothere", IndexMethod.HNSW, null, Map.of()), "42703", "column \"nothere\" does not exist"),
                new Case(create(null, "items", "amount", IndexMethod.HNSW, "vector_l2_ops", Map.of()), "42804",
                        "operator class \"vector_l2_ops\" does not accept data type integer"),
                new Case(create(null, "items", "note", IndexMethod.IVFFLAT, "vector_cosine_ops", Map.of()), "42804",
                        "operator class \"vector_cosine_ops\" does not accept data type text"),
                new Case(create(null, "items", "embedding", IndexMethod.IVFFLAT, "vector_l1_ops", Map.of()), "42704",
                        "operator class \"vector_l1_ops\" does not exist for access method \"ivfflat\""),
                new Case(create(null, "items", "embedding", IndexMethod.HNSW, "vector_foo_ops", Map.of()), "42704",
                        "operator class \"vector_foo_ops\" does not exist for access method \"hnsw\""),
                new Case(create("taken", "items", "embedding", IndexMethod.HNSW, null, Map.of()), "42P07", "relation \"taken\" already exists"),
                new Case(create("items_pkey", "items", "embedding", IndexMethod.HNSW, null, Map.of()), "42P07", "relation \"items_pkey\" already exists"),
                new Case(create(null, "items", "embedding", IndexMethod.HNSW, null, Map.of("lists", "3")), "22023", "unrecognized parameter \"lists\""),
                new Case(create(null, "items", "embedding", IndexMethod.HNSW, null, Map.of("m", "1")), "22023", "value 1 out of bounds for option \"m\""),
                new Case(create(null, "items", "embedding", IndexMethod.HNSW, null, Map.of("m", "x")), "22023", "invalid value for integer option \"m\": x"),
                new Case(create(null, "items", "embedding", IndexMethod.HNSW, null, Map.of("m", "40", "ef_construction", "50")), "22023",
                        "ef_construction must be greater than or equal to 2 * m"),
                new Case(create(null, "items", "embedding", IndexMethod.IVFFLAT, null, Map.of("lists", "0")), "22023",
                        "value 0 out of bounds for option \"lists\""),
                new Case(create(null, "items_view", "embedding", IndexMethod.HNSW, null, Map.of()), "42809",
                        "cannot create index on relation \"items_view\""));
        for (Case c : cases) {
            VectorSqlException e = failure(db.prepareIndex(c.cmd()));
            assertThat(e.sqlState()).as(c.message()).isEqualTo(c.state());
            assertThat(e.getMessage()).isEqualTo(c.message());
        }
        for (String table : List.of("nokey", "textkey", "twokeys")) {
            VectorSqlException e = failure(db.prepareIndex(create(null, table, "embedding", IndexMethod.HNSW, null, Map.of())));
            assertThat(e.sqlState()).as(table).isEqualTo("0A000");
            assertThat(e.getMessage()).contains("NeuronDB indexes need a single-column integer primary key").contains(table);
        }

        // IF NOT EXISTS on a used name: nothing built, the caller sends the NOTICE.
        PreparedIndex skipped = await(db.prepareIndex(new ProxyCommand.CreateVectorIndex("taken", true, TableName.of(null, "items"),
                "embedding", IndexMethod.HNSW, null, Map.of())));
        assertThat(skipped.alreadyExists()).isTrue();
        assertThat(skipped.index()).isNull();
        assertThat(skipped.skipNotice()).isEqualTo("relation \"taken\" already exists, skipping");

        // A name an engine index holds.
        PreparedIndex first = await(db.prepareIndex(create("items_hnsw", "items", "embedding", IndexMethod.HNSW, null, Map.of())));
        VectorSqlException whilePrepared = failure(db.prepareIndex(create("items_hnsw", "items", "embedding", IndexMethod.HNSW, null, Map.of())));
        assertThat(whilePrepared.sqlState()).isEqualTo("42P07");
        db.register(first);
        VectorSqlException afterRegister = failure(db.prepareIndex(create("items_hnsw", "items", "embedding", IndexMethod.IVFFLAT, null, Map.of())));
        assertThat(afterRegister.sqlState()).isEqualTo("42P07");
        assertThat(afterRegister.getMessage()).isEqualTo("relation \"items_hnsw\" already exists");

        // A zero vector under cosine: the engine's error, pgvector's SQLSTATE.
        pg.exec("INSERT INTO items VALUES (100, '{0,0,0,0}')");
        VectorSqlException zero = failure(db.prepareIndex(create(null, "items", "embedding", IndexMethod.HNSW, "vector_cosine_ops", Map.of())));
        assertThat(zero.sqlState()).isEqualTo("22000");
        assertThat(zero.getMessage()).contains("zero vector");
        // The failed build released its name.
        PreparedIndex again = await(db.prepareIndex(create(null, "items", "embedding", IndexMethod.HNSW, "vector_l2_ops", Map.of())));
        assertThat(again.def().name()).isEqualTo("items_embedding_idx");
        db.discard(again);
    }

    @Test
    void generatedNamesAreWhatPostgresWouldChoose() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("names", true);
        pg.vectorTable("items", "smallint", 4, 30);
        pg.exec("CREATE TABLE items_embedding_idx1 (x int)");
        VectorDatabase db = open(pg);

        PreparedIndex a = await(db.prepareIndex(create(null, "items", "embedding", IndexMethod.HNSW, null, Map.of())));
        assertThat(a.def().name()).isEqualTo("items_embedding_idx");
        assertThat(a.def().schema()).isEqualTo("public");
        assertThat(a.def().keyColumn()).isEqualTo("id");
        assertThat(a.keyTypeOid()).isEqualTo(21);
        assertThat(a.rows()).isEqualTo(30);
        // Prepared but not registered: the name is reserved meanwhile.
        PreparedIndex b = await(db.prepareIndex(create(null, "items", "embedding", IndexMethod.IVFFLAT, "vector_ip_ops", Map.of("lists", "4"))));
        assertThat(b.def().name()).isEqualTo("items_embedding_idx2");
        db.register(a);
        db.discard(b);
        PreparedIndex c = await(db.prepareIndex(create(null, "items", "embedding", IndexMethod.IVFFLAT, "vector_ip_ops", Map.of("lists", "4"))));
        assertThat(c.def().name()).isEqualTo("items_embedding_idx2");
        assertThat(c.def().options()).isEqualTo(Map.of("lists", 4));
        assertThat(c.def().operator()).isEqualTo(DistanceOperator.NEGATIVE_INNER_PRODUCT);
        db.discard(c);

        // Long names are clipped the way PostgreSQL clips them (63 bytes).
        String longTable = "t".repeat(40);
        String longColumn = "c".repeat(40);
        pg.exec("CREATE TABLE " + longTable + " (id int PRIMARY KEY, " + longColumn + " real[])",
                "INSERT INTO neurondb.vector_columns VALUES ('" + longTable + "', '" + longColumn + "', 2)");
        PreparedIndex d = await(db.prepareIndex(create(null, longTable, longColumn, IndexMethod.HNSW, null, Map.of())));
        String expected;
        try (var conn = pg.connect(); var s = conn.createStatement()) {
            s.execute("CREATE INDEX ON " + longTable + " (" + longColumn + ")");
            try (var rs = s.executeQuery("SELECT indexname FROM pg_indexes WHERE tablename = '" + longTable + "' AND indexname NOT LIKE '%pkey'")) {
                rs.next();
                expected = rs.getString(1);
            }
        }
        assertThat(d.def().name()).isEqualTo(expected);
        db.discard(d);
    }

    @Test
    void registerServesAndDropForgets() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("register", true);
        pg.vectorTable("items", "integer", 16, 300);
        VectorDatabase db = open(pg);
        long before = db.catalog().version();

        PreparedIndex p = await(db.prepareIndex(create("items_idx", "items", "embedding", IndexMethod.HNSW, "vector_l2_ops",
                Map.of("m", "12", "ef_construction", "48"))));
        assertThat(p.rows()).isEqualTo(300);
        assertThat(p.index().size()).isEqualTo(300);
        assertThat(p.buildSeconds()).isPositive();
        assertThat(db.served(p.def())).isEmpty();
        assertThat(db.catalog().index(TableName.of(null, "items_idx"))).isEmpty();

        pg.exec("INSERT INTO neurondb.indexes (schema_name, index_name, table_name, column_name, key_column, method, opclass, options) "
                + "VALUES ('public', 'items_idx', 'items', 'embedding', 'id', 'hnsw', 'vector_l2_ops', '{\"m\": 12, \"ef_construction\": 48}')");
        db.register(p);
        assertThat(db.catalog().version()).isGreaterThan(before);
        assertThat(db.catalog().index(TableName.of(null, "items_idx"))).contains(p.def());
        ServedIndex served = db.served(p.def()).orElseThrow();
        assertThat(served.keyTypeOid()).isEqualTo(23);
        assertThat(served.definition()).isEqualTo(p.def());
        Map<Long, float[]> rows = pg.rows("items");
        float[] q = rows.get(17L);
        SearchResult r = served.search(q, 5, 100, 1);
        assertThat(r.rowIds()[0]).isEqualTo(17L);
        assertThat(r.distances()[0]).isEqualTo(0f);
        assertThat(ids(r)).isEqualTo(VectorTestDatabase.exact(rows, q, 5, VectorTestDatabase::l2));
        VectorSqlException dims = (VectorSqlException) org.assertj.core.api.Assertions.catchThrowable(() -> served.search(new float[3], 5, 40, 1));
        assertThat(dims.sqlState()).isEqualTo("22000");
        assertThat(dims.getMessage()).isEqualTo("expected 16 dimensions, not 3");
        assertThatThrownBy(() -> served.search(q, 0, 40, 1)).isInstanceOf(VectorSqlException.class)
                .extracting(t -> ((VectorSqlException) t).sqlState()).isEqualTo("22023");

        // A refresh keeps it (the catalog row is there) and does not rebuild it.
        await(db.refreshCatalog());
        assertThat(db.state("public", "items_idx")).contains(IndexState.READY);
        assertThat(db.served(p.def())).isPresent();

        pg.exec("DELETE FROM neurondb.indexes WHERE index_name = 'items_idx'");
        db.drop(p.def());
        assertThat(db.served(p.def())).isEmpty();
        assertThat(db.catalog().index(TableName.of(null, "items_idx"))).isEmpty();
        assertThat(db.stats()).isEmpty();
        // The name is free again.
        PreparedIndex again = await(db.prepareIndex(create("items_idx", "items", "embedding", IndexMethod.HNSW, null, Map.of())));
        db.discard(again);
    }

    @Test
    void refreshCatalogReconcilesTheEngine() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("reconcile", true);
        pg.vectorTable("items", "bigint", 4, 50);
        VectorDatabase db = open(pg);
        assertThat(db.stats()).isEmpty();

        pg.catalogIndex("added", "items", "ivfflat", "vector_l2_ops", "{\"lists\": 3}");
        VectorCatalog c = await(db.refreshCatalog());
        assertThat(c.indexes()).extracting(IndexDefinition::name).containsExactly("added");
        assertThat(db.catalog()).isSameAs(c);
        awaitState(db, "added", IndexState.READY);
        assertThat(db.served(def(db, "added")).orElseThrow().size()).isEqualTo(50);

        pg.exec("DELETE FROM neurondb.indexes");
        long version = db.catalog().version();
        VectorCatalog after = await(db.refreshCatalog());
        assertThat(after.version()).isGreaterThan(version);
        assertThat(after.indexes()).isEmpty();
        assertThat(db.stats()).isEmpty();
    }

    // ------------------------------------------------------------------ writes, REINDEX

    @Test
    void writesMakeIndexesStaleUntilTheBackgroundRebuildCatchesUp() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("stale", true);
        pg.vectorTable("items", "bigint", 4, 200);
        pg.catalogIndex("items_idx", "items", "hnsw", "vector_l2_ops", "{}");
        VectorDatabase db = open(pg);
        awaitState(db, "items_idx", IndexState.READY);
        IndexDefinition d = def(db, "items_idx");
        float[] far = {50, 50, 50, 50};

        pg.exec("INSERT INTO items VALUES (1001, '{50,50,50,50}')");
        db.tablesChanged(List.of(TableName.of(null, "items")));
        assertThat(db.state("public", "items_idx")).contains(IndexState.STALE);
        assertThat(db.served(d)).isEmpty();
        awaitState(db, "items_idx", IndexState.READY);
        assertThat(db.served(d).orElseThrow().search(far, 1, 40, 1).rowIds()).containsExactly(1001L);

        // A burst of writes, and a write while the rebuild runs: it ends ready with every row.
        for (int i = 0; i < 20; i++) {
            pg.exec("INSERT INTO items VALUES (" + (2000 + i) + ", '{60,60,60," + (60 + i) + "}')");
            db.tablesChanged(List.of(TableName.of("public", "items")));
        }
        Thread.sleep(150); // past the debounce: a rebuild is running or done
        pg.exec("INSERT INTO items VALUES (3000, '{-70,-70,-70,-70}')");
        db.tablesChanged(List.of(TableName.of(null, "items")));
        assertThat(db.served(d)).isEmpty();
        awaitState(db, "items_idx", IndexState.READY);
        ServedIndex s = db.served(d).orElseThrow();
        assertThat(s.size()).isEqualTo(222);
        assertThat(s.search(new float[]{-70, -70, -70, -70}, 1, 40, 1).rowIds()).containsExactly(3000L);
        assertThat(s.search(new float[]{60, 60, 60, 79}, 1, 40, 1).rowIds()).containsExactly(2019L);

        // Other tables' writes leave it alone.
        db.tablesChanged(List.of(TableName.of(null, "other")));
        assertThat(db.state("public", "items_idx")).contains(IndexState.READY);

        // TRUNCATE empties it and it stays served.
        pg.exec("TRUNCATE items");
        db.tablesTruncated(List.of(TableName.of(null, "items")));
        ServedIndex empty = db.served(d).orElseThrow();
        assertThat(empty.size()).isZero();
        assertThat(empty.search(far, 3, 40, 1).size()).isZero();
    }

    @Test
    void reindexRebuildsWhileTheOldIndexKeepsServing() throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("reindex", true);
        pg.vectorTable("items", "bigint", 32, 3000);
        pg.catalogIndex("items_idx", "items", "hnsw", "vector_cosine_ops", "{}");
        VectorDatabase db = open(pg);
        awaitState(db, "items_idx", IndexState.READY);
        IndexDefinition d = def(db, "items_idx");
        assertThat(db.served(d).orElseThrow().size()).isEqualTo(3000);

        // Rows written behind the proxy's back: REINDEX picks them up.
        pg.exec("INSERT INTO items SELECT i, ARRAY(SELECT 1::real FROM generate_series(1, 32) WHERE i > 0) FROM generate_series(5001, 5010) i");
        Future<Void> rebuilt = db.rebuild(d);
        assertThat(db.state("public", "items_idx")).contains(IndexState.BUILDING);
        assertThat(db.served(d)).as("the old index serves during REINDEX").map(ServedIndex::size).contains(3000);
        await(rebuilt);
        assertThat(db.state("public", "items_idx")).contains(IndexState.READY);
        assertThat(db.served(d).orElseThrow().size()).isEqualTo(3010);

        // A build that fails (here a zero vector under cosine) leaves the index failed, with the message.
        pg.exec("INSERT INTO items VALUES (9999, ARRAY(SELECT 0::real FROM generate_series(1, 32)))");
        VectorSqlException e = failure(db.rebuild(d));
        assertThat(e.sqlState()).isEqualTo("22000");
        IndexStatus st = db.stats().getFirst();
        assertThat(st.state()).isEqualTo(IndexState.FAILED);
        assertThat(st.error()).contains("zero vector");
        assertThat(db.served(d)).isEmpty();

        // REINDEX of an index the engine does not hold.
        IndexDefinition unknown = new IndexDefinition("public", "nope", d.table(), d.column(), d.keyColumn(), d.method(), d.operator(), Map.of());
        assertThat(failure(db.rebuild(unknown)).sqlState()).isEqualTo("42704");
    }

    // ------------------------------------------------------------------ event loop

    @Test
    void buildingALargeIndexDoesNotBlockTheEventLoop() throws Exception {

        // As deployed: an HNSW build uses one core fewer than the machine has, so event loops keep one.
        int buildThreads = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        VectorDatabases databases = new VectorDatabases(vertx, upstream, new CpuComputeBackend(), buildThreads);
        try {
            measureEventLoopWhileBuilding(databases);
        } finally {
            databases.closeAsync().await(10, TimeUnit.SECONDS);
        }
    }

    private void measureEventLoopWhileBuilding(VectorDatabases databases) throws Exception {
        VectorTestDatabase pg = VectorTestDatabase.create("large", true);
        pg.vectorTable("big", "bigint", 64, 20_000);
        pg.catalogIndex("big_idx", "big", "hnsw", "vector_l2_ops", "{}");
        Context context = vertx.getOrCreateContext();
        // Warm up on that event loop first (class loading and JIT of the client and this code),
        // so what is measured is the build, not the JVM's first use of the pg client.
        VectorTestDatabase warm = VectorTestDatabase.create("large_warmup", true);
        warm.vectorTable("small", "bigint", 64, 500);
        warm.catalogIndex("small_idx", "small", "hnsw", "vector_l2_ops", "{}");
        Promise<VectorDatabase> warmed = Promise.promise();
        context.runOnContext(v -> databases.open(warm.name).onComplete(warmed));
        awaitState(warmed.future().await(60, TimeUnit.SECONDS), "small_idx", IndexState.READY);

        List<String> longGaps = new ArrayList<>();
        long t0 = System.nanoTime();
        AtomicLong maxGapNanos = new AtomicLong();
        AtomicLong last = new AtomicLong();
        Promise<VectorDatabase> opened = Promise.promise();
        long[] timer = new long[1];
        context.runOnContext(v -> {
            last.set(System.nanoTime());
            timer[0] = vertx.setPeriodic(5, id -> {
                long now = System.nanoTime();
                long gap = now - last.getAndSet(now);
                maxGapNanos.accumulateAndGet(gap, Math::max);
                if (gap > TimeUnit.MILLISECONDS.toNanos(50)) {
                    synchronized (longGaps) {
                        longGaps.add(TimeUnit.NANOSECONDS.toMillis(gap) + " ms ending at +" + TimeUnit.NANOSECONDS.toMillis(now - t0) + " ms");
                    }
                }
            });
            // Open from the same event loop the timer runs on: the pool's connection, the row
            // stream and the completions all run there.
            databases.open(pg.name).onComplete(opened);
        });
        VectorDatabase db = opened.future().await(60, TimeUnit.SECONDS);
        long openedAt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        awaitState(db, "big_idx", IndexState.READY);
        long readyAt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        // A CREATE INDEX of the same size, from the event loop too.
        Promise<PreparedIndex> prepared = Promise.promise();
        context.runOnContext(v -> db.prepareIndex(create(null, "big", "embedding", IndexMethod.IVFFLAT, null, Map.of("lists", "50")))
                .onComplete(prepared));
        PreparedIndex p = prepared.future().await(120, TimeUnit.SECONDS);
        vertx.cancelTimer(timer[0]);
        long preparedAt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(p.rows()).isEqualTo(20_000);
        db.discard(p);
        IndexStatus st = db.stats().getFirst();
        assertThat(st.rows()).isEqualTo(20_000);
        assertThat(st.dims()).isEqualTo(64);
        assertThat(TimeUnit.NANOSECONDS.toMillis(maxGapNanos.get())).as("longest event-loop timer gap (ms); opened at +%d ms, ready at +%d ms, prepared at +%d ms; gaps over 50 ms: %s",
                openedAt, readyAt, preparedAt, longGaps).isLessThan(200);

        Map<Long, float[]> rows = pg.rows("big");
        ServedIndex served = db.served(def(db, "big_idx")).orElseThrow();
        Random random = new Random(9);
        int hits = 0;
        for (int q = 0; q < 20; q++) {
            float[] query = randomVector(random, 64);
            List<Long> truth = VectorTestDatabase.exact(rows, query, 10, VectorTestDatabase::l2);
            List<Long> got = ids(served.search(query, 10, 400, 1));
            hits += (int) got.stream().filter(truth::contains).count();
        }
        assertThat(hits / 200.0).as("recall@10").isGreaterThan(0.9);
    }

    @Test
    void anUnreachableDatabaseFailsToOpenAndIsNotRemembered() throws Exception {
        Throwable t = databases.open("vectors_does_not_exist").transform(ar -> Future.succeededFuture(ar.cause()))
                .await(30, TimeUnit.SECONDS);
        assertThat(t).isInstanceOf(VectorSqlException.class);
        assertThat(((VectorSqlException) t).sqlState()).isEqualTo("3D000");
        VectorTestDatabase pg = VectorTestDatabase.create("does_not_exist", true);
        assertThat(open(pg).catalog().isEmpty()).isTrue();
        Optional<IndexStatus> none = open(pg).stats().stream().findFirst();
        assertThat(none).isEmpty();
    }
}
