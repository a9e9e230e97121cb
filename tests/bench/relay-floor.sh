#!/usr/bin/env bash
# Relay floor: what a middle process costs per transaction when it does nothing but copy bytes.
# pgbench select-only (-S) with one server connection per client, through three middles in
# front of one PostgreSQL, in alternating order:
#   bare      - tests/bench/floor/BareRelay.java: Netty's epoll transport copying bytes both
#               ways, no protocol parsing, no pooling, no Vert.x (the floor of any Netty proxy);
#   neurondb  - the proxy with its pooling plugin in session mode and a pool as large as the
#               client count (a relay that parses and tracks every message);
#   pgbouncer - PgBouncer in session mode with the same pool.
# Prints per middle: TPS, the middle's user and system CPU per transaction (from /proc), and
# PostgreSQL's and pgbench's, with medians over the rounds and ratios to PgBouncer. The
# question it answers: how much of the proxy's CPU per transaction is the runtime's (the bare
# relay's share) and how much its own work.
#
# Usage: tests/bench/relay-floor.sh        (after ./mvnw -DskipTests package)
# Knobs: CLIENTS=64 MODE=simple DURATION=10 ROUNDS=4 WARMUP=30 EVENT_LOOPS=2 JOBS=2 SCALE=10
set -euo pipefail

CLIENTS=${CLIENTS:-64}
MODE=${MODE:-simple}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-4}
WARMUP=${WARMUP:-30}
EVENT_LOOPS=${EVENT_LOOPS:-2}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/tests/bench/lib/postgres.sh"
source "$root/tests/bench/lib/cpu.sh"
source "$root/tests/bench/lib/middles.sh"
command -v pgbouncer >/dev/null || { echo "pgbouncer not installed (apt-get install -y pgbouncer)" >&2; exit 2; }
jar="$(ls "$root"/plugins.d/neurondb-plugin-pooling-*.jar 2>/dev/null | head -1)"
[[ -n "$jar" && -d "$root/proxy/target/lib" ]] || { echo "not built: ./mvnw -DskipTests package" >&2; exit 2; }
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

