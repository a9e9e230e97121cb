package io.neurondb.proxy.vectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of one table copy for an index build: a log line every few seconds with rows,
 * rows/s and the estimated time left, and process-wide counters for the metrics.
 */
final class CopyProgress {

    private static final Logger log = LoggerFactory.getLogger(CopyProgress.class);
    private static final long LOG_EVERY_NANOS = 5_000_000_000L;

    /** Rows copied by all builds since start, and rows expected by the copies running now. */
    static final AtomicLong ROWS_COPIED = new AtomicLong();
    static final AtomicLong ROWS_EXPECTED = new AtomicLong();

    private final String table;
    private final long expected;
    private final long start = System.nanoTime();
    private long lastLog = start;
    private long rows;
    private boolean ended;

    CopyProgress(String table, long expected) {
        this.table = table;
        this.expected = expected;
        ROWS_EXPECTED.addAndGet(expected);
    }

    void row() {
        rows++;
        ROWS_COPIED.incrementAndGet();
        if ((rows & 1023) == 0) {
            long now = System.nanoTime();
            if (now - lastLog >= LOG_EVERY_NANOS) {
                lastLog = now;
                double seconds = (now - start) / 1e9;
                double rate = rows / Math.max(seconds, 1e-9);
                long eta = rate > 0 ? (long) Math.ceil(Math.max(0, expected - rows) / rate) : -1;
                log.info("event=table_copy_progress table={} rows={} expected_rows={} rows_per_second={} eta_seconds={}",
                        table, rows, expected, (long) rate, eta);
            }
        }
    }

    /** The copy read every row. */
    void done() {
        end(true);
    }

    /** The copy stopped, read through or not (a failed read, a closed pool): its expected rows no longer count. */
    void ended() {
        end(false);
    }

    private void end(boolean complete) {
        if (ended) {
            return;
        }
        ended = true;
        ROWS_EXPECTED.addAndGet(-expected);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (complete) {
            log.info("event=table_copy_done table={} rows={} seconds={}", table, rows, String.format("%.3f", seconds));
        } else {
            log.info("event=table_copy_stopped table={} rows={} expected_rows={} seconds={}", table, rows, expected,
                    String.format("%.3f", seconds));
        }
    }
}
