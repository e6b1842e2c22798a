#!/usr/bin/env bash
# dpctl's privacy commands end to end (ctest: dpctl_privacy, integration).
#
# Makes its own database on the test cluster, migrates it with the real
# dp-migrate, starts the real dp-registry and dp-intake executables on free
# loopback ports (as the roles dp_registry and dp_intake), and then acts as
# the operator does, through dpctl only: seed, a contact person who also
# sends two enquiries, the access export, the erasure, the export again (no
# name, address, subject, body or note left), the same enquiry submitted
# again and a new one (stored erased), retention's dry run, and the audit
# trail of both services. Stops what it started by pid and drops its
# database, whatever happens.
#
# Needs DP_TEST_ADMIN_URL (a superuser URL of the test cluster) and
# DP_BUILD_DIR (the build folder); fails when either is missing. Uses
# DP_TEST_REGISTRY_URL and DP_TEST_INTAKE_URL when set, else the admin URL
# with the role's name; DP_SEED_DIR when set, else db/seed.
set -euo pipefail

NAME=test_dpctl_privacy
PYTHON=/usr/bin/python3
SOURCE_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
DP_ROOT=$SOURCE_DIR
# dp_say, dp_die and dp_stop_pid, as every script has them.
# shellcheck source-path=SCRIPTDIR/.. source=scripts/lib/common.sh
. "$DP_ROOT/scripts/lib/common.sh"

[[ -n ${DP_TEST_ADMIN_URL:-} ]] || dp_die "DP_TEST_ADMIN_URL is not set (scripts/test exports it)"
[[ -n ${DP_BUILD_DIR:-} ]] || dp_die "DP_BUILD_DIR is not set (scripts/test exports it)"
DPCTL=$DP_BUILD_DIR/services/dpctl/dpctl
REGISTRY=$DP_BUILD_DIR/services/registry/dp-registry
INTAKE=$DP_BUILD_DIR/services/intake/dp-intake
MIGRATE=$DP_BUILD_DIR/services/migrate/dp-migrate
for program in "$DPCTL" "$REGISTRY" "$INTAKE" "$MIGRATE" "$PYTHON"; do
  [[ -x $program ]] || dp_die "$program is missing or not executable (build it first)"
done
command -v psql >/dev/null || dp_die "psql is not installed"
command -v script >/dev/null || dp_die "script (util-linux) is not installed"
SEED_DIR=${DP_SEED_DIR:-$SOURCE_DIR/db/seed}
[[ -d $SEED_DIR ]] || dp_die "no seed folder at $SEED_DIR"

# ---- what to clean up ----------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
DATABASE="dpt_dpctl_privacy_$$_${RANDOM}"
database_made=0
pids=()

# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    dp_stop_pid "$pid" "pid $pid" 10
    wait "$pid" 2>/dev/null || true
  done
  if ((status != 0)); then
    for log in "$WORK"/*.log; do
      [[ -s $log ]] && printf -- '--- %s\n%s\n' "${log##*/}" "$(tail -n 30 "$log")" >&2
    done
  fi
  if ((database_made)); then
    psql "$DP_TEST_ADMIN_URL" -qAt -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" >/dev/null ||
      printf '%s: could not drop database %s\n' "$NAME" "$DATABASE" >&2
  fi
  rm -rf -- "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers -------------------------------------------------------------------

# The URL with this database (and, when given, this user) in it.
url_with() {
  "$PYTHON" - "$@" <<'EOF'
import sys, urllib.parse as up
url, database = sys.argv[1], sys.argv[2]
user = sys.argv[3] if len(sys.argv) > 3 else None
parts = up.urlsplit(url)
if parts.scheme not in ("postgres", "postgresql") or not parts.netloc:
    sys.exit(f"not a postgresql:// URL: {url}")
netloc = parts.netloc
if user:
    netloc = user + "@" + netloc.rpartition("@")[2]
print(up.urlunsplit((parts.scheme, netloc, "/" + database, parts.query, "")))
EOF
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs dpctl; its stdout, stderr and exit code land in $WORK/out, err, and $status.
status=0
run_dpctl() {
  status=0
  "$DPCTL" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
}

show_run() {
  printf 'dpctl %s\nexit %d\nstdout:\n%s\nstderr:\n%s\n' "$1" "$status" "$(cat "$WORK/out")" \
    "$(cat "$WORK/err")" >&2
}

# dpctl ARGS... must exit 0.
dpctl_ok() {
  run_dpctl "$@"
  if ((status != 0)); then
    show_run "$*"
    dp_die "dpctl $* exited $status"
  fi
}

# dpctl ARGS... must exit with CODE.
dpctl_exits() {
  local code=$1
  shift
  run_dpctl "$@"
  if ((status != code)); then
    show_run "$*"
    dp_die "dpctl $* exited $status, not $code"
  fi
}

# The text must hold the pattern (grep -E).
expect_in() {
  local file=$1 pattern=$2 what=$3
  grep -Eq -- "$pattern" "$file" || {
    printf -- '--- %s:\n%s\n' "${file##*/}" "$(cat "$file")" >&2
    dp_die "$what: no match for /$pattern/"
  }
}

# Runs a Python check on a JSON document: the script reads `doc` and asserts.
check_json() {
  local file=$1 what=$2 script=$3
  "$PYTHON" -c "import json, re, sys
doc = json.load(open(sys.argv[1]))
$script" "$file" || {
    printf -- '--- %s:\n%s\n' "${file##*/}" "$(cat "$file")" >&2
    dp_die "$what"
  }
}

