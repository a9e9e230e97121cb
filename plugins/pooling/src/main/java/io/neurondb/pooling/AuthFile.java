package io.neurondb.pooling;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * PgBouncer's auth file ({@code auth_file}): one user per line, {@code "user" "secret"}, with a
 * double quote inside a value written twice; lines starting with ';' or '#' and blank lines are
 * ignored. Secrets are plain, md5 or SCRAM (see {@link Secret}).
 */
public final class AuthFile {

    private final Map<String, Secret> secrets;

    private AuthFile(Map<String, Secret> secrets) {
        this.secrets = secrets;
    }

    public static AuthFile empty() {
        return new AuthFile(Map.of());
    }

    public static AuthFile read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("plugins.pooling.auth_file: cannot read " + file + ": " + e.getMessage());
        }
        return parse(lines, file.toString());
    }

    static AuthFile parse(List<String> lines, String name) {
        Map<String, Secret> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) {
                continue;
            }
            List<String> fields = quotedFields(line);
            if (fields.size() < 2) {
                throw new IllegalArgumentException("plugins.pooling.auth_file " + name + " line " + (i + 1)
                        + ": expected \"user\" \"password\"");
            }
            try {
                out.put(fields.get(0), Secret.parse(fields.get(1)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("plugins.pooling.auth_file " + name + " line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return new AuthFile(out);
    }

    private static List<String> quotedFields(String line) {
        List<String> fields = new java.util.ArrayList<>();
        int i = 0;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c != '"') {
                i++;
                continue;
            }
            StringBuilder b = new StringBuilder();
            i++;
            while (i < line.length()) {
                char d = line.charAt(i);
                if (d == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        b.append('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                b.append(d);
                i++;
            }
            fields.add(b.toString());
            i++;
        }
        return fields;
    }

    public Optional<Secret> secret(String user) {
        return Optional.ofNullable(secrets.get(user));
    }
}
