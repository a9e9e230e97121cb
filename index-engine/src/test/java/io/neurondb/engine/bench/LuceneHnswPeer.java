package io.neurondb.engine.bench;

import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TaskExecutor;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.util.FixedBitSet;
import org.apache.lucene.util.hnsw.HnswConcurrentMergeBuilder;
import org.apache.lucene.util.hnsw.HnswGraph;
import org.apache.lucene.util.hnsw.NeighborArray;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Apache Lucene's in-memory HNSW (the graph classes under its codecs), built and searched on
 * the same vectors with the same m, ef_construction and threads: the peer our figures are
 * compared with. Lucene's {@code maxConn} is our {@code m} (it also keeps 2 * maxConn on
 * layer 0) and its {@code beamWidth} is ef_construction.
 */
final class LuceneHnswPeer implements AutoCloseable {

    private final FloatVectorValues values;
    private final VectorSimilarityFunction similarity;
    private final OnHeapHnswGraph graph;
    private final ExecutorService pool;
    /** Lucene's on-heap graph keeps its seek cursor in the object, so each search thread gets a view. */
    private final ThreadLocal<GraphView> views;

    LuceneHnswPeer(Dataset data, boolean l2, int m, int efConstruction, int threads) throws IOException {
        List<float[]> rows = new ArrayList<>(data.baseCount());
        for (int i = 0; i < data.baseCount(); i++) {
            rows.add(data.baseRow(i));
        }
        this.values = FloatVectorValues.fromFloats(rows, data.dims());
        // Unit vectors: dot product ranks as cosine does and is Lucene's advice for them.
        this.similarity = l2 ? VectorSimilarityFunction.EUCLIDEAN : VectorSimilarityFunction.DOT_PRODUCT;
        RandomVectorScorerSupplier supplier =
                DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorerSupplier(similarity, values);
        int n = data.baseCount();
        this.pool = Executors.newFixedThreadPool(Math.max(1, threads));
        if (threads <= 1) {
            this.graph = HnswGraphBuilder.create(supplier, m, efConstruction, 42).build(n);
        } else {
            OnHeapHnswGraph empty = HnswGraphBuilder.create(supplier, m, efConstruction, 42, n).getGraph();
            var builder = new HnswConcurrentMergeBuilder(new TaskExecutor(pool), threads, supplier,
                    m, efConstruction, empty, new FixedBitSet(n));
            this.graph = builder.build(n);
        }
        this.views = ThreadLocal.withInitial(() -> new GraphView(graph));
    }

    /** A read-only cursor over the built graph, one per thread. */
    private static final class GraphView extends HnswGraph {
        private final OnHeapHnswGraph graph;
        private int[] nodes;
        private int size;
        private int upto;

        GraphView(OnHeapHnswGraph graph) {
            this.graph = graph;
        }

        @Override
        public void seek(int level, int target) {
            NeighborArray a = graph.getNeighbors(level, target);
            nodes = a.nodes();
            size = a.size();
            upto = -1;
        }

        @Override
        public int nextNeighbor() {
            return ++upto < size ? nodes[upto] : DocIdSetIterator.NO_MORE_DOCS;
        }

        @Override
        public int neighborCount() {
            return size;
        }

        @Override
        public int size() {
            return graph.size();
        }

        @Override
        public int maxNodeId() {
            return graph.maxNodeId();
        }

        @Override
        public int numLevels() {
            return graph.numLevels();
        }

        @Override
        public int maxConn() {
            return graph.maxConn();
        }

        @Override
        public int entryNode() {
            return graph.entryNode();
        }

        @Override
        public NodesIterator getNodesOnLevel(int level) {
            return graph.getNodesOnLevel(level);
        }
    }

    long graphBytes() {
        return graph.ramBytesUsed();
    }

    int[] search(float[] query, int k, int ef) throws IOException {
        RandomVectorScorer scorer = DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorer(similarity, values, query);
        TopKnnCollector collector = new TopKnnCollector(Math.max(k, ef), Integer.MAX_VALUE);
        HnswGraphSearcher.search(scorer, collector, views.get(), null);
        ScoreDoc[] docs = collector.topDocs().scoreDocs;
        Arrays.sort(docs, (a, b) -> Float.compare(b.score, a.score));
        int[] out = new int[Math.min(k, docs.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = docs[i].doc;
        }
        return out;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
