package io.neurondb.backup.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON manifest beside each backup's files ({@code manifest.json}): what was backed up, from
 * which server and when, the LSN range, each file's size and SHA-256 (of the file as stored,
 * encrypted or not), the encryption key's id, the row count of every table and the vector index
 * definitions. Restores and the verification job check against it.
 */
public final class Manifest {

    public static final String FILE = "manifest.json";
    public static final int FORMAT = 1;

    private final JsonObject json;

    public Manifest(JsonObject json) {
        this.json = json;
    }

    public static Manifest create(long id, String kind) {
        return new Manifest(new JsonObject().put("format", FORMAT).put("id", id).put("kind", kind).put("files", new JsonArray()));
    }

    public static Manifest read(Path file) throws IOException {
        try {
            return new Manifest(new JsonObject(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            throw new IOException(file + " is not a valid backup manifest: " + e.getMessage());
        }
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, json.encodePrettily() + "\n", StandardCharsets.UTF_8);
    }

    public JsonObject json() {
        return json;
    }

    public Manifest put(String key, Object value) {
        json.put(key, value);
        return this;
    }

    public long id() {
        return json.getLong("id");
    }

    public String kind() {
        return json.getString("kind");
    }

    public String string(String key) {
        return json.getString(key);
    }

    public String keyId() {
        return json.getString("key_id");
    }

    public void addFile(String name, long bytes, String sha256) {
        json.getJsonArray("files").add(new JsonObject().put("name", name).put("bytes", bytes).put("sha256", sha256));
    }

    /** File name → expected SHA-256. */
    public Map<String, String> files() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Object o : json.getJsonArray("files")) {
            JsonObject f = (JsonObject) o;
            m.put(f.getString("name"), f.getString("sha256"));
        }
        return m;
    }

    public long totalBytes() {
        long total = 0;
        for (Object o : json.getJsonArray("files")) {
            total += ((JsonObject) o).getLong("bytes");
        }
        return total;
    }

    /** Qualified table name → rows at the backup's snapshot (logical backups). */
    public Map<String, Long> rowCounts() {
        Map<String, Long> m = new LinkedHashMap<>();
        JsonObject counts = json.getJsonObject("row_counts", new JsonObject());
        counts.forEach(e -> m.put(e.getKey(), ((Number) e.getValue()).longValue()));
        return m;
    }
}
