package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TilePlanTest {

    @Test
    void fitsTheBudgetAndUsesMostOfIt() {
        long budget = 8L << 20;
        TilePlan plan = TilePlan.forTopK(500, 1_000_000, 128, 10, budget);
        assertThat(plan.deviceBytes(128)).isLessThanOrEqualTo(budget);
        TilePlan oneMoreRow = new TilePlan(plan.queryRows(), plan.baseRows() + 1, plan.segmentRows(), plan.k(), false);
        assertThat(oneMoreRow.deviceBytes(128)).as("base tile is the largest that fits").isGreaterThan(budget);
        assertThat(plan.selectsOnDevice()).isTrue();
        assertThat(plan.segmentRows()).isGreaterThanOrEqualTo(8 * 10);
    }

    @Test
    void smallProblemsRunInOneStep() {
        TilePlan plan = TilePlan.forTopK(3, 1000, 16, 5, 64L << 20);
        assertThat(plan.queryRows()).isEqualTo(3);
        assertThat(plan.baseRows()).isEqualTo(1000);
    }

    @Test
    void shrinksTheQueryBatchBeforeTheBaseTileGetsThin() {
        TilePlan plan = TilePlan.forTopK(1000, 100_000, 64, 10, 1L << 20);
        assertThat(plan.queryRows()).isLessThan(1000);
        assertThat(plan.baseRows()).isGreaterThanOrEqualTo(TilePlan.MIN_BASE_ROWS);
        assertThat(plan.deviceBytes(64)).isLessThanOrEqualTo(1L << 20);
    }

    @Test
    void largeKIsLeftToTheHost() {
        TilePlan plan = TilePlan.forTopK(10, 10_000, 32, KernelSource.MAX_DEVICE_K + 1, 64L << 20);
        assertThat(plan.selectsOnDevice()).isFalse();
        assertThat(plan.candidateSlots()).isZero();
        assertThat(plan.segments(plan.baseRows())).isZero();
    }

    @Test
    void anImpossibleBudgetStillMakesProgressOneRowAtATime() {
        TilePlan plan = TilePlan.forTopK(10, 10, 100_000, 1, 1_000);
        assertThat(plan.queryRows()).isEqualTo(1);
        assertThat(plan.baseRows()).isEqualTo(1);
    }

    @Test
    void assignmentReservesTheRunningNearest() {
        TilePlan plan = TilePlan.forAssignment(100, 50, 8, 64L << 20);
        assertThat(plan.assignment()).isTrue();
        assertThat(plan.selectsOnDevice()).isFalse();
        assertThat(plan.deviceBytes(8)).isEqualTo(4L * (100 * 8 + 50 * 8 + 100 * 50) + 8L * 100);
    }

    @Test
    void blocksStayIndexableByJavaArrays() {
        TilePlan plan = TilePlan.forTopK(1024, Integer.MAX_VALUE / 2, 1, 1, Long.MAX_VALUE / 4);
        assertThat(plan.distanceBlockElements()).isLessThanOrEqualTo(TilePlan.MAX_BLOCK_ELEMENTS);
    }
}
