package io.neurondb.tests.bench;

import io.neurondb.proxy.NeuronDbProxy;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.vectors.VectorDatabase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replication sync under an insert load of 384-d rows written straight into PostgreSQL (not a
 * test; run by {@code tests/bench/replication-lag.sh}).
 *
 * <p>Peer, same run: the insert rate PostgreSQL alone sustains with {@code writers} threads
 * into a table no index follows. Then the same writers into a table with an HNSW index that
 * the proxy (in this JVM) follows through its slot, at full speed and paced at
 * {@code paced.fraction} of the peer's rate: rows/s written, rows/s the index applied, lag
 * when the writers stop and the time to catch up, and commit-to-searchable latency (a probe
 * commits a distinctive row every 20 ms and times until the engine index holds it) p50/p99.
 *
 * <p>Settings (system properties): {@code writers} (2), {@code duration} (seconds per run, 20),
 * {@code paced.fraction} (0.5), {@code pg.bin} (PostgreSQL bin dir, found when absent).
 */
public final class ReplicationLagBenchmark {

    private static final int DIMS = 384;
    private final int writers = Integer.getInteger("writers", 2);
    private final int duration = Integer.getInteger("duration", 20);
    private final double pacedFraction = Double.parseDouble(System.getProperty("paced.fraction", "0.5"));
    private LocalPostgres pg;
    private NeuronDbProxy proxy;
    private VectorDatabase vectors;
    private final AtomicLong ids = new AtomicLong(1_000_000);

    public static void main(String[] args) throws Exception {
        new ReplicationLagBenchmark().run();
        System.exit(0);
    }

