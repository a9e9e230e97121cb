package io.neurondb.proxy.vectors;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A copy's expected rows count while it runs and stop counting once it ends, however it ends, once. */
class CopyProgressTest {

    @Test
    void expectedRowsAreReleasedOnceWhetherTheCopyFinishesOrStops() {
        long base = CopyProgress.ROWS_EXPECTED.get();
        CopyProgress finished = new CopyProgress("public.a", 100);
        CopyProgress stopped = new CopyProgress("public.b", 40);
        assertThat(CopyProgress.ROWS_EXPECTED.get() - base).isEqualTo(140);
        long copied = CopyProgress.ROWS_COPIED.get();
        finished.row();
        stopped.row();
        assertThat(CopyProgress.ROWS_COPIED.get() - copied).isEqualTo(2);

        finished.done();
        finished.ended(); // the build's clean-up runs after a finished copy too
        assertThat(CopyProgress.ROWS_EXPECTED.get() - base).isEqualTo(40);
        stopped.ended(); // a failed read: never done()
        stopped.ended();
        assertThat(CopyProgress.ROWS_EXPECTED.get() - base).isZero();
    }
}
