/* dpctl events tail: the live events as they happen, in seq order and
   without gaps (the follower of dp_events.h repairs a gap by replay), until
   SIGINT or SIGTERM or --count events. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dp_events.h"
#include "dpctl_events.h"
#include "dpctl_output.h"

/* How long one wait for an event lasts; a signal ends it sooner. */
enum { S_WAIT_MS = 1000 };

static const dpctl_option_t s_options[] = {
    {"from", DPCTL_NUMBER, "SEQ", "first replay the stored events from SEQ on (1: all of them)"},
    {"topic", DPCTL_TEXT, "PREFIX", "only events whose type starts with PREFIX, e.g. partner."},
    {"count", DPCTL_NUMBER, "N", "stop after N events"},
    {NULL}};

static const dpctl_spec_t s_spec = {
    "events tail",
    "",
    "Print each event as it happens, one line each: seq, time, type, aggregate and the payload "
    "decoded (with --json one JSON object a line). Runs until Ctrl-C (SIGINT), SIGTERM or "
    "--count events; a missed event is fetched by replay, so none is skipped.",
    0,
    0,
    s_options};

/* The signal that asked us to stop, or 0. */
static volatile sig_atomic_t s_stop;

static void s_on_signal(int signal_number)
{
    s_stop = signal_number;
}

/* Without SA_RESTART, so that the wait for the next event ends at once. */
static void s_catch_signals(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

static int s_print(const dpctl_t *self, const Dp__Event *event)
{
    if (self->json) {
        json_t *object = dpctl_event_json(event);
        return dpctl_json_print_line(&object);
    }
    dpctl_event_print(stdout, event, NULL);
    return fflush(stdout) == 0 ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
}

/* Prints events until a signal, the count, or a failure to write. */
static int s_follow(dpctl_t *self, dp_follower_t *follower, uint64_t count)
{
    uint64_t seen = 0;
    int outcome = DPCTL_EXIT_OK;
    while (outcome == DPCTL_EXIT_OK && !s_stop && (count == 0 || seen < count)) {
        Dp__Event *event = dp_follower_next(follower, S_WAIT_MS);
        if (!event)
            continue;
        outcome = s_print(self, event);
        seen++;
        dp_message_free((ProtobufCMessage **)&event);
    }
    fprintf(stderr, "dpctl: %" PRIu64 " event%s (%" PRIu64 " fetched by replay)%s\n", seen,
            seen == 1 ? "" : "s", dp_follower_repaired(follower),
            s_stop ? (s_stop == SIGINT ? "; stopped by SIGINT" : "; stopped by SIGTERM") : "");
    return outcome;
}

static int s_tail(dpctl_t *self, const dpctl_args_t *args)
{
    /* Ask for a replay first (the follower repairs gaps by replay), so that
       a service that is down, or refuses our keys or our role, is reported
       now rather than met with silence. */
    Dp__ReplayEventsRequest probe = DP__REPLAY_EVENTS_REQUEST__INIT;
    probe.topic_prefix = (char *)dpctl_args_text(args, "topic", "");
    probe.limit = 1;
    ProtobufCMessage *reply = NULL;
    int outcome =
        dpctl_call(self, DPCTL_NOTIFY, &probe.base, &dp__replay_events_reply__descriptor, &reply);
    dp_message_free(&reply);
    if (outcome != DPCTL_EXIT_OK)
        return outcome;
    dp_client_keys_t keys;
    dp_status_t status;
    int curve = dpctl_service_keys(self, DPCTL_NOTIFY, &keys, &status);
    if (curve < 0) {
        dpctl_report_status(&status);
        return DPCTL_EXIT_FAILURE;
    }
    const char *pub = dp_config_get(self->config, "DP_NOTIFY_PUB_ENDPOINT");
    s_catch_signals();
    dp_follower_t *follower = dp_follower_new_with_keys(
        pub, dpctl_service_endpoints(self, DPCTL_NOTIFY), dpctl_args_text(args, "topic", ""),
        (uint64_t)dpctl_args_number(args, "from", 0), curve == 1 ? &keys : NULL);
    dp_client_keys_free(&keys);
    if (!follower) {
        fprintf(stderr, "dpctl: cannot subscribe to DP_NOTIFY_PUB_ENDPOINT '%s'\n", pub);
        return DPCTL_EXIT_FAILURE;
    }
    outcome = s_follow(self, follower, (uint64_t)dpctl_args_number(args, "count", 0));
    dp_follower_destroy(&follower);
    return outcome;
}

static int s_events_tail(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    if (dpctl_args_has(args, "count") && dpctl_args_number(args, "count", 0) == 0)
        outcome = dpctl_args_error(args, "--count must be at least 1");
    else
        outcome = s_tail(self, args);
    return outcome;
}

int dpctl_events_tail_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_spec, argc, argv, s_events_tail);
}
