#!/usr/bin/env bash
# Passthrough benchmark: pgbench select-only (prepared protocol) against PostgreSQL directly,
# through NeuronDB proxy, and through PgBouncer in session mode, in one run on one server.
# Prints TPS per target (median of ROUNDS runs, targets interleaved) and ratios.
#
# Usage: tests/bench/pgbench-compare.sh            (after ./mvnw -DskipTests package)
# Knobs: DURATION=20 ROUNDS=3 CLIENTS=8 JOBS=2 SCALE=10 MODE=prepared
set -euo pipefail

DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-8}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}
MODE=${MODE:-prepared}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bindir="$(pg_config --bindir 2>/dev/null || true)"
if [[ ! -x "$bindir/initdb" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
command -v pgbouncer >/dev/null || { echo "pgbouncer not installed (apt-get install -y pgbouncer)" >&2; exit 2; }

work="$(mktemp -d /tmp/neurondb-bench-XXXXXX)"
chmod 755 "$work"
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_port=$(free_port); proxy_port=$(free_port); bouncer_port=$(free_port)
proxy_pid=""
cleanup() {
  [[ -n "$proxy_pid" ]] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null || true
  [[ -f "$work/pgbouncer.pid" ]] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  as_pg "$bindir/pg_ctl" stop -D "$work/pg" -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/pg" && [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work" "$work/pg"
as_pg "$bindir/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync >/dev/null
as_pg "$bindir/pg_ctl" start -w -D "$work/pg" -l "$work/pg/server.log" \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/pg -c max_connections=200 -c wal_level=logical" >/dev/null

NEURONDB_LISTEN="127.0.0.1:$proxy_port" NEURONDB_UPSTREAM="postgresql://postgres@127.0.0.1:$pg_port/postgres" \
NEURONDB_METRICS_PORT=0 NEURONDB_DATA_DIR="$work/proxy-data" NEURONDB_PLUGINS_DIR="$work/plugins" \
NEURONDB_CONFIG="$root/conf/neurondb.yaml" NEURONDB_LOG_LEVEL=WARN \
  "$root/bin/neurondb-proxy" >"$work/proxy.log" 2>&1 &
proxy_pid=$!

cat >"$work/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$pg_port dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = 500
default_pool_size = $((CLIENTS + 4))
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
echo '"postgres" ""' >"$work/userlist.txt"
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work/pgbouncer.ini" "$work/userlist.txt"
as_pg pgbouncer -d "$work/pgbouncer.ini"

for i in $(seq 1 100); do
  if "$bindir/psql" -h 127.0.0.1 -p "$proxy_port" -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 \
     && "$bindir/psql" -h 127.0.0.1 -p "$bouncer_port" -U postgres -Atc 'select 1' postgres >/dev/null 2>&1; then break; fi
  sleep 0.2
done

"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # port seconds -> tps
  "$bindir/pgbench" -h 127.0.0.1 -p "$1" -U postgres -n -S -M "$MODE" -c "$CLIENTS" -j "$JOBS" -T "$2" postgres 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A ports=([direct]=$pg_port [neurondb]=$proxy_port [pgbouncer]=$bouncer_port)
declare -A results
for t in direct neurondb pgbouncer; do run "${ports[$t]}" 5 >/dev/null; done   # warm-up (JIT, caches)
for r in $(seq 1 "$ROUNDS"); do
  for t in direct neurondb pgbouncer; do
    tps=$(run "${ports[$t]}" "$DURATION")
    results[$t]+="$tps "
    printf 'round %d %-10s %10.0f tps\n' "$r" "$t" "$tps"
  done
done

d=$(tr ' ' '\n' <<<"${results[direct]}" | grep . | median)
n=$(tr ' ' '\n' <<<"${results[neurondb]}" | grep . | median)
b=$(tr ' ' '\n' <<<"${results[pgbouncer]}" | grep . | median)
echo
echo "pgbench -S -M $MODE -c $CLIENTS -j $JOBS -T $DURATION, scale $SCALE, median of $ROUNDS rounds, $(nproc) cores"
printf '%-28s %10.0f tps\n' "PostgreSQL direct" "$d" "NeuronDB proxy" "$n" "PgBouncer (session)" "$b"
awk -v d="$d" -v n="$n" -v b="$b" 'BEGIN {
  printf "%-28s %10.2f\n", "proxy / direct", n / d;
  printf "%-28s %10.2f\n", "proxy / PgBouncer", n / b;
  printf "%-28s %10.2f\n", "PgBouncer / direct", b / d }'
