package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.SqlState;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The settings the proxy owns ({@code hnsw.*}, {@code ivfflat.*}, {@code neurondb.*}) for one
 * session, with PostgreSQL's transaction rules: {@code SET LOCAL} lasts until the transaction
 * ends; a plain {@code SET} inside a transaction becomes the session's value only if the
 * transaction commits. (Savepoint rollbacks are not tracked.)
 */
final class SessionSettings {

    /** Stored for a RESET or SET ... TO DEFAULT: the default applies, and it was not set explicitly. Compared by identity. */
    @SuppressWarnings("StringOperationCanBeSimplified")
    private static final String RESET = new String("<default>");

    /**
     * What a setting accepts; values are kept as PostgreSQL shows them. A {@code millis} setting
     * is an integer of milliseconds that also takes PostgreSQL's time units ({@code '2s'}).
     */
    private record Definition(String defaultValue, int min, int max, String[] choices, boolean millis) {
        Definition(String defaultValue, int min, int max, String[] choices) {
            this(defaultValue, min, max, choices, false);
        }

        boolean integer() {
            return choices == null;
        }
    }

    /** PostgreSQL's time units for a setting in milliseconds, longest suffix first. */
    private static final String[][] TIME_UNITS = {{"min", "60000"}, {"ms", "1"}, {"s", "1000"}, {"h", "3600000"}, {"d", "86400000"}};

    private static final Map<String, Definition> DEFINITIONS = Map.of(
            "hnsw.ef_search", new Definition("40", 1, 1000, null),
            "hnsw.iterative_scan", new Definition("off", 0, 0, new String[]{"off", "relaxed_order", "strict_order"}),
            "hnsw.max_scan_tuples", new Definition("20000", 1, Integer.MAX_VALUE, null),
            "ivfflat.probes", new Definition("1", 1, 32768, null),
            "ivfflat.iterative_scan", new Definition("off", 0, 0, new String[]{"off", "relaxed_order"}),
            "ivfflat.max_probes", new Definition("32768", 1, 32768, null),
            "neurondb.log_level", new Definition("info", 0, 0, new String[]{"debug", "info", "warning", "error"}),
            // read_your_writes: a kNN search first waits until the index has applied the session's last commit
            "neurondb.consistency", new Definition("eventual", 0, 0, new String[]{"eventual", "read_your_writes"}),
            "neurondb.consistency_timeout", new Definition("5000", 0, Integer.MAX_VALUE, null, true));

    /** A refused SET: the SQLSTATE and message PostgreSQL would give. */
    record Refusal(String sqlState, String message, String hint) {
        Refusal(String sqlState, String message) {
            this(sqlState, message, null);
        }
    }

    private final Map<String, String> committed = new HashMap<>();
    private final Map<String, String> pending = new HashMap<>();
    private final Map<String, String> local = new HashMap<>();
    /** RESET ALL seen in the current transaction. */
    private boolean pendingResetAll;
    /**
     * Whether this transaction SET anything: most end without, and then the ends below touch no
     * map (per-session state is cold when one of many pooled clients gets its turn).
     */
    private boolean setInTransaction;

    /** The value a session starts with for {@code name}, one of the settings this class owns. */
    static String defaultOf(String name) {
        Definition d = DEFINITIONS.get(name);
        if (d == null) {
            throw new IllegalArgumentException("not a proxy setting: " + name);
        }
        return d.defaultValue();
    }

    static boolean owns(String name) {
        return DEFINITIONS.containsKey(name);
    }

