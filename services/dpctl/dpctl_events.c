/* dpctl events: the group's table, one event for people and programs, and
   replay. */
#include "dpctl_events.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dp_events.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

static const dpctl_command_t s_commands[] = {
    {"tail", "print events as they happen, until Ctrl-C", dpctl_events_tail_run},
    {"replay", "print the events stored from a seq on", dpctl_events_replay_run},
    {"consumers", "list the durable consumers and how far behind they are",
     dpctl_events_consumers_run},
    {"consumer", "add or remove a durable consumer", dpctl_events_consumer_run},
    {"fetch", "fetch events for a consumer, as its worker would", dpctl_events_fetch_run},
    {"ack", "acknowledge a consumer's events up to a seq", dpctl_events_ack_run},
    {"parked", "list events parked after too many failed deliveries", dpctl_events_parked_run},
    {"replay-parked", "put parked events back for delivery", dpctl_events_replay_parked_run},
};

static const dpctl_group_t s_group = {
    "events",
    "The event sequence of the notifications service ($DP_NOTIFY_ENDPOINT; live events on "
    "$DP_NOTIFY_PUB_ENDPOINT): every change the services make, numbered 1, 2, 3, ... without gaps.",
    s_commands, sizeof s_commands / sizeof s_commands[0]};

int dpctl_events_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}

/* ---- one event ---------------------------------------------------------------- */

/* The payload decoded as its type's message, json_null when it does not
   decode, or NULL when the type is not known (it then stays base64). */
static json_t *s_decoded_payload(const Dp__Event *event)
{
    const ProtobufCMessageDescriptor *type = dp_event_payload_type(event->type);
    if (!type)
        return NULL;
    ProtobufCMessage *payload = dp_message_decode(type, event->payload.data, event->payload.len,
                                                  event->payload.len * 4 + 4096);
    json_t *object = payload ? dpctl_json_message(payload) : json_null();
    dp_message_free(&payload);
    return object;
}

json_t *dpctl_event_json(const Dp__Event *event)
{
    json_t *object = dpctl_json_message(&event->base);
    json_t *payload = object ? s_decoded_payload(event) : NULL;
    if (payload)
        json_object_set_new(object, "payload", payload);
    return object;
}

/* "2026-11-28T17:12:49.876211Z" as "2026-11-28T17:12:49.876Z": milliseconds are enough to read. */
static const char *s_time(const char *occurred_at, char *buffer, size_t size)
{
    const char *fraction = strchr(occurred_at, '.');
    size_t digits = fraction ? strspn(fraction + 1, "0123456789") : 0;
    if (!fraction || digits <= 3)
        snprintf(buffer, size, "%s", occurred_at);
    else
        snprintf(buffer, size, "%.*s%s", (int)(fraction - occurred_at + 4), occurred_at,
                 fraction + 1 + digits);
    return buffer;
}

void dpctl_event_print(FILE *out, const Dp__Event *event, const char *note)
{
    json_t *object = dpctl_event_json(event);
    json_t *payload = object ? json_object_get(object, "payload") : NULL;
    char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char aggregate[200], stamp[64];
    snprintf(aggregate, sizeof aggregate, "%s/%s", event->aggregate_type, event->aggregate_id);
    fprintf(out, "%8" PRIu64 "  %-24s  %-24s  %-20s%s%s  %s\n", event->seq,
            s_time(event->occurred_at, stamp, sizeof stamp), event->type, aggregate,
            note ? "  " : "", note ? note : "", text ? text : "null");
    free(text);
    json_decref(object);
}

int dpctl_events_uint32(const dpctl_args_t *args, const char *name, uint32_t fallback,
                        uint32_t *value)
{
    long long number = dpctl_args_number(args, name, fallback);
    if (number > UINT32_MAX)
        return dpctl_args_error(args, "--%s must be at most %" PRIu32 ", not %lld", name,
                                UINT32_MAX, number);
    *value = (uint32_t)number;
    return 0;
}

int dpctl_events_number(const dpctl_args_t *args, size_t index, const char *what, uint64_t *value)
{
    const char *text = dpctl_args_operand(args, index);
    if (!text || !dpctl_is_number(text))
        return dpctl_args_error(args, "%s must be a whole number, not '%s'", what,
                                text ? text : "");
    *value = strtoull(text, NULL, 10);
    return 0;
}

