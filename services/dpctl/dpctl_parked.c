/* dpctl events parked and replay-parked: events that a consumer or a
   webhook failed to take too many times, set aside until an operator puts
   them back. A webhook is named "webhook:ID". */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "dpctl_events.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

enum { S_ERROR_COLUMN = 6, S_ERROR_MIN_WIDTH = 20 };

static const dpctl_option_t s_list_options[] = {
    {"consumer", DPCTL_TEXT, "NAME|webhook:ID", "only the events parked for this consumer"},
    {"limit", DPCTL_NUMBER, "N", "events at most, 1..1000 (default 100)"},
    {NULL}};

static const dpctl_spec_t s_list_spec = {
    "events parked",
    "",
    "List parked events: events a consumer or webhook failed to take max-attempts times. "
    "They stay parked until 'dpctl events replay-parked' puts them back.",
    0,
    0,
    s_list_options};

/* A row for people, or with json the parked event with its payload decoded. */
static int s_add_row(dpctl_listing_t *listing, bool json, const Dp__ParkedEvent *parked)
{
    const Dp__Event *event = parked->event;
    if (!event) {
        dpctl_events_missing("event");
        return -1;
    }
    char seq[32], attempts[32], aggregate[200];
    snprintf(seq, sizeof seq, "%" PRIu64, event->seq);
    snprintf(attempts, sizeof attempts, "%" PRIu32, parked->attempts);
    snprintf(aggregate, sizeof aggregate, "%s/%s", event->aggregate_type, event->aggregate_id);
    const char *cells[] = {parked->consumer,  seq,      event->type,
                           aggregate,         attempts, parked->parked_at,
                           parked->last_error};
    json_t *object = json ? dpctl_json_message(&parked->base) : NULL;
    if (object)
        json_object_set_new(object, "event", dpctl_event_json(event));
    return dpctl_listing_add_object(listing, object, cells);
}

static int s_events_parked(dpctl_t *self, dpctl_args_t *args)
{
    static const char *headers[] = {"CONSUMER", "SEQ",       "TYPE",      "AGGREGATE",
                                    "ATTEMPTS", "PARKED AT", "LAST ERROR"};
    int outcome = DPCTL_EXIT_OK;
    Dp__ListParkedRequest request = DP__LIST_PARKED_REQUEST__INIT;
    request.consumer = (char *)dpctl_args_text(args, "consumer", "");
    outcome = dpctl_events_uint32(args, "limit", 0, &request.limit);
    Dp__ListParkedReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_NOTIFY, &request.base, &dp__list_parked_reply__descriptor,
                             (ProtobufCMessage **)&reply);
    dpctl_listing_t *listing =
        outcome == DPCTL_EXIT_OK ? dpctl_listing_new(self->json, headers, 7) : NULL;
    if (outcome == DPCTL_EXIT_OK && !listing)
        outcome = DPCTL_EXIT_FAILURE;
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < reply->n_parked; i++)
        if (s_add_row(listing, self->json, reply->parked[i]) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK) {
        dpctl_listing_align_numbers(listing);
        dpctl_listing_fit(listing, S_ERROR_COLUMN, dpctl_output_width(), S_ERROR_MIN_WIDTH);
        outcome = dpctl_listing_print(listing);
    }
    if (outcome == DPCTL_EXIT_OK && !self->json)
        printf("\n%zu parked event%s\n", reply->n_parked, reply->n_parked == 1 ? "" : "s");
    dpctl_listing_destroy(&listing);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

int dpctl_events_parked_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_list_spec, argc, argv, s_events_parked);
}

static const dpctl_option_t s_replay_options[] = {
    {"seq", DPCTL_NUMBER, "SEQ", "only the parked event SEQ (default: every one)"}, {NULL}};

static const dpctl_spec_t s_replay_spec = {
    "events replay-parked",
    "NAME|webhook:ID",
    "Put the parked events of a consumer or webhook back for delivery; their attempts start "
    "again from 1.",
    1,
    1,
    s_replay_options};

static int s_events_replay_parked(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__ReplayParkedRequest request = DP__REPLAY_PARKED_REQUEST__INIT;
    request.consumer = (char *)dpctl_args_operand(args, 0);
    request.seq = (uint64_t)dpctl_args_number(args, "seq", 0);
    Dp__ReplayParkedReply *reply = NULL;
    outcome = dpctl_call(self, DPCTL_NOTIFY, &request.base, &dp__replay_parked_reply__descriptor,
                         (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK && self->json) {
        json_t *document = json_pack("{s:s, s:I}", "consumer", request.consumer, "replayed",
                                     (json_int_t)reply->replayed);
        outcome = dpctl_json_print(&document);
    } else if (outcome == DPCTL_EXIT_OK)
        printf("put %" PRIu32 " parked event%s of %s back for delivery\n", reply->replayed,
               reply->replayed == 1 ? "" : "s", request.consumer);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

int dpctl_events_replay_parked_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_replay_spec, argc, argv, s_events_replay_parked);
}
