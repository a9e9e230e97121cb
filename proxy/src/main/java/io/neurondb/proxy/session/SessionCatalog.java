package io.neurondb.proxy.session;

import io.neurondb.proxy.route.VectorCatalog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Vector tables as one session's open transaction sees them: made or changed by its own DDL,
 * not yet visible to the shared catalog (which is re-read when the transaction ends). Laid
 * over the shared catalog for planning, under a version of its own so cached plans never mix.
 */
final class SessionCatalog {

    /** Versions no shared catalog uses (those count up from 1). */
    private static final AtomicLong VERSIONS = new AtomicLong(Long.MIN_VALUE);

    private final List<VectorCatalog.Table> tables = new ArrayList<>();
    private VectorCatalog base;
    private VectorCatalog merged;

    boolean isEmpty() {
        return tables.isEmpty();
    }

    /** A table as {@code CatalogStatements.TABLE_AS_SEEN} returns it (JSON). */
    void add(String json) {
        JsonObject o = new JsonObject(json);
        Map<String, Integer> dims = new LinkedHashMap<>();
        Map<String, Integer> attnums = new LinkedHashMap<>();
        JsonArray vectors = o.getJsonArray("vectors");
        if (vectors != null) {
            for (int i = 0; i < vectors.size(); i++) {
                JsonObject v = vectors.getJsonObject(i);
                dims.put(v.getString("name"), v.getInteger("dims"));
                attnums.put(v.getString("name"), v.getInteger("attnum"));
            }
        }
        List<String> columns = new ArrayList<>();
        JsonArray all = o.getJsonArray("columns");
        if (all != null) {
            all.forEach(c -> columns.add((String) c));
        }
        VectorCatalog.Table t = new VectorCatalog.Table(o.getString("schema"), o.getString("name"),
                (int) (long) o.getLong("oid"), columns, dims, attnums);
        tables.removeIf(x -> x.oid() == t.oid());
        tables.add(t);
        merged = null;
    }

    void clear() {
        tables.clear();
        merged = null;
        base = null;
    }

    VectorCatalog over(VectorCatalog shared) {
        if (merged == null || base != shared) {
            List<VectorCatalog.Table> all = new ArrayList<>(tables);
            for (VectorCatalog.Table t : shared.tables()) {
                if (tables.stream().noneMatch(x -> x.oid() == t.oid() || (x.schema().equals(t.schema()) && x.name().equals(t.name())))) {
                    all.add(t);
                }
            }
            base = shared;
            merged = new VectorCatalog(VERSIONS.getAndIncrement(), all, shared.indexes());
        }
        return merged;
    }
}
