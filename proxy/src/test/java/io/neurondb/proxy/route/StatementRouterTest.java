package io.neurondb.proxy.route;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StatementRouterTest {

    private static final VectorCatalog CATALOG = new VectorCatalog(7,
            List.of(new VectorCatalog.Table("public", "items", 16384, List.of("id", "embedding"),
                    Map.of("embedding", 3), Map.of("embedding", 2))),
            List.of(new IndexDefinition("public", "items_idx", TableName.of("public", "items"), "embedding", "id",
                    IndexMethod.HNSW, DistanceOperator.L2, Map.of())));

    private final StatementRouter router = new StatementRouter(1 << 20);

    @Test
    void aStatementIsPlannedOncePerCatalogVersion() {
        String sql = "SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5";
        StatementPlan first = router.planStatement(sql, CATALOG);
        assertThat(first).isInstanceOf(StatementPlan.Knn.class);
        assertThat(router.planStatement(sql, CATALOG)).isSameAs(first);
        VectorCatalog next = new VectorCatalog(8, CATALOG.tables(), CATALOG.indexes());
        StatementPlan replanned = router.planStatement(sql, next);
        assertThat(replanned).isNotSameAs(first).isEqualTo(first);
    }

    @Test
    void aSimpleQueryThatNeedsNothingIsOneEntryForTheWholeText() {
        String sql = "SELECT 1; SELECT 'a;b'";
        List<StatementRouter.PlannedStatement> planned = router.planQuery(sql, CATALOG);
        assertThat(planned).hasSize(1);
        assertThat(planned.getFirst().sql()).isEqualTo(sql);
        assertThat(StatementRouter.isPlain(planned.getFirst().plan())).isTrue();
    }

    @Test
    void aSimpleQueryIsSplitWhenOneStatementNeedsTheProxy() {
        List<StatementRouter.PlannedStatement> planned = router.planQuery(
                "SELECT 1; SHOW hnsw.ef_search; SELECT id FROM items ORDER BY embedding <-> '[1,2,3]' LIMIT 2", CATALOG);
        assertThat(planned).extracting(StatementRouter.PlannedStatement::sql)
                .containsExactly("SELECT 1", "SHOW hnsw.ef_search", "SELECT id FROM items ORDER BY embedding <-> '[1,2,3]' LIMIT 2");
        assertThat(planned.get(1).plan()).isEqualTo(new StatementPlan.Command(new ProxyCommand.ShowSetting("hnsw.ef_search")));
        assertThat(planned.get(2).plan()).isInstanceOf(StatementPlan.Knn.class);
    }

    @Test
    void unparseableStatementsPassThroughUntouched() {
        assertThat(router.planStatement("SELEC id FRO items ORDER BY embedding <-> $1", CATALOG))
                .isSameAs(StatementPlan.Passthrough.PLAIN);
        assertThat(router.planStatement("", CATALOG)).isSameAs(StatementPlan.Passthrough.PLAIN);
    }

    @Test
    void indexStatsInAnyShapeBecomesACallWithTheProxysFiguresAsAParameter() {
        StatementPlan plan = router.planStatement(
                "SELECT index_name FROM neurondb.index_stats() WHERE state <> $1 AND rows > $2", CATALOG);
        assertThat(plan).isInstanceOf(StatementPlan.Rewrite.class);
        StatementPlan.Rewrite r = (StatementPlan.Rewrite) plan;
        assertThat(r.sql()).isEqualTo("SELECT index_name FROM neurondb.index_stats($3::jsonb) WHERE state <> $1 AND rows > $2");
        assertThat(r.params().clientParams()).isEqualTo(2);
        assertThat(r.params().extras()).containsExactly(new ParamPlan.IndexStatsJson());
        // The plain form is the proxy's own answer; a mention in a string is not a call.
        assertThat(router.planStatement("SELECT * FROM neurondb.index_stats()", CATALOG)).isInstanceOf(StatementPlan.Command.class);
        assertThat(router.planStatement("SELECT 'neurondb.index_stats()'", CATALOG)).isSameAs(StatementPlan.Passthrough.PLAIN);
    }

    @Test
    void roleChangesAreNoticed() {
        for (String sql : List.of("SET ROLE app", "set local role app", "SET SESSION ROLE app", "RESET ROLE",
                "SET SESSION AUTHORIZATION app", "RESET SESSION AUTHORIZATION", "DISCARD ALL")) {
            assertThat(router.planStatement(sql, CATALOG)).as(sql)
                    .isEqualTo(new StatementPlan.Passthrough(new Effect.RoleChanged()));
        }
        // RESET ALL is also the proxy's own settings' reset; the session forgets the role checks there.
        assertThat(router.planStatement("RESET ALL", CATALOG))
                .isEqualTo(new StatementPlan.Command(new ProxyCommand.SetSetting(null, null, false)));
        for (String sql : List.of("SET search_path = app", "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
                "SELECT 'SET ROLE app'", "RESET search_path", "DISCARD PLANS")) {
            assertThat(router.planStatement(sql, CATALOG)).as(sql).isSameAs(StatementPlan.Passthrough.PLAIN);
        }
    }
}