int dpctl_events_missing(const char *what)
{
    fprintf(stderr, "dpctl: the notifications service's reply holds no %s\n", what);
    return DPCTL_EXIT_FAILURE;
}

/* ---- replay ------------------------------------------------------------------- */

static const dpctl_option_t s_replay_options[] = {
    {"from", DPCTL_NUMBER, "SEQ", "the first seq wanted (1: from the start)", .required = true},
    {"topic", DPCTL_TEXT, "PREFIX", "only events whose type starts with PREFIX, e.g. partner."},
    {"limit", DPCTL_NUMBER, "M", "events a page, 1..1000 (default 100)"},
    {"all", DPCTL_FLAG, NULL, "follow every page up to the latest event"},
    {NULL}};

static const dpctl_spec_t s_replay_spec = {
    "events replay",
    "",
    "Print the stored events from seq SEQ on, one line each (with --json an array of events, "
    "payloads decoded). One page, or every page up to the latest event with --all.",
    0,
    0,
    s_replay_options};

/* Events on their way out, with where the replay got to. */
typedef struct {
    json_t *array;   /* --json output, or NULL */
    size_t count;    /* events printed or collected */
    uint64_t latest; /* the newest seq when the replay began */
} s_replay_t;

static int s_replay_page(s_replay_t *replay, const Dp__ReplayEventsReply *reply)
{
    for (size_t i = 0; i < reply->n_events; i++, replay->count++) {
        if (!replay->array)
            dpctl_event_print(stdout, reply->events[i], NULL);
        else if (json_array_append_new(replay->array, dpctl_event_json(reply->events[i])) != 0)
            return DPCTL_EXIT_FAILURE;
    }
    return DPCTL_EXIT_OK;
}

/* Asks for pages from request->from_seq on; one, or all up to the latest. */
static int s_replay(dpctl_t *self, Dp__ReplayEventsRequest *request, bool all, s_replay_t *replay)
{
    int outcome = DPCTL_EXIT_OK;
    for (bool first = true, more = true; outcome == DPCTL_EXIT_OK && more; first = false) {
        Dp__ReplayEventsReply *reply = NULL;
        outcome = dpctl_call(self, DPCTL_NOTIFY, &request->base,
                             &dp__replay_events_reply__descriptor, (ProtobufCMessage **)&reply);
        if (outcome != DPCTL_EXIT_OK)
            break;
        if (first)
            replay->latest = reply->latest_seq;
        outcome = s_replay_page(replay, reply);
        /* The sequence grows while we read: stop at the latest seen first. */
        more = reply->next_seq > request->from_seq && reply->next_seq <= replay->latest;
        if (more && !all)
            fprintf(stderr, "dpctl: more follow; continue with --from %" PRIu64 "\n",
                    reply->next_seq);
        more = more && all;
        request->from_seq = reply->next_seq;
        dp_message_free((ProtobufCMessage **)&reply);
    }
    return outcome;
}

static int s_events_replay(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__ReplayEventsRequest request = DP__REPLAY_EVENTS_REQUEST__INIT;
    request.from_seq = (uint64_t)dpctl_args_number(args, "from", 1);
    request.topic_prefix = (char *)dpctl_args_text(args, "topic", "");
    outcome = dpctl_events_uint32(args, "limit", 0, &request.limit);
    s_replay_t replay = {.array = self->json ? json_array() : NULL};
    if (outcome == DPCTL_EXIT_OK && self->json && !replay.array)
        outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_replay(self, &request, dpctl_args_has(args, "all"), &replay);
    if (outcome == DPCTL_EXIT_OK && self->json)
        outcome = dpctl_json_print(&replay.array);
    else if (outcome == DPCTL_EXIT_OK)
        printf("\n%zu event%s; the latest seq is %" PRIu64 "\n", replay.count,
               replay.count == 1 ? "" : "s", replay.latest);
    json_decref(replay.array);
    return outcome;
}

int dpctl_events_replay_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_replay_spec, argc, argv, s_events_replay);
}
