#!/usr/bin/env bash
# Pooling benchmark: pgbench select-only (-S) with the prepared and the simple protocol at 8, 64
# and 256 clients against PostgreSQL directly, through NeuronDB proxy's pooling plugin and
# through PgBouncer, both in transaction mode with a pool of 10 server connections, in one run
# on one server. Prints TPS and p99 latency (from pgbench's per-transaction log) side by side,
# with the proxy/PgBouncer TPS ratio, and the CPU time each middle process (proxy, PgBouncer)
# spent per transaction, read from /proc: outside load moves TPS far more than that figure.
# PostgreSQL's own CPU time per transaction is shown for every target too: on a machine the
# middle shares with the server and pgbench, the middle's effect on TPS includes how it paces
# the server (a backend that finds no query waiting sleeps and must be woken again). pgbench's
# own CPU time per transaction is shown too: with all three on two cores, the client's share
# moves with the middle as well.
# With ROUNDS > 1 every cell runs that many times, targets interleaved, and medians are shown,
# with each round's proxy/PgBouncer ratio and their median, and the share of CPU time the host
# took for other guests during the cell (steal), which tells a noisy neighbour from the code.
#
# Usage: tests/bench/pooling-compare.sh     (after ./mvnw -DskipTests package -pl proxy,plugins/pooling -am)
# Knobs: DURATION=10 CLIENT_COUNTS="8 64 256" MODES="prepared simple" POOL=10 JOBS=2 SCALE=10 WARMUP=30 EVENT_LOOPS=2 ROUNDS=1
#        SERVER_PIPELINING=off (the proxy's server_pipelining setting; PgBouncer has no such thing)
#
# Every target is first warmed up with WARMUP seconds of each measured mode at the largest
# client count: a proxy is long-running, and until the JIT has compiled the paths a mode and a
# queue of waiting clients take, its compiler threads are charged to the proxy's CPU per
# transaction (measured here: about 50 us/tx in the first 15 s of a simple-protocol run, under
# 0.5 us/tx after a minute). The warm-up runs against every target alike.
set -euo pipefail

DURATION=${DURATION:-10}
CLIENT_COUNTS=${CLIENT_COUNTS:-8 64 256}
MODES=${MODES:-prepared simple}
POOL=${POOL:-10}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}
WARMUP=${WARMUP:-30}
EVENT_LOOPS=${EVENT_LOOPS:-2}
ROUNDS=${ROUNDS:-1}
SERVER_PIPELINING=${SERVER_PIPELINING:-off}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/tests/bench/lib/postgres.sh"
source "$root/tests/bench/lib/cpu.sh"
source "$root/tests/bench/lib/middles.sh"
command -v pgbouncer >/dev/null || { echo "pgbouncer not installed (apt-get install -y pgbouncer)" >&2; exit 2; }
jar="$(ls "$root"/plugins.d/neurondb-plugin-pooling-*.jar 2>/dev/null | head -1)"
[[ -n "$jar" ]] || { echo "pooling plugin not built: ./mvnw -DskipTests package -pl plugins/pooling -am" >&2; exit 2; }

work="$(mktemp -d /tmp/neurondb-poolbench-XXXXXX)"
chmod 755 "$work"

