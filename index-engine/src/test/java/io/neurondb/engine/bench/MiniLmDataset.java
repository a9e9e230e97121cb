package io.neurondb.engine.bench;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Real sentence embeddings: the distinct one-line package descriptions of the local Debian
 * package list ({@code apt-cache dumpavail}), embedded offline with all-MiniLM-L6-v2 (384-d,
 * unit length). Embedding takes minutes on two cores, so vectors are cached under
 * {@code bench/data/}. The first {@code queryCount} texts of a seeded shuffle are held out as
 * queries, so no query is in the base set.
 */
final class MiniLmDataset {

    private MiniLmDataset() {
    }

    static Dataset load(Path dataDir, int queryCount) throws Exception {
        Path baseFile = dataDir.resolve("minilm-base.f32");
        Path queryFile = dataDir.resolve("minilm-queries.f32");
        if (!Files.exists(baseFile) || !Files.exists(queryFile)) {
            build(dataDir, queryCount, baseFile, queryFile);
        }
        int[] bs = new int[2];
        int[] qs = new int[2];
        float[] base = Dataset.readMatrix(baseFile, bs);
        float[] queries = Dataset.readMatrix(queryFile, qs);
        return new Dataset("minilm-apt-descriptions", bs[1], base, bs[0], queries, qs[0]);
    }

    private static void build(Path dataDir, int queryCount, Path baseFile, Path queryFile) throws Exception {
        List<String> texts = new ArrayList<>(descriptions());
        if (texts.size() < queryCount * 2) {
            throw new IllegalStateException("only " + texts.size()
                    + " package descriptions found; run 'apt-get update' first");
        }
        Collections.shuffle(texts, new Random(42));
        System.out.printf("embedding %d texts with all-MiniLM-L6-v2 (cached in %s)%n", texts.size(), dataDir);
        var model = new AllMiniLmL6V2EmbeddingModel();
        int dims = 384;
        float[] all = new float[texts.size() * dims];
        int batch = 256;
        long start = System.nanoTime();
        for (int from = 0; from < texts.size(); from += batch) {
            int to = Math.min(texts.size(), from + batch);
            List<TextSegment> segments = texts.subList(from, to).stream().map(TextSegment::from).toList();
            List<Embedding> embedded = model.embedAll(segments).content();
            for (int i = 0; i < embedded.size(); i++) {
                System.arraycopy(embedded.get(i).vector(), 0, all, (from + i) * dims, dims);
            }
            if ((from / batch) % 20 == 0) {
                System.out.printf("  %d / %d (%.0f s)%n", to, texts.size(), (System.nanoTime() - start) / 1e9);
            }
        }
        float[] queries = new float[queryCount * dims];
        System.arraycopy(all, 0, queries, 0, queries.length);
        int baseCount = texts.size() - queryCount;
        float[] base = new float[baseCount * dims];
        System.arraycopy(all, queries.length, base, 0, base.length);
        Dataset.writeMatrix(queryFile, queries, queryCount, dims);
        Dataset.writeMatrix(baseFile, base, baseCount, dims);
    }

    /** Distinct "Description:" lines, in a stable order. */
    private static Set<String> descriptions() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("apt-cache", "dumpavail").redirectErrorStream(false).start();
        Set<String> out = new LinkedHashSet<>();
        try (var r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("Description: ")) {
                    out.add(line.substring("Description: ".length()).strip());
                }
            }
        }
        p.waitFor();
        return out;
    }

    public static void main(String[] args) throws Exception {
        Dataset d = load(Path.of(args.length > 0 ? args[0] : "index-engine/bench/data"), 1000);
        System.out.printf("%s: %d base, %d queries, %d dims%n", d.name(), d.baseCount(), d.queryCount(), d.dims());
    }
}
