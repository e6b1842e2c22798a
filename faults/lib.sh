# shellcheck shell=bash
# Helpers of the fault suite, sourced by scripts/faults after scripts/lib/common.sh.
# They start and stop what a case needs (its database, the services, the
# load), remember every pid they started, and check the database afterwards.
#
# Globals set by scripts/faults before use:
#   BUILD_DIR, OUT_DIR, FAULTS_PG_DIR, FAULTS_PG_PORT, PORT_BASE
# Globals of the current case (set by case_begin):
#   CASE, CASE_DIR, CASE_DB, CASE_FAILURES, CASE_COUNTS

REGISTRY_EP=
INTAKE_EP=
NOTIFY_EP=
PUB_EP=
NOTIFY_EXTRA_ENV=()
declare -A SERVICE_PID=()
TRACKED_PIDS=()
TRACKED_NAMES=()
LOADER_PIDS=()
# shellcheck disable=SC2034  # read by scripts/faults
PG_STARTED=0

faults_endpoints() {
  REGISTRY_EP="tcp://127.0.0.1:$PORT_BASE"
  INTAKE_EP="tcp://127.0.0.1:$((PORT_BASE + 1))"
  NOTIFY_EP="tcp://127.0.0.1:$((PORT_BASE + 2))"
  PUB_EP="tcp://127.0.0.1:$((PORT_BASE + 3))"
}

# scripts/pg on the suite's own cluster. fd 8 (the suite's lock) is closed,
# so that no PostgreSQL server inherits it.
faults_pg() {
  DP_PG_DIR="$FAULTS_PG_DIR" DP_PG_PORT="$FAULTS_PG_PORT" "$DP_ROOT/scripts/pg" "$@" 8>&-
}

# sql_on DATABASE PSQL_ARGS...: runs psql as postgres; prints unaligned tuples.
sql_on() {
  local database=$1
  shift
  PGOPTIONS='-c client_min_messages=warning' env -u PGSERVICE -u PGSSLMODE -u PGPASSWORD \
    /usr/lib/postgresql/15/bin/psql -X -q -t -A \
    -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$FAULTS_PG_PORT" -U postgres -d "$database" "$@" 8>&-
}

# SQL on the case's database.
sql() { sql_on "$CASE_DB" "$@"; }

db_url() { printf 'postgresql://%s@127.0.0.1:%s/%s\n' "$1" "$FAULTS_PG_PORT" "$CASE_DB"; }

say() { printf '    %s\n' "$*"; }

# ---- processes ---------------------------------------------------------------------------

# track PID NAME: remembers a process we started, here and in
# $OUT_DIR/pids (so that a run killed before its trap could stop its
# processes has them stopped by the next run; see stop_leftovers).
track() {
  TRACKED_PIDS+=("$1")
  TRACKED_NAMES+=("$2")
  printf '%s %s\n' "$1" "${2%% *}" >>"$OUT_DIR/pids"
}

