# Sourced by the benchmark drivers (after lib/postgres.sh): the middles they put in front of a
# throwaway cluster on 127.0.0.1, PgBouncer and the proxy, started the same way everywhere.

# start_pgbouncer DIR PORT PG_PORT MODE POOL MAX_CLIENTS: PgBouncer with trust auth for user
# postgres, database postgres; DIR (writable by postgres) gets its ini, log and pid file.
# max_prepared_statements is set where PgBouncer has it (1.21 and later).
start_pgbouncer() {
  local dir=$1 port=$2 pg_port=$3 mode=$4 pool=$5 max_clients=$6
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$pg_port dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = $mode
max_client_conn = $max_clients
$(pgbouncer --version | awk 'NR==1 {split($2, v, "."); if (v[1] > 1 || v[2] >= 21) print "max_prepared_statements = 200"}')
default_pool_size = $pool
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  echo '"postgres" ""' >"$dir/userlist.txt"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir/pgbouncer.ini" "$dir/userlist.txt"
  as_pg pgbouncer -d "$dir/pgbouncer.ini"
  local _
  for _ in $(seq 1 50); do [[ -s "$dir/pgbouncer.pid" ]] && break; sleep 0.1; done
}

# start_neurondb ROOT CONFIG PORT PG_PORT DATA_DIR PLUGINS_DIR LOG [NAME=value...]: ROOT's
# bin/neurondb-proxy with the config file CONFIG, upstream postgres@127.0.0.1:PG_PORT, no
# metrics port, output to LOG, and any further environment given; its pid is left in
# started_pid. setsid: the proxy runs in a session of its own, as
# PostgreSQL (pg_ctl) and PgBouncer (-d) do. The kernel's autogroup scheduling
# (sched_autogroup_enabled=1) shares CPU between sessions first; left in the driver's session,
# the proxy shared one group with pgbench, and single PostgreSQL backends waited up to a
# second for a CPU (docs/BENCHMARKS.md, session 9).
start_neurondb() {
  env NEURONDB_CONFIG="$2" NEURONDB_LISTEN="127.0.0.1:$3" \
    NEURONDB_UPSTREAM="postgresql://postgres@127.0.0.1:$4/postgres" NEURONDB_METRICS_PORT=0 \
    NEURONDB_DATA_DIR="$5" NEURONDB_PLUGINS_DIR="$6" NEURONDB_LOG_LEVEL=WARN "${@:8}" \
    setsid "$1/bin/neurondb-proxy" >"$7" 2>&1 &
  started_pid=$!
}
