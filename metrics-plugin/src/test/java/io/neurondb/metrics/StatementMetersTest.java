package io.neurondb.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementEvent.Protocol;
import io.neurondb.plugin.api.StatementEvent.Route;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class StatementMetersTest {

    private static StatementEvent event(Route route, long micros, String sqlState) {
        return new StatementEvent(1, "db", "u", "", "127.0.0.1", Protocol.SIMPLE, route, "SELECT 1",
                Instant.now(), TimeUnit.MICROSECONDS.toNanos(micros), 1, sqlState);
    }

    @Test
    void countsByRouteAndOutcome() {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        StatementMeters m = new StatementMeters(r);
        m.record(event(Route.PASSTHROUGH, 100, null));
        m.record(event(Route.PASSTHROUGH, 300, null));
        m.record(event(Route.VECTOR, 2_000, null));
        m.record(event(Route.PASSTHROUGH, 50, "42P01"));
        m.record(event(Route.PASSTHROUGH, 50, "42703"));
        m.record(event(Route.ADMIN, 50, "22012"));

        assertThat(timer(r, "passthrough", "success").count()).isEqualTo(2);
        assertThat(timer(r, "passthrough", "success").totalTime(TimeUnit.MICROSECONDS)).isEqualTo(400);
        assertThat(timer(r, "vector", "success").count()).isEqualTo(1);
        assertThat(timer(r, "passthrough", "error").count()).isEqualTo(2);
        assertThat(timer(r, "rewritten", "success").count()).isZero(); // created up front, exported as 0
        assertThat(errors(r, "passthrough", "42").count()).isEqualTo(2);
        assertThat(errors(r, "admin", "22").count()).isEqualTo(1);
        assertThat(r.find(StatementMeters.ERRORS).counters()).hasSize(2);
    }

    @Test
    void malformedSqlStateIsOther() {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        StatementMeters m = new StatementMeters(r);
        m.record(event(Route.PASSTHROUGH, 1, "x"));
        m.record(event(Route.PASSTHROUGH, 1, "4a000"));
        assertThat(errors(r, "passthrough", "other").count()).isEqualTo(2);
    }

    @Test
    void classIndexRoundTrips() {
        for (String cls : new String[]{"00", "08", "22", "23", "40", "42", "53", "57", "XX", "P0", "HV", "ZZ"}) {
            assertThat(StatementMeters.className(StatementMeters.classIndex(cls + "001"))).isEqualTo(cls);
        }
    }

    @Test
    void prometheusSeesSloBucketsAndNames() {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        StatementMeters m = new StatementMeters(r);
        m.record(event(Route.PASSTHROUGH, 700, null));   // 0.7 ms: not in the 0.5 ms bucket, in the 1 ms one
        m.record(event(Route.VECTOR, 40, "57014"));
        String text = r.scrape();
        assertThat(text).contains("neurondb_statement_duration_seconds_bucket{outcome=\"success\",route=\"passthrough\",le=\"5.0E-4\"} 0");
        assertThat(text).contains("neurondb_statement_duration_seconds_bucket{outcome=\"success\",route=\"passthrough\",le=\"0.001\"} 1");
        assertThat(text).contains("neurondb_statement_duration_seconds_bucket{outcome=\"success\",route=\"passthrough\",le=\"10.0\"} 1");
        assertThat(text).contains("neurondb_statement_duration_seconds_count{outcome=\"error\",route=\"vector\"} 1");
        assertThat(text).contains("neurondb_statement_errors_total{route=\"vector\",sqlstate_class=\"57\"} 1.0");
        // 14 bounds plus +Inf for each of 8 route/outcome series
        assertThat(text.lines().filter(l -> l.startsWith("neurondb_statement_duration_seconds_bucket{")).count()).isEqualTo(15 * 8);
    }

    private static Timer timer(SimpleMeterRegistry r, String route, String outcome) {
        return r.get(StatementMeters.DURATION).tags("route", route, "outcome", outcome).timer();
    }

    private static Counter errors(SimpleMeterRegistry r, String route, String cls) {
        return r.get(StatementMeters.ERRORS).tags("route", route, "sqlstate_class", cls).counter();
    }
}
