# shellcheck shell=bash
# The cases of the fault suite, sourced by scripts/faults after faults/lib.sh.
# Each is a function case_<name> that returns 0 when the case passed. Sizes
# come from the globals N (enquiries), RATE (submissions per second, 0:
# unpaced), HOSTILE, VALID, PAUSE_S, RESTART_AT_PERCENT (the share of N
# stored at which each PostgreSQL restart happens) and
# LOAD_DEADLINE_S set for the mode. case_<name> runs case <name> (with "-"
# spelled "_").

# shellcheck disable=SC2034  # read by scripts/faults
FAULT_CASES=(intake-kill pg-restart notify-kill subscriber-pause hostile registry-down)

# kill_while_loading SERVICE: SIGKILL every 1 to 3 s while the load runs,
# starting the service again at once each time.
kill_while_loading() {
  local service=$1 next
  KILLS=0
  next=$(($(now_ms) + $(random_ms 1000 3000)))
  while load_running; do
    sleep 0.05
    (($(now_ms) >= next)) || continue
    load_running || break
    kill_service "$service"
    start_service "$service"
    KILLS=$((KILLS + 1))
    next=$(($(now_ms) + $(random_ms 1000 3000)))
  done
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# 1. The intake executable killed with SIGKILL every 1 to 3 s under load.
case_intake_kill() {
  case_begin intake-kill "$N enquiries from retrying clients; dp-intake SIGKILLed every 1-3 s"
  start_services registry notify intake
  start_load "$N" 3 "$RATE" "$LOAD_DEADLINE_S"
  kill_while_loading intake
  count kills "$KILLS"
  finish_load "$N"
  ((KILLS >= 2)) || fail "only $KILLS kills happened during the load (make it longer)"
  health intake 30 || fail "dp-intake is not healthy after the load"
  check_enquiries "$N"
  check_events "$N"
  case_end
}

# 2. PostgreSQL restarted twice under load; the services reconnect alone.
case_pg_restart() {
  case_begin pg-restart "$N enquiries from retrying clients; PostgreSQL restarted twice"
  start_services registry notify intake
  local pids="${SERVICE_PID[registry]} ${SERVICE_PID[notify]} ${SERVICE_PID[intake]}"
  start_load "$N" 3 "$RATE" "$LOAD_DEADLINE_S"
  # The restarts follow the load's progress, not the clock, so that both
  # happen while it runs however fast the machine stores the enquiries.
  local restarts=0 percent stored
  for percent in $RESTART_AT_PERCENT; do
    while load_running; do
      stored=$(sql -c 'SELECT count(*) FROM intake.enquiry' 2>/dev/null || echo 0)
      ((stored * 100 >= N * percent)) && break
      sleep 0.1
    done
    load_running || break
    if faults_pg restart >>"$CASE_DIR/pg-restart.log" 2>&1; then
      restarts=$((restarts + 1))
      say "PostgreSQL restarted ($restarts)"
    else
      fail "scripts/pg restart failed (see $CASE_DIR/pg-restart.log)"
    fi
  done
  count pg_restarts "$restarts"
  finish_load "$N"
  expect "PostgreSQL restarts during the load" "$restarts" 2
  local name
  for name in registry notify intake; do
    service_alive "$name" || fail "dp-$name exited (see $CASE_DIR/$name.log)"
    health "$name" 30 || fail "dp-$name did not reconnect to PostgreSQL"
  done
  expect "service pids (none restarted)" \
    "${SERVICE_PID[registry]} ${SERVICE_PID[notify]} ${SERVICE_PID[intake]}" "$pids"
  count reconnects "$(grep -c 'reconnected to PostgreSQL' "$CASE_DIR"/{registry,notify,intake}.log |
    awk -F: '{ s += $2 } END { print s + 0 }')"
  check_enquiries "$N"
  check_events "$N"
  case_end
}

# 3. The relay (dp-notify) SIGKILLed every 1 to 3 s under load. A subscriber
#    follows the live stream through the kills as well.
case_notify_kill() {
  case_begin notify-kill "$N enquiries; dp-notify (the relay) SIGKILLed every 1-3 s"
  start_services registry notify intake
  start_follower
  start_load "$N" 3 "$RATE" "$LOAD_DEADLINE_S"
  kill_while_loading notify
  count kills "$KILLS"
  finish_load "$N"
  ((KILLS >= 2)) || fail "only $KILLS kills happened during the load (make it longer)"
  health notify 30 || fail "dp-notify is not healthy after the load"
  check_enquiries "$N"
  check_events "$N"
  finish_follower "$LATEST_SEQ"
  case_end
}

