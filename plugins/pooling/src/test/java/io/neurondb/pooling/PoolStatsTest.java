package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.LeaseUsage;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** SHOW STATS arithmetic: totals from the host's lease reports, and the avg_* figures of the last stats_period. */
class PoolStatsTest {

    @Test
    void totalsAddEveryReport() {
        PoolStats s = new PoolStats(System.nanoTime());
        s.add(new LeaseUsage(4, 1, 100, 2000, 40, 90));
        s.add(new LeaseUsage(2, 2, 50, 300, 10, 20));
        s.add(LeaseUsage.NONE);
        s.add(null);
        PoolStats.Period t = s.totals(7, 1234);
        assertThat(t.queries()).isEqualTo(6);
        assertThat(t.transactions()).isEqualTo(3);
        assertThat(t.bytesToServer()).isEqualTo(150);
        assertThat(t.bytesFromServer()).isEqualTo(2300);
        assertThat(t.queryMicros()).isEqualTo(50);
        assertThat(t.transactionMicros()).isEqualTo(110);
        assertThat(t.acquisitions()).isEqualTo(7);
        assertThat(t.waitMicros()).isEqualTo(1234);
    }

    @Test
    void lastPeriodHoldsOnlyWhatHappenedInIt() {
        long t0 = System.nanoTime();
        // The pooler's period began half a second ago: a pool made since counts its first period from then.
        PoolStats s = new PoolStats(t0 - 500_000_000L);
        s.add(new LeaseUsage(1, 1, 10, 10, 5, 5));
        s.roll(t0, 0, 0);
        assertThat(s.lastPeriod().seconds()).isEqualTo(0.5);
        assertThat(s.lastPeriod().perSecond(s.lastPeriod().transactions())).isEqualTo(2);
        s.add(new LeaseUsage(10, 5, 1000, 4000, 500, 1000));
        s.roll(t0 + 2_000_000_000L, 5, 300);
        PoolStats.Period p = s.lastPeriod();
        assertThat(p.seconds()).isEqualTo(2.0);
        assertThat(p.perSecond(p.transactions())).isEqualTo(3); // 2.5 rounds up
        assertThat(p.perSecond(p.queries())).isEqualTo(5);
        assertThat(p.perSecond(p.bytesToServer())).isEqualTo(500);
        assertThat(p.perSecond(p.bytesFromServer())).isEqualTo(2000);
        assertThat(PoolStats.Period.per(p.transactionMicros(), p.transactions())).isEqualTo(200);
        assertThat(PoolStats.Period.per(p.queryMicros(), p.queries())).isEqualTo(50);
        assertThat(PoolStats.Period.per(p.waitMicros(), p.acquisitions())).isEqualTo(60);

        // A quiet period: zeros, and no division by zero; the totals keep growing.
        s.roll(t0 + 4_000_000_000L, 5, 300);
        PoolStats.Period quiet = s.lastPeriod();
        assertThat(quiet.transactions()).isZero();
        assertThat(PoolStats.Period.per(quiet.queryMicros(), quiet.queries())).isZero();
        assertThat(s.totals(5, 300).queries()).isEqualTo(11);
    }

    @Test
    void databaseAveragesWeighTimesByCounts() {
        // Two pools of one database: 1 transaction of 1000 us and 3 of 100 us average 325 us, not 550.
        PoolStats.Period a = new PoolStats.Period(60, 1, 1, 10, 10, 1000, 1000, 1, 0);
        PoolStats.Period b = new PoolStats.Period(60, 3, 3, 20, 20, 300, 300, 3, 0);
        PoolStats.Period sum = PoolStats.Period.EMPTY.plus(a).plus(b);
        assertThat(PoolStats.Period.per(sum.transactionMicros(), sum.transactions())).isEqualTo(325);
        assertThat(sum.perSecond(sum.bytesToServer())).isEqualTo(1); // 30 bytes over 60 s rounds to 1
        assertThat(sum.seconds()).isEqualTo(60);
    }

    @Test
    void statsPeriodIsASettingWithPgBouncersDefault() {
        assertThat(PoolingSettings.from(Map.of("enabled", true, "auth_type", "trust"), Map.of()).statsPeriod().toSeconds()).isEqualTo(60);
        PoolingSettings s = PoolingSettings.from(Map.of("enabled", true, "auth_type", "trust", "stats_period", 5), Map.of());
        assertThat(s.statsPeriod().toSeconds()).isEqualTo(5);
        assertThat(s.asConfigRows()).containsEntry("stats_period", "5");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PoolingSettings.from(Map.of("enabled", true, "auth_type", "trust", "stats_period", 0), Map.of()))
                .hasMessageContaining("stats_period");
    }
}
