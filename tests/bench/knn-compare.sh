#!/usr/bin/env bash
# kNN benchmark: pgvector-style SQL through NeuronDB proxy (served by its in-memory HNSW) against
# the same query answered exactly by stock PostgreSQL 15 with the shim operators, in one run.
#
# Starts a fresh PostgreSQL (own temp dir, 127.0.0.1, removed afterwards; as root the server
# runs as the postgres OS user) and the proxy (as bin/neurondb-proxy runs it) in front of it, then runs
# tests/src/test/java/io/neurondb/tests/bench/KnnBenchmark.java with pgjdbc: CREATE EXTENSION
# vector, CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(384)), COPY of the cached
# MiniLM vectors (index-engine/bench/data, made by index-engine/bench/run.sh minilm), CREATE
# INDEX ... USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64), then
# recall@10, QPS and latency of SELECT id FROM items ORDER BY embedding <=> ?::vector LIMIT 10
# from 1 and 2 clients at several hnsw.ef_search values, and the exact peer on a few queries.
#
# Usage: tests/bench/knn-compare.sh     (after ./mvnw -q -o install -pl index-engine,gpu,plugins/api,proxy -DskipTests;
#                                        BUILD=1 runs that first)
# Knobs: EF="40,20,64,100" CLIENTS="1,2" DURATION=5 ROUNDS=3 WARMUP=5 QUERIES=1000 EXACT_QUERIES=20
#        LOAD=copy (or insert: pgjdbc batched INSERTs; COPY falls back to them when a one-row probe fails)
#        LOAD_PEER=1 (also load the same rows the same way straight into PostgreSQL as real[], a load-time peer)
#        ROUND_TRIP=1 (also time ef_search 40 as a role with row security active on items: PostgreSQL then
#                      runs the rewritten join of the engine's candidates instead of the engine answering alone)
#        PROXY_JAVA_OPTS (extra JVM flags for the proxy), BENCH_XMX=3g (the client JVM)
set -euo pipefail

EF=${EF:-40,20,64,100}
CLIENTS=${CLIENTS:-1,2}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
QUERIES=${QUERIES:-1000}
EXACT_QUERIES=${EXACT_QUERIES:-20}
LOAD=${LOAD:-copy}
LOAD_PEER=${LOAD_PEER:-1}
ROUND_TRIP=${ROUND_TRIP:-1}
BENCH_XMX=${BENCH_XMX:-3g}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
data="$root/index-engine/bench/data"
if [[ ! -s "$data/minilm-base.f32" || ! -s "$data/minilm-queries.f32" ]]; then
  echo "MiniLM vectors not cached in $data; run: index-engine/bench/run.sh minilm  (embeds them, about two minutes)" >&2
  exit 2
fi
if [[ "${BUILD:-0}" == 1 ]]; then
  ./mvnw -q -o install -pl index-engine,gpu,plugins/api,proxy -DskipTests
fi
[[ -d proxy/target/classes && -d proxy/target/lib ]] || { echo "proxy not built; run with BUILD=1" >&2; exit 2; }

# The client needs only pgjdbc: compile just this benchmark (not the whole test tree) against
# the tests module's classpath.
out="$root/tests/target/bench-classes"
./mvnw -q -o dependency:build-classpath -pl tests -Dmdep.includeScope=test \
  -Dmdep.outputFile="$root/tests/target/bench.classpath" >/dev/null