# Waits for a service to answer `dpctl status`, each try bounded by
# DP_TIMEOUT_MS; fails at once when the process has died.
wait_ready() {
  local service=$1 pid=$2
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || dp_die "dp-$service exited at start (see its log)"
    if DP_TIMEOUT_MS=500 DP_ATTEMPTS=1 "$DPCTL" status --service "$service" >/dev/null 2>&1; then
      return 0
    fi
  done
  dp_die "dp-$service did not answer within 60 tries"
}

# ---- the database and the services ---------------------------------------------

ADMIN_URL=$(url_with "$DP_TEST_ADMIN_URL" "$DATABASE") || dp_die "DP_TEST_ADMIN_URL: not usable"
REGISTRY_URL=$(url_with "${DP_TEST_REGISTRY_URL:-$DP_TEST_ADMIN_URL}" "$DATABASE" \
  "$([[ -n ${DP_TEST_REGISTRY_URL:-} ]] || echo dp_registry)")
INTAKE_URL=$(url_with "${DP_TEST_INTAKE_URL:-$DP_TEST_ADMIN_URL}" "$DATABASE" \
  "$([[ -n ${DP_TEST_INTAKE_URL:-} ]] || echo dp_intake)")

psql "$DP_TEST_ADMIN_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DATABASE\"" >/dev/null ||
  dp_die "cannot create database $DATABASE"
database_made=1
DP_DATABASE_URL=$ADMIN_URL "$MIGRATE" up >"$WORK/migrate.log" 2>&1 || dp_die "dp-migrate up failed"

# Nothing of the caller's environment may point the programs elsewhere.
unset DP_CURVE_DIR DP_CURVE_CLIENT_CERT DP_ACTOR DP_TIMEOUT_MS DP_ATTEMPTS
export DP_PRIVACY_KEY="$NAME-key"
export DP_METRICS_PORT=-1
export DP_LOG_LEVEL=warning
DP_REGISTRY_ENDPOINT="tcp://127.0.0.1:$(free_port)"
DP_INTAKE_ENDPOINT="tcp://127.0.0.1:$(free_port)"
# Ports nobody listens on: the intake follows the notifications service,
# which this test does not start; dpctl's own defaults must not be reached.
DP_NOTIFY_ENDPOINT="tcp://127.0.0.1:$(free_port)"
DP_NOTIFY_PUB_ENDPOINT="tcp://127.0.0.1:$(free_port)"
DP_REPORT_ENDPOINT="tcp://127.0.0.1:$(free_port)"
export DP_REGISTRY_ENDPOINT DP_INTAKE_ENDPOINT DP_NOTIFY_ENDPOINT DP_NOTIFY_PUB_ENDPOINT \
  DP_REPORT_ENDPOINT

DP_DATABASE_URL=$REGISTRY_URL "$REGISTRY" >"$WORK/registry.log" 2>&1 &
pids+=($!)
wait_ready registry "${pids[-1]}"
DP_DATABASE_URL=$INTAKE_URL "$INTAKE" >"$WORK/intake.log" 2>&1 &
pids+=($!)
wait_ready intake "${pids[-1]}"
dp_say "database $DATABASE; registry $DP_REGISTRY_ENDPOINT, intake $DP_INTAKE_ENDPOINT"

# ---- help at every level ---------------------------------------------------------

dpctl_ok --help
expect_in "$WORK/out" '^  privacy ' "dpctl --help names the privacy group"
dpctl_ok privacy --help
cp "$WORK/out" "$WORK/privacy-help.txt"
for command in export erase retention audit; do
  expect_in "$WORK/privacy-help.txt" "^  $command " "dpctl privacy --help names $command"
  dpctl_ok privacy "$command" --help
  expect_in "$WORK/out" "^Usage: dpctl privacy $command" "dpctl privacy $command --help"
