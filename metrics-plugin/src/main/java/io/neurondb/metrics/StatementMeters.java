package io.neurondb.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementEvent.Route;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Statement meters, fed by every completed statement on the event loops:
 * {@code neurondb_statement_duration_seconds{route,outcome}} (a histogram with fixed SLO
 * buckets, whose count is the statement count) and
 * {@code neurondb_statement_errors_total{route,sqlstate_class}}.
 *
 * <p>The hot path does no tag lookups and allocates nothing: the timers are created up front,
 * one per route and outcome, and error counters are created on first use and kept in an
 * array indexed by route and SQLSTATE class. Only the class (the first two characters) is a
 * label, so the number of series stays bounded whatever the server reports.
 */
public final class StatementMeters {

    public static final String DURATION = "neurondb.statement.duration";
    public static final String ERRORS = "neurondb.statement.errors";

    /** Bucket bounds, 0.5 ms to 10 s: enough resolution for both a pooled SELECT and a slow report. */
    static final Duration[] SLO_BUCKETS = {
            Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
            Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private static final Route[] ROUTES = Route.values();
    /** Two characters of [0-9A-Z] each, plus one slot for anything else. */
    private static final int CLASSES = 36 * 36 + 1;
    private static final int OTHER_CLASS = CLASSES - 1;

    private final MeterRegistry registry;
    private final Timer[] succeeded = new Timer[ROUTES.length];
    private final Timer[] failed = new Timer[ROUTES.length];
    private final AtomicReferenceArray<Counter> errors = new AtomicReferenceArray<>(ROUTES.length * CLASSES);

    public StatementMeters(MeterRegistry registry) {
        this.registry = registry;
        for (Route r : ROUTES) {
            succeeded[r.ordinal()] = timer(r, "success");
            failed[r.ordinal()] = timer(r, "error");
        }
    }

    private Timer timer(Route route, String outcome) {
        return Timer.builder(DURATION)
                .description("Statements from the client's Query or Execute to the completion the client sees, by route and outcome")
                .tags("route", routeName(route), "outcome", outcome)
                .serviceLevelObjectives(SLO_BUCKETS)
                .register(registry);
    }

    public void record(StatementEvent e) {
        int route = e.route().ordinal();
        String sqlState = e.sqlState();
        if (sqlState == null) {
            succeeded[route].record(e.durationNanos(), TimeUnit.NANOSECONDS);
            return;
        }
        failed[route].record(e.durationNanos(), TimeUnit.NANOSECONDS);
        int cls = classIndex(sqlState);
        int slot = route * CLASSES + cls;
        Counter c = errors.get(slot);
        if (c == null) {
            c = Counter.builder(ERRORS)
                    .description("Statements that ended in an error, by route and SQLSTATE class (the first two characters)")
                    .tags("route", routeName(e.route()), "sqlstate_class", className(cls))
                    .register(registry);
            errors.set(slot, c); // a racing thread registers the same meter: the registry returns one instance
        }
        c.increment();
    }

    static String routeName(Route r) {
        return r.name().toLowerCase(Locale.ROOT);
    }

    /** The SQLSTATE's class as an index into the counter table; anything malformed is "other". */
    static int classIndex(String sqlState) {
        if (sqlState.length() < 2) {
            return OTHER_CLASS;
        }
        int a = digit(sqlState.charAt(0));
        int b = digit(sqlState.charAt(1));
        return a < 0 || b < 0 ? OTHER_CLASS : a * 36 + b;
    }

    static String className(int index) {
        if (index == OTHER_CLASS) {
            return "other";
        }
        return new String(new char[]{symbol(index / 36), symbol(index % 36)});
    }

    private static int digit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'Z') {
            return 10 + c - 'A';
        }
        return -1;
    }

    private static char symbol(int d) {
        return (char) (d < 10 ? '0' + d : 'A' + d - 10);
    }
}
