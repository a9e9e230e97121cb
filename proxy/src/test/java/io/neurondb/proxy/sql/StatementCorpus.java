package io.neurondb.proxy.sql;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The statements of {@code sql/statements.txt}: SQL gathered from the tests, for checks that must hold for any statement. */
public final class StatementCorpus {

    private StatementCorpus() {
    }

    public static List<String> statements() {
        try (InputStream in = StatementCorpus.class.getResourceAsStream("/sql/statements.txt")) {
            if (in == null) {
                throw new IllegalStateException("sql/statements.txt is missing from the test resources");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
