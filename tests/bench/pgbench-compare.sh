#!/usr/bin/env bash
# Passthrough benchmark: pgbench select-only (prepared protocol) against PostgreSQL directly,
# through NeuronDB proxy, and through PgBouncer in session mode, in one run on one server.
# Prints TPS per target (median of ROUNDS runs, targets interleaved), ratios, the CPU time
# the middle process (proxy or PgBouncer) spent per transaction, which load on the machine
# disturbs far less than TPS, and the whole machine's busy CPU time per transaction (all
# cores, from /proc/stat: pgbench, PostgreSQL, the middle and whatever else runs). When
# pgbench keeps every core busy, TPS is cores divided by that figure, so a middle can reach
# 0.9x of direct only by adding at most a ninth of direct's figure.
#
# When socat is installed it is measured too, as a bare relay: one process per connection that
# copies bytes and understands nothing of them. It shows what one more hop through the
# kernel's sockets costs on this machine without any protocol work, so how much of "x of
# direct" any proxy would lose here.
#
# Usage: tests/bench/pgbench-compare.sh            (after ./mvnw -DskipTests package)
# Knobs: DURATION=20 ROUNDS=3 CLIENTS=8 JOBS=2 SCALE=10 MODE=prepared WARMUP=30
#        EVENT_LOOPS="1 2"  (proxy event-loop threads; each count is measured as its own target.
#                            PgBouncer runs one thread, so 1 is the like-for-like setting)
set -euo pipefail

DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-8}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}
MODE=${MODE:-prepared}
WARMUP=${WARMUP:-30}
EVENT_LOOPS=${EVENT_LOOPS:-1 2}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/tests/bench/lib/postgres.sh"
source "$root/tests/bench/lib/middles.sh"
command -v pgbouncer >/dev/null || { echo "pgbouncer not installed (apt-get install -y pgbouncer)" >&2; exit 2; }

work="$(mktemp -d /tmp/neurondb-bench-XXXXXX)"
chmod 755 "$work"

pg_port=$(free_port); bouncer_port=$(free_port)
proxy_pids=()
cleanup() {
  for p in "${proxy_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  [[ -f "$work/pgbouncer.pid" ]] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  stop_cluster "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work" # PgBouncer (as postgres) writes its log and pid here
start_cluster "$work/pg" "$pg_port" max_connections=200 wal_level=logical

declare -A ports=([direct]=$pg_port [pgbouncer]=$bouncer_port)
declare -A pids
targets=(direct)
for loops in $EVENT_LOOPS; do
  port=$(free_port)
  printf 'event_loops: %s\n' "$loops" >"$work/proxy-$loops.yaml"
  start_neurondb "$root" "$work/proxy-$loops.yaml" "$port" "$pg_port" "$work/proxy-data" "$work/plugins" "$work/proxy-$loops.log"
  proxy_pids+=("$started_pid")
  pids[neurondb-$loops]=$started_pid
  ports[neurondb-$loops]=$port
  targets+=("neurondb-$loops")
done
targets+=(pgbouncer)
if command -v socat >/dev/null; then
  relay_port=$(free_port)
  setsid socat "TCP-LISTEN:$relay_port,bind=127.0.0.1,reuseaddr,fork,nodelay" "TCP:127.0.0.1:$pg_port,nodelay" \
    >"$work/socat.log" 2>&1 &
  proxy_pids+=($!)
  pids[bare-relay]=$!
  ports[bare-relay]=$relay_port
  targets+=(bare-relay)
else
  echo "socat not installed: the bare-relay peer is left out (apt-get install -y socat)" >&2
fi

start_pgbouncer "$work" "$bouncer_port" "$pg_port" session $((CLIENTS + 4)) 500
pids[pgbouncer]=$(cat "$work/pgbouncer.pid")

for t in "${targets[@]}"; do
  await_server "${ports[$t]}" || true # a target that never answers shows as 0 tps
done

"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # port seconds -> "tps transactions"
  "$bindir/pgbench" -h 127.0.0.1 -p "$1" -U postgres -n -S -M "$MODE" -c "$CLIENTS" -j "$JOBS" -T "$2" postgres 2>&1 \
    | awk '/^number of transactions actually processed/ {n=$NF} /^tps = / {t=$3} END {print t, n}'
}
cpu_ticks() { # pid -> user+system clock ticks so far, its reaped children's included (socat forks
               # one per connection); 0 when there is no middle process
  if [[ -n "${1:-}" && -r "/proc/$1/stat" ]]; then awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; else echo 0; fi
}
hz=$(getconf CLK_TCK)
machine_ticks() { # busy clock ticks of all cores so far: user nice system irq softirq (not idle,
                   # iowait, or steal, which is the hypervisor's)
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat
}
per_tx() { # clock ticks, transactions -> microseconds per transaction
  awk -v d="$1" -v n="$2" -v hz="$hz" 'BEGIN{printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0)}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A results cpu machine
for t in "${targets[@]}"; do run "${ports[$t]}" "$WARMUP" >/dev/null; done   # warm-up: JIT, caches (a proxy is long-running)
for r in $(seq 1 "$ROUNDS"); do
  for t in "${targets[@]}"; do
    backends=$(cluster_backends "$work/pg")
    c0=$(cpu_ticks "${pids[$t]:-}"); m0=$(machine_ticks)
    read -r tps txs < <(run "${ports[$t]}" "$DURATION")
    await_backends "$work/pg" "$backends"   # direct's and the relays' backends end with the run
    m1=$(machine_ticks)
    [[ $t == bare-relay ]] && sleep 0.5   # let socat reap the children that served this run
    c1=$(cpu_ticks "${pids[$t]:-}")
    us=$(per_tx $((c1 - c0)) "$txs"); mus=$(per_tx $((m1 - m0)) "$txs")
    results[$t]+="$tps "
    cpu[$t]+="$us "
    machine[$t]+="$mus "
    printf 'round %d %-12s %10.0f tps  %6s us CPU/tx in the middle process  %6s us/tx machine-wide\n' "$r" "$t" "$tps" "$us" "$mus"
  done
done

declare -A med
for t in "${targets[@]}"; do med[$t]=$(tr ' ' '\n' <<<"${results[$t]}" | grep . | median); done
echo
echo "pgbench -S -M $MODE -c $CLIENTS -j $JOBS -T $DURATION, scale $SCALE, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%F)"
for t in "${targets[@]}"; do
  printf '%-14s %10.0f tps   x%.2f of direct   x%.2f of PgBouncer   %6s us CPU/tx (median)   %6s us/tx machine-wide\n' "$t" "${med[$t]}" \
    "$(awk -v a="${med[$t]}" -v b="${med[direct]}" 'BEGIN{print a/b}')" \
    "$(awk -v a="${med[$t]}" -v b="${med[pgbouncer]}" 'BEGIN{print a/b}')" \
    "$(tr ' ' '\n' <<<"${cpu[$t]}" | grep . | median)" \
    "$(tr ' ' '\n' <<<"${machine[$t]}" | grep . | median)"
done
