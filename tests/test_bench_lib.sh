#!/usr/bin/env bash
# The bench scripts' readers of "TARGET key=value ..." lines (ctest:
# bench_lib, unit): bench_stat's mean and sum with their filters, and
# bench_ratio. A line without the key, or without the shape, counts for
# nothing: it must not take the values of the line before it (run-intake's
# mean once did, and reported a round that had no figure).
set -euo pipefail

DP_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source-path=SCRIPTDIR/.. source=scripts/lib/common.sh
. "$DP_ROOT/scripts/lib/common.sh"
# shellcheck source-path=SCRIPTDIR/.. source=bench/bench_lib.sh
. "$DP_ROOT/bench/bench_lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/test_bench_lib.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
RESULTS=$WORK/results.txt
failures=0

# expect WHAT WANTED GOT
expect() {
  if [[ $2 != "$3" ]]; then
    dp_say "FAIL: $1: wanted '$2', got '$3'"
    failures=$((failures + 1))
  fi
}

cat >"$RESULTS" <<'LINES'
ours round=1 shape=4x16 acks_per_s=1000 p99_ms=8 errors=1 note=a=b
ours round=1 shape=4x1 acks_per_s=50
ours round=2 acks_per_s=70 p99_ms=2
yardstick round=1 shape=4x1 acks_per_s=400 p99_ms=4 errors=2
ours round=2 shape=4x16 acks_per_s=3000 p99_ms=12 errors=3
ours round=3 shape=4x1 request=get-id acks_per_s=90 p99_ms=6
LINES

# Means over the lines of one target and shape.
expect "mean acks/s at 4x16" 2000 "$(bench_stat mean "$RESULTS" ours acks_per_s shape=4x16)"
expect "mean p99 at 4x16" 10 "$(bench_stat mean "$RESULTS" ours p99_ms shape=4x16)"
# The 4x1 line of round 1 has no p99: it neither inherits 8 from the line
# before, nor counts as 0; the line of round 2 has no shape and does not
# inherit 4x1.
expect "mean p99 at 4x1" 6 "$(bench_stat mean "$RESULTS" ours p99_ms shape=4x1)"
expect "mean acks/s at 4x1" 70 "$(bench_stat mean "$RESULTS" ours acks_per_s shape=4x1)"
expect "mean errors at 4x1 (no line has them)" nan "$(bench_stat mean "$RESULTS" ours errors shape=4x1)"
expect "sum errors at 4x1 (no line has them)" 0 "$(bench_stat sum "$RESULTS" ours errors shape=4x1)"
# Another target's lines do not count.
expect "yardstick p99 at 4x1" 4 "$(bench_stat mean "$RESULTS" yardstick p99_ms shape=4x1)"
expect "sum errors at 4x16" 4 "$(bench_stat sum "$RESULTS" ours errors shape=4x16)"
# Several filters, all must hold.
expect "mean p99 of get-id at 4x1" 6 "$(bench_stat mean "$RESULTS" ours p99_ms request=get-id shape=4x1)"
expect "mean p99 of get-slug at 4x1" nan "$(bench_stat mean "$RESULTS" ours p99_ms request=get-slug shape=4x1)"
# No filter: every line of the target with the key.
expect "mean p99 of every ours line" 7 "$(bench_stat mean "$RESULTS" ours p99_ms)"
# A value holding "=" is kept whole.
expect "a value with =" 1 "$(bench_stat sum "$RESULTS" ours errors note=a=b)"
expect "no such target" nan "$(bench_stat mean "$RESULTS" nobody acks_per_s shape=4x1)"

expect "ratio" 1.50 "$(bench_ratio 3 2)"
expect "ratio of nan" - "$(bench_ratio 3 nan)"
expect "ratio of 0" - "$(bench_ratio 3 0)"
expect "ratio of nothing" - "$(bench_ratio 3 "")"

if ((failures)); then
  dp_die "$failures check(s) failed"
fi
dp_say "every check passed"
