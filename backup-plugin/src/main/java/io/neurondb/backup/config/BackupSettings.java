package io.neurondb.backup.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The backup plugin's settings ({@code plugins: backup:} in conf/neurondb.yaml, documented key by
 * key there), checked as a whole: an unknown key, a bad cron expression or a value of the wrong
 * type is refused with a message naming the key and saying what to write.
 *
 * @param schedules cron per job (logical, physical, wal, verify); a job set to "off" is absent
 */
public record BackupSettings(
        Path repository,
        Path offsite,
        String database,
        Path binDir,
        Map<String, CronExpression> schedules,
        String logicalMode,
        List<String> logicalTables,
        int compression,
        boolean walEnabled,
        String walSlot,
        Duration timeout,
        Path keyFile,
        String keyEnv,
        int keepCount,
        Duration maxAge,
        String proxyHost,
        int proxyPort) {

    public static final String PLUGIN_ID = "backup";
    public static final List<String> JOBS = List.of("logical", "physical", "wal", "verify");
    /** The playbook's defaults: a daily full (base) backup, hourly WAL shipping, a daily dump and a daily restore test. */
    public static final Map<String, String> DEFAULT_SCHEDULES = Map.of(
            "physical", "0 2 * * *", "wal", "0 * * * *", "logical", "30 2 * * *", "verify", "0 4 * * *");

    private static final Set<String> KEYS = Set.of("repository", "offsite", "database", "bin_dir", "schedule", "logical",
            "compression", "wal", "timeout_seconds", "encryption", "retention", "proxy_address");

    public boolean encrypted() {
        return keyFile != null || keyEnv != null;
    }

    /**
     * @param dataDir         the proxy's data directory: the repository defaults to {@code <data_dir>/backup/repository}
     * @param defaultDatabase the upstream URL's database
     */
    @SuppressWarnings("unchecked")
    public static BackupSettings parse(Map<String, Object> raw, Path dataDir, String defaultDatabase, Map<String, String> env) {
        for (String key : raw.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown setting plugins.backup." + key + "; known: " + new java.util.TreeSet<>(KEYS));
            }
        }
        Path repository = path(raw, "repository", dataDir.resolve("backup").resolve("repository"));
        Path offsite = path(raw, "offsite", null);
        String database = string(raw, "database", defaultDatabase == null ? "postgres" : defaultDatabase);
        Path binDir = path(raw, "bin_dir", null);

        Map<String, Object> schedule = section(raw, "schedule", Set.copyOf(JOBS));
        Map<String, CronExpression> schedules = new LinkedHashMap<>();
        for (String job : JOBS) {
            String cron = string(schedule, job, DEFAULT_SCHEDULES.get(job));
            if (cron.equalsIgnoreCase("off")) {
                continue;
            }
            try {
                schedules.put(job, CronExpression.parse(cron));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("plugins.backup.schedule." + job + ": " + e.getMessage() + " (or \"off\")");
            }
        }

        Map<String, Object> logical = section(raw, "logical", Set.of("mode", "tables"));
        String mode = string(logical, "mode", "full");
        if (!Set.of("full", "schema-only", "data-only").contains(mode)) {
            throw new IllegalArgumentException("plugins.backup.logical.mode is '" + mode + "'; use full, schema-only or data-only");
        }
        List<String> tables = new ArrayList<>();
        Object t = logical.get("tables");
        if (t instanceof List<?> list) {
            list.forEach(x -> tables.add(String.valueOf(x)));
        } else if (t != null) {
            throw new IllegalArgumentException("plugins.backup.logical.tables must be a list of table names, e.g. [public.items]");
        }

        int compression = integer(raw, "compression", 6, 0, 9);

        Map<String, Object> wal = section(raw, "wal", Set.of("enabled", "slot"));
        boolean walEnabled = bool(wal, "enabled", true);
        String slot = string(wal, "slot", "neurondb_backup_wal");
        if (!slot.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException("plugins.backup.wal.slot '" + slot + "' is not a valid slot name; use lower-case letters, digits and _");
        }

        int timeoutSeconds = integer(raw, "timeout_seconds", 7200, 1, 7 * 24 * 3600);

        Map<String, Object> enc = section(raw, "encryption", Set.of("key_file", "key_env"));
        Path keyFile = path(enc, "key_file", null);
        String keyEnv = string(enc, "key_env", null);
        if (keyFile != null && keyEnv != null) {
            throw new IllegalArgumentException("plugins.backup.encryption: set key_file or key_env, not both");
        }

        Map<String, Object> retention = section(raw, "retention", Set.of("keep", "max_age_days"));
        int keep = integer(retention, "keep", 7, 1, 100_000);
        int maxAgeDays = integer(retention, "max_age_days", 30, 1, 100_000);

        String proxy = string(raw, "proxy_address", env.getOrDefault("NEURONDB_LISTEN", "127.0.0.1:6432"));
        int colon = proxy.lastIndexOf(':');
        int proxyPort;
        try {
            proxyPort = Integer.parseInt(proxy.substring(colon + 1));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("plugins.backup.proxy_address '" + proxy + "' is not host:port");
        }
        return new BackupSettings(repository, offsite, database, binDir, Map.copyOf(schedules), mode, List.copyOf(tables),
                compression, walEnabled, slot, Duration.ofSeconds(timeoutSeconds), keyFile, keyEnv, keep,
                Duration.ofDays(maxAgeDays), proxy.substring(0, Math.max(0, colon)), proxyPort);
    }

    /** The same settings with another per-run timeout (tests, and the CLI's --timeout). */
    public BackupSettings withTimeout(Duration t) {
        return new BackupSettings(repository, offsite, database, binDir, schedules, logicalMode, logicalTables, compression,
                walEnabled, walSlot, t, keyFile, keyEnv, keepCount, maxAge, proxyHost, proxyPort);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> raw, String key, Set<String> known) {
        Object v = raw.get(key);
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("plugins.backup." + key + " must be a map with keys " + new java.util.TreeSet<>(known));
        }
        for (Object k : m.keySet()) {
            if (!known.contains(String.valueOf(k))) {
                throw new IllegalArgumentException("unknown setting plugins.backup." + key + "." + k + "; known: " + new java.util.TreeSet<>(known));
            }
        }
        return (Map<String, Object>) m;
    }

    private static String string(Map<String, Object> m, String key, String dflt) {
        Object v = m.get(key);
        if (v == null || (v instanceof String s && s.isEmpty())) {
            return dflt;
        }
        return String.valueOf(v);
    }

    private static Path path(Map<String, Object> m, String key, Path dflt) {
        String s = string(m, key, null);
        return s == null ? dflt : Path.of(s).toAbsolutePath();
    }

    private static int integer(Map<String, Object> m, String key, int dflt, int min, int max) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            int i = v instanceof Number n ? Math.toIntExact(n.longValue()) : Integer.parseInt(String.valueOf(v));
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("plugins.backup " + key + " is '" + v + "'; use a whole number from " + min + " to " + max);
        }
    }

    private static boolean bool(Map<String, Object> m, String key, boolean dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("plugins.backup " + key + " is '" + v + "'; use true or false");
    }
}
