package io.neurondb.proxy.route;

import io.neurondb.proxy.sql.StatementCorpus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PlainStatementsTest {

    private static final VectorCatalog EMPTY = new VectorCatalog(1, List.of(), List.of());

    /** Tables named like those the corpus's statements use most, each with a vector column. */
    private static final VectorCatalog COMMON_NAMES = new VectorCatalog(2,
            List.of("t", "docs", "embeddings", "par", "pgbench_accounts", "Items").stream()
                    .map(n -> new VectorCatalog.Table("public", n, 20000, List.of("id", "embedding"), Map.of("embedding", 3), Map.of()))
                    .toList(),
            List.of());

    private final StatementRouter router = new StatementRouter(1 << 20);

    @Test
    void anObviouslyPlainStatementIsPlainToTheFullPlannerToo() {
        int obvious = 0;
        int deferred = 0;
        for (VectorCatalog catalog : List.of(EMPTY, RewriteFixtures.catalog(), COMMON_NAMES)) {
            for (String sql : StatementCorpus.statements()) {
                List<StatementRouter.PlannedStatement> full = router.planAll(sql, catalog);
                if (PlainStatements.obvious(sql, catalog)) {
                    obvious++;
                    assertThat(full).as(sql).hasSize(1);
                    assertThat(full.getFirst().plan()).as(sql).isSameAs(StatementPlan.Passthrough.PLAIN);
                } else {
                    deferred++;
                }
            }
        }
        // The property must not hold by saying "not obvious" to everything.
        assertThat(obvious).isGreaterThan(1000);
        assertThat(deferred).isGreaterThan(1000);
    }

    @Test
    void theUsualOltpStatementIsObvious() {
        assertThat(PlainStatements.obvious("SELECT abalance FROM pgbench_accounts WHERE aid = 42;", RewriteFixtures.catalog())).isTrue();
        assertThat(PlainStatements.obvious("UPDATE pgbench_tellers SET tbalance = tbalance + -12 WHERE tid = 3", RewriteFixtures.catalog())).isTrue();
        assertThat(PlainStatements.obvious("BEGIN", RewriteFixtures.catalog())).isTrue();
    }

    @Test
    void whatTheFullPlannerMustSeeIsNotObvious() {
        VectorCatalog catalog = RewriteFixtures.catalog();
        for (String sql : List.of(
                "SET search_path = app", "set role bob", "RESET ALL", "DISCARD ALL", "SHOW hnsw.ef_search",
                "CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)", "DROP TABLE x", "TRUNCATE x", "COPY x FROM STDIN",
                "SELECT * FROM ITEMS", "SELECT * FROM \"Docs\"", "SELECT * FROM \"docs\"",
                "SELECT a <-> b FROM x", "SELECT a<=>b FROM x", "SELECT '[1,2]'", "SELECT x::vector(3)", "SELECT 1::HalfVec",
                "SELECT neurondb.version()", "SELECT * FROM \"neurondb\".index_stats()",
                "SELECT 1; SELECT 2", "SELECT 'unterminated", "", "   ")) {
            assertThat(PlainStatements.obvious(sql, catalog)).as(sql).isFalse();
        }
    }

    @Test
    void mentionsInsideLiteralsAndCommentsDoNotCount() {
        VectorCatalog catalog = RewriteFixtures.catalog();
        assertThat(PlainStatements.obvious("SELECT 'items <-> vector' -- neurondb.version()\n FROM t /* SET */", catalog)).isTrue();
        assertThat(PlainStatements.obvious("SELECT 1;", catalog)).isTrue();
    }
}