# Stops what a previous run on this output folder left running: each pid
# recorded there that is still the program it was started as.
stop_leftovers() {
  local pid name program
  [[ -f $OUT_DIR/pids ]] || return 0
  while read -r pid name; do
    program=$name
    [[ $name == registry || $name == intake || $name == notify ]] && program=dp-$name
    if [[ $pid =~ ^[0-9]+$ ]] && ! dp_pid_gone "$pid" &&
      [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$program"* ]]; then
      dp_say "stopping $name (pid $pid) left running by an earlier run"
      kill -CONT "$pid" 2>/dev/null || true
      dp_stop_pid "$pid" "$name" 5
    fi
  done <"$OUT_DIR/pids"
  : >"$OUT_DIR/pids"
}

# Stops one process we started: SIGCONT (it may be paused), then
# dp_stop_pid (SIGTERM, SIGKILL after the grace), then reaps it.
stop_pid() {
  local pid=$1 name=$2 grace=${3:-5}
  if ! dp_pid_gone "$pid"; then
    kill -CONT "$pid" 2>/dev/null || true
    dp_stop_pid "$pid" "$name" "$grace"
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops everything the suite started that is still running, newest first.
stop_tracked() {
  local i
  for ((i = ${#TRACKED_PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${TRACKED_PIDS[i]}" "${TRACKED_NAMES[i]}" 5
  done
  TRACKED_PIDS=()
  TRACKED_NAMES=()
  SERVICE_PID=()
  LOADER_PIDS=()
}

# start_service NAME: starts (or starts again) registry, intake or notify;
# its output is appended to $CASE_DIR/NAME.log.
start_service() {
  local name=$1 bin
  local environment=(DP_METRICS_PORT=-1 DP_LOG_LEVEL=info DP_DB_WAIT_MS=30000)
  case $name in
    registry)
      bin=services/registry/dp-registry
      environment+=("DP_DATABASE_URL=$(db_url dp_registry)" "DP_REGISTRY_ENDPOINT=$REGISTRY_EP")
      ;;
    intake)
      bin=services/intake/dp-intake
      environment+=("DP_DATABASE_URL=$(db_url dp_intake)" "DP_INTAKE_ENDPOINT=$INTAKE_EP"
        "DP_REGISTRY_ENDPOINT=$REGISTRY_EP" "DP_NOTIFY_ENDPOINT=$NOTIFY_EP"
        "DP_NOTIFY_PUB_ENDPOINT=$PUB_EP" DP_INTAKE_SENDER_LIMIT_PER_HOUR=0
        DP_INTAKE_SOURCE_RATE=0)
      ;;
    notify)
      bin=services/notify/dp-notify
      environment+=("DP_DATABASE_URL=$(db_url dp_notify)" "DP_NOTIFY_ENDPOINT=$NOTIFY_EP"
        "DP_NOTIFY_PUB_ENDPOINT=$PUB_EP" "${NOTIFY_EXTRA_ENV[@]}")
      ;;
    *) dp_die "no service '$name'" ;;
  esac
  printf -- '--- started at %s\n' "$(date -u +%H:%M:%S.%N)" >>"$CASE_DIR/$name.log"
  env "${environment[@]}" "$BUILD_DIR/$bin" >>"$CASE_DIR/$name.log" 2>&1 </dev/null 8>&- &
  SERVICE_PID[$name]=$!
  track "$!" "$name"
}

# health NAME [SECONDS]: waits until the service answers health with its
# database connected.
health() {
  local name=$1 seconds=${2:-30} endpoint
  case $name in
    registry) endpoint=$REGISTRY_EP ;;
    intake) endpoint=$INTAKE_EP ;;
    notify) endpoint=$NOTIFY_EP ;;
  esac
  DP_FAULT_ENDPOINT=$endpoint DP_FAULT_WAIT_MS=$((seconds * 1000)) \
    "$BUILD_DIR/faults/dp-fault-health" >/dev/null 8>&-
}

# start_services NAME...: starts them in order, each healthy before the next.
start_services() {
  local name
  for name in "$@"; do
    start_service "$name"
    health "$name" 30 || {
      tail -n 20 -- "$CASE_DIR/$name.log" >&2
      dp_die "$name did not become healthy (see $CASE_DIR/$name.log)"
    }
  done
}

