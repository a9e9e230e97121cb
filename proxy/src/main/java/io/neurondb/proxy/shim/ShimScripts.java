package io.neurondb.proxy.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SQL the proxy sends to PostgreSQL in place of {@code CREATE EXTENSION neurondb} (or
 * pgvector's {@code CREATE EXTENSION vector}), {@code ALTER EXTENSION neurondb UPDATE} and
 * {@code DROP EXTENSION neurondb}: the NeuronDB shim, made of ordinary schema objects so that
 * {@code pg_dump} carries it.
 *
 * <p>Each method returns one script meant to be sent as <em>one</em> simple-protocol Query
 * message, so PostgreSQL runs it in one implicit transaction: it contains no BEGIN/COMMIT and
 * either applies whole or fails whole. Each script is a single {@code DO} block that first
 * checks the installed state (read from the catalog table {@code neurondb.extension}) and then
 * raises PostgreSQL's own error or notice for that situation, or runs the work.
 *
 * <p>The scripts are resources next to this class: {@code neurondb--1.0.sql} (the base) and one
 * {@code neurondb--A--B.sql} per migration. A fresh install of version V runs the base and then
 * every migration up to V, so the migration path is exercised by every install.
 *
 * <p>Pure: no I/O besides reading those classpath resources. The only user-supplied text that
 * reaches a script — the schema name and version strings — is quoted as an identifier or a
 * string literal, never pasted.
 */
public final class ShimScripts {

    /** The extension name applications use. */
    public static final String EXTENSION_NAME = "neurondb";

    /** The schema holding the shim's catalog (always this one, whatever the target schema). */
    public static final String CATALOG_SCHEMA = "neurondb";

    /** The base version: what {@code neurondb--1.0.sql} installs. */
    public static final String BASE_VERSION = "1.0";

    /** The newest version; {@code CREATE EXTENSION} installs it unless told otherwise. */
    public static final String LATEST_VERSION = "1.2";

    /** Every version in upgrade order; migration i goes from VERSIONS[i-1] to VERSIONS[i]. */
    public static final List<String> VERSIONS = List.of("1.0", "1.1", "1.2");

    /** The target schema when {@code CREATE EXTENSION} names none. */
    public static final String DEFAULT_SCHEMA = "public";

    private static final String RESOURCE_DIR = "/io/neurondb/proxy/shim/";
    private static final Pattern PLACEHOLDER = Pattern.compile("@extschema(_literal)?@");

    private ShimScripts() {
    }

    /** Installs the latest version; see {@link #install(String, boolean, String)}. */
    public static String install(String schema, boolean ifNotExists) {
        return install(schema, ifNotExists, LATEST_VERSION);
    }

    /**
     * {@code CREATE EXTENSION [IF NOT EXISTS] neurondb [SCHEMA schema] [VERSION version]}.
     *
     * @param schema      where the pgvector-compatible functions and operators go; null means
     *                    {@code public}. It must exist (as with CREATE EXTENSION).
     * @param ifNotExists when already installed: a NOTICE and no change, instead of SQLSTATE 42710
     * @param version     the version to install; null means {@link #LATEST_VERSION}. An unknown
     *                    version fails with SQLSTATE 22023 when the script runs.
     */
    public static String install(String schema, boolean ifNotExists, String version) {
        String target = schema == null ? DEFAULT_SCHEMA : schema;
        String wanted = version == null ? LATEST_VERSION : version;
        int last = VERSIONS.indexOf(wanted);

        StringBuilder sql = new StringBuilder();
        sql.append("BEGIN\n");
        sql.append("    IF pg_catalog.to_regclass('neurondb.extension') IS NOT NULL THEN\n");
        if (ifNotExists) {
            sql.append("        RAISE NOTICE 'extension \"neurondb\" already exists, skipping';\n");
            sql.append("        RETURN;\n");
        } else {
            sql.append("        RAISE EXCEPTION 'extension \"neurondb\" already exists' USING ERRCODE = '42710';\n");
        }
        sql.append("    END IF;\n");
        if (last < 0) {
            sql.append("    RAISE EXCEPTION 'extension \"neurondb\" has no installation script nor update path for version \"%\"', ")
                    .append(quoteLiteral(wanted)).append(" USING ERRCODE = '22023';\n");
        } else {
            StringBuilder body = new StringBuilder();
            body.append(substitute(resource("neurondb--" + BASE_VERSION + ".sql"), target)).append('\n');
            for (int i = 1; i <= last; i++) {
                body.append(substitute(resource(migrationName(i)), target)).append('\n');
                body.append("UPDATE neurondb.extension SET version = ").append(quoteLiteral(VERSIONS.get(i))).append(";\n");
            }
            sql.append("    EXECUTE ").append(dollarQuote(body.toString(), "neurondb_install")).append(";\n");
        }
        sql.append("END\n");
        return doBlock(sql.toString());
    }

    /**
     * {@code ALTER EXTENSION neurondb UPDATE [TO version]}: runs the migrations from the
     * installed version (read from the catalog when the script runs) up to {@code toVersion}
     * (null: {@link #LATEST_VERSION}). A NOTICE when already there; SQLSTATE 42704 when not
     * installed; 22023 when there is no path (unknown version, or a downgrade).
     */
    public static String update(String toVersion) {
        String wanted = toVersion == null ? LATEST_VERSION : toVersion;
        int last = VERSIONS.indexOf(wanted);
        String wantedLit = quoteLiteral(wanted);

        StringBuilder sql = new StringBuilder();
        sql.append("DECLARE\n    installed text;\n    target name;\nBEGIN\n");
        sql.append(notInstalled(false));
        sql.append("    SELECT e.version, e.target_schema INTO installed, target FROM neurondb.extension e;\n");
        sql.append("    IF installed = ").append(wantedLit).append(" THEN\n");
        sql.append("        RAISE NOTICE 'version \"%\" of extension \"neurondb\" is already installed', installed;\n");
        sql.append("        RETURN;\n");
        sql.append("    END IF;\n");
        for (int i = 1; i <= last; i++) {
            String body = resource(migrationName(i));
            sql.append("    IF installed = ").append(quoteLiteral(VERSIONS.get(i - 1))).append(" THEN\n");
            // Only the identifier placeholder exists in migrations: one replace() pass, so a
            // schema name that itself contains placeholder text is not rescanned.
            sql.append("        EXECUTE pg_catalog.replace(").append(dollarQuote(body, "neurondb_migration"))
                    .append(", '@extschema@', pg_catalog.quote_ident(target));\n");
            sql.append("        UPDATE neurondb.extension SET version = ").append(quoteLiteral(VERSIONS.get(i))).append(";\n");
            sql.append("        installed := ").append(quoteLiteral(VERSIONS.get(i))).append(";\n");
            sql.append("    END IF;\n");
        }
        sql.append("    IF installed IS DISTINCT FROM ").append(wantedLit).append(" THEN\n");
        sql.append("        RAISE EXCEPTION 'extension \"neurondb\" has no update path from version \"%\" to version \"%\"', installed, ")
                .append(wantedLit).append(" USING ERRCODE = '22023';\n");
        sql.append("    END IF;\n");
        sql.append("END\n");
        return doBlock(sql.toString());
    }

    /**
     * {@code DROP EXTENSION [IF EXISTS] neurondb [CASCADE | RESTRICT]}: removes the functions
     * and operators the install recorded in {@code neurondb.objects} from the target schema,
     * then the schema {@code neurondb} and everything in it. Without cascade, objects that
     * depend on the shim (a CHECK constraint calling {@code neurondb.vector_check}, a view using
     * {@code <->}) make it fail with SQLSTATE 2BP01 and nothing is removed; with cascade they are
     * dropped too, as PostgreSQL does.
     */
    public static String drop(boolean ifExists, boolean cascade) {
        String mode = cascade ? " CASCADE" : " RESTRICT";
        StringBuilder sql = new StringBuilder();
        sql.append("DECLARE\n    target name;\n    r record;\n    id oid;\n    obj text;\n    list text;\n")
                .append("    detail text;\nBEGIN\n");
        sql.append(notInstalled(ifExists));
        sql.append("    SELECT e.target_schema INTO target FROM neurondb.extension e;\n");
        sql.append("    BEGIN\n");
        // Operators first: they use the functions. Names are looked up through the reg*
        // types and dropped by the canonical text PostgreSQL prints for them, so nothing read
        // from the catalog table is pasted into SQL as such.
        sql.append("""
                        FOR r IN SELECT o.kind, o.name, o.args FROM neurondb.objects o ORDER BY o.kind DESC, o.name, o.args LOOP
                            IF r.kind = 'operator' THEN
                                id := pg_catalog.to_regoperator(pg_catalog.format('%I.%s(%s)', target, r.name, r.args));
                                IF id IS NOT NULL THEN
                                    SELECT pg_catalog.format('%I.%s(%s, %s)', n.nspname, o.oprname,
                                                             pg_catalog.format_type(o.oprleft, NULL), pg_catalog.format_type(o.oprright, NULL))
                                      INTO obj
                                      FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
                                     WHERE o.oid = id;
                                    EXECUTE 'DROP OPERATOR ' || obj || '{MODE}';
                                END IF;
                            ELSIF r.kind = 'function' THEN
                                id := pg_catalog.to_regprocedure(pg_catalog.format('%I.%I(%s)', target, r.name, r.args));
                                IF id IS NOT NULL THEN
                                    EXECUTE 'DROP FUNCTION ' || id::pg_catalog.regprocedure::text || '{MODE}';
                                END IF;
                            END IF;
                        END LOOP;
                        FOR r IN SELECT o.name FROM neurondb.objects o WHERE o.kind = 'type' ORDER BY o.name LOOP
                            id := pg_catalog.to_regtype(pg_catalog.format('%I.%I', target, r.name));
                            IF id IS NOT NULL THEN
                                EXECUTE 'DROP DOMAIN ' || id::pg_catalog.regtype::text || '{MODE}';
                            END IF;
                        END LOOP;
                """.replace("{MODE}", mode));
        if (cascade) {
            sql.append("        DROP SCHEMA neurondb CASCADE;\n");
        } else {
            // DROP SCHEMA ... RESTRICT refuses a schema that has contents, so drop them by
            // kind first: a user object that depends on one of them stops the drop.
            sql.append("""
                            SELECT pg_catalog.string_agg(p.oid::pg_catalog.regprocedure::text, ', ') INTO list
                              FROM pg_catalog.pg_proc p
                             WHERE p.pronamespace = 'neurondb'::pg_catalog.regnamespace AND p.prokind = 'f';
                            IF list IS NOT NULL THEN
                                EXECUTE 'DROP FUNCTION ' || list || ' RESTRICT';
                            END IF;
                            SELECT pg_catalog.string_agg(c.oid::pg_catalog.regclass::text, ', ') INTO list
                              FROM pg_catalog.pg_class c
                             WHERE c.relnamespace = 'neurondb'::pg_catalog.regnamespace AND c.relkind IN ('r', 'p');
                            IF list IS NOT NULL THEN
                                EXECUTE 'DROP TABLE ' || list || ' RESTRICT';
                            END IF;
                            DROP SCHEMA neurondb RESTRICT;
                    """);
        }
        sql.append("""
                    EXCEPTION WHEN dependent_objects_still_exist THEN
                        GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
                        RAISE EXCEPTION 'cannot drop extension neurondb because other objects depend on it'
                            USING ERRCODE = '2BP01', DETAIL = detail,
                                  HINT = 'Use DROP EXTENSION neurondb CASCADE to drop the dependent objects too.';
                    END;
                END
                """);
        return doBlock(sql.toString());
    }

    /**
     * A query returning the installed version as one row and column {@code version}, or no row
     * when the shim is not installed (it never fails for a missing catalog).
     */
    public static String versionQuery() {
        return "SELECT v.version FROM (SELECT (pg_catalog.xpath('/row/version/text()', "
                + "pg_catalog.query_to_xml('SELECT version FROM neurondb.extension', false, true, '')))[1]::text AS version "
                + "WHERE pg_catalog.to_regclass('neurondb.extension') IS NOT NULL) v WHERE v.version IS NOT NULL";
    }

    /** {@code "name"} with inner double quotes doubled: PostgreSQL's quoted identifier. */
    public static String quoteIdent(String name) {
        Objects.requireNonNull(name, "name");
        checkNoNul(name);
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /**
     * {@code E'text'} with quotes and backslashes escaped: a string literal that reads the same
     * whatever {@code standard_conforming_strings} is.
     */
    public static String quoteLiteral(String text) {
        Objects.requireNonNull(text, "text");
        checkNoNul(text);
        return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    private static void checkNoNul(String s) {
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a name or literal cannot contain the character NUL (0x00)");
        }
    }

    private static String notInstalled(boolean ifExists) {
        StringBuilder sql = new StringBuilder();
        sql.append("    IF pg_catalog.to_regclass('neurondb.extension') IS NULL THEN\n");
        if (ifExists) {
            sql.append("        RAISE NOTICE 'extension \"neurondb\" does not exist, skipping';\n");
            sql.append("        RETURN;\n");
        } else {
            sql.append("        RAISE EXCEPTION 'extension \"neurondb\" does not exist' USING ERRCODE = '42704';\n");
        }
        sql.append("    END IF;\n");
        return sql.toString();
    }

    private static String migrationName(int i) {
        return "neurondb--" + VERSIONS.get(i - 1) + "--" + VERSIONS.get(i) + ".sql";
    }

    /** Replaces both placeholders in one pass (replaced text is never rescanned). */
    private static String substitute(String script, String schema) {
        Matcher m = PLACEHOLDER.matcher(script);
        StringBuilder out = new StringBuilder(script.length() + 256);
        while (m.find()) {
            String value = m.group(1) == null ? quoteIdent(schema) : quoteLiteral(schema);
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** {@code DO $tag$ body $tag$}, the tag chosen so that it does not occur in the body. */
    private static String doBlock(String body) {
        return "DO " + dollarQuote(body, "neurondb") + ";";
    }

    /** {@code $tag$text$tag$} with a tag that does not occur in the text. */
    static String dollarQuote(String text, String base) {
        String tag = "$" + base + "$";
        for (int n = 1; text.contains(tag); n++) {
            tag = "$" + base + "_" + n + "$";
        }
        return tag + text + tag;
    }

    /** A script resource next to this class, as UTF-8 text. */
    static String resource(String name) {
        try (InputStream in = ShimScripts.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("missing shim script resource " + RESOURCE_DIR + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read shim script " + name, e);
        }
    }
}