FOLLOWER_PID=
start_follower() {
  DP_FAULT_PUB_ENDPOINT=$PUB_EP DP_FAULT_ENDPOINT=$NOTIFY_EP DP_FAULT_FROM_SEQ=1 \
    DP_FAULT_SEQ_FILE="$CASE_DIR/follower.seqs" "$BUILD_DIR/faults/dp-fault-follow" \
    >"$CASE_DIR/follower.out" 2>"$CASE_DIR/follower.err" </dev/null 8>&- &
  FOLLOWER_PID=$!
  track "$FOLLOWER_PID" dp-fault-follow
}

follower_at() { [[ -s $CASE_DIR/follower.seqs && $(tail -n 1 "$CASE_DIR/follower.seqs") == "$1" ]]; }

# finish_follower LATEST: waits until the follower has LATEST, stops it and
# checks that it got 1..LATEST in order.
finish_follower() {
  local latest=$1
  wait_until 90 "the subscriber to reach seq $latest" follower_at "$latest" ||
    fail "the subscriber did not reach seq $latest"
  stop_pid "$FOLLOWER_PID" dp-fault-follow 5
  count follower_repaired "$(field repaired "$CASE_DIR/follower.out")"
  check_follower_file "$CASE_DIR/follower.seqs" "$latest" follower
}

# 4. A subscriber paused with SIGSTOP while events flow, then SIGCONT; a
#    durable consumer SIGKILLed every 1 to 3 s and started again.
case_subscriber_pause() {
  case_begin subscriber-pause \
    "$N enquiries; a subscriber SIGSTOPped for ${PAUSE_S} s; a durable consumer SIGKILLed every 1-3 s"
  # A short PUB queue, so that the paused subscriber misses live events
  # once the TCP buffers are full and has to repair by replay.
  NOTIFY_EXTRA_ENV=(DP_NOTIFY_PUB_HWM=100)
  start_services registry notify intake
  start_follower
  start_consumer 0
  start_load "$N" 3 "$RATE" "$LOAD_DEADLINE_S"
  local pause_at=$(($(now_ms) + 2000)) resume_at=0 paused=0 next_kill
  next_kill=$(($(now_ms) + $(random_ms 1000 3000)))
  KILLS=0
  while load_running || ((paused == 1)); do
    sleep 0.05
    local now
    now=$(now_ms)
    if ((paused == 0 && now >= pause_at)); then
      kill -STOP "$FOLLOWER_PID"
      paused=1
      resume_at=$((now + PAUSE_S * 1000))
      say "subscriber paused (SIGSTOP)"
    elif ((paused == 1 && now >= resume_at)); then
      kill -CONT "$FOLLOWER_PID"
      paused=2
      say "subscriber resumed (SIGCONT) after ${PAUSE_S} s"
    fi
    if load_running && ((now >= next_kill)); then
      kill -KILL "$CONSUMER_PID" 2>/dev/null || true
      wait "$CONSUMER_PID" 2>/dev/null || true
      start_consumer 0
      KILLS=$((KILLS + 1))
      next_kill=$((now + $(random_ms 1000 3000)))
    fi
  done
  count consumer_kills "$KILLS"
  finish_load "$N"
  ((paused == 2)) || fail "the subscriber was never paused"
  ((KILLS >= 2)) || fail "only $KILLS consumer kills happened during the load"
  check_enquiries "$N"
  check_events "$N"
  finish_follower "$LATEST_SEQ"
  # The consumer's last start runs until it has acknowledged the latest seq.
  stop_pid "$CONSUMER_PID" dp-fault-consume 5
  start_consumer "$LATEST_SEQ"
  local waited=0
  while ! dp_pid_gone "$CONSUMER_PID" && ((waited < 900)); do
    sleep 0.2
    waited=$((waited + 1))
  done
  if dp_pid_gone "$CONSUMER_PID" && wait "$CONSUMER_PID"; then
    check_consumer "$LATEST_SEQ"
  else
    stop_pid "$CONSUMER_PID" dp-fault-consume 5
    fail "the consumer did not reach acked_seq $LATEST_SEQ within 180 s"
    check_consumer "$LATEST_SEQ"
  fi
  case_end
}