# kill_service NAME: SIGKILL, reaped at once.
kill_service() {
  local pid=${SERVICE_PID[$1]}
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# True while the service we started last under NAME runs.
service_alive() { ! dp_pid_gone "${SERVICE_PID[$1]}"; }

# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# A random number of milliseconds from $1 to $2.
random_ms() { echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    if ((SECONDS >= deadline)); then
      say "gave up waiting ($what)"
      return 1
    fi
    sleep 0.2
  done
}

# ---- the case's frame -----------------------------------------------------------------------

CASE_RESULTS=()

# case_begin NAME DESCRIPTION: a fresh folder and a fresh, migrated database.
case_begin() {
  CASE=$1
  CASE_DIR="$OUT_DIR/$1"
  CASE_DB="faults_${1//-/_}"
  CASE_FAILURES=()
  CASE_COUNTS=()
  CASE_STARTED=$SECONDS
  NOTIFY_EXTRA_ENV=()
  printf '\n==> %s (%s): %s\n' "$1" "$MODE" "$2"
  rm -rf -- "$CASE_DIR"
  mkdir -p -- "$CASE_DIR"
  sql_on postgres -c "DROP DATABASE IF EXISTS $CASE_DB WITH (FORCE)" \
    -c "CREATE DATABASE $CASE_DB" >/dev/null
  DP_DATABASE_URL=$(db_url postgres) "$BUILD_DIR/services/migrate/dp-migrate" up \
    >"$CASE_DIR/migrate.log" 2>&1 8>&- || {
    cat -- "$CASE_DIR/migrate.log" >&2
    dp_die "migrations failed"
  }
}

count() { CASE_COUNTS+=("$1=$2"); }
fail() {
  CASE_FAILURES+=("$*")
  say "FAIL: $*"
}
# expect NAME ACTUAL EXPECTED: fails the case when they differ.
expect() { [[ $2 == "$3" ]] || fail "$1 is $2, expected $3"; }

case_end() {
  stop_tracked
  local verdict=PASS
  ((${#CASE_FAILURES[@]} == 0)) || verdict=FAIL
  local line
  line="$CASE: ${CASE_COUNTS[*]} -> $verdict ($((SECONDS - CASE_STARTED)) s)"
  printf '    %s\n' "$line"
  CASE_RESULTS+=("$line")
  [[ $verdict == PASS ]]
}

# ---- load -----------------------------------------------------------------------------------

# start_load N PROCESSES RATE DEADLINE_S [FIRST [LABEL]]: dp-fault-submit
# processes with keys f-FIRST .. f-(FIRST+N-1) (FIRST defaults to 1) split
# between them; RATE is submissions per second in all (0: unpaced). LABEL
# prefixes their files (acks-LABELp.tsv, submit-LABELp.out), so that a case
# may run several loads one after the other.
start_load() {
  local n=$1 processes=$2 rate=$3 deadline=$4 first=${5:-1} label=${6:-} p share
  LOADER_PIDS=()
  for ((p = 1; p <= processes; p++)); do
    share=$((n / processes + (p <= n % processes ? 1 : 0)))
    DP_FAULT_ENDPOINT=$INTAKE_EP DP_FAULT_TAG=f DP_FAULT_FIRST=$first DP_FAULT_COUNT=$share \
      DP_FAULT_CONNECTIONS=4 DP_FAULT_INFLIGHT=8 DP_FAULT_ATTEMPT_MS=1000 \
      DP_FAULT_BACKOFF_MS=200 DP_FAULT_RATE=$(((rate + processes - 1) / processes)) \
      DP_FAULT_DEADLINE_MS=$((deadline * 1000)) \
      DP_FAULT_ACK_FILE="$CASE_DIR/acks-$label$p.tsv" \
      "$BUILD_DIR/faults/dp-fault-submit" >"$CASE_DIR/submit-$label$p.out" \
      2>"$CASE_DIR/submit-$label$p.err" </dev/null 8>&- &
    LOADER_PIDS+=("$!")
    track "$!" "dp-fault-submit $p"
    first=$((first + share))
  done
}

load_running() {
  local pid
  for pid in "${LOADER_PIDS[@]}"; do
    dp_pid_gone "$pid" || return 0
  done
  return 1
}

# sum KEY FILE...: the sum of KEY=value over the lines of the files.
sum() {
  local key=$1
  shift
  awk -v key="$key" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) s += kv[2] } }
    END { printf "%d", s }' "$@" 2>/dev/null || echo 0
}

# field KEY FILE: the first value of KEY=value in the file.
field() {
  awk -v key="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) { print kv[2]; exit } } }' "$2"
}

# finish_load N [LABEL]: waits for the loaders and counts what they saw
# (the counts of a labelled load are prefixed with its label).
finish_load() {
  local n=$1 label=${2:-} pid status=0
  for pid in "${LOADER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || status=1
  done
  local outs=("$CASE_DIR"/submit-"$label"*.out)
  LOAD_ACKED=$(sum acked "${outs[@]}")
  count "${label}sent" "$(sum sent "${outs[@]}")"
  count "${label}acknowledged" "$LOAD_ACKED"
  count "${label}resends" $(($(sum sends "${outs[@]}") - $(sum sent "${outs[@]}")))
  count "${label}already_submitted" "$(sum already "${outs[@]}")"
  count "${label}transient_refusals" "$(sum transient "${outs[@]}")"
  expect "${label}acknowledged" "$LOAD_ACKED" "$n"
  expect "${label}refused for good" "$(sum rejected "${outs[@]}")" 0
  if ((status != 0)); then
    fail "a submitter did not get every submission acknowledged"
    cat -- "$CASE_DIR"/submit-"$label"*.err >&2 || true
  fi
}

# max_field KEY FILE...: the largest value of KEY=value over the files
# (e.g. p99_ack_ms of each loader process: the load's p99 is at most that).
max_field() {
  local key=$1
  shift
  awk -v key="$key" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key && kv[2] + 0 > m) m = kv[2] + 0 } }
    END { printf "%.1f", m }' "$@" 2>/dev/null || echo 0
}

# ---- checks ----------------------------------------------------------------------------------

