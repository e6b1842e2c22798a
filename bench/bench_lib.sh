# shellcheck shell=bash
# Shared by the bench/run-* scripts. Source it after scripts/lib/common.sh;
# the functions use DP_ROOT, BUILD_DIR and OUT_DIR, set by the caller
# before it calls them. What a script starts here is stopped, by pid, by
# bench_stop_all (its EXIT trap).

PG="$DP_ROOT/scripts/pg"

bench_pids=()
bench_names=()
bench_started_pg=0

bench_stop_all() {
  local i
  bench_record_peak_memory
  for ((i = ${#bench_pids[@]} - 1; i >= 0; i--)); do
    dp_stop_pid "${bench_pids[i]}" "${bench_names[i]}" 10
  done
  bench_pids=()
  bench_names=()
  if ((bench_started_pg)); then
    "$PG" stop >/dev/null 2>&1 || dp_say "could not stop PostgreSQL on port $DP_PG_PORT"
    bench_started_pg=0
  fi
}

# ---- what bench/run reads -----------------------------------------------------------------
#
# Every bench/run-* script leaves, in its OUT_DIR:
#   summary.tsv      one line per headline figure, tab-separated:
#                    AREA  FIGURE  UNIT  OURS  YARDSTICK  BETTER  YARDSTICK-WHAT  NOTE
#                    BETTER is "higher" (a rate) or "lower" (a time); bench/run
#                    prints OURS beside YARDSTICK and the ratio, oriented so that
#                    1.00 means "as good as the yardstick" and less means worse.
#   peak-memory.tsv  NAME  KB: the peak resident set (VmHWM) of each program
#                    bench_start started, read just before it is stopped.

# bench_summary AREA FIGURE UNIT OURS YARDSTICK BETTER YARDSTICK-WHAT [NOTE]
bench_summary() {
  (($# >= 7)) || dp_die "bench_summary needs 7 or 8 arguments"
  [[ $6 == higher || $6 == lower ]] || dp_die "bench_summary: BETTER must be higher or lower"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:-}" \
    >>"$OUT_DIR/summary.tsv"
}

# bench_summary_reset: empties summary.tsv and peak-memory.tsv (at the start of a run).
bench_summary_reset() { : >"$OUT_DIR/summary.tsv"; : >"$OUT_DIR/peak-memory.tsv"; }

# bench_vmhwm PID: the process's peak resident set (VmHWM) in kB, or nothing.
bench_vmhwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || true; }

# ---- reading the key=value lines the bench programs print ----------------------------------
#
# The bench/run-* scripts keep one line per run: "TARGET key=value key=value ...".

# bench_stat mean|sum FILE TARGET KEY [FIELD=VALUE ...]: over the lines of
# FILE whose first word is TARGET and that hold every FIELD=VALUE given, the
# mean of KEY ("nan" when no line has it) or its sum (an integer; 0 when
# none). Each line is read afresh: a line without KEY, or without a FIELD,
# counts for nothing (it never takes the value of the line before it).
bench_stat() {
  (($# >= 4)) || dp_die "bench_stat needs mean|sum, a file, a target and a key"
  local how=$1 file=$2 target=$3 key=$4
  shift 4
  awk -v how="$how" -v target="$target" -v key="$key" -v filters="$*" '
    BEGIN { filter_count = split(filters, filter, " ") }
    $1 == target {
      delete v
      for (i = 2; i <= NF; i++) { k = index($i, "="); if (k) v[substr($i, 1, k - 1)] = substr($i, k + 1) }
      if (!(key in v)) next
      for (j = 1; j <= filter_count; j++) {
        k = index(filter[j], "=")
        name = substr(filter[j], 1, k - 1)
        if (!(name in v) || v[name] != substr(filter[j], k + 1)) next
      }
      sum += v[key]; n++
    }
    END { if (how == "sum") printf "%d", sum; else if (n) printf "%.6g", sum / n; else printf "nan" }' "$file"
}

# bench_ratio A B: A / B as N.NN, or "-" when B is not a positive number.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# bench_record_peak_memory: appends the VmHWM of every program still running
# that bench_start started (the peak only grows, so the last reading is the peak).
bench_record_peak_memory() {
  local i kb
  [[ -n ${OUT_DIR:-} && -d $OUT_DIR ]] || return 0
  for i in "${!bench_pids[@]}"; do
    kb=$(bench_vmhwm "${bench_pids[i]}")
    [[ -n $kb ]] && printf '%s\t%s\n' "${bench_names[i]}" "$kb" >>"$OUT_DIR/peak-memory.tsv"
  done
  return 0
}

# bench_start NAME ENV... -- PROGRAM [ARGS]: runs PROGRAM in the background
# with the given environment, its output in $OUT_DIR/NAME.log.
bench_start() {
  local name=$1 log="$OUT_DIR/$1.log"
  shift
  local environment=()
  while [[ $1 != -- ]]; do
    environment+=("$1")
    shift
  done
  shift
  env "${environment[@]}" "$@" >"$log" 2>&1 </dev/null &
  bench_pids+=("$!")
  bench_names+=("$name")
}

# bench_stop NAME: stops what bench_start started under NAME.
bench_stop() {
  local i kb
  for i in "${!bench_names[@]}"; do
    if [[ ${bench_names[i]} == "$1" ]]; then
      kb=$(bench_vmhwm "${bench_pids[i]}")
      [[ -n $kb && -d ${OUT_DIR:-} ]] && printf '%s\t%s\n' "$1" "$kb" >>"$OUT_DIR/peak-memory.tsv"
      dp_stop_pid "${bench_pids[i]}" "$1" 10
      unset 'bench_pids[i]' 'bench_names[i]'
    fi
  done
  bench_pids=("${bench_pids[@]}")
  bench_names=("${bench_names[@]}")
}

# bench_wait_for_line NAME TEXT SECONDS: waits until NAME's log holds TEXT;
# exits when NAME died meanwhile, returns 1 on time-out.
bench_wait_for_line() {
  local name=$1 text=$2 deadline=$((SECONDS + $3)) i
  until grep -qsF -- "$text" "$OUT_DIR/$name.log"; do
    for i in "${!bench_names[@]}"; do
      if [[ ${bench_names[i]} == "$name" ]] && dp_pid_gone "${bench_pids[i]}"; then
        tail -n 20 -- "$OUT_DIR/$name.log" >&2
        dp_die "$name exited during startup"
      fi
    done
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# bench_check_alive: exits when something bench_start started has died
# (then the figures of the phase that just ran mean nothing).
bench_check_alive() {
  local i
  for i in "${!bench_names[@]}"; do
    if dp_pid_gone "${bench_pids[i]}"; then
      tail -n 5 -- "$OUT_DIR/${bench_names[i]}.log" >&2
      dp_die "${bench_names[i]} (pid ${bench_pids[i]}) exited during the run; see $OUT_DIR/${bench_names[i]}.log"
    fi
  done
}

# Starts the cluster unless it runs already (then it is left running).
bench_start_pg() {
  if "$PG" status >/dev/null 2>&1; then
    dp_say "reusing PostgreSQL on port $DP_PG_PORT (left running)"
  else
    "$PG" start >/dev/null
    bench_started_pg=1
  fi
}

# bench_url ROLE [DATABASE]: a libpq URL of ROLE on DATABASE (default dp).
bench_url() {
  local url
  url=$("$PG" url "$1")
  printf '%s/%s\n' "${url%/*}" "${2:-dp}"
}

# bench_psql DATABASE SQL: runs SQL as the superuser; prints unaligned rows.
bench_psql() { "$PG" psql -X -v ON_ERROR_STOP=1 -d "$1" -tAq -c "$2"; }

bench_check_database_name() {
  [[ $1 =~ ^dp_bench_[a-z0-9_]+$ ]] || dp_die "refusing to touch database '$1': not dp_bench_*"
}

# bench_fresh_database NAME: drops NAME (a dp_bench_* database) and makes it anew.
bench_fresh_database() {
  bench_check_database_name "$1"
  bench_psql postgres "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
  bench_psql postgres "CREATE DATABASE $1" >/dev/null
}

# bench_ensure_database NAME: makes NAME (a dp_bench_* database) unless it exists.
bench_ensure_database() {
  bench_check_database_name "$1"
  if [[ $(bench_psql postgres "SELECT count(*) FROM pg_database WHERE datname = '$1'") == 0 ]]; then
    bench_psql postgres "CREATE DATABASE $1" >/dev/null
  fi
}

# bench_migrate DATABASE: applies the migrations of this build.
bench_migrate() {
  DP_DATABASE_URL=$(bench_url postgres "$1") "$BUILD_DIR/services/migrate/dp-migrate" up \
    >"$OUT_DIR/migrate.log" 2>&1 || {
    cat -- "$OUT_DIR/migrate.log" >&2
    dp_die "migrations failed"
  }
}

# bench_print_machine LOAD_AT_START DATABASE: the machine and PostgreSQL lines of a report.
bench_print_machine() {
  local cpu_model memory_gib pg_settings
  cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  memory_gib=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  pg_settings=$(bench_psql "$2" "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name)
    FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay',
      'full_page_writes', 'shared_buffers', 'wal_level', 'max_wal_size', 'work_mem', 'effective_cache_size')")
  echo "machine:    $(nproc) CPUs, $cpu_model, $memory_gib memory, Linux $(uname -r);"
  echo "            load average $1 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (other work on the machine skews results)"
  echo "postgresql: $(bench_psql "$2" 'SHOW server_version') on 127.0.0.1:$DP_PG_PORT ($("$PG" dir)); $pg_settings"
}
