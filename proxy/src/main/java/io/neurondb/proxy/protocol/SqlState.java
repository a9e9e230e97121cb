package io.neurondb.proxy.protocol;

/** SQLSTATE codes the proxy itself raises, as listed in PostgreSQL's Appendix A. */
public final class SqlState {

    private SqlState() {
    }

    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION = "08001";
    public static final String CONNECTION_FAILURE = "08006";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String INVALID_AUTHORIZATION_SPECIFICATION = "28000";
    public static final String PROGRAM_LIMIT_EXCEEDED = "54000";
    public static final String TOO_MANY_CONNECTIONS = "53300";
    public static final String ADMIN_SHUTDOWN = "57P01";
    public static final String INTERNAL_ERROR = "XX000";
    public static final String DATA_EXCEPTION = "22000";
    public static final String INVALID_PARAMETER_VALUE = "22023";
    public static final String IN_FAILED_SQL_TRANSACTION = "25P02";
    public static final String UNDEFINED_OBJECT = "42704";
    public static final String DUPLICATE_PREPARED_STATEMENT = "42P05";
    public static final String UNDEFINED_PREPARED_STATEMENT = "26000";
    public static final String INVALID_CURSOR_NAME = "34000";
}
