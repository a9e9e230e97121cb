#!/usr/bin/env bash
# Slow-query capture overhead: pgbench select-only through NeuronDB proxy without plugins and
# with the slow-query plugin (every statement goes through the statement tracker, the plugin's
# queue, normalisation and the summary figures; none is slow enough to be written), in one run
# on one server, targets interleaved round by round. Prints TPS (median of ROUNDS), the ratio
# to the proxy without plugins, and the proxy's CPU time per transaction from /proc.
# MODE=simple sends every statement with its literal (a new text each time, so normalisation
# misses the cache); MODE=prepared sends one text (cache hits).
#
# Usage: tests/bench/slowquery-overhead.sh   (after ./mvnw -o -q -pl plugins/slow-query -am package -DskipTests)
# Knobs: DURATION=15 ROUNDS=3 CLIENTS=8 JOBS=2 SCALE=10 MODE=simple WARMUP=20 EVENT_LOOPS=1
set -euo pipefail

DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-8}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}
MODE=${MODE:-simple}
WARMUP=${WARMUP:-20}
EVENT_LOOPS=${EVENT_LOOPS:-1}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bindir="$(pg_config --bindir 2>/dev/null || true)"
if [[ ! -x "$bindir/initdb" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
jar="$(ls "$root"/plugins.d/neurondb-plugin-slow-query-*.jar 2>/dev/null | head -1)"
[[ -n "$jar" ]] || { echo "slow-query plugin not built: ./mvnw -o -q -pl plugins/slow-query -am package -DskipTests" >&2; exit 2; }

work="$(mktemp -d /tmp/neurondb-sqbench-XXXXXX)"
chmod 755 "$work"
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_port=$(free_port)
proxy_pids=()
cleanup() {
  for p in "${proxy_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  as_pg "$bindir/pg_ctl" stop -D "$work/pg" -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/pg" "$work/plugins-none" "$work/plugins-sq" && [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work" "$work/pg"
cp "$jar" "$work/plugins-sq/"
as_pg "$bindir/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync >/dev/null
as_pg "$bindir/pg_ctl" start -w -D "$work/pg" -l "$work/pg/server.log" \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/pg -c max_connections=200 -c wal_level=logical" >/dev/null

declare -A ports pids
targets=(no-plugins slow-query)
for t in "${targets[@]}"; do
  port=$(free_port)
  printf 'event_loops: %s\n' "$EVENT_LOOPS" >"$work/$t.yaml"
  plugins="$work/plugins-none"; [[ $t == slow-query ]] && plugins="$work/plugins-sq"
  NEURONDB_CONFIG="$work/$t.yaml" NEURONDB_LISTEN="127.0.0.1:$port" \
  NEURONDB_UPSTREAM="postgresql://postgres@127.0.0.1:$pg_port/postgres" NEURONDB_METRICS_PORT=0 \
  NEURONDB_DATA_DIR="$work/data-$t" NEURONDB_PLUGINS_DIR="$plugins" NEURONDB_LOG_LEVEL=WARN \
    "$root/bin/neurondb-proxy" >"$work/$t.log" 2>&1 &
  proxy_pids+=($!)
  pids[$t]=$!
  ports[$t]=$port
done

for t in "${targets[@]}"; do
  for i in $(seq 1 100); do
    "$bindir/psql" -h 127.0.0.1 -p "${ports[$t]}" -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && break
    sleep 0.2
  done
done
"$bindir/psql" -h 127.0.0.1 -p "${ports[slow-query]}" -U postgres -Atc 'select * from neurondb.slow_query_summary()' postgres >/dev/null \
  || { echo "slow-query plugin did not answer; see $work/slow-query.log" >&2; cat "$work/slow-query.log" >&2; exit 1; }

"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # port seconds -> "tps transactions"
  "$bindir/pgbench" -h 127.0.0.1 -p "$1" -U postgres -n -S -M "$MODE" -c "$CLIENTS" -j "$JOBS" -T "$2" postgres 2>&1 \
    | awk '/^number of transactions actually processed/ {n=$NF} /^tps = / {t=$3} END {print t, n}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A results cpu
for t in "${targets[@]}"; do run "${ports[$t]}" "$WARMUP" >/dev/null; done
for r in $(seq 1 "$ROUNDS"); do
  for t in "${targets[@]}"; do
    c0=$(cpu_ticks "${pids[$t]}")
    read -r tps txs < <(run "${ports[$t]}" "$DURATION")
    c1=$(cpu_ticks "${pids[$t]}")
    us=$(awk -v d=$((c1 - c0)) -v n="$txs" -v hz="$hz" 'BEGIN{printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0)}')
    results[$t]+="$tps "
    cpu[$t]+="$us "
    printf 'round %d %-12s %10.0f tps  %6s us CPU/tx in the proxy\n' "$r" "$t" "$tps" "$us"
  done
done

declare -A med
for t in "${targets[@]}"; do med[$t]=$(tr ' ' '\n' <<<"${results[$t]}" | grep . | median); done
echo
echo "pgbench -S -M $MODE -c $CLIENTS -j $JOBS -T $DURATION, scale $SCALE, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%FT%H:%MZ)"
for t in "${targets[@]}"; do
  printf '%-12s %10.0f tps   x%.3f of no-plugins   %6s us CPU/tx (median)\n' "$t" "${med[$t]}" \
    "$(awk -v a="${med[$t]}" -v b="${med[no-plugins]}" 'BEGIN{print a/b}')" \
    "$(tr ' ' '\n' <<<"${cpu[$t]}" | grep . | median)"
done
echo "summary rows: $("$bindir/psql" -h 127.0.0.1 -p "${ports[slow-query]}" -U postgres -Atc 'select * from neurondb.slow_query_summary(100000)' postgres | wc -l)"
