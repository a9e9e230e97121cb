package io.neurondb.engine.vector;

import io.neurondb.engine.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assumptions.assumeThat;

class VectorizationProviderTest {

    private static final VectorizationProvider SCALAR = VectorizationProvider.scalar();
    private static final VectorizationProvider PANAMA = VectorizationProvider.panamaOrNull();

    @Test
    void panamaIsAvailableWithTheProjectsJvmFlags() {
        // The parent pom passes --add-modules jdk.incubator.vector to surefire; if this fails
        // the Panama kernels below would silently go untested.
        assertThat(PANAMA).isNotNull();
        assertThat(PANAMA.name()).startsWith("panama-");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 384, 1021, 1536, 16000})
    void panamaMatchesScalarOnAwkwardLengths(int len) {
        assumeThat(PANAMA).isNotNull();
        // Offsets that are not multiples of the vector width, as rows inside a block are.
        int aOff = 3;
        int bOff = 5;
        float[] a = TestData.random(len + aOff, len);
        float[] b = TestData.random(len + bOff, len + 1_000_003L);
        double exactDot = 0;
        double exactSq = 0;
        double exactL1 = 0;
        for (int i = 0; i < len; i++) {
            double x = a[aOff + i];
            double y = b[bOff + i];
            exactDot += x * y;
            exactSq += (x - y) * (x - y);
            exactL1 += Math.abs(x - y);
        }
        // Float sums in different orders differ by rounding that grows with the length.
        double tol = 1e-5 * len + 1e-5;
        for (VectorizationProvider p : new VectorizationProvider[] {SCALAR, PANAMA}) {
            assertThat((double) p.dotProduct(a, aOff, b, bOff, len)).as(p.name() + " dot").isCloseTo(exactDot, within(tol));
            assertThat((double) p.squareDistance(a, aOff, b, bOff, len)).as(p.name() + " l2").isCloseTo(exactSq, within(tol));
            assertThat((double) p.l1Distance(a, aOff, b, bOff, len)).as(p.name() + " l1").isCloseTo(exactL1, within(tol));
        }
        assertThat(PANAMA.dotProduct(a, aOff, b, bOff, len))
                .isCloseTo(SCALAR.dotProduct(a, aOff, b, bOff, len), within((float) tol));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 33, 384, 1021, 16000})
    void fourRowKernelsMatchSingleRowKernels(int len) {
        float[] q = TestData.random(len + 1, len);
        // Four rows at scattered offsets of one block, as graph neighbours are.
        float[] block = TestData.random(len * 9 + 11, len + 7);
        int[] offs = {3, len * 4 + 1, len * 2 + 7, len * 8 + 11};
        float[] out = new float[4];
        for (VectorizationProvider p : PANAMA == null ? new VectorizationProvider[] {SCALAR}
                : new VectorizationProvider[] {SCALAR, PANAMA}) {
            double tol = 1e-5 * len + 1e-5;
            p.dotProduct4(q, 1, block, offs[0], block, offs[1], block, offs[2], block, offs[3], len, out);
            for (int i = 0; i < 4; i++) {
                assertThat(out[i]).as(p.name() + " dot4 row " + i)
                        .isCloseTo(SCALAR.dotProduct(q, 1, block, offs[i], len), within((float) tol));
            }
            p.squareDistance4(q, 1, block, offs[0], block, offs[1], block, offs[2], block, offs[3], len, out);
            for (int i = 0; i < 4; i++) {
                assertThat(out[i]).as(p.name() + " l2x4 row " + i)
                        .isCloseTo(SCALAR.squareDistance(q, 1, block, offs[i], len), within((float) tol));
            }
        }
    }

    @Test
    void kernelsReadOnlyTheirRange() {
        assumeThat(PANAMA).isNotNull();
        float[] a = new float[100];
        float[] b = new float[100];
        java.util.Arrays.fill(a, 1000f);
        java.util.Arrays.fill(b, -1000f);
        for (int i = 10; i < 50; i++) {
            a[i] = 1;
            b[i + 20] = 2;
        }
        assertThat(PANAMA.dotProduct(a, 10, b, 30, 40)).isEqualTo(80f);
        assertThat(SCALAR.dotProduct(a, 10, b, 30, 40)).isEqualTo(80f);
    }

    @Test
    void systemPropertyValuesChooseTheProvider() {
        assertThat(VectorizationProvider.choose("scalar").name()).isEqualTo("scalar");
        assertThat(VectorizationProvider.choose("bogus").name()).isEqualTo("scalar");
        if (PANAMA != null) {
            assertThat(VectorizationProvider.choose("panama").name()).startsWith("panama-");
            assertThat(VectorizationProvider.choose("auto").name()).startsWith("panama-");
        }
    }
}