# check_enquiries N: exactly N enquiries, keys f-1..f-N, no duplicate key,
# every acknowledgement (key and id) in the database.
check_enquiries() {
  local n=$1 script file row
  script="CREATE TEMP TABLE ack (key text, id bigint, already int);"$'\n'
  for file in "$CASE_DIR"/acks-*.tsv; do
    [[ -s $file ]] && script+="\\copy ack FROM '$file'"$'\n'
  done
  script+="SELECT (SELECT count(*) FROM intake.enquiry),
  (SELECT count(*) - count(DISTINCT (source, idempotency_key)) FROM intake.enquiry),
  (SELECT count(*) FROM intake.enquiry WHERE source = 'faults'
     AND idempotency_key ~ '^f-[0-9]{1,9}\$'
     AND substr(idempotency_key, 3)::int BETWEEN 1 AND $n),
  (SELECT count(DISTINCT key) FROM ack),
  (SELECT count(*) FROM ack a WHERE NOT EXISTS (SELECT 1 FROM intake.enquiry e
     WHERE e.source = 'faults' AND e.idempotency_key = a.key AND e.id = a.id));"
  row=$(sql <<<"$script") || {
    fail "cannot query the enquiries"
    return
  }
  local stored duplicates expected_keys acked_keys acked_missing
  IFS='|' read -r stored duplicates expected_keys acked_keys acked_missing <<<"$row"
  count stored "$stored"
  count duplicates "$duplicates"
  count acked_missing "$acked_missing"
  expect "enquiries stored" "$stored" "$n"
  expect "duplicate (source, key) pairs" "$duplicates" 0
  expect "stored keys among f-1..f-$n" "$expected_keys" "$n"
  expect "distinct keys acknowledged" "$acked_keys" "$n"
  expect "acknowledged enquiries missing (key and id)" "$acked_missing" 0
}

outbox_empty() {
  [[ $(sql -c "SELECT (SELECT count(*) FROM intake.outbox) + (SELECT count(*) FROM registry.outbox)") == 0 ]]
}

# check_events N: the relay has drained the outboxes; the sequence is 1..max
# without a gap and holds exactly one enquiry.received (and one
# enquiry.triaged) per enquiry.
check_events() {
  local n=$1 row
  wait_until 120 "the relay to drain the outboxes" outbox_empty || fail "the outboxes did not drain"
  row=$(sql -c "SELECT count(*), COALESCE(max(seq), 0), COALESCE(min(seq), 0),
      count(*) FILTER (WHERE event_type = 'enquiry.received'),
      count(DISTINCT aggregate_id) FILTER (WHERE event_type = 'enquiry.received'),
      count(*) FILTER (WHERE event_type = 'enquiry.triaged'),
      (SELECT count(*) FROM intake.enquiry e WHERE NOT EXISTS (SELECT 1 FROM notify.event v
         WHERE v.event_type = 'enquiry.received' AND v.aggregate_id = e.id::text)),
      (SELECT count(*) FROM (SELECT 1 FROM notify.event GROUP BY origin, origin_id
         HAVING count(*) > 1) d)
    FROM notify.event") || {
    fail "cannot query the events"
    return
  }
  local events max_seq min_seq received received_distinct triaged missing origin_dups
  IFS='|' read -r events max_seq min_seq received received_distinct triaged missing origin_dups <<<"$row"
  # shellcheck disable=SC2034  # read by the cases
  LATEST_SEQ=$max_seq
  local gaps=$((max_seq - events))
  count events "$events"
  count received_events "$received"
  count gaps "$gaps"
  count event_duplicates $((received - received_distinct + origin_dups))
  expect "gaps in seq (max(seq) - count)" "$gaps" 0
  ((events == 0)) || expect "min(seq)" "$min_seq" 1
  expect "enquiry.received events" "$received" "$n"
  expect "distinct enquiries with enquiry.received" "$received_distinct" "$n"
  expect "enquiry.triaged events" "$triaged" "$n"
  expect "enquiries without enquiry.received" "$missing" 0
  expect "outbox rows relayed twice" "$origin_dups" 0
  expect "events in all" "$events" $((2 * n))
}

# check_seq_file FILE LATEST LABEL: the follower's file is exactly 1..LATEST in order.
check_follower_file() {
  local file=$1 latest=$2 label=$3 row
  row=$(awk -v latest="$latest" '
    { n++; if ($1 != n) misplaced++; if (seen[$1]++) dups++; if ($1 >= 1 && $1 <= latest && seen[$1] == 1) covered++ }
    END { printf "%d %d %d %d", n, misplaced, dups, latest - covered }' "$file")
  local lines misplaced dups missing
  read -r lines misplaced dups missing <<<"$row"
  count "${label}_events" "$lines"
  count "${label}_gaps" "$missing"
  count "${label}_duplicates" "$dups"
  count "${label}_out_of_order" "$misplaced"
  expect "$label: events received" "$lines" "$latest"
  expect "$label: seqs missing from 1..$latest" "$missing" 0
  expect "$label: seqs received twice" "$dups" 0
  expect "$label: seqs out of place" "$misplaced" 0
}
