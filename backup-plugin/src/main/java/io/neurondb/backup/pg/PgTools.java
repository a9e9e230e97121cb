package io.neurondb.backup.pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PostgreSQL client programs of the server's major version: from {@code bin_dir} when
 * configured, else {@code /usr/lib/postgresql/<major>/bin} (Debian layout) or
 * {@code pg_config --bindir} when that reports the same major version. pg_dump refuses servers
 * newer than itself and pg_basebackup/pg_receivewal need the same major, hence the match.
 */
public record PgTools(Path binDir, int major) {

    public static final List<String> PROGRAMS = List.of("pg_dump", "pg_restore", "pg_basebackup", "pg_receivewal");

    /**
     * @param configured   bin_dir from the settings, or null
     * @param serverMajor  the server's major version ({@code server_version_num / 10000}), or 0 if unknown
     * @throws IllegalArgumentException naming what is missing and how to fix it
     */
    public static PgTools find(Path configured, int serverMajor) {
        List<Path> tried = new ArrayList<>();
        if (configured != null) {
            checkAll(configured, serverMajor, "plugins.backup.bin_dir");
            return new PgTools(configured, serverMajor);
        }
        if (serverMajor > 0) {
            Path debian = Path.of("/usr/lib/postgresql", String.valueOf(serverMajor), "bin");
            tried.add(debian);
            if (hasAll(debian)) {
                return new PgTools(debian, serverMajor);
            }
        }
        Path fromPgConfig = pgConfigBindir();
        if (fromPgConfig != null) {
            tried.add(fromPgConfig);
            if (hasAll(fromPgConfig) && (serverMajor == 0 || majorOf(fromPgConfig.resolve("pg_dump")) == serverMajor)) {
                return new PgTools(fromPgConfig, serverMajor);
            }
        }
        throw new IllegalArgumentException("no PostgreSQL " + (serverMajor > 0 ? serverMajor + " " : "") + "client tools "
                + PROGRAMS + " found (looked in " + tried + "); install the postgresql-client-" + (serverMajor > 0 ? serverMajor : "N")
                + " package or set plugins.backup.bin_dir to the directory holding them");
    }

    public String program(String name) {
        return binDir.resolve(name).toString();
    }

    private static void checkAll(Path dir, int serverMajor, String key) {
        for (String p : PROGRAMS) {
            if (!Files.isExecutable(dir.resolve(p))) {
                throw new IllegalArgumentException(key + " " + dir + " has no executable " + p
                        + "; point it at the bin directory of the PostgreSQL " + (serverMajor > 0 ? serverMajor + " " : "") + "client tools");
            }
        }
        if (serverMajor > 0) {
            int m = majorOf(dir.resolve("pg_dump"));
            if (m != 0 && m < serverMajor) {
                throw new IllegalArgumentException(key + " " + dir + " holds PostgreSQL " + m + " tools but the server is " + serverMajor
                        + "; use the tools of version " + serverMajor);
            }
        }
    }

    private static boolean hasAll(Path dir) {
        return PROGRAMS.stream().allMatch(p -> Files.isExecutable(dir.resolve(p)));
    }

    private static Path pgConfigBindir() {
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? Path.of(out) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The major version a tool reports ({@code pg_dump (PostgreSQL) 15.10}), 0 if it cannot say. */
    static int majorOf(Path tool) {
        try {
            Process p = new ProcessBuilder(tool.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\) (\\d+)").matcher(out);
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }
}