cp="$(cat "$root/tests/target/bench.classpath")"
mkdir -p "$out"
"$JAVA_HOME/bin/javac" --release 25 -d "$out" -cp "$cp" tests/src/test/java/io/neurondb/tests/bench/*.java

bindir="$(pg_config --bindir 2>/dev/null || true)"
if [[ ! -x "$bindir/initdb" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi

work="$(mktemp -d /tmp/neurondb-knn-bench-XXXXXX)"
chmod 755 "$work"
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_port=$(free_port); proxy_port=$(free_port)
proxy_pid=
cleanup() {
  if [[ -n "$proxy_pid" ]]; then kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null || true; fi
  as_pg "$bindir/pg_ctl" stop -D "$work/pg" -m immediate >/dev/null 2>&1 || true
  if [[ "${KEEP_LOGS:-0}" == 1 ]]; then
    cp "$work/proxy.log" "/tmp/knn-bench-proxy.log" 2>/dev/null || true
    cp "$work/pg/server.log" "/tmp/knn-bench-server.log" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/pg" && [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work" "$work/pg"
as_pg "$bindir/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync >/dev/null
as_pg "$bindir/pg_ctl" start -w -D "$work/pg" -l "$work/pg/server.log" \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/pg -c max_connections=50 -c wal_level=logical -c shared_buffers=512MB" >/dev/null

# The proxy runs as bin/neurondb-proxy would run it, but from a copy of its build: a rebuild of
# proxy/target while the benchmark runs (other work on the same tree) cannot pull classes away.
mkdir -p "$work/proxy-build"
cp -r proxy/target/classes proxy/target/lib "$work/proxy-build/"
copied_at="$(date -u +%H:%M:%S)"
# setsid: a session of its own, as pg_ctl and pgbouncer -d give theirs (see tests/bench/lib/middles.sh).
NEURONDB_LISTEN="127.0.0.1:$proxy_port" \
NEURONDB_UPSTREAM="postgresql://postgres:postgres@127.0.0.1:$pg_port/postgres" NEURONDB_METRICS_PORT=0 \
NEURONDB_DATA_DIR="$work/proxy-data" NEURONDB_PLUGINS_DIR="$work/plugins" NEURONDB_LOG_LEVEL=${PROXY_LOG_LEVEL:-WARN} \
NEURONDB_HOME="$root" \
  setsid "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow ${PROXY_JAVA_OPTS:-} \
  -cp "$work/proxy-build/classes:$work/proxy-build/lib/*" io.neurondb.proxy.cli.Main >"$work/proxy.log" 2>&1 &
proxy_pid=$!
# (trust auth ignores the upstream password; builds before 3b0a1fe needed one in the URL.)

for port in "$pg_port" "$proxy_port"; do
  for i in $(seq 1 150); do
    "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && break
    kill -0 "$proxy_pid" 2>/dev/null || { echo "proxy exited:" >&2; cat "$work/proxy.log" >&2; exit 1; }
    sleep 0.2
  done
done
build="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet -- proxy index-engine 2>/dev/null || build+=" + uncommitted changes in proxy/ or index-engine/"
echo "proxy classes copied from proxy/target at $copied_at UTC, tree $build"
pg_version="$("$bindir/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -Atc 'show server_version' postgres)"
echo "PostgreSQL $pg_version on 127.0.0.1:$pg_port; NeuronDB proxy (pid $proxy_pid) on 127.0.0.1:$proxy_port; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
"$JAVA_HOME/bin/java" -Xmx"$BENCH_XMX" -cp "$out:$cp" \
  -Dproxy.url="jdbc:postgresql://127.0.0.1:$proxy_port/postgres" \
  -Ddirect.url="jdbc:postgresql://127.0.0.1:$pg_port/postgres" \
  -Ddata.dir="$data" -Dproxy.pid="$proxy_pid" \
  -Dqueries="$QUERIES" -Def="$EF" -Dclients="$CLIENTS" -Dduration="$DURATION" -Drounds="$ROUNDS" \
  -Dwarmup="$WARMUP" -Dexact.queries="$EXACT_QUERIES" -Dload="$LOAD" -Dround.trip="$([[ $ROUND_TRIP == 1 ]] && echo true || echo false)" -Dload.peer="$([[ $LOAD_PEER == 1 ]] && echo true || echo false)" \
  io.neurondb.tests.bench.KnnBenchmark || status=$?
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $status -ne 0 ]]; then
  echo "--- proxy log (last 40 lines) ---" >&2
  tail -40 "$work/proxy.log" >&2
fi
exit $status
