package io.neurondb.proxy.embedded;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL cluster run from the system's own binaries: the proxy's quick-start upstream
 * and the test harness's server. Listens on 127.0.0.1 only, with {@code wal_level=logical}.
 *
 * <p>{@code initdb} refuses to run as root, so as root every server command runs as the
 * {@code postgres} OS user through {@code runuser}, and the data directory is handed to it.
 */
public final class LocalPostgres implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalPostgres.class);
    public static final String SUPERUSER = "postgres";
    private static final String OS_USER = "postgres";

    private final Path binDir;
    private final Path dataDir;
    private final int port;
    private final List<String> hbaLines;
    private final String superuserPassword;
    private final List<String> settings;
    private boolean running;

    private LocalPostgres(Builder b) {
        this.binDir = b.binDir != null ? b.binDir : findBinDir().orElseThrow(() -> new IllegalStateException(
                "no PostgreSQL server binaries found (looked for pg_config --bindir and /usr/lib/postgresql/*/bin); "
                        + "install them, e.g. apt-get install -y postgresql, or set embedded.bin_dir"));
        this.dataDir = b.dataDir.toAbsolutePath().normalize();
        this.port = b.port != 0 ? b.port : freePort();
        this.hbaLines = List.copyOf(b.hbaLines);
        this.superuserPassword = b.superuserPassword;
        this.settings = List.copyOf(b.settings);
    }

    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    public Path binDir() {
        return binDir;
    }

    public Path dataDir() {
        return dataDir;
    }

    public String superuserPassword() {
        return superuserPassword;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port + "/" + database;
    }

    /** Creates the cluster if the data directory is empty, then starts the server. */
    public LocalPostgres start() {
        try {
            if (!Files.exists(dataDir.resolve("PG_VERSION"))) {
                initdb();
            }
            writeHba();
            List<String> opts = new ArrayList<>(List.of("-p", String.valueOf(port), "-c", "listen_addresses=127.0.0.1",
                    "-c", "unix_socket_directories=" + dataDir, "-c", "wal_level=logical",
                    "-c", "max_wal_senders=10", "-c", "max_replication_slots=10", "-c", "fsync=off"));
            for (String s : settings) {
                opts.add("-c");
                opts.add(s);
            }
            runServerTool(List.of(bin("pg_ctl"), "start", "-w", "-t", "60", "-D", dataDir.toString(),
                    "-l", dataDir.resolve("server.log").toString(), "-o", String.join(" ", opts)));
            running = true;
            log.info("event=local_postgres_started port={} data_dir={} bin_dir={}", port, dataDir, binDir);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    /** Fast shutdown: rolls back open transactions and disconnects clients. */
    public void stop() {
        stop("fast");
    }

    public void stop(String mode) {
        if (!running) {
            return;
        }
        try {
            runServerTool(List.of(bin("pg_ctl"), "stop", "-w", "-t", "60", "-m", mode, "-D", dataDir.toString()));
        } catch (IOException e) {
            log.warn("event=local_postgres_stop_failed data_dir={} error=\"{}\"", dataDir, e.getMessage());
        }
        running = false;
    }

    @Override
    public void close() {
        stop();
    }

    /** Stops the server and deletes its data directory. */
    public void destroy() {
        stop("immediate");
        deleteTree(dataDir);
    }

    private void initdb() throws IOException {
        Files.createDirectories(dataDir);
        Path pwFile = Files.createTempFile("neurondb-pw", ".txt");
        try {
            Files.writeString(pwFile, superuserPassword + "\n");
            handToServerUser(dataDir);
            handToServerUser(pwFile);
            runServerTool(List.of(bin("initdb"), "-D", dataDir.toString(), "-U", SUPERUSER, "--pwfile=" + pwFile,
                    "-E", "UTF8", "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"));
        } finally {
            Files.deleteIfExists(pwFile);
        }
    }

    private void writeHba() throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("# written by NeuronDB LocalPostgres at every start");
        lines.add("local all all trust");
        lines.add("local replication all trust");
        lines.addAll(hbaLines);
        lines.add("host all all 127.0.0.1/32 scram-sha-256");
        lines.add("host replication all 127.0.0.1/32 scram-sha-256");
        Path hba = dataDir.resolve("pg_hba.conf");
        Files.write(hba, lines, StandardCharsets.UTF_8);
        handToServerUser(hba);
    }

    private String bin(String name) {
        return binDir.resolve(name).toString();
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** As root, the server runs as the postgres OS user, so it must own what it reads. */
    private static void handToServerUser(Path p) throws IOException {
        if (!isRoot()) {
            return;
        }
        UserPrincipalLookupService users = p.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal owner = users.lookupPrincipalByName(OS_USER);
        GroupPrincipal group = users.lookupPrincipalByGroupName(OS_USER);
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path f : walk.toList()) {
                PosixFileAttributeView view = Files.getFileAttributeView(f, PosixFileAttributeView.class);
                view.setOwner(owner);
                view.setGroup(group);
            }
        }
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwx------" : "rw-------"));
    }

    /** Runs a server program (initdb, pg_ctl): as the postgres OS user when we are root. */
    private static void runServerTool(List<String> command) throws IOException {
        List<String> full = new ArrayList<>();
        if (isRoot()) {
            full.addAll(List.of("runuser", "-u", OS_USER, "--"));
        }
        full.addAll(command);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String output;
        try {
            output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 120 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue() + ":\n" + output);
        }
    }

    /** pg_config's bindir if it has a server, else the newest /usr/lib/postgresql/N/bin. */
    public static Optional<Path> findBinDir() {
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() == 0 && Files.isExecutable(Path.of(out, "initdb"))) {
                return Optional.of(Path.of(out));
            }
        } catch (IOException e) {
            // no pg_config on PATH: try the Debian layout below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(LocalPostgres::majorVersionOf));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int majorVersionOf(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a directory and everything in it, best effort: what cannot go is logged and left. */
    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    log.warn("event=delete_failed path={} error=\"{}\"", p, e.getMessage());
                }
            });
        } catch (IOException e) {
            log.warn("event=delete_failed path={} error=\"{}\"", dir, e.getMessage());
        }
    }

    public static final class Builder {
        private final Path dataDir;
        private Path binDir;
        private int port;
        private final List<String> hbaLines = new ArrayList<>();
        private String superuserPassword = "postgres";
        private final List<String> settings = new ArrayList<>();

        private Builder(Path dataDir) {
            this.dataDir = dataDir;
        }

        public Builder binDir(Path binDir) {
            this.binDir = binDir;
            return this;
        }

        /** 0 picks a free port. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** A pg_hba.conf line, checked before the default scram-sha-256 rule. */
        public Builder hba(String line) {
            hbaLines.add(line);
            return this;
        }

        public Builder superuserPassword(String password) {
            this.superuserPassword = password;
            return this;
        }

        /** A server setting, {@code name=value}, passed with -c at start. */
        public Builder setting(String nameEqualsValue) {
            settings.add(nameEqualsValue);
            return this;
        }

        public LocalPostgres build() {
            return new LocalPostgres(this);
        }
    }
}
