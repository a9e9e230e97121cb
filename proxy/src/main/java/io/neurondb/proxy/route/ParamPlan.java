package io.neurondb.proxy.route;

import java.util.BitSet;
import java.util.List;

/**
 * The parameters of a statement the proxy sends in place of the client's.
 *
 * <p>The rewritten SQL keeps the client's {@code $1..$clientParams} with their meaning, and
 * numbers the proxy's own values after them, {@code $(clientParams+1)...}, in the order of
 * {@link #extras()}. Every client parameter stays referenced, so PostgreSQL still infers its
 * type as it would for the original statement.
 *
 * @param clientParams  the highest {@code $n} the client's statement uses
 * @param vectorParams  client parameters (1-based bit index) that carry vectors: converted
 *                      from pgvector's text or binary form to {@code real[]} at Bind, and
 *                      declared {@code real[]} in the Parse
 * @param extras        the proxy's own parameters, in order
 */
public record ParamPlan(int clientParams, BitSet vectorParams, List<Extra> extras) {

    public static final int REAL_ARRAY_OID = 1021;
    public static final int BIGINT_ARRAY_OID = 1016;

    public ParamPlan {
        vectorParams = (BitSet) vectorParams.clone();
        extras = List.copyOf(extras);
    }

    public static ParamPlan none(int clientParams) {
        return new ParamPlan(clientParams, new BitSet(), List.of());
    }

    public boolean isVector(int param) {
        return vectorParams.get(param);
    }

    public int totalParams() {
        return clientParams + extras.size();
    }

    /** A value the proxy binds itself. */
    public sealed interface Extra {
        int typeOid();
    }

    /** A vector literal of the client's SQL, lifted out of the text into a {@code real[]} parameter. */
    public record VectorValue(float[] value) implements Extra {
        @Override
        public int typeOid() {
            return REAL_ARRAY_OID;
        }
    }

    /** The proxy's index figures as {@code neurondb.index_stats(jsonb)} reads them. */
    public record IndexStatsJson() implements Extra {
        @Override
        public int typeOid() {
            return 3802; // jsonb
        }
    }

    /** The engine's candidate row ids, nearest first ({@code bigint[]}). */
    public record CandidateIds() implements Extra {
        @Override
        public int typeOid() {
            return BIGINT_ARRAY_OID;
        }
    }

    /** The engine's distances of those candidates, as the operator reports them ({@code real[]}). */
    public record CandidateDistances() implements Extra {
        @Override
        public int typeOid() {
            return REAL_ARRAY_OID;
        }
    }
}
