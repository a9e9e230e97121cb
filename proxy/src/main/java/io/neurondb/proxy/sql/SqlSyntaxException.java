package io.neurondb.proxy.sql;

/** SQL text the tokenizer cannot split; reported to clients as SQLSTATE 42601. */
public final class SqlSyntaxException extends RuntimeException {
    public SqlSyntaxException(String message) {
        super(message);
    }

    public String sqlState() {
        return "42601";
    }
}
