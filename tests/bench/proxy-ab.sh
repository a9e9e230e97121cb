#!/usr/bin/env bash
# A/B of two proxy variants on one server: two pooling proxies run side by side against the
# same PostgreSQL, and pgbench -S alternates between them in pairs whose order flips every
# pair (A B, B A, A B, ...), so a variant never profits from always running first or second.
# Per pair it prints each proxy's TPS and user/system CPU time per transaction (from
# /proc/<pid>/stat), then the paired differences (B - A): their median and how many pairs went
# each way. On a shared machine whose speed moves by tens of percent within minutes, a change
# of a few percent only shows this way, never in two separate runs.
#
# A variant is a build (a checkout with `./mvnw -DskipTests package` done) and JVM options:
#   A_ROOT, B_ROOT   checkouts to run bin/neurondb-proxy from (default: this one)
#   A_OPTS, B_OPTS   NEURONDB_JAVA_OPTS for each (default: none)
# Example: B_OPTS=-XX:+UseCompactObjectHeaders tests/bench/proxy-ab.sh
# Knobs: PAIRS=12 DURATION=10 CLIENTS=64 MODE=simple POOL=10 JOBS=2 SCALE=10 WARMUP=60 EVENT_LOOPS=2
# (WARMUP seconds per proxy before the pairs: a fresh JVM's first minute is mostly the JIT.)
set -euo pipefail

PAIRS=${PAIRS:-12}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-64}
MODE=${MODE:-simple}
POOL=${POOL:-10}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}
WARMUP=${WARMUP:-60}
EVENT_LOOPS=${EVENT_LOOPS:-2}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
A_ROOT=${A_ROOT:-$here}
B_ROOT=${B_ROOT:-$here}
source "$here/tests/bench/lib/postgres.sh"

work="$(mktemp -d /tmp/neurondb-ab-XXXXXX)"
chmod 755 "$work"

declare -A port pid
pg_port=$(free_port)
cleanup() {
  for v in A B; do [[ -n "${pid[$v]:-}" ]] && kill "${pid[$v]}" 2>/dev/null || true; done
  stop_cluster "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

start_cluster "$work/pg" "$pg_port" max_connections=300

start_proxy() { # variant root opts
  local v=$1 root=$2 opts=$3 jar
  jar="$(ls "$root"/plugins.d/neurondb-plugin-pooling-*.jar 2>/dev/null | head -1)"
  [[ -n "$jar" ]] || { echo "$root is not built: ./mvnw -DskipTests package" >&2; exit 2; }
  mkdir -p "$work/$v/plugins" && cp "$jar" "$work/$v/plugins/"
  printf 'event_loops: %s\nplugins:\n  pooling:\n    enabled: true\n    pool_mode: transaction\n    default_pool_size: %s\n    max_client_conn: 600\n    auth_type: trust\n' \
    "$EVENT_LOOPS" "$POOL" >"$work/$v/proxy.yaml"
  port[$v]=$(free_port)
  # setsid, as in tests/bench/lib/middles.sh: a session of its own, so autogroup scheduling treats it as
  # it treats PostgreSQL and pgbench.
  NEURONDB_CONFIG="$work/$v/proxy.yaml" NEURONDB_LISTEN="127.0.0.1:${port[$v]}" \
  NEURONDB_UPSTREAM="postgresql://postgres@127.0.0.1:$pg_port/postgres" NEURONDB_METRICS_PORT=0 \
  NEURONDB_DATA_DIR="$work/$v/data" NEURONDB_PLUGINS_DIR="$work/$v/plugins" NEURONDB_LOG_LEVEL=WARN \
  NEURONDB_JAVA_OPTS="$opts" setsid "$root/bin/neurondb-proxy" >"$work/$v/proxy.log" 2>&1 &
  pid[$v]=$!
  await_server "${port[$v]}" || { echo "proxy $v did not start; its log:" >&2; cat "$work/$v/proxy.log" >&2; exit 1; }
}
start_proxy A "$A_ROOT" "${A_OPTS:-}"
start_proxy B "$B_ROOT" "${B_OPTS:-}"
"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

hz=$(getconf CLK_TCK)
run() { # variant seconds -> "tps user_us_per_tx sys_us_per_tx"
  local v=$1 u0 s0 u1 s1 out
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/${pid[$v]}/stat")
  out=$("$bindir/pgbench" -h 127.0.0.1 -p "${port[$v]}" -U postgres -n -S -M "$MODE" -c "$CLIENTS" -j "$JOBS" -T "$2" postgres 2>&1)
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/${pid[$v]}/stat")
  awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" '/^tps = / {t=$3} /actually processed/ {n=$NF}
    END {if (n == 0) {print "0 0 0"} else printf "%.0f %.1f %.1f\n", t, u * 1e6 / hz / n, s * 1e6 / hz / n}' <<<"$out"
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A: ${A_ROOT} ${A_OPTS:-(no options)}"
echo "B: ${B_ROOT} ${B_OPTS:-(no options)}"
echo "pgbench -S -M $MODE -c $CLIENTS -j $JOBS, ${DURATION} s per run, pool $POOL (transaction mode), $EVENT_LOOPS event loops"
for v in A B; do run "$v" "$WARMUP" >/dev/null; done # the JIT compiles the paths first, in both

diffs=$work/diffs
: >"$diffs"
printf '%-5s | %-18s | %-18s | %s\n' pair "A tps  user   sys" "B tps  user   sys" "B-A user  B/A tps   (user, sys: us/tx)"
for i in $(seq 1 "$PAIRS"); do
  if (( i % 2 )); then a=$(run A "$DURATION"); b=$(run B "$DURATION"); else b=$(run B "$DURATION"); a=$(run A "$DURATION"); fi
  read -r ta ua sa <<<"$a"; read -r tb ub sb <<<"$b"
  d=$(awk -v a="$ua" -v b="$ub" 'BEGIN {printf "%+.1f", b - a}')
  r=$(awk -v a="$ta" -v b="$tb" 'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}')
  echo "$d $r" >>"$diffs"
  printf '%-5s | %6s %5s %5s | %6s %5s %5s | %8s  %7s\n' "$i" "$ta" "$ua" "$sa" "$tb" "$ub" "$sb" "$d" "$r"
done
sort -g -k1,1 "$diffs" | awk '{d[NR]=$1; lower += ($1 < 0); higher += ($1 > 0)} END {
  m = (NR % 2) ? d[(NR + 1) / 2] : (d[NR / 2] + d[NR / 2 + 1]) / 2
  printf "user us/tx B-A: median %+.1f; B lower in %d of %d pairs, higher in %d\n", m, lower, NR, higher}'
sort -g -k2,2 "$diffs" | awk '{r[NR]=$2; up += ($2 > 1)} END {
  m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
  printf "TPS B/A: median %.2f; B faster in %d of %d pairs\n", m, up, NR}'
