# shellcheck shell=bash
# Shared by the scripts in scripts/. Source it after setting DP_ROOT:
#   DP_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
#   . "$DP_ROOT/scripts/lib/common.sh"

: "${DP_ROOT:?DP_ROOT must be set before sourcing common.sh}"

# Folders made under .local/ must stay traversable by the postgres user
# (scripts/pg runs the cluster as postgres when run as root).
umask 022

DP_LOCAL_DIR="$DP_ROOT/.local"
DP_LOG_DIR="$DP_LOCAL_DIR/log"
DP_RUN_DIR="$DP_LOCAL_DIR/run"

# The services that scripts/run starts (in this order) and scripts/stop stops
# (in reverse order). One line per service:
#   name  binary (relative to the build dir)  database role  endpoint variable  port
# A later service is added with one line, e.g.
#   "intake   services/intake/dp-intake       dp_intake     DP_INTAKE_ENDPOINT    ${DP_INTAKE_PORT:-7102}"
# Every service is started with all the endpoint variables of the list (so it
# can reach the others) and DP_DATABASE_URL for its own role.
# shellcheck disable=SC2034  # used by the scripts that source this file
DP_SERVICES=(
  "registry services/registry/dp-registry dp_registry DP_REGISTRY_ENDPOINT ${DP_REGISTRY_PORT:-7101}"
  "notify   services/notify/dp-notify       dp_notify   DP_NOTIFY_ENDPOINT   ${DP_NOTIFY_PORT:-7103}"
  "intake   services/intake/dp-intake       dp_intake   DP_INTAKE_ENDPOINT   ${DP_INTAKE_PORT:-7102}"
  "report   services/report/dp-report       dp_report   DP_REPORT_ENDPOINT   ${DP_REPORT_PORT:-7105}"
  "console  services/console/dp-console     dp_console  DP_CONSOLE_ENDPOINT  ${DP_CONSOLE_PORT:-7106}"
)
# Endpoints beside the request/reply ones: live events and the dashboard.
DP_NOTIFY_PUB_PORT=${DP_NOTIFY_PUB_PORT:-7104}
DP_REPORT_HTTP_PORT=${DP_REPORT_HTTP_PORT:-8080}
DP_CONSOLE_HTTP_PORT=${DP_CONSOLE_HTTP_PORT:-8081}

dp_say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
dp_die() {
  dp_say "error: $*"
  exit 1
}

# Splits one DP_SERVICES line into the globals svc_name, svc_bin, svc_role,
# svc_endpoint_var and svc_port.
dp_service_fields() {
  # shellcheck disable=SC2034  # used by the caller
  read -r svc_name svc_bin svc_role svc_endpoint_var svc_port <<<"$1"
}

dp_pid_file() { printf '%s/%s.pid\n' "$DP_RUN_DIR" "$1"; }
dp_log_file() { printf '%s/%s.log\n' "$DP_LOG_DIR" "$1"; }

# Prints the pid recorded in a pid file when that process is alive and is
# still the program (binary basename) it was started as; otherwise prints
# nothing and returns 1. Guards against signalling a recycled pid.
dp_live_pid() {
  local pid_file=$1 program=$2 pid cmdline
  [[ -f $pid_file ]] || return 1
  pid=$(tr -dc '0-9' <"$pid_file")
  [[ -n $pid ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$program"* ]] || return 1
  printf '%s\n' "$pid"
}

# True when a process is gone (or only a zombie waiting to be reaped).
dp_pid_gone() {
  local stat
  kill -0 "$1" 2>/dev/null || return 0
  stat=$(<"/proc/$1/stat") 2>/dev/null || return 0
  stat=${stat##*) }
  [[ ${stat%% *} == Z ]]
}

# Stops one process: SIGTERM, wait up to $3 seconds (default 10), then SIGKILL.
dp_stop_pid() {
  local pid=$1 what=$2 grace=${3:-10} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    dp_pid_gone "$pid" && return 0
    sleep 0.1
  done
  dp_say "$what (pid $pid) still running after ${grace}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    dp_pid_gone "$pid" && return 0
    sleep 0.1
  done
  dp_say "warning: $what (pid $pid) did not go away after SIGKILL"
}

# Stops the service recorded in a pid file, if it is running, and removes the file.
dp_stop_service() {
  local name=$1 program=$2 pid_file pid
  pid_file=$(dp_pid_file "$name")
  if pid=$(dp_live_pid "$pid_file" "$program"); then
    dp_say "stopping $name (pid $pid)"
    dp_stop_pid "$pid" "$name" 10
  fi
  rm -f "$pid_file"
}
