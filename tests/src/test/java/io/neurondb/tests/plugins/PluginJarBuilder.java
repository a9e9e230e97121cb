package io.neurondb.tests.plugins;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * Builds a real PF4J plugin JAR at test time: compiles the given sources against the test
 * class path (which holds the plugin API and PF4J), writes the manifest and the extension
 * index, and packs them, the way a third party's plugin build would.
 */
final class PluginJarBuilder {

    private PluginJarBuilder() {
    }

    static Path build(Path workDir, String pluginId, Map<String, String> sources, String... extensionClasses) throws IOException {
        Path src = Files.createDirectories(workDir.resolve(pluginId + "-src"));
        Path classes = Files.createDirectories(workDir.resolve(pluginId + "-classes"));
        String[] args = new String[sources.size() + 4];
        int i = 0;
        args[i++] = "-d";
        args[i++] = classes.toString();
        args[i++] = "-cp";
        args[i++] = System.getProperty("java.class.path");
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path file = src.resolve(e.getKey().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
            args[i++] = file.toString();
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        if (javac.run(null, null, errors, args) != 0) {
            throw new IllegalStateException("plugin did not compile:\n" + errors.toString(StandardCharsets.UTF_8));
        }
        Manifest manifest = new Manifest();
        Attributes a = manifest.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Plugin-Id", pluginId);
        a.putValue("Plugin-Version", "1.0.0");
        a.putValue("Plugin-Provider", "tests");
        Path jar = workDir.resolve(pluginId + ".jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(out, manifest);
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                jos.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                jos.write(Files.readAllBytes(f));
                jos.closeEntry();
            }
            jos.putNextEntry(new JarEntry("META-INF/extensions.idx"));
            jos.write((String.join("\n", extensionClasses) + "\n").getBytes(StandardCharsets.UTF_8));
            jos.closeEntry();
        }
        return jar;
    }
}
