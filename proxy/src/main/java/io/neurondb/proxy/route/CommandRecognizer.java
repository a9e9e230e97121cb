package io.neurondb.proxy.route;

import io.neurondb.proxy.route.Effect.CopyIn;
import io.neurondb.proxy.route.Effect.CopyOptions;
import io.neurondb.proxy.route.ProxyCommand.CallFunction;
import io.neurondb.proxy.route.ProxyCommand.CallPluginFunction;
import io.neurondb.proxy.route.ProxyCommand.CreateExtension;
import io.neurondb.proxy.route.ProxyCommand.CreateVectorIndex;
import io.neurondb.proxy.route.ProxyCommand.DropExtension;
import io.neurondb.proxy.route.ProxyCommand.DropVectorIndexes;
import io.neurondb.proxy.route.ProxyCommand.NeuronDbFunction;
import io.neurondb.proxy.route.ProxyCommand.ReindexVectorIndex;
import io.neurondb.proxy.route.ProxyCommand.Reject;
import io.neurondb.proxy.route.ProxyCommand.SetSetting;
import io.neurondb.proxy.route.ProxyCommand.ShowSetting;
import io.neurondb.proxy.route.ProxyCommand.UpdateExtension;
import io.neurondb.proxy.route.StatementPlan.Command;
import io.neurondb.proxy.route.StatementPlan.Passthrough;
import io.neurondb.proxy.sql.SqlSyntaxException;
import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlToken.Kind;
import io.neurondb.proxy.sql.SqlTokenizer;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Recognises, in ONE statement, the forms the proxy carries out itself or must follow up on:
 * extension DDL, vector index DDL ({@code CREATE INDEX ... USING hnsw|ivfflat}, {@code DROP
 * INDEX}, {@code REINDEX INDEX}), the settings it owns ({@code SET/RESET/SHOW hnsw.*,
 * ivfflat.*, neurondb.*}), its functions in their plain shapes, {@code COPY ... FROM STDIN}
 * into tables with vector columns, and {@code DROP TABLE} / {@code TRUNCATE} of such tables.
 *
 * <p>Works on {@link SqlTokenizer} tokens only, so text inside literals, quoted identifiers
 * and comments is never taken for a statement. Identifiers fold as PostgreSQL folds them
 * (unquoted: ASCII lower case; quoted: exact; both truncated to 63 bytes). Anything that is
 * not one of these forms, or does not parse as one, gives {@link Optional#empty()}: the
 * statement then goes its ordinary way and PostgreSQL reports any error itself. Errors the
 * proxy must raise itself (PostgreSQL would not, as it does not know the object) come back as
 * {@link Reject} with PostgreSQL's or pgvector's SQLSTATE and wording. Stateless and pure.
 */
public final class CommandRecognizer {

    /** PostgreSQL's NAMEDATALEN - 1. */
    private static final int MAX_IDENTIFIER_BYTES = 63;

    private static final Set<String> OUR_EXTENSIONS = Set.of("neurondb", "vector");
    private static final Set<String> SETTING_PREFIXES = Set.of("hnsw", "ivfflat", "neurondb");

    /** Words that cannot be a bare column alias after a select item. */
    private static final Set<String> NOT_BARE_ALIAS = Set.of("from", "where", "group", "having", "window", "order",
            "limit", "offset", "fetch", "for", "union", "intersect", "except", "into", "returning", "on", "using");

    /** Names (lower case, without the schema) of the neurondb.* functions plugins answer. */
    private final Set<String> pluginFunctions;

    public CommandRecognizer() {
        this(Set.of());
    }

    public CommandRecognizer(Set<String> pluginFunctions) {
        this.pluginFunctions = Set.copyOf(pluginFunctions);
    }

    /** Thrown (without a stack trace) when the statement is not one of ours after all. */
    private static final class NotOurs extends RuntimeException {
        static final NotOurs INSTANCE = new NotOurs();

        private NotOurs() {
            super(null, null, false, false);
        }
    }

    private static NotOurs notOurs() {
        return NotOurs.INSTANCE;
    }

    /**
     * The plan for {@code sql} when it is one of the recognised forms, else empty.
     *
     * @param sql     one statement; a trailing semicolon is allowed, several statements are not
     * @param catalog the vector catalog to resolve tables and indexes against
     */
    public Optional<StatementPlan> recognize(String sql, VectorCatalog catalog) {
        try {
            return recognize(SqlTokenizer.tokenize(sql), catalog);
        } catch (SqlSyntaxException e) {
            return Optional.empty();
        }
    }

    /** {@link #recognize(String, VectorCatalog)} of a statement already tokenized (the router tokenizes once). */
    Optional<StatementPlan> recognize(List<SqlToken> statementTokens, VectorCatalog catalog) {
        List<SqlToken> tokens = new ArrayList<>(statementTokens);
        while (!tokens.isEmpty() && tokens.getLast().isPunctuation(';')) {
            tokens.removeLast();
        }
        if (tokens.isEmpty() || tokens.stream().anyMatch(t -> t.isPunctuation(';'))) {
            return Optional.empty();
        }
        Cursor c = new Cursor(tokens);
        try {
            return Optional.ofNullable(dispatch(c, catalog, pluginFunctions));
        } catch (NotOurs e) {
            return Optional.empty();
        }
    }

    private static StatementPlan dispatch(Cursor c, VectorCatalog catalog, Set<String> pluginFunctions) {
        SqlToken first = c.next();
        if (first.kind() != Kind.WORD) {
            return null;
        }
        return switch (first.text().toLowerCase(Locale.ROOT)) {
            case "create" -> create(c, catalog);
            case "alter" -> c.acceptWord("extension") ? alterExtension(c) : null;
            case "drop" -> drop(c, catalog);
            case "reindex" -> reindex(c, catalog);
            case "set" -> set(c);
            case "reset" -> reset(c);
            case "show" -> show(c);
            case "select" -> select(c, pluginFunctions);
            case "copy" -> copy(c, catalog);
            case "truncate" -> truncate(c, catalog);
            default -> null;
        };
    }

    private static Command reject(String sqlState, String message) {
        return new Command(new Reject(sqlState, message));
    }

    // ------------------------------------------------------------------ extensions

    private static StatementPlan create(Cursor c, VectorCatalog catalog) {
        if (c.acceptWord("extension")) {
            return createExtension(c);
        }
        boolean unique = c.acceptWord("unique");
        if (c.acceptWord("index")) {
            return createIndex(c, catalog, unique);
        }
        return null;
    }

    private static StatementPlan createExtension(Cursor c) {
        boolean ifNotExists = c.acceptWords("if", "not", "exists");
        String name = c.identifier();
        if (!OUR_EXTENSIONS.contains(name)) {
            return null;
        }
        c.acceptWord("with");
        String schema = null;
        String version = null;
        boolean sawSchema = false;
        boolean sawVersion = false;
        boolean sawCascade = false;
        boolean conflict = false;
        while (!c.atEnd()) {
            if (c.acceptWord("schema")) {
                conflict |= sawSchema;
                sawSchema = true;
                schema = c.identifier();
            } else if (c.acceptWord("version")) {
                conflict |= sawVersion;
                sawVersion = true;
                version = c.wordOrString();
            } else if (c.acceptWord("cascade")) {
                conflict |= sawCascade;
                sawCascade = true;
            } else {
                throw notOurs();
            }
        }
        if (conflict) {
            return reject("42601", "conflicting or redundant options");
        }
        return new Command(new CreateExtension(name, schema, version, ifNotExists));
    }

    private static StatementPlan alterExtension(Cursor c) {
        String name = c.identifier();
        if (!OUR_EXTENSIONS.contains(name)) {
            return null;
        }
        if (c.acceptWord("update")) {
            String to = null;
            if (c.acceptWord("to")) {
                to = c.wordOrString();
            }
            if (c.atEnd()) {
                return new Command(new UpdateExtension(name, to));
            }
        }
        return reject("0A000", "ALTER EXTENSION " + name + " is not supported through the NeuronDB proxy"
                + " except ALTER EXTENSION " + name + " UPDATE [TO version]");
    }

    private static StatementPlan drop(Cursor c, VectorCatalog catalog) {
        if (c.acceptWord("extension")) {
            return dropExtension(c);
        }
        if (c.acceptWord("index")) {
            return dropIndex(c, catalog);
        }
        if (c.acceptWord("table")) {
            return dropTable(c, catalog);
        }
        if (c.acceptWord("database")) {
            return dropDatabase(c);
        }
        return null;
    }

    /**
     * {@code DROP DATABASE [IF EXISTS] name [[WITH] (FORCE)]}: forwarded as written; the proxy
     * first gets its own connections and replication stream out of the database.
     */
    private static StatementPlan dropDatabase(Cursor c) {
        c.acceptWords("if", "exists");
        String name = c.identifier();
        return new Passthrough(new Effect.DatabaseDropped(name));
    }

    private static StatementPlan dropExtension(Cursor c) {
        boolean ifExists = c.acceptWords("if", "exists");
        List<String> names = new ArrayList<>();
        do {
            names.add(c.identifier());
        } while (c.acceptPunct(','));
        boolean cascade = dropBehaviour(c);
        c.expectEnd();
        Set<String> ours = new LinkedHashSet<>();
        boolean others = false;
        for (String n : names) {
            if (OUR_EXTENSIONS.contains(n)) {
                ours.add(n);
            } else {
                others = true;
            }
        }
        if (ours.isEmpty()) {
            return null;
        }
        String first = ours.iterator().next();
        if (others || ours.size() > 1) {
            return reject("0A000", "DROP EXTENSION " + first + " cannot be combined with dropping other extensions"
                    + " through the NeuronDB proxy; drop them separately");
        }
        return new Command(new DropExtension(first, ifExists, cascade));
    }

    /** {@code [CASCADE | RESTRICT]}: whether CASCADE. */
    private static boolean dropBehaviour(Cursor c) {
        if (c.acceptWord("cascade")) {
            return true;
        }
        c.acceptWord("restrict");
        return false;
    }

    // ------------------------------------------------------------------ CREATE INDEX

    private static StatementPlan createIndex(Cursor c, VectorCatalog catalog, boolean unique) {
        c.acceptWord("concurrently");
        boolean ifNotExists = false;
        String name = null;
        if (c.peekWord("if") && c.peekWordAt(1, "not") && c.peekWordAt(2, "exists")) {
            c.skip(3);
            ifNotExists = true;
            name = c.identifier();
        } else if (!c.peekWord("on")) {
            name = c.identifier();
        }
        c.expectWord("on");
        c.acceptWord("only");
        TableName table = c.qualifiedName();
        c.acceptOperator("*");
        if (!c.acceptWord("using")) {
            return null;
        }
        String methodName = c.identifier();
        if (!methodName.equals("hnsw") && !methodName.equals("ivfflat")) {
            return null;
        }
        IndexMethod method = IndexMethod.fromSql(methodName).orElseThrow();
        List<List<SqlToken>> elements = c.parenthesizedList();

        boolean include = false;
        if (c.acceptWord("include")) {
            c.parenthesizedList();
            include = true;
        }
        if (c.acceptWord("nulls")) {
            c.acceptWord("not");
            c.expectWord("distinct");
        }
        List<List<SqlToken>> withOptions = null;
        if (c.acceptWord("with")) {
            withOptions = c.parenthesizedList();
        }
        if (c.acceptWord("tablespace")) {
            c.identifier();
        }
        boolean partial = false;
        if (c.acceptWord("where")) {
            if (c.atEnd()) {
                throw notOurs();
            }
            partial = true;
        } else {
            c.expectEnd();
        }

        String am = '"' + methodName + '"';
        if (unique) {
            return reject("0A000", "access method " + am + " does not support unique indexes");
        }
        IndexElement element = elements.size() == 1 ? IndexElement.parse(elements.getFirst()) : null;
        if (element == null) {
            return reject("0A000", "NeuronDB indexes take one vector column");
        }
        if (include) {
            return reject("0A000", "access method " + am + " does not support included columns");
        }
        if (partial) {
            return reject("0A000", "partial vector indexes (CREATE INDEX ... WHERE) are not supported by NeuronDB");
        }

        Map<String, String> options = new LinkedHashMap<>();
        if (withOptions != null) {
            Command error = readIndexOptions(withOptions, method, options);
            if (error != null) {
                return error;
            }
        }

        Optional<VectorCatalog.Table> known = catalog.table(table);
        if (known.isPresent() && !known.get().columns().contains(element.column)) {
            return reject("42703", "column \"" + element.column + "\" does not exist");
        }
        if (element.collated) {
            return reject("42804", "collations are not supported by type vector");
        }
        if (element.opclass == null) {
            return reject("42704", "data type vector has no default operator class for access method " + am);
        }
        Optional<DistanceOperator> operator = DistanceOperator.fromOpclass(element.opclass)
                .filter(op -> element.opclass.equals(op.opclass()))
                .filter(op -> method == IndexMethod.HNSW || op != DistanceOperator.L1);
        if (operator.isEmpty()) {
            return reject("42704", "operator class \"" + element.opclass + "\" does not exist for access method " + am);
        }
        if (element.opclassOptions) {
            return reject("22023", "operator class " + element.opclass + " has no options");
        }
        if (element.ordered) {
            return reject("0A000", "access method " + am + " does not support ASC/DESC options");
        }
        if (element.nullsOrdered) {
            return reject("0A000", "access method " + am + " does not support NULLS FIRST/LAST options");
        }
        if (method == IndexMethod.HNSW) {
            int m = options.containsKey("m") ? parseInt(options.get("m")) : 16;
            int ef = options.containsKey("ef_construction") ? parseInt(options.get("ef_construction")) : 64;
            if (ef < 2 * m) {
                return reject("22023", "ef_construction must be greater than or equal to 2 * m");
            }
        }
        return new Command(new CreateVectorIndex(name, ifNotExists, table, element.column, method, element.opclass, options));
    }

    /** One index element of the column list, when it is a plain column. */
    private record IndexElement(String column, boolean collated, String opclass, boolean opclassOptions,
                                boolean ordered, boolean nullsOrdered) {

        /** Null when the element is an expression rather than a column. */
        static IndexElement parse(List<SqlToken> tokens) {
            Cursor c = new Cursor(tokens);
            if (c.atEnd() || !c.peekIdentifier() || c.peekPunctAt(1, '(') || c.peekPunctAt(1, '.')) {
                return null;
            }
            String column = c.identifier();
            boolean collated = false;
            if (c.acceptWord("collate")) {
                c.dottedName();
                collated = true;
            }
            String opclass = null;
            boolean opclassOptions = false;
            if (c.peekIdentifier() && !c.peekWord("asc") && !c.peekWord("desc") && !c.peekWord("nulls")) {
                List<String> parts = c.dottedName();
                opclass = parts.getLast();
                if (c.peekPunct('(')) {
                    c.parenthesizedList();
                    opclassOptions = true;
                }
            }
            boolean ordered = c.acceptWord("asc") || c.acceptWord("desc");
            boolean nullsOrdered = false;
            if (c.acceptWord("nulls")) {
                if (!c.acceptWord("first") && !c.acceptWord("last")) {
                    return null;
                }
                nullsOrdered = true;
            }
            return c.atEnd() ? new IndexElement(column, collated, opclass, opclassOptions, ordered, nullsOrdered) : null;
        }
    }

    private record IntRange(int min, int max) {
    }

    private static Map<String, IntRange> allowedOptions(IndexMethod method) {
        return method == IndexMethod.HNSW
                ? Map.of("m", new IntRange(2, 100), "ef_construction", new IntRange(4, 1000))
                : Map.of("lists", new IntRange(1, 32768));
    }

    /** Reads {@code WITH (name = value, ...)} into {@code into}; a rejection when PostgreSQL would refuse it. */
    private static Command readIndexOptions(List<List<SqlToken>> items, IndexMethod method, Map<String, String> into) {
        Map<String, IntRange> allowed = allowedOptions(method);
        for (List<SqlToken> item : items) {
            Cursor c = new Cursor(item);
            String name = c.label();
            if (c.acceptPunct('.')) {
                c.label();
                return reject("22023", "unrecognized parameter namespace \"" + name + "\"");
            }
            String value = "true";
            if (c.acceptOperator("=")) {
                value = c.defArg();
            }
            c.expectEnd();
            IntRange range = allowed.get(name);
            if (range == null) {
                return reject("22023", "unrecognized parameter \"" + name + "\"");
            }
            if (into.containsKey(name)) {
                return reject("22023", "parameter \"" + name + "\" specified more than once");
            }
            Integer parsed = parseInt(value);
            if (parsed == null) {
                return reject("22023", "invalid value for integer option \"" + name + "\": " + value);
            }
            if (parsed < range.min || parsed > range.max) {
                return reject("22023", "value " + value + " out of bounds for option \"" + name + "\""
                        + " (valid values are between \"" + range.min + "\" and \"" + range.max + "\")");
            }
            into.put(name, value);
        }
        return null;
    }

    /**
     * PostgreSQL's {@code parse_int} without units: a decimal number (fractions round to the
     * nearest integer, ties to even), or a hexadecimal one, with surrounding whitespace; null
     * when it is not one or does not fit an int.
     */
    static Integer parseInt(String value) {
        String s = value.strip();
        if (s.isEmpty()) {
            return null;
        }
        try {
            BigDecimal n;
            String unsigned = s.startsWith("-") || s.startsWith("+") ? s.substring(1) : s;
            if (unsigned.startsWith("0x") || unsigned.startsWith("0X")) {
                n = new BigDecimal(new java.math.BigInteger(unsigned.substring(2), 16));
                if (s.startsWith("-")) {
                    n = n.negate();
                }
            } else {
                if (unsigned.isEmpty() || !(Character.isDigit(unsigned.charAt(0)) || unsigned.charAt(0) == '.')) {
                    return null;
                }
                n = new BigDecimal(s);
            }
            if (n.precision() - n.scale() > 12) {
                return null;
            }
            BigDecimal rounded = n.setScale(0, RoundingMode.HALF_EVEN);
            if (rounded.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0
                    || rounded.compareTo(BigDecimal.valueOf(Integer.MIN_VALUE)) < 0) {
                return null;
            }
            return rounded.intValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ DROP INDEX / REINDEX

    private static StatementPlan dropIndex(Cursor c, VectorCatalog catalog) {
        boolean concurrently = c.acceptWord("concurrently");
        boolean ifExists = c.acceptWords("if", "exists");
        List<TableName> names = new ArrayList<>();
        do {
            names.add(c.qualifiedName());
        } while (c.acceptPunct(','));
        boolean cascade = c.acceptWord("cascade");
        boolean restrict = !cascade && c.acceptWord("restrict");
        c.expectEnd();

        List<IndexDefinition> ours = new ArrayList<>();
        List<TableName> others = new ArrayList<>();
        for (TableName n : names) {
            Optional<IndexDefinition> def = catalog.index(n);
            if (def.isPresent()) {
                if (!ours.contains(def.get())) {
                    ours.add(def.get());
                }
            } else {
                others.add(n);
            }
        }
        if (ours.isEmpty()) {
            return null;
        }
        if (concurrently && names.size() > 1) {
            return reject("0A000", "DROP INDEX CONCURRENTLY does not support dropping multiple objects");
        }
        String remaining = null;
        if (!others.isEmpty()) {
            StringBuilder sb = new StringBuilder("DROP INDEX ");
            if (concurrently) {
                sb.append("CONCURRENTLY ");
            }
            if (ifExists) {
                sb.append("IF EXISTS ");
            }
            for (int i = 0; i < others.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(others.get(i).toSql());
            }
            if (cascade) {
                sb.append(" CASCADE");
            } else if (restrict) {
                sb.append(" RESTRICT");
            }
            remaining = sb.toString();
        }
        return new Command(new DropVectorIndexes(ours, remaining));
    }

    private static StatementPlan reindex(Cursor c, VectorCatalog catalog) {
        if (c.peekPunct('(')) {
            c.parenthesizedList();
        }
        if (!c.acceptWord("index")) {
            return null;
        }
        c.acceptWord("concurrently");
        TableName name = c.qualifiedName();
        c.expectEnd();
        return catalog.index(name).<StatementPlan>map(def -> new Command(new ReindexVectorIndex(def))).orElse(null);
    }

    // ------------------------------------------------------------------ settings

    private static StatementPlan set(Cursor c) {
        boolean local = false;
        if (c.peekWord("local") && !c.peekPunctAt(1, '.')) {
            c.skip(1);
            local = true;
        } else if (c.peekWord("session") && !c.peekPunctAt(1, '.')) {
            c.skip(1);
        }
        String name = settingName(c);
        if (name == null) {
            return null;
        }
        if (!c.acceptWord("to") && !c.acceptOperator("=")) {
            throw notOurs();
        }
        if (c.peekWord("default") && c.size() == c.position() + 1) {
            c.skip(1);
            return new Command(new SetSetting(name, null, local));
        }
        String value = c.setValue();
        if (c.acceptPunct(',')) {
            do {
                c.setValue();
            } while (c.acceptPunct(','));
            c.expectEnd();
            return reject("22023", "SET " + name + " takes only one argument");
        }
        c.expectEnd();
        return new Command(new SetSetting(name, value, local));
    }

    private static StatementPlan reset(Cursor c) {
        if (c.peekWord("all") && c.size() == c.position() + 1) {
            return new Command(new SetSetting(null, null, false));
        }
        String name = settingName(c);
        if (name == null) {
            return null;
        }
        c.expectEnd();
        return new Command(new SetSetting(name, null, false));
    }

    private static StatementPlan show(Cursor c) {
        String name = settingName(c);
        if (name == null) {
            return null;
        }
        c.expectEnd();
        return new Command(new ShowSetting(name));
    }

    /**
     * A setting name of ours ({@code prefix.name}, the parts possibly quoted, or one quoted
     * identifier holding the dot, as PostgreSQL also accepts), lower-cased as PostgreSQL
     * compares setting names; null when the name is someone else's.
     */
    private static String settingName(Cursor c) {
        if (!c.peekIdentifier()) {
            return null;
        }
        String name = String.join(".", c.dottedName()).toLowerCase(Locale.ROOT);
        int dot = name.indexOf('.');
        if (dot <= 0 || !SETTING_PREFIXES.contains(name.substring(0, dot))) {
            return null;
        }
        return name;
    }

    // ------------------------------------------------------------------ functions

    private static StatementPlan select(Cursor c, Set<String> pluginFunctions) {
        int star = c.peek() != null && c.peek().isOperator("*") && c.peekWordAt(1, "from") ? 2 : 0;
        if (c.peekWordAt(star, "neurondb") && c.peekPunctAt(star + 1, '.') && c.peekAt(star + 2) != null
                && c.peekAt(star + 2).kind() == Kind.WORD && c.peekPunctAt(star + 3, '(')
                && pluginFunctions.contains(c.peekAt(star + 2).text().toLowerCase(Locale.ROOT))) {
            c.skip(star);
            return pluginFunctionCall(c, star > 0);
        }
        if (c.acceptOperator("*")) {
            c.expectWord("from");
            NeuronDbFunction f = functionCall(c);
            if (f != NeuronDbFunction.INDEX_STATS) {
                return null;
            }
            alias(c);
            c.expectEnd();
            return new Command(new CallFunction(f, null));
        }
        NeuronDbFunction f = functionCall(c);
        if (f == null || f == NeuronDbFunction.INDEX_STATS) {
            return null;
        }
        String alias = alias(c);
        c.expectEnd();
        return new Command(new CallFunction(f, alias != null ? alias : f.name().toLowerCase(Locale.ROOT)));
    }

    /**
     * {@code neurondb.f(arg, ...) [[AS] alias]} of a plugin's function, the arguments constants
     * or bind parameters; anything else there (expressions, a FROM list, WHERE) is not ours and
     * goes to the server as written.
     */
    private static StatementPlan pluginFunctionCall(Cursor c, boolean fromClause) {
        c.skip(2);
        String name = c.next().text().toLowerCase(Locale.ROOT);
        c.expectPunct('(');
        List<CallPluginFunction.Argument> args = new ArrayList<>();
        if (!c.acceptPunct(')')) {
            do {
                args.add(argument(c));
            } while (c.acceptPunct(','));
            c.expectPunct(')');
        }
        String alias = alias(c);
        c.expectEnd();
        return new Command(new CallPluginFunction(name, args, fromClause ? null : alias != null ? alias : name));
    }

    private static CallPluginFunction.Argument argument(Cursor c) {
        SqlToken t = c.peek();
        if (t == null) {
            throw notOurs();
        }
        if (t.kind() == Kind.PARAMETER) {
            c.next();
            return new CallPluginFunction.Parameter(Integer.parseInt(t.text().substring(1)));
        }
        if (t.kind() == Kind.STRING) {
            return new CallPluginFunction.Constant(stringValue(c.next()));
        }
        if (c.acceptWord("null")) {
            return new CallPluginFunction.Constant(null);
        }
        if (c.acceptWord("true")) {
            return new CallPluginFunction.Constant("true");
        }
        if (c.acceptWord("false")) {
            return new CallPluginFunction.Constant("false");
        }
        String number = c.signedNumber();
        if (number == null) {
            throw notOurs();
        }
        return new CallPluginFunction.Constant(number);
    }

    /** {@code neurondb.fn()}: which function, or null. */
    private static NeuronDbFunction functionCall(Cursor c) {
        List<String> name = c.dottedName();
        c.expectPunct('(');
        c.expectPunct(')');
        if (name.size() != 2 || !name.get(0).equals("neurondb")) {
            return null;
        }
        return switch (name.get(1)) {
            case "version" -> NeuronDbFunction.VERSION;
            case "gpu_enabled" -> NeuronDbFunction.GPU_ENABLED;
            case "gpu_device_count" -> NeuronDbFunction.GPU_DEVICE_COUNT;
            case "index_stats" -> NeuronDbFunction.INDEX_STATS;
            default -> null;
        };
    }

    /** {@code [AS] alias}, or null when none follows. */
    private static String alias(Cursor c) {
        if (c.acceptWord("as")) {
            return c.label();
        }
        if (c.peekIdentifier() && !(c.peek().kind() == Kind.WORD
                && NOT_BARE_ALIAS.contains(c.peek().text().toLowerCase(Locale.ROOT)))) {
            return c.identifier();
        }
        return null;
    }

    // ------------------------------------------------------------------ COPY

    private static StatementPlan copy(Cursor c, VectorCatalog catalog) {
        boolean binary = c.acceptWord("binary");
        if (c.peekPunct('(')) {
            return null;
        }
        TableName written = c.qualifiedName();
        List<String> columns = null;
        if (c.peekPunct('(')) {
            columns = new ArrayList<>();
            for (List<SqlToken> item : c.parenthesizedList()) {
                Cursor ic = new Cursor(item);
                columns.add(ic.identifier());
                ic.expectEnd();
            }
        }
        if (!c.acceptWord("from") || !c.acceptWord("stdin")) {
            return null;
        }
        if (c.acceptWord("using") || c.peekWord("delimiters")) {
            c.expectWord("delimiters");
            c.string();
        }
        CopyOptionsBuilder o = new CopyOptionsBuilder();
        o.binary = binary;
        c.acceptWord("with");
        if (c.peekPunct('(')) {
            for (List<SqlToken> item : c.parenthesizedList()) {
                genericCopyOption(new Cursor(item), o);
            }
        } else {
            legacyCopyOptions(c, o);
        }
        if (c.acceptWord("where")) {
            if (c.atEnd()) {
                throw notOurs();
            }
        } else {
            c.expectEnd();
        }

        Optional<VectorCatalog.Table> found = catalog.table(written);
        if (found.isEmpty()) {
            return null;
        }
        VectorCatalog.Table table = found.get();
        List<String> copied = columns != null ? columns : table.columns();
        int[] vectorPositions = new int[copied.size()];
        int n = 0;
        for (int i = 0; i < copied.size(); i++) {
            if (table.isVector(copied.get(i))) {
                vectorPositions[n++] = i;
            }
        }
        if (n == 0) {
            return null;
        }
        if (o.binary) {
            return reject("0A000", "binary COPY of vector columns is not supported through the NeuronDB proxy;"
                    + " use FORMAT text or csv");
        }
        CopyOptions options = new CopyOptions(o.csv, o.delimiter, o.nullString, o.quote, o.escape, o.header);
        return new Passthrough(new CopyIn(table.tableName(), copied, java.util.Arrays.copyOf(vectorPositions, n), options));
    }

    private static final class CopyOptionsBuilder {
        boolean binary;
        boolean csv;
        String delimiter;
        String nullString;
        String quote;
        String escape;
        boolean header;
    }

    /** {@code ( name [value], ... )}: one item. */
    private static void genericCopyOption(Cursor c, CopyOptionsBuilder o) {
        String name = c.label();
        switch (name) {
            case "format" -> {
                String format = c.wordOrString().toLowerCase(Locale.ROOT);
                switch (format) {
                    case "csv" -> {
                        o.csv = true;
                        o.binary = false;
                    }
                    case "text" -> {
                        o.csv = false;
                        o.binary = false;
                    }
                    case "binary" -> {
                        o.csv = false;
                        o.binary = true;
                    }
                    default -> throw notOurs();
                }
            }
            case "delimiter" -> o.delimiter = c.defArg();
            case "null" -> o.nullString = c.defArg();
            case "quote" -> o.quote = c.defArg();
            case "escape" -> o.escape = c.defArg();
            case "header" -> {
                if (c.atEnd()) {
                    o.header = true;
                } else {
                    String v = c.defArg().toLowerCase(Locale.ROOT);
                    o.header = switch (v) {
                        case "true", "on", "1", "match" -> true;
                        case "false", "off", "0" -> false;
                        default -> throw notOurs();
                    };
                }
            }
            default -> {
                // FREEZE, ENCODING, FORCE_*, DEFAULT, ON_ERROR, ...: nothing the data reader needs
                if (c.peekPunct('(')) {
                    c.parenthesizedList();
                } else if (c.acceptOperator("*")) {
                    // FORCE_QUOTE *
                } else if (!c.atEnd()) {
                    c.defArg();
                }
            }
        }
        c.expectEnd();
    }

    /** The pre-9.0 option list: {@code BINARY | CSV | HEADER | DELIMITER [AS] 'x' | ...}. */
    private static void legacyCopyOptions(Cursor c, CopyOptionsBuilder o) {
        while (!c.atEnd() && !c.peekWord("where")) {
            if (c.acceptWord("binary")) {
                o.binary = true;
            } else if (c.acceptWord("csv")) {
                o.csv = true;
            } else if (c.acceptWord("header")) {
                o.header = true;
            } else if (c.acceptWord("freeze")) {
                // no effect on reading
            } else if (c.acceptWord("delimiter")) {
                c.acceptWord("as");
                o.delimiter = c.string();
            } else if (c.acceptWord("null")) {
                c.acceptWord("as");
                o.nullString = c.string();
            } else if (c.acceptWord("quote")) {
                c.acceptWord("as");
                o.quote = c.string();
            } else if (c.acceptWord("escape")) {
                c.acceptWord("as");
                o.escape = c.string();
            } else if (c.acceptWord("encoding")) {
                c.string();
            } else if (c.acceptWord("force")) {
                if (c.acceptWord("quote")) {
                    if (!c.acceptOperator("*")) {
                        columnList(c);
                    }
                } else if (c.acceptWord("not")) {
                    c.expectWord("null");
                    columnList(c);
                } else {
                    c.expectWord("null");
                    columnList(c);
                }
            } else {
                throw notOurs();
            }
        }
    }

    private static void columnList(Cursor c) {
        do {
            c.identifier();
        } while (c.acceptPunct(','));
    }

    // ------------------------------------------------------------------ DROP TABLE / TRUNCATE

    private static StatementPlan dropTable(Cursor c, VectorCatalog catalog) {
        c.acceptWords("if", "exists");
        List<TableName> names = new ArrayList<>();
        do {
            names.add(c.qualifiedName());
        } while (c.acceptPunct(','));
        dropBehaviour(c);
        c.expectEnd();
        List<TableName> ours = catalogTables(names, catalog);
        return ours.isEmpty() ? null : new Passthrough(new Effect.TablesDropped(ours));
    }

    private static StatementPlan truncate(Cursor c, VectorCatalog catalog) {
        c.acceptWord("table");
        List<TableName> names = new ArrayList<>();
        do {
            if (c.acceptWord("only")) {
                if (c.acceptPunct('(')) {
                    names.add(c.qualifiedName());
                    c.expectPunct(')');
                } else {
                    names.add(c.qualifiedName());
                }
            } else {
                names.add(c.qualifiedName());
                c.acceptOperator("*");
            }
        } while (c.acceptPunct(','));
        if (c.acceptWord("restart") || c.acceptWord("continue")) {
            c.expectWord("identity");
        }
        dropBehaviour(c);
        c.expectEnd();
        List<TableName> ours = catalogTables(names, catalog);
        return ours.isEmpty() ? null : new Passthrough(new Effect.TablesTruncated(ours));
    }

    private static List<TableName> catalogTables(List<TableName> written, VectorCatalog catalog) {
        List<TableName> out = new ArrayList<>();
        for (TableName n : written) {
            catalog.table(n).map(VectorCatalog.Table::tableName).filter(t -> !out.contains(t)).ifPresent(out::add);
        }
        return out;
    }

    // ------------------------------------------------------------------ tokens

    /** PostgreSQL's identifier folding: unquoted ASCII letters to lower case; then truncation to 63 bytes. */
    static String foldIdentifier(SqlToken token) {
        String s;
        if (token.kind() == Kind.WORD) {
            StringBuilder sb = new StringBuilder(token.text().length());
            for (int i = 0; i < token.text().length(); i++) {
                char ch = token.text().charAt(i);
                sb.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + ('a' - 'A')) : ch);
            }
            s = sb.toString();
        } else if (token.kind() == Kind.QUOTED_IDENTIFIER) {
            if (token.text().startsWith("U&") || token.text().startsWith("u&")) {
                if (token.text().indexOf('\\') >= 0) {
                    throw notOurs();
                }
            }
            s = token.normalized();
            if (s.isEmpty()) {
                throw notOurs();
            }
        } else {
            throw notOurs();
        }
        return truncateIdentifier(s);
    }

    static String truncateIdentifier(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_IDENTIFIER_BYTES) {
            return s;
        }
        int end = 0;
        int used = 0;
        while (end < s.length()) {
            int cp = s.codePointAt(end);
            int len = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (used + len > MAX_IDENTIFIER_BYTES) {
                break;
            }
            used += len;
            end += Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /** The value of a string literal: '...', E'...' (backslash escapes) or $tag$...$tag$. */
    static String stringValue(SqlToken token) {
        String t = token.text();
        if (token.kind() != Kind.STRING) {
            throw notOurs();
        }
        if (t.startsWith("$")) {
            int tagEnd = t.indexOf('$', 1) + 1;
            return t.substring(tagEnd, t.length() - tagEnd);
        }
        if (t.startsWith("'")) {
            return t.substring(1, t.length() - 1).replace("''", "'");
        }
        if (t.startsWith("E'") || t.startsWith("e'")) {
            return unescape(t.substring(2, t.length() - 1));
        }
        // B'', X'' are bit strings; U&'' with escapes is not decoded here.
        if ((t.startsWith("U&'") || t.startsWith("u&'")) && t.indexOf('\\') < 0) {
            return t.substring(3, t.length() - 1).replace("''", "'");
        }
        throw notOurs();
    }

    private static String unescape(String body) {
        StringBuilder sb = new StringBuilder(body.length());
        int i = 0;
        int n = body.length();
        while (i < n) {
            char ch = body.charAt(i);
            if (ch == '\'' && i + 1 < n && body.charAt(i + 1) == '\'') {
                sb.append('\'');
                i += 2;
                continue;
            }
            if (ch != '\\' || i + 1 >= n) {
                sb.append(ch);
                i++;
                continue;
            }
            char e = body.charAt(i + 1);
            i += 2;
            switch (e) {
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'x' -> {
                    int start = i;
                    while (i < n && i - start < 2 && Character.digit(body.charAt(i), 16) >= 0) {
                        i++;
                    }
                    if (i == start) {
                        sb.append('x');
                    } else {
                        sb.append((char) Integer.parseInt(body.substring(start, i), 16));
                    }
                }
                case 'u', 'U' -> {
                    int digits = e == 'u' ? 4 : 8;
                    if (i + digits > n) {
                        throw notOurs();
                    }
                    try {
                        sb.appendCodePoint(Integer.parseInt(body.substring(i, i + digits), 16));
                    } catch (IllegalArgumentException ex) {
                        throw notOurs();
                    }
                    i += digits;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int start = i - 1;
                        while (i < n && i - start < 3 && body.charAt(i) >= '0' && body.charAt(i) <= '7') {
                            i++;
                        }
                        sb.append((char) (Integer.parseInt(body.substring(start, i), 8) & 0xFF));
                    } else {
                        sb.append(e);
                    }
                }
            }
        }
        return sb.toString();
    }

    /** A cursor over one statement's tokens. */
    private static final class Cursor {
        private final List<SqlToken> tokens;
        private int pos;

        Cursor(List<SqlToken> tokens) {
            this.tokens = tokens;
        }

        int size() {
            return tokens.size();
        }

        int position() {
            return pos;
        }

        boolean atEnd() {
            return pos >= tokens.size();
        }

        SqlToken peek() {
            return peekAt(0);
        }

        SqlToken peekAt(int ahead) {
            int i = pos + ahead;
            return i < tokens.size() ? tokens.get(i) : null;
        }

        SqlToken next() {
            if (atEnd()) {
                throw notOurs();
            }
            return tokens.get(pos++);
        }

        void skip(int n) {
            pos += n;
        }

        boolean peekWord(String word) {
            return peekWordAt(0, word);
        }

        boolean peekWordAt(int ahead, String word) {
            SqlToken t = peekAt(ahead);
            return t != null && t.isWord(word);
        }

        boolean acceptWord(String word) {
            if (peekWord(word)) {
                pos++;
                return true;
            }
            return false;
        }

        /** All of {@code words} in sequence, or none consumed. */
        boolean acceptWords(String... words) {
            for (int i = 0; i < words.length; i++) {
                if (!peekWordAt(i, words[i])) {
                    return false;
                }
            }
            pos += words.length;
            return true;
        }

        void expectWord(String word) {
            if (!acceptWord(word)) {
                throw notOurs();
            }
        }

        boolean peekPunct(char ch) {
            return peekPunctAt(0, ch);
        }

        boolean peekPunctAt(int ahead, char ch) {
            SqlToken t = peekAt(ahead);
            return t != null && t.isPunctuation(ch);
        }

        boolean acceptPunct(char ch) {
            if (peekPunct(ch)) {
                pos++;
                return true;
            }
            return false;
        }

        void expectPunct(char ch) {
            if (!acceptPunct(ch)) {
                throw notOurs();
            }
        }

        boolean acceptOperator(String op) {
            SqlToken t = peek();
            if (t != null && t.isOperator(op)) {
                pos++;
                return true;
            }
            return false;
        }

        void expectEnd() {
            if (!atEnd()) {
                throw notOurs();
            }
        }

        boolean peekIdentifier() {
            SqlToken t = peek();
            return t != null && (t.kind() == Kind.WORD || t.kind() == Kind.QUOTED_IDENTIFIER);
        }

        /** A (folded) identifier; keywords are accepted where the caller allows them. */
        String identifier() {
            if (!peekIdentifier()) {
                throw notOurs();
            }
            return foldIdentifier(next());
        }

        /** A column label (any word or quoted identifier), folded. */
        String label() {
            return identifier();
        }

        /** {@code a[.b[.c...]]}, folded. */
        List<String> dottedName() {
            List<String> parts = new ArrayList<>();
            parts.add(identifier());
            while (acceptPunct('.')) {
                parts.add(identifier());
            }
            return parts;
        }

        /** {@code [catalog.][schema.]name}. */
        TableName qualifiedName() {
            List<String> parts = dottedName();
            return switch (parts.size()) {
                case 1 -> new TableName(null, parts.getFirst());
                case 2 -> new TableName(parts.get(0), parts.get(1));
                case 3 -> new TableName(parts.get(1), parts.get(2));
                default -> throw notOurs();
            };
        }

        /** A string literal's value. */
        String string() {
            SqlToken t = peek();
            if (t == null || t.kind() != Kind.STRING) {
                throw notOurs();
            }
            pos++;
            return stringValue(t);
        }

        /** A word (folded) or a string literal's value. */
        String wordOrString() {
            SqlToken t = peek();
            if (t != null && t.kind() == Kind.STRING) {
                return string();
            }
            return identifier();
        }

        /** An optionally signed number, as written (digit separators dropped), or null when none is here. */
        String signedNumber() {
            SqlToken t = peek();
            String sign = "";
            int ahead = 0;
            if (t != null && (t.isOperator("-") || t.isOperator("+"))) {
                sign = t.text().equals("-") ? "-" : "";
                ahead = 1;
            }
            SqlToken num = peekAt(ahead);
            if (num == null || num.kind() != Kind.NUMBER) {
                return null;
            }
            pos += ahead + 1;
            return sign + num.text().replace("_", "");
        }

        /** A reloption / generic option value: number, word or string, as written without quotes. */
        String defArg() {
            String number = signedNumber();
            return number != null ? number : wordOrString();
        }

        /** One SET value: number, word (folded) or string. */
        String setValue() {
            return defArg();
        }

        /**
         * {@code ( ... )}: the top-level comma-separated items, each its tokens; the
         * parentheses are consumed. An empty list is one empty item list.
         */
        List<List<SqlToken>> parenthesizedList() {
            expectPunct('(');
            List<List<SqlToken>> items = new ArrayList<>();
            List<SqlToken> current = new ArrayList<>();
            int depth = 0;
            while (true) {
                SqlToken t = next();
                if (depth == 0 && t.isPunctuation(')')) {
                    items.add(current);
                    return items;
                }
                if (depth == 0 && t.isPunctuation(',')) {
                    items.add(current);
                    current = new ArrayList<>();
                    continue;
                }
                if (t.isPunctuation('(') || t.isPunctuation('[')) {
                    depth++;
                } else if (t.isPunctuation(')') || t.isPunctuation(']')) {
                    depth--;
                }
                current.add(t);
            }
        }
    }
}
