/**
 * The NeuronDB SQL shim: what {@code CREATE EXTENSION neurondb} (or pgvector's
 * {@code CREATE EXTENSION vector}) installs in a stock PostgreSQL through the proxy, as
 * ordinary SQL and PL/pgSQL objects that {@code pg_dump} carries.
 *
 * <p>{@link io.neurondb.proxy.shim.ShimScripts} builds the scripts (install, update, drop,
 * version query) from the resources {@code neurondb--1.0.sql} and {@code neurondb--A--B.sql}
 * next to it; each script is one {@code DO} block, sent as one simple-protocol Query.
 *
 * <p>What is installed:
 * <ul>
 *   <li>Schema {@code neurondb} (always): catalog tables {@code extension} (one row: version,
 *       target schema), {@code objects} (the functions and operators installed in the target
 *       schema, for DROP), {@code vector_columns}, {@code indexes}, and from 1.1
 *       {@code backups}; the implementations ({@code impl_*}, {@code op_*}),
 *       {@code to_vector(text)}, {@code vector_check(real[], integer)} for CHECK constraints,
 *       {@code version()}, {@code no_parallel()}, and {@code gpu_enabled()},
 *       {@code gpu_device_count()}, {@code index_stats()} which raise 0A000 outside the proxy
 *       (from 1.2 with the {@code applied_lsn}, {@code lag_bytes}, {@code lag_seconds} columns).</li>
 *   <li>The target schema ({@code public} unless {@code SCHEMA} is given): pgvector's
 *       {@code l2_distance}, {@code inner_product}, {@code cosine_distance}, {@code l1_distance}
 *       on (real[], real[]), (real[], text), (text, real[]), (text, text), and
 *       {@code vector_dims}, {@code vector_norm}, {@code l2_normalize} on real[] and text, as
 *       inlinable one-line SQL wrappers; the operators {@code <-> <#> <=> <+>}.</li>
 * </ul>
 *
 * <p><b>Operator signatures.</b> The operators are declared on (real[], anyarray),
 * (real[], text) and (text, real[]) — deliberately not on (real[], real[]). For
 * {@code embedding <-> '[1,2,3]'} PostgreSQL first looks for an operator whose right side has
 * the left side's type; with a (real[], real[]) operator it would take that one and parse the
 * untyped literal as a real[], which fails. Without it the untyped literal resolves to the
 * text operator (which validates it like pgvector), real[] operands (bound or typed) resolve to
 * the anyarray operator, and so do int[], numeric[] and float8[] arrays (converted to real[]).
 * The functions keep a (real[], real[]) signature: function resolution prefers the text
 * overload for an untyped literal without that problem.
 *
 * <p><b>Speed.</b> Distance functions are PL/pgSQL loops (L2, inner product, L1) or one SQL
 * aggregate over {@code unnest(a, b)} (cosine: three sums), whichever measured faster; about
 * 35-75 µs per 384-dimension row on an idle core. {@code to_vector} has a high COST so that a
 * prepared statement with a text parameter keeps custom plans, where the literal is converted
 * once, instead of a generic plan that would convert it on every row.
 */
package io.neurondb.proxy.shim;
