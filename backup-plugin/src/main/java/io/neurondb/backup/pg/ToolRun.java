package io.neurondb.backup.pg;

import io.neurondb.plugin.api.UpstreamServer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one PostgreSQL client program (pg_dump, pg_restore, pg_basebackup) to completion with a
 * deadline. The password goes in PGPASSWORD, never on the command line; the last lines of the
 * tool's output are kept for the error message (tools do not print passwords).
 */
public final class ToolRun {

    private static final int TAIL_LINES = 20;

    private ToolRun() {
    }

    /** The environment a client tool needs to log in as the upstream login. */
    public static void loginEnvironment(Map<String, String> env, UpstreamServer upstream) {
        if (upstream.password() != null) {
            env.put("PGPASSWORD", upstream.password());
        }
        String mode = upstream.tlsMode() == null ? "prefer" : upstream.tlsMode();
        env.put("PGSSLMODE", mode);
        if (mode.equals("verify-full") && upstream.caFile() != null) {
            env.put("PGSSLROOTCERT", upstream.caFile());
        }
        env.put("PGCONNECT_TIMEOUT", "10");
        env.put("PGAPPNAME", "neurondb-backup");
    }

    /**
     * Runs {@code command} and waits for it.
     *
     * @throws IOException when it cannot start, fails (exit code and output tail in the message)
     *                     or runs past {@code timeout} (it is killed)
     */
    public static void run(List<String> command, UpstreamServer login, Duration timeout, Path workDir) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        if (login != null) {
            loginEnvironment(pb.environment(), login);
        }
        Process p = pb.start();
        Deque<String> tail = new ArrayDeque<>();
        Thread reader = Thread.ofVirtual().start(() -> readTail(p.getInputStream(), tail));
        String tool = Path.of(command.getFirst()).getFileName().toString();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IOException(tool + " did not finish within the timeout of " + timeout.toSeconds() + " s and was stopped");
            }
            reader.join(5_000);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(tool + " was interrupted", e);
        }
        if (p.exitValue() != 0) {
            String out;
            synchronized (tail) {
                out = String.join("\n", tail);
            }
            throw new IOException(tool + " failed with exit code " + p.exitValue() + (out.isBlank() ? "" : ": " + out.strip()));
        }
    }

    private static void readTail(InputStream in, Deque<String> tail) {
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
            }
        } catch (IOException e) {
            // the process is gone; its exit code says what happened
        }
    }
}
