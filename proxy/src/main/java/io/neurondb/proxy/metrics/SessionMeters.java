package io.neurondb.proxy.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.neurondb.proxy.session.SessionState;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What client sessions count, shared by all of them: client and server connections by state,
 * bytes in and out, and engine search latency per index.
 *
 * <p>Sessions run on every event loop, and some of these change on every read, so the counts
 * are plain {@link LongAdder}s that the registry reads when it is scraped; the hot path never
 * touches Micrometer.
 *
 * <ul>
 *   <li>{@code neurondb_client_connections{state="login"|"active"}}: clients between connect and
 *       logged in, and logged-in clients</li>
 *   <li>{@code neurondb_server_connections{state="login"|"active"}}: the sessions' server
 *       connections while they log in, and logged in</li>
 *   <li>{@code neurondb_client_connections_accepted_total}</li>
 *   <li>{@code neurondb_client_received_bytes_total}, {@code neurondb_client_sent_bytes_total}:
 *       bytes read from and written to clients (as pgbouncer's received/sent bytes)</li>
 *   <li>{@code neurondb_index_search_duration_seconds{database,table,index}}: one engine search
 *       for a kNN statement</li>
 * </ul>
 */
public final class SessionMeters {

    /** Search latency buckets: an HNSW search takes tens of microseconds to milliseconds. */
    private static final Duration[] SEARCH_BUCKETS = {
            Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
            Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1)};

    private final MeterRegistry registry;
    private final LongAdder accepted = new LongAdder();
    private final LongAdder clientsLoggingIn = new LongAdder();
    private final LongAdder clientsActive = new LongAdder();
    private final LongAdder serversLoggingIn = new LongAdder();
    private final LongAdder serversActive = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();
    /** database → "table index" → timer; a few per index, created on its first search. */
    private final Map<String, Map<String, Timer>> searches = new ConcurrentHashMap<>();

    public SessionMeters(MeterRegistry registry) {
        this.registry = registry;
        connections("neurondb.client.connections", "login", clientsLoggingIn, "Client connections that have not finished logging in");
        connections("neurondb.client.connections", "active", clientsActive, "Logged-in client connections");
        connections("neurondb.server.connections", "login", serversLoggingIn, "Server connections of client sessions that are logging in");
        connections("neurondb.server.connections", "active", serversActive, "Logged-in server connections of client sessions");
        FunctionCounter.builder("neurondb.client.connections.accepted", accepted, LongAdder::doubleValue)
                .description("Client connections accepted (including cancel requests and failed logins)").register(registry);
        FunctionCounter.builder("neurondb.client.received", received, LongAdder::doubleValue).baseUnit("bytes")
                .description("Bytes read from clients").register(registry);
        FunctionCounter.builder("neurondb.client.sent", sent, LongAdder::doubleValue).baseUnit("bytes")
                .description("Bytes written to clients").register(registry);
    }

    private void connections(String name, String state, LongAdder count, String description) {
        Gauge.builder(name, count, LongAdder::doubleValue).tag("state", state).description(description).register(registry);
    }

    /** A client connected. */
    public void clientAccepted() {
        accepted.increment();
        clientsLoggingIn.increment();
    }

    /** A session moved from one state to the next (sessions call this from their one state door). */
    public void moved(SessionState from, SessionState to) {
        switch (to) {
            case AUTHENTICATING -> serversLoggingIn.increment(); // the server connection was just opened
            case READY -> {
                clientsLoggingIn.decrement();
                clientsActive.increment();
                serversLoggingIn.decrement();
                serversActive.increment();
            }
            case CLOSED -> {
                if (from == SessionState.READY) {
                    clientsActive.decrement();
                    serversActive.decrement();
                } else {
                    clientsLoggingIn.decrement();
                    if (from == SessionState.AUTHENTICATING) {
                        serversLoggingIn.decrement();
                    }
                }
            }
            default -> {
            }
        }
    }

    public void received(int bytes) {
        received.add(bytes);
    }

    public void sent(int bytes) {
        sent.add(bytes);
    }

    /** One engine search of the index {@code name} on {@code table} (schema-qualified) took {@code nanos}. */
    public void searched(String database, String table, String name, long nanos) {
        Map<String, Timer> byIndex = searches.computeIfAbsent(database, d -> new ConcurrentHashMap<>());
        Timer t = byIndex.get(name);
        if (t == null) {
            t = byIndex.computeIfAbsent(name, n -> Timer.builder("neurondb.index.search.duration")
                    .description("Engine searches for kNN statements, per index")
                    .tags("database", database, "table", table, "index", name)
                    .serviceLevelObjectives(SEARCH_BUCKETS)
                    .register(registry));
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
    }
}
