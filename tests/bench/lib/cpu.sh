# Sourced by the benchmark drivers: CPU time of the processes around a run, from /proc, in
# clock ticks (tick_us microseconds each).

tick_us=$(( 1000000 / $(getconf CLK_TCK) ))

# cpu_ticks PID: user+system ticks of PID so far (0 when PID is empty or gone).
cpu_ticks() {
  if [[ -n "${1:-}" && -r "/proc/$1/stat" ]]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi
}

# user_sys_ticks PID: "user system" ticks of PID so far ("0 0" when PID is empty or gone).
user_sys_ticks() {
  if [[ -n "${1:-}" && -r "/proc/$1/stat" ]]; then awk '{print $14, $15}' "/proc/$1/stat"; else echo "0 0"; fi
}

# cluster_ticks DATADIR: user+system ticks of the PostgreSQL cluster in DATADIR so far: the
# postmaster with its exited children, and its live ones.
cluster_ticks() {
  local pm; pm=$(head -1 "$1/postmaster.pid")
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for p in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done
  } | awk '{s += $1} END {print s + 0}'
}

# timed_pgbench DIR ARG...: pgbench with ARGs, run in DIR (where -l writes its log); prints its
# output (a failing run prints its errors and does not stop the driver) and leaves in
# DIR/client-times the `times` of the subshell it ran in, whose children are pgbench alone.
timed_pgbench() {
  local dir=$1
  shift
  (cd "$dir" && { "$bindir/pgbench" "$@" 2>&1 || true; }; times >"$dir/client-times")
}

# children_seconds FILE: the CPU seconds (user + system) of a subshell's children, from the
# output of bash's `times` saved in FILE (its second line); empty when FILE is missing.
children_seconds() {
  awk 'NR == 2 {for (i = 1; i <= 2; i++) {split($i, p, "m"); s += p[1] * 60 + p[2]}; print s}' "$1" 2>/dev/null || true
}

# median: the median of the numbers on stdin (whitespace-separated); "-" when there are none.
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else print a[int((NR + 1) / 2)]}'; }