    private void run() throws Exception {
        Path work = Files.createTempDirectory("neurondb-repl-bench-");
        work.toFile().setExecutable(true, false);
        pg = LocalPostgres.builder(work.resolve("pg")).superuserPassword("postgres").setting("max_connections=50").build().start();
        try {
            String db = "bench";
            try (Connection c = direct("postgres"); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + db);
            }
            int port = LocalPostgres.freePort();
            proxy = NeuronDbProxy.start(new ConfigLoader(Map.of(), work).loadFromString(
                    "listen: 127.0.0.1:" + port + "\nupstream: postgresql://postgres:postgres@127.0.0.1:" + pg.port() + "/postgres\n"
                            + "metrics_port: 0\nevent_loops: 1\nplugins_dir: " + Files.createDirectories(work.resolve("plugins")) + "\n"
                            + "data_dir: " + work.resolve("data") + "\ninstance_id: bench\n"
                            + "replication:\n  enabled: true\n  checkpoint_interval_seconds: 30\n"));
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, "postgres", "postgres");
                 Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION neurondb");
                s.execute("CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(" + DIMS + "))");
                s.execute("CREATE INDEX items_idx ON items USING hnsw (embedding vector_cosine_ops)");
                s.execute("CREATE TABLE peer (id bigint PRIMARY KEY, embedding real[])");
            }
            vectors = proxy.vectors().open(db).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            waitUntil(() -> vectors.rows("public", "items_idx") >= 0, 60_000);

            System.out.printf(Locale.ROOT, "replication lag benchmark: %d writer threads, %d s per run, %d-d rows, 2 cores shared%n",
                    writers, duration, DIMS);
            Result peer = load("peer", 0, false);
            System.out.printf(Locale.ROOT, "peer  PostgreSQL alone (no index follows): %8.0f rows/s%n", peer.rate);
            Result full = load("items", 0, true);
            report("full speed", full, peer);
            Result paced = load("items", peer.rate * pacedFraction, true);
            report(String.format(Locale.ROOT, "paced at %.0f%% of peer", pacedFraction * 100), paced, peer);
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            pg.destroy();
            LocalPostgres.deleteTree(work);
        }
    }

    private void report(String name, Result r, Result peer) {
        System.out.printf(Locale.ROOT, "%-22s written %8.0f rows/s (%.2fx peer), applied by the index %8.0f rows/s; "
                        + "lag at stop %d rows, caught up %.2f s after; commit-to-searchable p50 %.1f ms p99 %.1f ms max %.1f ms (%d probes)%n",
                name, r.rate, r.rate / peer.rate, r.appliedRate, r.lagRows, r.catchUpSeconds, r.p50, r.p99, r.max, r.probes);
    }

    private record Result(double rate, double appliedRate, long lagRows, double catchUpSeconds, double p50, double p99, double max,
                          int probes) {
    }

    private Result load(String table, double targetRate, boolean follow) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong written = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long startNanos = System.nanoTime();
        int before = follow ? vectors.rows("public", "items_idx") : 0;
        for (int w = 0; w < writers; w++) {
            int seed = w;
            threads.add(Thread.ofPlatform().start(() -> write(table, stop, written, targetRate / writers, startNanos, seed)));
        }
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        Thread probe = follow ? Thread.ofPlatform().start(() -> probe(stop, latencies)) : null;
        Thread.sleep(duration * 1000L);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        if (probe != null) {
            probe.join();
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long rows = written.get();
        if (!follow) {
            return new Result(rows / seconds, 0, 0, 0, 0, 0, 0, 0);
        }
        long target;
        try (Connection c = direct("bench"); Statement s = c.createStatement(); var rs = s.executeQuery("SELECT count(*) FROM items")) {
            rs.next();
            target = rs.getLong(1);
        }
        long lagRows = Math.max(0, target - vectors.rows("public", "items_idx"));
        long stopNanos = System.nanoTime();
        waitUntil(() -> vectors.rows("public", "items_idx") >= target, 600_000);
        double catchUp = (System.nanoTime() - stopNanos) / 1e9;
        double applied = (vectors.rows("public", "items_idx") - before) / (seconds + catchUp);
        List<Double> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        return new Result(rows / seconds, applied, lagRows, catchUp, pct(sorted, 0.50), pct(sorted, 0.99),
                sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1), sorted.size());
    }

    private static double pct(List<Double> sorted, double p) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private void write(String table, AtomicBoolean stop, AtomicLong written, double perThreadRate, long startNanos, int seed) {
        Random r = new Random(seed);
        try (Connection c = direct("bench"); PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " VALUES (?, ?::real[])")) {
            long n = 0;
            while (!stop.get()) {
                if (perThreadRate > 0) {
                    long due = startNanos + (long) (n / perThreadRate * 1e9);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
                ps.setLong(1, ids.incrementAndGet());
                ps.setString(2, vector(r));
                ps.executeUpdate();
                n++;
                written.incrementAndGet();
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Commits one row every 20 ms and times until the engine index holds it. */
    private void probe(AtomicBoolean stop, List<Double> latencies) {
        Random r = new Random(99);
        try (Connection c = direct("bench"); PreparedStatement ps = c.prepareStatement("INSERT INTO items VALUES (?, ?::real[])")) {
            while (!stop.get()) {
                long id = ids.incrementAndGet();
                ps.setLong(1, id);
                ps.setString(2, vector(r));
                ps.executeUpdate(); // autocommit: returns after the commit
                long committed = System.nanoTime();
                while (!vectors.holds("public", "items_idx", id)) {
                    Thread.onSpinWait();
                    if (System.nanoTime() - committed > 30_000_000_000L) {
                        break;
                    }
                    Thread.sleep(0, 200_000);
                }
                latencies.add((System.nanoTime() - committed) / 1e6);
                Thread.sleep(20);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Vectors are drawn from a pool made up front, so the writers measure the database, not float formatting. */
    private static final String[] POOL = new String[1024];

    static {
        Random r = new Random(7);
        for (int i = 0; i < POOL.length; i++) {
            POOL[i] = format(r);
        }
    }

    private static String vector(Random r) {
        return POOL[r.nextInt(POOL.length)];
    }

    private static String format(Random r) {
        StringBuilder sb = new StringBuilder(DIMS * 10).append('{');
        for (int i = 0; i < DIMS; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(String.format(Locale.ROOT, "%.5f", r.nextGaussian()));
        }
        return sb.append('}').toString();
    }

    private Connection direct(String db) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(db), "postgres", "postgres");
    }

    private static void waitUntil(java.util.function.BooleanSupplier c, long ms) throws InterruptedException {
        long deadline = System.currentTimeMillis() + ms;
        while (!c.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
    }
}
