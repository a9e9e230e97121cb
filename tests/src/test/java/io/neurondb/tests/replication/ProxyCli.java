package io.neurondb.tests.replication;

import io.neurondb.tests.support.ProxyJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code io.neurondb.proxy.cli.Main} as its own JVM (as bin/neurondb-proxy does) with the fixture's configuration. */
final class ProxyCli {

    record Result(int exitCode, String output) {
    }

    private ProxyCli() {
    }

    static Process start(ReplicaFixture f, int port, Path home, String... args) throws Exception {
        Path plugins = Files.createDirectories(home.resolve("plugins"));
        Path config = home.resolve("neurondb.yaml");
        Files.writeString(config, "listen: 127.0.0.1:" + port + "\n"
                + "upstream: postgresql://postgres:postgres@127.0.0.1:" + f.pg.port() + "/postgres\n"
                + "metrics_port: 0\nevent_loops: 2\nplugins_dir: " + plugins + "\n" + f.yaml());
        List<String> cmd = new ArrayList<>(ProxyJvm.command("--config", config.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(home.resolve("proxy.log").toFile());
        pb.environment().put("NEURONDB_HOME", home.toString());
        return pb.start();
    }

    static Result run(ReplicaFixture f, String... args) throws Exception {
        Path home = Files.createTempDirectory("neurondb-cli-");
        Process p = start(f, 0, home, args);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("neurondb-proxy " + String.join(" ", args) + " did not finish");
        }
        String out = Files.readString(home.resolve("proxy.log"));
        return new Result(p.exitValue(), out);
    }
}
