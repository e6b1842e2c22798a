#!/usr/bin/env bash
# Integration test of examples/feeder.py against the real registry, intake and
# PostgreSQL. It creates and migrates its own database, starts dp-registry and
# dp-intake on free ports, and checks that the feeder:
#   1. stores 500 synthetic enquiries;
#   2. run again with the same seed, stores nothing new (500 already submitted);
#   3. gets every enquiry acknowledged while the intake is killed (SIGKILL) and
#      restarted in the middle of a run, with no enquiry stored twice;
#   4. retries UNAVAILABLE while the intake cannot reach its database;
#   5. reports a resubmission of a key with other content as ALREADY_EXISTS
#      and an invalid enquiry as INVALID_ARGUMENT, without retrying either.
# Everything it started is stopped and its database dropped, also on failure.
#
# Environment (scripts/test exports the first two):
#   DP_TEST_ADMIN_URL    superuser URL of the test cluster (trust auth)
#   DP_BUILD_DIR         build tree holding services/*/dp-* and dpctl
#   DP_FEEDER_PROTO_DIR  folder of the generated *_pb2.py (set by CMake; when
#                        empty the feeder runs protoc itself)
#   DP_PYTHON            the Python with python3-zmq and python3-protobuf
#                        (default /usr/bin/python3)
set -euo pipefail

DP_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# dp_say, dp_die and dp_stop_pid, as every script has them.
# shellcheck source-path=SCRIPTDIR/.. source=scripts/lib/common.sh
. "$DP_ROOT/scripts/lib/common.sh"

[[ -n ${DP_TEST_ADMIN_URL:-} ]] || dp_die "DP_TEST_ADMIN_URL is not set (run through scripts/test, or export the cluster's superuser URL)"
[[ -n ${DP_BUILD_DIR:-} ]] || dp_die "DP_BUILD_DIR is not set (the build tree with services/*/dp-*)"
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
PYTHON=${DP_PYTHON:-/usr/bin/python3}
PROTO_DIR=${DP_FEEDER_PROTO_DIR:-}
MIGRATE=$DP_BUILD_DIR/services/migrate/dp-migrate
REGISTRY=$DP_BUILD_DIR/services/registry/dp-registry
INTAKE=$DP_BUILD_DIR/services/intake/dp-intake
DPCTL=$DP_BUILD_DIR/services/dpctl/dpctl
for program in "$MIGRATE" "$REGISTRY" "$INTAKE" "$DPCTL"; do
  [[ -x $program ]] || dp_die "$program is missing: build the project first"
done
command -v psql >/dev/null || dp_die "psql not found (Debian: postgresql-client)"
"$PYTHON" -c 'import zmq, google.protobuf' ||
  dp_die "$PYTHON lacks zmq or protobuf (Debian: python3-zmq python3-protobuf)"
if [[ -n $PROTO_DIR && ! -f $PROTO_DIR/intake_pb2.py ]]; then
  dp_die "no intake_pb2.py in DP_FEEDER_PROTO_DIR=$PROTO_DIR (build the target dp_python_protos)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dp-feeder-test.XXXXXX")
DB_NAME="dp_feeder_test_$$_$(date +%s)"
db_created=0
registry_pid=
intake_pid=
feeder_pid=

# Stops one process started here (none when the pid is empty) and reaps it.
stop_started() {
  [[ -n $1 ]] || return 0
  dp_stop_pid "$1" "pid $1" 5
  wait "$1" 2>/dev/null || true
}

# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
  local status=$?
  stop_started "$feeder_pid"
  stop_started "$intake_pid"
  stop_started "$registry_pid"
  if ((status != 0)); then
    for log in "$WORK"/*.log; do
      [[ -f $log ]] || continue
      printf '\n---- last lines of %s\n' "$(basename -- "$log")" >&2
      tail -n 25 -- "$log" >&2 || true
    done
  fi
  if ((db_created)); then
    admin_psql -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" ||
      printf 'test_feeder: could not drop database %s\n' "$DB_NAME" >&2
  fi
  rm -rf -- "$WORK"
  if ((status == 0)); then echo "test_feeder: PASS"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The admin URL with another user and/or database (trust auth: no password).
url_for() {
  "$PYTHON" - "$DP_TEST_ADMIN_URL" "$1" "$2" <<'EOF'
import sys, urllib.parse
url, user, database = sys.argv[1:]
parts = urllib.parse.urlsplit(url)
host = parts.hostname or "127.0.0.1"
netloc = f"{user}@{'[' + host + ']' if ':' in host else host}"
if parts.port:
    netloc += f":{parts.port}"
print(urllib.parse.urlunsplit((parts.scheme, netloc, "/" + database, parts.query, "")))
EOF
}
admin_psql() { psql -X -v ON_ERROR_STOP=1 -d "$DP_TEST_ADMIN_URL" "$@"; }
db_psql() { psql -X -v ON_ERROR_STOP=1 -qtA -d "$DB_ADMIN_URL" "$@"; }

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The intake's health, through the generated modules: exit 0 when it answers
# and its database is well.
intake_healthy() {
  "$PYTHON" - "$INTAKE_ENDPOINT" "$FEEDER_PROTO" <<'EOF'
import sys, zmq
endpoint, proto_dir = sys.argv[1:]
sys.path.insert(0, proto_dir)
from envelope_pb2 import HealthReply, Reply, Request
socket = zmq.Context.instance().socket(zmq.DEALER)
socket.setsockopt(zmq.LINGER, 0)
socket.connect(endpoint)
request = Request(request_id="health", type="dp.HealthRequest", body=b"")
socket.send_multipart([b"", request.SerializeToString()])
if not socket.poll(500):
    sys.exit(1)
reply = Reply.FromString(socket.recv_multipart()[1])
sys.exit(0 if reply.status.code == 0 and HealthReply.FromString(reply.body).database_ok else 1)
EOF
}

# wait_for WHAT "PID..." COMMAND...: until COMMAND succeeds, while the PIDs live.
wait_for() {
  local what=$1 pids=$2 pid
  shift 2
  for _ in $(seq 100); do
    for pid in $pids; do
      kill -0 "$pid" 2>/dev/null || dp_die "$what: process $pid exited at start (see the logs)"
    done
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  dp_die "$what did not become healthy within 20 s"
}

start_intake() {
  DP_DATABASE_URL=$INTAKE_URL DP_INTAKE_ENDPOINT=$INTAKE_ENDPOINT \
    DP_REGISTRY_ENDPOINT=$REGISTRY_ENDPOINT "$INTAKE" >>"$WORK/intake.log" 2>&1 &
  intake_pid=$!
}

# The feeder, against our intake, with the CMake-generated modules if any.
feeder() {
  local proto_args=()
  if [[ -n $PROTO_DIR ]]; then proto_args=(--proto-dir "$PROTO_DIR"); fi
  "$PYTHON" "$HERE/feeder.py" --endpoint "$INTAKE_ENDPOINT" "${proto_args[@]}" "$@"
}

# A number from the feeder's summary: summary_count FILE "already submitted"
summary_count() {
  awk -F': +' -v label="  $2" '$1 == label { print $2 }' "$1"
}

expect_counts() {
  local file=$1 accepted=$2 already=$3 rejected=$4 got
  got="$(summary_count "$file" accepted)/$(summary_count "$file" "already submitted")/$(summary_count "$file" rejected)"
  [[ $got == "$accepted/$already/$rejected" ]] ||
    dp_die "$(basename -- "$file"): accepted/already submitted/rejected = $got, expected $accepted/$already/$rejected"
}

dp_say "database $DB_NAME"
admin_psql -qc "CREATE DATABASE \"$DB_NAME\""
db_created=1
DB_ADMIN_URL=$(url_for "$(psql -X -tAc 'SELECT current_user' -d "$DP_TEST_ADMIN_URL")" "$DB_NAME")
REGISTRY_URL=$(url_for dp_registry "$DB_NAME")
INTAKE_URL=$(url_for dp_intake "$DB_NAME")
DP_DATABASE_URL=$DB_ADMIN_URL "$MIGRATE" up >"$WORK/migrate.log" 2>&1 || dp_die "dp-migrate up failed"

dp_say "services"
REGISTRY_ENDPOINT=tcp://127.0.0.1:$(free_port)
INTAKE_ENDPOINT=tcp://127.0.0.1:$(free_port)
# The health check needs the modules even when the feeder makes its own.
FEEDER_PROTO=${PROTO_DIR:-$WORK/python}
if [[ -z $PROTO_DIR ]]; then
  mkdir -p -- "$FEEDER_PROTO"
  protoc --proto_path="$HERE/../proto" --python_out="$FEEDER_PROTO" "$HERE/../proto/envelope.proto"
fi
DP_DATABASE_URL=$REGISTRY_URL DP_REGISTRY_ENDPOINT=$REGISTRY_ENDPOINT "$REGISTRY" \
  >"$WORK/registry.log" 2>&1 &
registry_pid=$!
start_intake
# dpctl status asks the registry (and, in versions that know it, the intake);
# the Python health request covers the intake for a dpctl that does not.
wait_for "dpctl status" "$registry_pid $intake_pid" env DP_REGISTRY_ENDPOINT="$REGISTRY_ENDPOINT" \
  DP_INTAKE_ENDPOINT="$INTAKE_ENDPOINT" DP_TIMEOUT_MS=500 DP_ATTEMPTS=1 "$DPCTL" status --service registry
wait_for dp-intake "$intake_pid" intake_healthy
echo "registry $REGISTRY_ENDPOINT (pid $registry_pid), intake $INTAKE_ENDPOINT (pid $intake_pid)"

dp_say "first run: 500 new enquiries"
feeder --generate 500 --seed 7 >"$WORK/run1.out" || { cat "$WORK/run1.out"; dp_die "first run failed"; }
cat "$WORK/run1.out"
expect_counts "$WORK/run1.out" 500 0 0

dp_say "second run, same seed: nothing new"
feeder --generate 500 --seed 7 >"$WORK/run2.out" || { cat "$WORK/run2.out"; dp_die "second run failed"; }
cat "$WORK/run2.out"
expect_counts "$WORK/run2.out" 0 500 0

dp_say "third run: the intake is killed and restarted in the middle"
# Paced so that the kill lands mid-run; short timeouts so retries come soon.
feeder --generate 500 --seed 8 --rate 150 --timeout-ms 1000 --attempts 10 \
  >"$WORK/run3.out" 2>"$WORK/run3.err" &
feeder_pid=$!
stored=0
for _ in $(seq 200); do
  stored=$(db_psql -c "SELECT count(*) FROM intake.enquiry WHERE idempotency_key LIKE 'form-8-%'")
  ((stored >= 100)) && break
  kill -0 "$feeder_pid" 2>/dev/null || break
  sleep 0.05
done
kill -0 "$feeder_pid" 2>/dev/null || dp_die "the feeder ended before the kill (stored $stored)"
((stored < 500)) || dp_die "all enquiries were stored before the kill"
kill -KILL "$intake_pid"
wait "$intake_pid" 2>/dev/null || true
echo "killed dp-intake after $stored of 500 were stored"
sleep 1.5
start_intake
wait_for dp-intake "$intake_pid" intake_healthy
echo "restarted dp-intake (pid $intake_pid)"
feeder_status=0
wait "$feeder_pid" || feeder_status=$?
feeder_pid=
cat "$WORK/run3.out"
((feeder_status == 0)) || { cat "$WORK/run3.err"; dp_die "third run exited with $feeder_status"; }
acknowledged=$(($(summary_count "$WORK/run3.out" accepted) + $(summary_count "$WORK/run3.out" "already submitted")))
((acknowledged == 500)) || dp_die "third run acknowledged $acknowledged of 500"
(($(summary_count "$WORK/run3.out" timeouts) > 0)) || dp_die "third run saw no timeout: the kill did not disturb it"

dp_say "fourth run: the intake's database is unreachable for a while (UNAVAILABLE)"
# Only this test's database: new connections are refused, the intake's own is cut.
db_psql -c "REVOKE CONNECT ON DATABASE \"$DB_NAME\" FROM PUBLIC" \
  -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
      WHERE datname = current_database() AND usename = 'dp_intake'" >/dev/null
for _ in $(seq 50); do
  intake_healthy || break
  sleep 0.1
done
! intake_healthy || dp_die "the intake still reaches its database"
feeder --generate 50 --seed 9 --timeout-ms 2000 --attempts 10 \
  >"$WORK/run4.out" 2>"$WORK/run4.err" &
feeder_pid=$!
sleep 1
db_psql -c "GRANT CONNECT ON DATABASE \"$DB_NAME\" TO PUBLIC"
feeder_status=0
wait "$feeder_pid" || feeder_status=$?
feeder_pid=
cat "$WORK/run4.out"
((feeder_status == 0)) || { cat "$WORK/run4.err"; dp_die "fourth run exited with $feeder_status"; }
expect_counts "$WORK/run4.out" 50 0 0
(($(summary_count "$WORK/run4.out" "retryable errors") > 0)) || dp_die "fourth run got no UNAVAILABLE"

dp_say "database: every enquiry once"
read -r total distinct duplicates < <(db_psql -F ' ' -c "
  SELECT count(*), count(DISTINCT (source, idempotency_key)),
         (SELECT count(*) FROM (SELECT 1 FROM intake.enquiry
                                GROUP BY source, idempotency_key HAVING count(*) > 1) d)
  FROM intake.enquiry")
echo "enquiries $total, distinct keys $distinct, duplicated keys $duplicates"
[[ $total == 1050 && $distinct == 1050 && $duplicates == 0 ]] ||
  dp_die "expected 1050 enquiries with 1050 distinct keys and no duplicate"

dp_say "conflicting resubmission and invalid enquiry: permanent, reported"
# Line 1: key form-7-000000 with another body. Line 2: form-7-000001 unchanged.
# Line 3: a new key with an invalid e-mail address.
feeder --generate 2 --seed 7 --emit | "$PYTHON" -c '
import json, sys
lines = [json.loads(line) for line in sys.stdin]
lines[0]["body"] += "\nP.S. changed after sending."
invalid = dict(lines[1], idempotency_key="form-invalid-1", email="not-an-address")
for enquiry in lines + [invalid]:
    print(json.dumps(enquiry))' >"$WORK/conflict.jsonl"
conflict_status=0
feeder "$WORK/conflict.jsonl" >"$WORK/run5.out" 2>"$WORK/run5.err" || conflict_status=$?
cat "$WORK/run5.out" "$WORK/run5.err"
((conflict_status == 1)) || dp_die "the run with a conflict exited with $conflict_status, expected 1"
expect_counts "$WORK/run5.out" 0 1 2
grep -qx '    ALREADY_EXISTS idempotency_key: 1' "$WORK/run5.out" || dp_die "no ALREADY_EXISTS idempotency_key in the summary"
grep -qx '    INVALID_ARGUMENT email: 1' "$WORK/run5.out" || dp_die "no INVALID_ARGUMENT email in the summary"
(($(summary_count "$WORK/run5.out" "messages sent") == 3)) || dp_die "a permanent failure was retried"
read -r total changed < <(db_psql -F ' ' -c "
  SELECT count(*), count(*) FILTER (WHERE body LIKE '%changed after sending%') FROM intake.enquiry")
[[ $total == 1050 && $changed == 0 ]] || dp_die "the refused enquiries changed the table ($total rows, $changed changed)"
