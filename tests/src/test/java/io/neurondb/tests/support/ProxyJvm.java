package io.neurondb.tests.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a proxy started as its own JVM, with the flags bin/neurondb-proxy gives
 * it: the build's JVM flags ({@code neurondb.jvm.flags} in the root pom, which surefire passes
 * to the tests as a system property: the vector module, native access, Unsafe memory access
 * for Netty's buffers) and the launcher's Netty settings (pooled allocator, no object
 * recycler). A test that spawned the proxy with a list of its own ran other buffer code than
 * the product does.
 */
public final class ProxyJvm {

    private static List<String> flags() {
        String fromBuild = System.getProperty("neurondb.jvm.flags");
        if (fromBuild == null || fromBuild.isBlank()) {
            throw new IllegalStateException("neurondb.jvm.flags is not set: run the tests through Maven (tests/pom.xml passes it)");
        }
        List<String> out = new ArrayList<>(List.of(fromBuild.trim().split("\\s+")));
        // bin/neurondb-proxy's Netty choices: the pooled allocator, and no object recycler.
        out.add("-Dio.netty.allocator.type=pooled");
        out.add("-Dio.netty.recycler.maxCapacityPerThread=0");
        return out;
    }

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
        cmd.addAll(flags());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.neurondb.proxy.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
