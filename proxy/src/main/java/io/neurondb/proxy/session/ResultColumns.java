package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.BackendMessages;
import io.neurondb.proxy.protocol.BackendMessages.Field;
import io.neurondb.proxy.protocol.BindMessage;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.route.VectorCatalog;
import io.neurondb.proxy.values.RealArrayBinary;
import io.neurondb.proxy.values.RealArrayText;
import io.neurondb.proxy.values.VectorText;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Which columns of a result hold vectors, so they reach the client as pgvector shows them:
 * typed {@code text} in the RowDescription and written {@code [1,2,3]} in each row, where
 * PostgreSQL (storing them as {@code real[]}) would say {@code {1,2,3}}.
 *
 * <p>A statement's shape is learnt from its RowDescription (a Describe's, or a simple query's)
 * and the formats from the Bind that made the portal.
 */
final class ResultColumns {

    private static final int REAL_ARRAY_OID = 1021;
    private static final int[] NONE = new int[0];

    /** Positions of vector columns; null until a RowDescription was seen. */
    private int[] vectorColumns;
    /** A portal's columns follow its statement's shape, learnt maybe after the Bind was sent. */
    private ResultColumns source;
    /** Formats of the portal's columns, from its Bind; null = all text. */
    private BindMessage bind;
    /** A kNN statement: its real[] columns are vectors even where the origin table is lost (UNION). */
    private final boolean everyRealArray;

    ResultColumns(boolean everyRealArray) {
        this.everyRealArray = everyRealArray;
    }

    /** The same shape, with the formats one portal asked for. */
    ResultColumns forPortal(BindMessage bind) {
        ResultColumns r = new ResultColumns(everyRealArray);
        r.source = this;
        r.bind = bind;
        return r;
    }

    private int[] columns() {
        return vectorColumns != null ? vectorColumns : source != null ? source.columns() : null;
    }

    boolean hasVectors() {
        int[] c = columns();
        return c != null && c.length > 0;
    }

    /**
     * Learns the shape from a RowDescription and returns the description the client should
     * see: unchanged (the same frame) when no column holds vectors.
     */
    Buffer onRowDescription(Frame frame, VectorCatalog catalog) {
        // The hot path of plain traffic: no vector table anywhere, or no real[] column here.
        if ((!everyRealArray && catalog.tables().isEmpty()) || !BackendMessages.hasFieldOfType(frame, REAL_ARRAY_OID)) {
            vectorColumns = NONE;
            return null;
        }
        List<Field> fields = BackendMessages.decodeRowDescription(frame);
        List<Integer> found = new ArrayList<>();
        List<Field> shown = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            if (f.typeOid() == REAL_ARRAY_OID && isVector(f, catalog)) {
                found.add(i);
                shown.add(f.withType(BackendMessages.TEXT_OID, (short) -1, -1));
            } else {
                shown.add(f);
            }
        }
        vectorColumns = found.isEmpty() ? NONE : found.stream().mapToInt(Integer::intValue).toArray();
        return found.isEmpty() ? null : BackendMessages.rowDescription(shown);
    }

    private boolean isVector(Field f, VectorCatalog catalog) {
        if (everyRealArray && f.tableOid() == 0) {
            return true;
        }
        return catalog.tableByOid(f.tableOid())
                .map(t -> t.vectorAttnums().containsValue((int) f.attnum()))
                .orElse(false);
    }

    /** A DataRow as the client should see it, or null when it passes unchanged. */
    Buffer onDataRow(Frame frame) {
        int[] cols = columns();
        if (cols == null || cols.length == 0) {
            return null;
        }
        Buffer[] values = BackendMessages.decodeDataRow(frame);
        for (int c : cols) {
            if (c < values.length && values[c] != null) {
                values[c] = toVectorText(values[c], bind == null ? BindMessage.TEXT : bind.resultFormat(c));
            }
        }
        return BackendMessages.dataRow(values);
    }

    private static Buffer toVectorText(Buffer value, short format) {
        byte[] bytes = value.getBytes();
        if (format == BindMessage.TEXT) {
            return Buffer.buffer(RealArrayText.toVectorText(bytes));
        }
        // The column is announced as text, whose binary form is its UTF-8 bytes.
        float[] v = RealArrayBinary.decode(bytes, 0, bytes.length);
        return Buffer.buffer(VectorText.format(v).getBytes(StandardCharsets.UTF_8));
    }
}