done
dpctl_exits 2 privacy
dpctl_exits 2 privacy export not-an-address
expect_in "$WORK/err" "^dpctl privacy export: EMAIL must be an e-mail address" "a bad address"

# ---- a person who is a contact and sends enquiries -------------------------------

EMAIL=jane.roe@example.org
PERSON="Jane Roe"
BODY_ONE="Please send the partnership terms to my home in Ruelisheim."
BODY_TWO="I would like to present our child-safety tools at the next event."
NOTE="Phoned Jane Roe on her mobile"
RECEIVED=2026-03-02T09:15:00Z

dpctl_ok seed "$SEED_DIR"
dpctl_ok --json partner contact add apple --name "$PERSON" --email "$EMAIL" --role "public policy"
cp "$WORK/out" "$WORK/contact.json"
check_json "$WORK/contact.json" "the contact as added" "assert doc['email'] == '$EMAIL', doc"

submit() { # KEY BODY [RECEIVED]
  dpctl_ok --json enquiry submit --source website --key "$1" --name "$PERSON" --email "$EMAIL" \
    --kind information-request --subject "Partnership question $1" --body "$2" \
    --received-at "${3:-$RECEIVED}"
}
submit web-1 "$BODY_ONE"
FIRST_ID=$("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d.get("already_submitted"); print(d["enquiry_id"])' "$WORK/out") ||
  dp_die "the first submission was not new"
submit web-2 "$BODY_TWO"
dpctl_ok enquiry note "$FIRST_ID" "$NOTE" --actor staff-one

# ---- the access export -------------------------------------------------------------

dpctl_ok privacy export "$EMAIL" --actor alice-dpo
cp "$WORK/out" "$WORK/export-before.json"
check_json "$WORK/export-before.json" "the export holds 2 enquiries and 1 contact" "
assert doc['email'] == '$EMAIL'
assert re.fullmatch('[0-9a-f]{64}', doc['subject_key']), doc['subject_key']
assert doc['erased'] is False
assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', doc['generated_at'])
assert len(doc['enquiries']) == 2, len(doc['enquiries'])
assert len(doc['contacts']) == 1, len(doc['contacts'])
contact = doc['contacts'][0]
assert contact['partner_slug'] == 'apple' and contact['name'] == '$PERSON', contact
assert contact['email'] == '$EMAIL', contact
bodies = sorted(e['body'] for e in doc['enquiries'])
assert bodies == sorted(['$BODY_ONE', '$BODY_TWO']), bodies
assert all(e['sender_name'] == '$PERSON' and e['history'] for e in doc['enquiries'])
notes = [n['text'] for e in doc['enquiries'] for n in e.get('notes', [])]
assert notes == ['$NOTE'], notes
"
SUBJECT_KEY=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["subject_key"])' \
  "$WORK/export-before.json")
dp_say "export before erasure: 2 enquiries, 1 contact, subject ${SUBJECT_KEY:0:12}"

# ---- the erasure -----------------------------------------------------------------------

# Without a terminal nobody can confirm: refused before anything is sent.
dpctl_exits 2 privacy erase "$EMAIL"
expect_in "$WORK/err" "--yes" "erase without a terminal names --yes"
# On a terminal (script(1) gives it one) it asks; an answer but yes erases nothing.
status=0
printf 'no\n' | script -qec "$(printf '%q ' "$DPCTL" privacy erase "$EMAIL")" /dev/null \
  >"$WORK/out" 2>&1 || status=$?
((status == 1)) || dp_die "a declined erasure exited $status, not 1: $(cat "$WORK/out")"
expect_in "$WORK/out" "Erase the personal data of $EMAIL" "the question on a terminal"
expect_in "$WORK/out" "not confirmed; nothing was erased" "a declined erasure"
dpctl_ok --json privacy audit --subject "$EMAIL"
check_json "$WORK/out" "nothing erased before the confirmed erasure" "
assert not [e for e in doc if e['action'] == 'erase'], doc"

DP_ACTOR=bob-dpo dpctl_ok privacy erase "$EMAIL" --reason "REQ-2026-17" --yes
cp "$WORK/out" "$WORK/erase.txt"
expect_in "$WORK/erase.txt" '^registry: +1 contact erased$' "the registry's part"
expect_in "$WORK/erase.txt" '^intake: +2 enquiries erased$' "the intake's part"
expect_in "$WORK/erase.txt" "^subject key: +$SUBJECT_KEY\$" "the subject key"