pg_port=$(free_port); bouncer_port=$(free_port); proxy_port=$(free_port)
proxy_pid=""
cleanup() {
  [[ -n "$proxy_pid" ]] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null || true
  [[ -f "$work/pgbouncer.pid" ]] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  stop_cluster "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/plugins" "$work/logs" && [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work" "$work/logs" # PgBouncer (as postgres) writes its log and pid here
chmod 777 "$work/logs"
cp "$jar" "$work/plugins/"
start_cluster "$work/pg" "$pg_port" max_connections=300

cat >"$work/proxy.yaml" <<YAML
event_loops: $EVENT_LOOPS
plugins:
  pooling:
    enabled: true
    pool_mode: transaction
    default_pool_size: $POOL
    max_client_conn: 600
    auth_type: trust
    server_pipelining: $SERVER_PIPELINING
YAML
start_neurondb "$root" "$work/proxy.yaml" "$proxy_port" "$pg_port" "$work/proxy-data" "$work/plugins" "$work/proxy.log"
proxy_pid=$started_pid
start_pgbouncer "$work" "$bouncer_port" "$pg_port" transaction "$POOL" 600

declare -A ports=([direct]=$pg_port [neurondb]=$proxy_port [pgbouncer]=$bouncer_port)
declare -A pids=([neurondb]=$proxy_pid)
targets=(direct neurondb pgbouncer)
for t in "${targets[@]}"; do
  await_server "${ports[$t]}" || true # a target that never answers shows as 0 tps
done
"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # port mode clients seconds middle_pid -> "tps p99_ms middle_cpu_us_per_tx server_cpu_us_per_tx client_cpu_us_per_tx"
  local dir="$work/logs/run-$RANDOM$RANDOM" c0 c1 s0 s1 out tps txs backends
  mkdir -p "$dir"
  backends=$(cluster_backends "$work/pg")
  c0=$(cpu_ticks "${5:-}"); s0=$(cluster_ticks "$work/pg")
  # A failing run (PgBouncer before 1.21 cannot do -M prepared in transaction mode) shows as 0 tps.
  # timed_pgbench also leaves pgbench's own CPU time: the client's share.
  out=$(timed_pgbench "$dir" -h 127.0.0.1 -p "$1" -U postgres -n -S -M "$2" -c "$3" -j "$JOBS" -T "$4" -l postgres \
    | awk '/^tps = / {t=$3} /actually processed/ {n=$NF} /aborted|error/ {e=1} END {printf "%s %s", (e || t == "") ? 0 : t, (e || n == "") ? 0 : n}')
  await_backends "$work/pg" "$backends" # backends of the run (direct) finish exiting, so their time is counted
  c1=$(cpu_ticks "${5:-}"); s1=$(cluster_ticks "$work/pg")
  read -r tps txs <<<"$out"
  printf '%s ' "$tps"
  { cat "$dir"/pgbench_log.* 2>/dev/null || true; } | awk '{print $3}' | sort -n \
    | awk '{a[NR]=$1} END {if (NR == 0) printf "n/a "; else {i=int(NR*0.99); if (i < 1) i=1; printf "%.2f ", a[i]/1000}}'
  awk -v d=$(( (c1 - c0) * tick_us )) -v n="$txs" -v pid="${5:-}" 'BEGIN {if (pid == "" || n == 0) printf "- "; else printf "%.1f ", d / n}'
  awk -v d=$(( (s1 - s0) * tick_us )) -v n="$txs" 'BEGIN {if (n == 0) printf "- "; else printf "%.1f ", d / n}'
  awk -v s="$(children_seconds "$dir/client-times")" -v n="$txs" 'BEGIN {if (n == 0 || s == "") print "-"; else printf "%.1f\n", s * 1e6 / n}'
  rm -rf "$dir"
}

steal_ticks() { awk '/^cpu / {print $9}' /proc/stat; } # CPU time the host gave to others (a virtual machine's noise)


pids[pgbouncer]=$(cat "$work/pgbouncer.pid")
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pgbench -S, $DURATION s per cell, $ROUNDS round(s) per cell (medians), pool $POOL (transaction mode) for neurondb and pgbouncer, scale $SCALE, $EVENT_LOOPS event loops, neurondb server_pipelining $SERVER_PIPELINING"
warm_clients=$(tr ' ' '\n' <<<"$CLIENT_COUNTS" | sort -n | tail -1)
for mode in $MODES; do   # warm-up: JIT and caches, on the paths the cells below take
  for t in "${targets[@]}"; do run "${ports[$t]}" "$mode" "$warm_clients" "$WARMUP" >/dev/null; done
done
echo "us/tx: CPU time per transaction of the middle process (proxy, PgBouncer); pg us/tx: of PostgreSQL (all its processes); cl us/tx: of pgbench"
printf '%-9s %7s | %12s %9s %8s %8s | %12s %9s %7s %8s %8s | %12s %9s %7s %8s %8s | %s\n' mode clients "direct tps" "p99 ms" "pg us/tx" "cl us/tx" \
  "neurondb tps" "p99 ms" "us/tx" "pg us/tx" "cl us/tx" "pgbouncer tps" "p99 ms" "us/tx" "pg us/tx" "cl us/tx" "neurondb/pgbouncer"
for mode in $MODES; do
  for c in $CLIENT_COUNTS; do
    declare -A tps_all p99_all cpu_all pg_all cl_all
    for t in "${targets[@]}"; do tps_all[$t]=""; p99_all[$t]=""; cpu_all[$t]=""; pg_all[$t]=""; cl_all[$t]=""; done
    st0=$(steal_ticks); wall0=$(date +%s%N)
    for r in $(seq 1 "$ROUNDS"); do
      for t in "${targets[@]}"; do
        read -r a b cpu pgcpu clcpu < <(run "${ports[$t]}" "$mode" "$c" "$DURATION" "${pids[$t]:-}")
        tps_all[$t]+="$a "; p99_all[$t]+="$b "; cpu_all[$t]+="$cpu "; pg_all[$t]+="$pgcpu "; cl_all[$t]+="$clcpu "
      done
    done
    declare -A tps p99 cpu pgc clc
    for t in "${targets[@]}"; do
      tps[$t]=$(echo "${tps_all[$t]}" | median); p99[$t]=$(echo "${p99_all[$t]}" | median); cpu[$t]=$(echo "${cpu_all[$t]}" | median)
      pgc[$t]=$(echo "${pg_all[$t]}" | median); clc[$t]=$(echo "${cl_all[$t]}" | median)
    done
    ratio=$(awk -v a="${tps[neurondb]:-0}" -v b="${tps[pgbouncer]:-0}" 'BEGIN{printf (b > 0 ? "%.2f" : "n/a"), (b > 0 ? a / b : 0)}')
    printf '%-9s %7s | %12.0f %9s %8s %8s | %12.0f %9s %7s %8s %8s | %12.0f %9s %7s %8s %8s | %s\n' "$mode" "$c" \
      "${tps[direct]:-0}" "${p99[direct]}" "${pgc[direct]}" "${clc[direct]}" \
      "${tps[neurondb]:-0}" "${p99[neurondb]}" "${cpu[neurondb]}" "${pgc[neurondb]}" "${clc[neurondb]}" \
      "${tps[pgbouncer]:-0}" "${p99[pgbouncer]}" "${cpu[pgbouncer]}" "${pgc[pgbouncer]}" "${clc[pgbouncer]}" "$ratio"
    if [[ $ROUNDS -gt 1 ]]; then
      # Each round's two runs are a few seconds apart, so their ratio is less exposed to the
      # machine's drift during the cell than the ratio of the two medians above.
      paired=$(paste -d' ' <(tr ' ' '\n' <<<"${tps_all[neurondb]}" | grep -v '^$') <(tr ' ' '\n' <<<"${tps_all[pgbouncer]}" | grep -v '^$') \
        | awk '$2 > 0 {printf "%.2f ", $1 / $2}')
      steal=$(awk -v t=$(( ($(steal_ticks) - st0) * tick_us )) -v w=$(( ($(date +%s%N) - wall0) / 1000 )) -v n="$(nproc)" \
        'BEGIN {printf "%.1f", 100 * t / (w * n)}')
      printf '%-17s   rounds: neurondb %s| pgbouncer %s| paired ratios %s(median %s) | host steal %s%% of CPU time\n' "" \
        "${tps_all[neurondb]}" "${tps_all[pgbouncer]}" "$paired" "$(echo "$paired" | median)" "$steal"
    fi
  done
done
