#!/usr/bin/env bash
# Pipelining floor: what it costs PostgreSQL when a backend goes idle between statements.
# A client straight to the server (tests/bench/floor/inflight_client.py, no middle) keeps one
# simple query in flight on each of CONNECTIONS connections, then two, in alternating order;
# prints statements per second and PostgreSQL's CPU per statement (its processes, from /proc)
# for each, with medians over the rounds and the ratio. With one in flight a backend sleeps
# after every statement until the next arrives, as behind a transaction-mode pooler; with two
# it finds the next waiting, as behind one that pipelines (the proxy's server_pipelining).
#
# Usage: tests/bench/pipelining-floor.sh
# Knobs: CONNECTIONS=10 DURATION=8 ROUNDS=4 SCALE=10
set -euo pipefail

CONNECTIONS=${CONNECTIONS:-10}
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-4}
SCALE=${SCALE:-10}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/tests/bench/lib/postgres.sh"
source "$root/tests/bench/lib/cpu.sh"

work="$(mktemp -d /tmp/neurondb-pipefloor-XXXXXX)"
chmod 755 "$work"
pg_port=$(free_port)
cleanup() {
  stop_cluster "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
start_cluster "$work/pg" "$pg_port"
await_server "$pg_port"
"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # depth -> "statements_per_second server_cpu_us_per_statement"
  local backends s0 s1 rate
  backends=$(cluster_backends "$work/pg")
  s0=$(cluster_ticks "$work/pg")
  rate=$(python3 "$root/tests/bench/floor/inflight_client.py" "$pg_port" "$CONNECTIONS" "$1" "$DURATION")
  await_backends "$work/pg" "$backends" # the run's backends have exited: their time is counted
  s1=$(cluster_ticks "$work/pg")
  awk -v r="$rate" -v d=$(( (s1 - s0) * tick_us )) -v secs="$DURATION" 'BEGIN {printf "%.0f %.1f\n", r, d / (r * secs)}'
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$CONNECTIONS connections straight to PostgreSQL 15, $DURATION s per run, $ROUNDS rounds, order alternating"
run 1 >/dev/null # warm-up: caches, the table in shared buffers
rate1=""; cpu1=""; rate2=""; cpu2=""
for r in $(seq 1 "$ROUNDS"); do
  order="1 2"; [[ $((r % 2)) -eq 0 ]] && order="2 1"
  for depth in $order; do
    read -r rate cpu < <(run "$depth")
    printf 'round %d, %d in flight: %s statements/s, server %s us/statement\n' "$r" "$depth" "$rate" "$cpu"
    if [[ $depth -eq 1 ]]; then rate1+="$rate "; cpu1+="$cpu "; else rate2+="$rate "; cpu2+="$cpu "; fi
  done
done
m1=$(echo "$cpu1" | median); m2=$(echo "$cpu2" | median)
printf 'median: 1 in flight %s statements/s, %s us/statement; 2 in flight %s statements/s, %s us/statement; server CPU 2/1 = %s\n' \
  "$(echo "$rate1" | median)" "$m1" "$(echo "$rate2" | median)" "$m2" "$(awk -v a="$m2" -v b="$m1" 'BEGIN {printf "%.2f", a / b}')"