work="$(mktemp -d /tmp/neurondb-floor-XXXXXX)"
chmod 755 "$work"
pg_port=$(free_port); bare_port=$(free_port); proxy_port=$(free_port); bouncer_port=$(free_port)
bare_pid=""; proxy_pid=""
cleanup() {
  for p in "$bare_pid" "$proxy_pid"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  [[ -f "$work/logs/pgbouncer.pid" ]] && kill "$(cat "$work/logs/pgbouncer.pid")" 2>/dev/null || true
  stop_cluster "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/plugins" "$work/logs" "$work/classes" && [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work" "$work/logs"
chmod 777 "$work/logs"
cp "$jar" "$work/plugins/"
pool=$((CLIENTS + 10))
start_cluster "$work/pg" "$pg_port" max_connections=$((pool * 3 + 20))

# The bare relay runs on the proxy's own Netty jars, with the launcher's Netty settings.
netty_cp="$(ls "$root"/proxy/target/lib/netty-*.jar | tr '\n' ':')"
"$java_home/bin/javac" -d "$work/classes" -cp "$netty_cp" "$root/tests/bench/floor/BareRelay.java"
setsid "$java_home/bin/java" -Dio.netty.allocator.type=pooled -Dio.netty.recycler.maxCapacityPerThread=0 \
  -cp "$netty_cp$work/classes" BareRelay "$bare_port" "$pg_port" "$EVENT_LOOPS" >"$work/bare.log" 2>&1 &
bare_pid=$!

cat >"$work/proxy.yaml" <<YAML
event_loops: $EVENT_LOOPS
plugins:
  pooling:
    enabled: true
    pool_mode: session
    default_pool_size: $pool
    max_client_conn: $((pool * 2))
    auth_type: trust
YAML
start_neurondb "$root" "$work/proxy.yaml" "$proxy_port" "$pg_port" "$work/proxy-data" "$work/plugins" "$work/proxy.log"
proxy_pid=$started_pid
start_pgbouncer "$work/logs" "$bouncer_port" "$pg_port" session "$pool" $((pool * 2))

declare -A ports=([bare]=$bare_port [neurondb]=$proxy_port [pgbouncer]=$bouncer_port)
targets=(bare neurondb pgbouncer)
for t in "${targets[@]}"; do await_server "${ports[$t]}" || { echo "$t never answered" >&2; exit 1; }; done
declare -A pids=([bare]=$bare_pid [neurondb]=$proxy_pid [pgbouncer]=$(cat "$work/logs/pgbouncer.pid"))
"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # target seconds -> "tps middle_user_us middle_sys_us server_us client_us" per transaction
  local t=$1 secs=$2 u0 s0 u1 s1 p0 p1 txs tps backends
  backends=$(cluster_backends "$work/pg")
  read -r u0 s0 < <(user_sys_ticks "${pids[$t]}"); p0=$(cluster_ticks "$work/pg")
  read -r tps txs < <(timed_pgbench "$work/logs" -h 127.0.0.1 -p "${ports[$t]}" -U postgres -n -S -M "$MODE" \
      -c "$CLIENTS" -j "$JOBS" -T "$secs" postgres \
    | awk '/^tps = / {t=$3} /actually processed/ {n=$NF} END {print (t == "" ? 0 : t), (n == "" ? 0 : n)}')
  await_backends "$work/pg" "$backends" # the bare relay's server connections end with its clients
  read -r u1 s1 < <(user_sys_ticks "${pids[$t]}"); p1=$(cluster_ticks "$work/pg")
  awk -v tps="$tps" -v n="$txs" -v mu=$(( (u1 - u0) * tick_us )) -v ms=$(( (s1 - s0) * tick_us )) -v pg=$(( (p1 - p0) * tick_us )) \
    -v cl="$(children_seconds "$work/logs/client-times")" \
    'BEGIN {if (n == 0) n = 1; printf "%.0f %.2f %.2f %.1f %.1f\n", tps, mu / n, ms / n, pg / n, cl * 1e6 / n}'
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pgbench -S -M $MODE, $CLIENTS clients, one server connection each, $DURATION s per run, $ROUNDS rounds (medians), $EVENT_LOOPS event loops for the Netty middles"
for t in "${targets[@]}"; do run "$t" "$WARMUP" >/dev/null; done
declare -A all_tps all_user all_sys all_pg all_cl
for t in "${targets[@]}"; do all_tps[$t]=""; all_user[$t]=""; all_sys[$t]=""; all_pg[$t]=""; all_cl[$t]=""; done
for r in $(seq 1 "$ROUNDS"); do
  order=("${targets[@]:$((r % 3))}" "${targets[@]:0:$((r % 3))}") # each middle goes first in turn
  for t in "${order[@]}"; do
    read -r tps mu ms pg cl < <(run "$t" "$DURATION")
    echo "round $r  $(printf '%-9s' "$t") tps $tps  middle user $mu sys $ms us/tx  postgres $pg  pgbench $cl us/tx"
    all_tps[$t]+="$tps "; all_user[$t]+="$mu "; all_sys[$t]+="$ms "; all_pg[$t]+="$pg "; all_cl[$t]+="$cl "
  done
done
echo
printf '%-10s %8s %14s %13s %15s %14s %10s %16s\n' middle tps "user us/tx" "sys us/tx" "postgres us/tx" "pgbench us/tx" "tps ratio" "user ratio"
pb_tps=$(echo "${all_tps[pgbouncer]}" | median); pb_user=$(echo "${all_user[pgbouncer]}" | median)
for t in "${targets[@]}"; do
  tps=$(echo "${all_tps[$t]}" | median); mu=$(echo "${all_user[$t]}" | median)
  printf '%-10s %8s %14s %13s %15s %14s %10s %16s\n' "$t" "$tps" "$mu" "$(echo "${all_sys[$t]}" | median)" \
    "$(echo "${all_pg[$t]}" | median)" "$(echo "${all_cl[$t]}" | median)" \
    "$(awk -v a="$tps" -v b="$pb_tps" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')" \
    "$(awk -v a="$mu" -v b="$pb_user" 'BEGIN {printf "%.1fx", (b > 0 ? a / b : 0)}')"
done
echo "(ratios: to PgBouncer, of the medians)"
