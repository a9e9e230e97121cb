package io.neurondb.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The repository's built plugins, as {@code ./mvnw package} leaves them in {@code <root>/plugins.d}.
 * A test copies the ones it needs into a folder of its own and points the proxy at it.
 */
public final class PluginJars {

    private PluginJars() {
    }

    /** The repository's {@code plugins.d}: the tests module runs with its own folder as working directory. */
    public static Path builtPluginsDir() {
        Path root = Path.of("").toAbsolutePath();
        while (root != null && !Files.isDirectory(root.resolve("plugins.d"))) {
            root = root.getParent();
        }
        if (root == null) {
            throw new IllegalStateException("no plugins.d above " + Path.of("").toAbsolutePath()
                    + ": package the plugin modules first (./mvnw package -DskipTests)");
        }
        return root.resolve("plugins.d");
    }

    /**
     * A new temporary folder holding copies of the built jars of the given plugins
     * (ids as in their manifests: metrics, slow-query, backup, pooling).
     */
    public static Path directoryWith(String... pluginIds) {
        try {
            Path dir = Files.createTempDirectory("neurondb-test-plugins-");
            for (String id : pluginIds) {
                Files.copy(jarOf(id), dir.resolve("neurondb-plugin-" + id + ".jar"), StandardCopyOption.REPLACE_EXISTING);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The built jar of one plugin. */
    public static Path jarOf(String pluginId) throws IOException {
        Path found = null;
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(builtPluginsDir(), "neurondb-plugin-" + pluginId + "-*.jar")) {
            for (Path jar : jars) {
                if (found != null) {
                    throw new IllegalStateException("more than one built jar of plugin " + pluginId + ": " + found + ", " + jar);
                }
                found = jar;
            }
        }
        if (found == null) {
            throw new IllegalStateException("plugin " + pluginId + " is not built in " + builtPluginsDir()
                    + ": run ./mvnw package -DskipTests first");
        }
        return found;
    }
}