    /** Null when {@code value} is acceptable for {@code name} (null value = DEFAULT). */
    static Refusal check(String name, String value) {
        Definition d = DEFINITIONS.get(name);
        if (d == null) {
            return new Refusal(SqlState.UNDEFINED_OBJECT, "unrecognized configuration parameter \"" + name + "\"");
        }
        if (value == null) {
            return null;
        }
        if (d.integer()) {
            long v;
            try {
                v = d.millis() ? millis(value) : Long.parseLong(value.strip());
            } catch (NumberFormatException | ArithmeticException e) {
                return new Refusal(SqlState.INVALID_PARAMETER_VALUE, "invalid value for parameter \"" + name + "\": \"" + value + "\"",
                        d.millis() ? "Valid units for this parameter are \"ms\", \"s\", \"min\", \"h\", and \"d\"." : null);
            }
            if (v < d.min() || v > d.max()) {
                return new Refusal(SqlState.INVALID_PARAMETER_VALUE, v + " is outside the valid range for parameter \"" + name
                        + "\" (" + d.min() + " .. " + d.max() + ")");
            }
            return null;
        }
        String lower = value.strip().toLowerCase(Locale.ROOT);
        for (String c : d.choices()) {
            if (c.equals(lower) || (c.equals("warning") && lower.equals("warn"))) {
                return null;
            }
        }
        return new Refusal(SqlState.INVALID_PARAMETER_VALUE, "invalid value for parameter \"" + name + "\": \"" + value + "\"",
                "Available values: " + String.join(", ", d.choices()) + ".");
    }

    /** {@code '250'}, {@code '250ms'}, {@code '2s'}, {@code '1 min'} as milliseconds; NumberFormatException otherwise. */
    static long millis(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        for (String[] unit : TIME_UNITS) {
            if (v.endsWith(unit[0])) {
                String number = v.substring(0, v.length() - unit[0].length()).strip();
                return Math.multiplyExact(Long.parseLong(number), Long.parseLong(unit[1]));
            }
        }
        return Long.parseLong(v);
    }

    private static String canonical(String name, String value) {
        Definition d = DEFINITIONS.get(name);
        if (d.integer()) {
            return Long.toString(d.millis() ? millis(value) : Long.parseLong(value.strip()));
        }
        String lower = value.strip().toLowerCase(Locale.ROOT);
        return lower.equals("warn") ? "warning" : lower;
    }

    /** The server accepted {@code SET name = value} (null = DEFAULT/RESET); {@code name} null = RESET ALL. */
    void applied(String name, String value, boolean isLocal) {
        setInTransaction = true;
        if (name == null) {
            pending.clear();
            local.clear();
            pendingResetAll = true;
            return;
        }
        String v = value == null ? RESET : canonical(name, value);
        if (isLocal) {
            local.put(name, v);
        } else {
            pending.put(name, v);
            local.remove(name);
        }
    }

    /** The transaction rolled back (ROLLBACK, or an error outside a transaction block). */
    void rolledBack() {
        if (!setInTransaction) {
            return;
        }
        setInTransaction = false;
        pending.clear();
        local.clear();
        pendingResetAll = false;
    }

    /** ReadyForQuery said idle: whatever is pending now belongs to the session. */
    void transactionEnded() {
        if (!setInTransaction) {
            return;
        }
        setInTransaction = false;
        if (pendingResetAll) {
            committed.clear();
            pendingResetAll = false;
        }
        committed.putAll(pending);
        pending.clear();
        local.clear();
    }

    String value(String name) {
        String v = explicitValue(name);
        return v != null ? v : DEFINITIONS.get(name).defaultValue();
    }

    /**
     * What the session itself set, or null while it runs on the default (never set, or RESET):
     * an explicit {@code SET neurondb.log_level = info} means INFO for the session even when the
     * proxy logs at DEBUG, while the default means the proxy's own level.
     */
    String explicitValue(String name) {
        String v = local.get(name);
        if (v == null) {
            v = pending.get(name);
        }
        if (v == null && !pendingResetAll) {
            v = committed.get(name);
        }
        return v == RESET ? null : v;
    }

    int intValue(String name) {
        return Integer.parseInt(value(name));
    }

    /** Whether a kNN search must first wait for the session's own committed writes. */
    long consistencyTimeoutMillis() {
        return Long.parseLong(value("neurondb.consistency_timeout"));
    }

    boolean readYourWrites() {
        return "read_your_writes".equals(value("neurondb.consistency"));
    }
}