dpctl_ok privacy export "$EMAIL" --actor alice-dpo
cp "$WORK/out" "$WORK/export-after.json"
check_json "$WORK/export-after.json" "personal data left after the erasure" "
assert doc['erased'] is True and doc['subject_key'] == '$SUBJECT_KEY'
assert len(doc['enquiries']) == 2 and len(doc['contacts']) == 1, doc
rest = json.dumps({k: v for k, v in doc.items() if k != 'email'})
for gone in ['$PERSON', 'Jane', '$EMAIL', 'jane.roe', 'Ruelisheim', 'child-safety', 'mobile',
             'public policy', 'Partnership question']:
    assert gone not in rest, gone
for e in doc['enquiries']:
    assert e['sender_name'] == '[erased]' and e['body'] == '[erased]', e
    assert e['email'].endswith('@invalid'), e['email']
assert doc['contacts'][0]['name'] == '[erased]', doc['contacts']
assert doc['contacts'][0]['email'].endswith('@invalid'), doc['contacts']
"
dp_say "export after erasure: nothing personal left"

# ---- the person comes again --------------------------------------------------------------

submit web-1 "$BODY_ONE"
check_json "$WORK/out" "the same enquiry again is already submitted" "
assert doc.get('already_submitted') is True and doc['enquiry_id'] == $FIRST_ID, doc"
submit web-3 "Please call me back about the pilot." 2026-03-03T10:00:00Z
NEW_ID=$("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d.get("already_submitted"); print(d["enquiry_id"])' "$WORK/out") ||
  dp_die "the new submission was not new"
dpctl_ok --json enquiry show "$NEW_ID"
check_json "$WORK/out" "a new enquiry of an erased person is stored erased" "
assert doc['sender_name'] == '[erased]' and doc['body'] == '[erased]', doc
assert doc['email'].endswith('@invalid') and 'call me back' not in json.dumps(doc), doc"

# ---- retention -------------------------------------------------------------------------------

dpctl_exits 2 privacy retention
dpctl_exits 2 privacy retention --dry-run --run
dpctl_ok privacy retention --dry-run --actor alice-dpo
expect_in "$WORK/out" '^would pseudonymise [0-9]+ enquir(y|ies) resolved before [0-9]{4}-[0-9]{2}-[0-9]{2}' \
  "retention's dry run"
dpctl_ok --json privacy retention --dry-run
check_json "$WORK/out" "retention's dry run as JSON" "
assert doc['dry_run'] is True and doc['enquiries'] == 0 and doc['cutoff'], doc"

# ---- the audit trail -------------------------------------------------------------------------

dpctl_ok --json privacy audit --subject "$EMAIL"
cp "$WORK/out" "$WORK/audit.json"
check_json "$WORK/audit.json" "the audit shows the exports and the erasure with their actors" "
mine = [(e['service'], e['action'], e['actor']) for e in doc]
for service in ('registry', 'intake'):
    assert (service, 'export', 'alice-dpo (unauthenticated)') in mine, (service, mine)
    assert (service, 'erase', 'bob-dpo (unauthenticated)') in mine, (service, mine)
assert all(e['subject_key'] == '$SUBJECT_KEY' for e in doc), doc
times = [e['at'] for e in doc]
assert times == sorted(times, reverse=True), times
assert '$EMAIL' not in json.dumps(doc)
erase = [e for e in doc if e['action'] == 'erase' and e['service'] == 'intake'][0]
assert 'REQ-2026-17' in erase['detail'], erase
"
dpctl_ok privacy audit --limit 50
cp "$WORK/out" "$WORK/audit.txt"
expect_in "$WORK/audit.txt" '^TIME +SERVICE +ACTOR +ACTION +SUBJECT +DETAIL' "the audit table's header"
expect_in "$WORK/audit.txt" "registry +bob-dpo \\(unauthenticated\\) +erase +${SUBJECT_KEY:0:12} " "the registry's erase row"
expect_in "$WORK/audit.txt" "intake +alice-dpo \\(unauthenticated\\) +export +${SUBJECT_KEY:0:12} " "the intake's export row"
dpctl_ok --json privacy audit --limit 1
check_json "$WORK/out" "--limit 1 keeps one entry" "assert len(doc) == 1, doc"
dpctl_exits 2 privacy audit --limit 0
dpctl_exits 2 privacy audit --subject nobody

# ---- a service that does not answer is named -----------------------------------------------

DP_INTAKE_ENDPOINT="tcp://127.0.0.1:$(free_port)" DP_TIMEOUT_MS=300 DP_ATTEMPTS=1 \
  dpctl_exits 1 privacy erase someone.else@example.org --yes --actor bob-dpo
expect_in "$WORK/err" '^dpctl: intake: ' "the failing service's error"
expect_in "$WORK/err" 'incomplete: the intake failed' "the incomplete erasure"
expect_in "$WORK/out" '^registry: +0 contacts erased$' "the registry's part still done"

dp_say "PASS"
