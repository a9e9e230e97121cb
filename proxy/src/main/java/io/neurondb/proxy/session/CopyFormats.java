package io.neurondb.proxy.session;

import io.neurondb.proxy.route.Effect;
import io.neurondb.proxy.route.VectorCatalog;
import io.neurondb.proxy.values.CopyFormat;
import io.neurondb.proxy.values.VectorColumn;

import java.util.ArrayList;
import java.util.List;

/** From a COPY statement's options (as the router read them) to the translator's settings. */
final class CopyFormats {

    private CopyFormats() {
    }

    static CopyFormat of(Effect.CopyOptions o) {
        CopyFormat f = o.csv() ? CopyFormat.csv() : CopyFormat.text();
        if (o.delimiter() != null && !o.delimiter().isEmpty()) {
            f = f.withDelimiter(o.delimiter().charAt(0));
        }
        if (o.nullString() != null) {
            f = f.withNullString(o.nullString());
        }
        if (o.csv() && o.quote() != null && !o.quote().isEmpty()) {
            f = f.withQuote(o.quote().charAt(0));
        }
        if (o.csv() && o.escape() != null && !o.escape().isEmpty()) {
            f = f.withEscape(o.escape().charAt(0));
        }
        return f.withHeader(o.header());
    }

    static List<VectorColumn> vectorColumns(Effect.CopyIn copy, VectorCatalog catalog) {
        var table = catalog.table(copy.table());
        List<VectorColumn> out = new ArrayList<>(copy.vectorPositions().length);
        for (int position : copy.vectorPositions()) {
            String name = copy.columnNames().get(position);
            Integer dims = table.map(t -> t.vectorDims().get(name)).orElse(null);
            out.add(new VectorColumn(position, name, dims == null ? 0 : dims));
        }
        return out;
    }
}