CONSUMER_PID=
start_consumer() {
  DP_FAULT_ENDPOINT=$NOTIFY_EP DP_FAULT_CONSUMER=faults DP_FAULT_ACK_TIMEOUT_MS=2000 \
    DP_FAULT_WORK_US=200 \
    DP_FAULT_SEQ_FILE="$CASE_DIR/consumer.seqs" DP_FAULT_UNTIL_SEQ="$1" \
    "$BUILD_DIR/faults/dp-fault-consume" >>"$CASE_DIR/consumer.out" 2>>"$CASE_DIR/consumer.err" \
    </dev/null 8>&- &
  CONSUMER_PID=$!
  track "$CONSUMER_PID" dp-fault-consume
}

# check_consumer LATEST: every seq 1..LATEST was handled at least once and
# the consumer's acked_seq is LATEST with nothing in flight or parked.
check_consumer() {
  local latest=$1 row
  row=$(awk -v latest="$latest" '
    { n++; if (!seen[$1]++ && $1 >= 1 && $1 <= latest) covered++ }
    END { printf "%d %d", n, latest - covered }' "$CASE_DIR/consumer.seqs" 2>/dev/null || echo "0 $latest")
  local handled missing
  read -r handled missing <<<"$row"
  count consumer_handled "$handled"
  count consumer_redelivered $((handled - (latest - missing)))
  count consumer_missing "$missing"
  row=$(sql -c "SELECT c.acked_seq, c.delivered_seq,
      (SELECT count(*) FROM notify.delivery d WHERE d.consumer = c.name AND d.parked_at IS NULL),
      (SELECT count(*) FROM notify.delivery d WHERE d.consumer = c.name AND d.parked_at IS NOT NULL)
    FROM notify.consumer c WHERE c.name = 'faults'")
  local acked delivered in_flight parked
  IFS='|' read -r acked delivered in_flight parked <<<"$row"
  count consumer_acked_seq "$acked"
  count consumer_delivered_seq "$delivered"
  expect "consumer: seqs of 1..$latest never handled" "$missing" 0
  expect "consumer: acked_seq" "$acked" "$latest"
  expect "consumer: deliveries in flight" "$in_flight" 0
  expect "consumer: deliveries parked" "$parked" 0
  if ((missing > 0)); then
    say "consumer: first seqs never handled: $(awk -v latest="$latest" '{ seen[$1] = 1 }
      END { for (s = 1; s <= latest && shown < 10; s++) if (!seen[s]) { printf "%d ", s; shown++ } }' \
      "$CASE_DIR/consumer.seqs")"
  fi
}

# 5. Malformed and hostile messages mixed into valid traffic.
case_hostile() {
  case_begin hostile "$HOSTILE hostile messages mixed into $VALID valid submissions"
  start_services registry intake
  local pid=${SERVICE_PID[intake]}
  DP_FAULT_ENDPOINT=$INTAKE_EP DP_FAULT_REGISTRY_ENDPOINT=$REGISTRY_EP DP_FAULT_TAG=f \
    DP_FAULT_VALID=$VALID DP_FAULT_HOSTILE=$HOSTILE DP_FAULT_SEED=$((RANDOM + 1)) \
    DP_FAULT_DEADLINE_MS=$((LOAD_DEADLINE_S * 1000)) \
    DP_FAULT_ACK_FILE="$CASE_DIR/acks-1.tsv" timeout $((LOAD_DEADLINE_S + 30)) \
    "$BUILD_DIR/faults/dp-fault-hostile" >"$CASE_DIR/hostile.out" 2>"$CASE_DIR/hostile.err" \
    </dev/null 8>&- || fail "dp-fault-hostile reported a failure (see $CASE_DIR/hostile.err)"
  local out="$CASE_DIR/hostile.out"
  head -n 1 -- "$out" >"$CASE_DIR/submit-1.out"
  count hostile_sent "$(field hostile_sent "$out")"
  count hostile_answered "$(field hostile_replies "$out")"
  count hostile_answered_ok "$(field hostile_ok "$out")"
  count valid_sent "$(field sent "$out")"
  count valid_acknowledged "$(field acked "$out")"
  count valid_resent "$(($(field sends "$out") - $(field sent "$out")))"
  count valid_max_ack_ms "$(field max_ack_ms "$out")"
  expect "hostile messages sent" "$(field hostile_sent "$out")" "$HOSTILE"
  expect "hostile messages answered OK" "$(field hostile_ok "$out")" 0
  expect "replies echoing a control character" "$(field hostile_echoed "$out")" 0
  expect "valid submissions acknowledged" "$(field acked "$out")" "$VALID"
  expect "valid submissions that needed a resend" "$(($(field sends "$out") - $(field sent "$out")))" 0
  grep '^category=' "$out" | awk '$3 != "ok=0" { print "    answered OK: " $0 }'
  service_alive intake || fail "dp-intake exited (pid $pid; see $CASE_DIR/intake.log)"
  expect "dp-intake pid" "${SERVICE_PID[intake]}" "$pid"
  health intake 10 || fail "dp-intake does not answer health after the hostile traffic"
  check_enquiries "$VALID"
  local row hostile_rows overwritten
  row=$(sql -c "SELECT count(*) FILTER (WHERE source = 'hostile' OR idempotency_key LIKE 'h-%'),
      count(*) FILTER (WHERE subject LIKE 'HOSTILE%') FROM intake.enquiry")
  IFS='|' read -r hostile_rows overwritten <<<"$row"
  count hostile_stored "$hostile_rows"
  expect "hostile enquiries stored" "$hostile_rows" 0
  expect "enquiries overwritten by a reused key" "$overwritten" 0
  expect "partners changed by the registry's hostile requests" \
    "$(sql -c "SELECT count(*) FROM registry.partner WHERE note = 'HOSTILE OVERWRITE'")" 0
  if ((hostile_rows > 0)); then
    say "hostile rows stored (first 5):"
    sql -c "SELECT id, source, encode(convert_to(idempotency_key, 'UTF8'), 'escape'),
        left(sender_name, 30), left(subject, 40) FROM intake.enquiry
      WHERE source = 'hostile' OR idempotency_key LIKE 'h-%' ORDER BY id LIMIT 5" | sed 's/^/      /'
  fi
  case_end
}

# 6. The registry stopped: the intake does not wait on it. A load with the
#    registry up, then the registry stopped and dp-intake started again
#    (so that it has no partner map at all) and the same load again. The
#    acknowledgements' p99 with the registry stopped must stay within 2x
#    of its value with the registry up (both at least REGISTRY_DOWN_FLOOR_MS,
#    since a p99 of a few ms varies by more than 2x on a busy machine; an
#    intake that waited on the registry would take seconds). Nothing may be
#    lost, and when the registry is back the enquiries stored without a
#    map are matched (their pending flag cleared).
REGISTRY_DOWN_FLOOR_MS=50
nothing_pending() { [[ $(sql -c "SELECT count(*) FROM intake.enquiry WHERE partner_pending") == 0 ]]; }
case_registry_down() {
  local n=$(((N + 2) / 3))
  case_begin registry-down \
    "$n enquiries with the registry up, $n with it stopped and dp-intake restarted; ack p99 within 2x"
  start_services registry notify intake
  # The first load measures an intake that has its map.
  wait_until 30 "dp-intake to load the partner map" \
    grep -q 'partner domains loaded' "$CASE_DIR/intake.log" ||
    fail "dp-intake did not load the partner map with the registry up"
  start_load "$n" 3 "$RATE" "$LOAD_DEADLINE_S" 1 up-
  finish_load "$n" up-
  local up_p99 down_p99
  up_p99=$(max_field p99_ack_ms "$CASE_DIR"/submit-up-*.out)
  stop_pid "${SERVICE_PID[registry]}" registry 5
  stop_pid "${SERVICE_PID[intake]}" intake 5
  say "registry stopped; dp-intake started again without it"
  start_services intake
  start_load "$n" 3 "$RATE" "$LOAD_DEADLINE_S" $((n + 1)) down-
  finish_load "$n" down-
  down_p99=$(max_field p99_ack_ms "$CASE_DIR"/submit-down-*.out)
  count up_p99_ack_ms "$up_p99"
  count down_p99_ack_ms "$down_p99"
  local limit
  limit=$(awk -v up="$up_p99" -v floor="$REGISTRY_DOWN_FLOOR_MS" \
    'BEGIN { b = up > floor ? up : floor; printf "%.1f", 2 * b }')
  awk -v down="$down_p99" -v limit="$limit" 'BEGIN { exit !(down <= limit) }' ||
    fail "ack p99 with the registry stopped is $down_p99 ms, more than $limit ms (2x $up_p99 ms, floor $REGISTRY_DOWN_FLOOR_MS ms)"
  local pending
  pending=$(sql -c "SELECT count(*) FROM intake.enquiry WHERE partner_pending")
  count stored_without_map "$pending"
  expect "enquiries stored without a partner map" "$pending" "$n"
  check_enquiries $((2 * n))
  check_events $((2 * n))
  # The registry back: the partner actor brings a map and clears the flags.
  start_services registry
  wait_until 30 "the pending enquiries to be matched" nothing_pending ||
    fail "enquiries stored without a map still pending 30 s after the registry came back"
  case_end
}
