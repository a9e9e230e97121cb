package io.neurondb.tests.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a proxy started as its own process, with the JVM flags bin/neurondb-proxy
 * gives it (keep the two in step): the vector incubator module, native access for Netty's
 * epoll library, Unsafe memory access for Netty's buffers, and the pooled allocator. A test
 * that spawned the proxy with a list of its own ran other buffer code than the product does.
 */
public final class ProxyJvm {

    private static final List<String> FLAGS = List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Dio.netty.allocator.type=pooled");

    private ProxyJvm() {
    }

    /** {@code java <flags> -cp <this test's classpath> io.neurondb.proxy.cli.Main <args>}. */
    public static List<String> command(String... args) {
        return command(List.of(), args);
    }

    /** The same, with extra JVM options (system properties) before the class path. */
    public static List<String> command(List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(FLAGS);
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.neurondb.proxy.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
