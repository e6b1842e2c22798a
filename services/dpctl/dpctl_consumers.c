/* dpctl events consumers, consumer add|remove, fetch and ack: durable
   consumers, named cursors that the notifications service keeps in
   PostgreSQL. fetch and ack are what a consumer's worker does; here they
   let an operator try a consumer by hand. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dpctl_events.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

/* ---- one consumer ------------------------------------------------------------ */

static const char *s_prefix(const char *prefix)
{
    return *prefix ? prefix : "(all)";
}

static void s_print_consumer(const Dp__Consumer *consumer)
{
    dpctl_print_field("name:", consumer->name);
    dpctl_print_field("topic:", s_prefix(consumer->topic_prefix));
    dpctl_print_fieldf("acked:", "%" PRIu64, consumer->acked_seq);
    dpctl_print_fieldf("delivered:", "%" PRIu64, consumer->delivered_seq);
    dpctl_print_fieldf("latest:", "%" PRIu64, consumer->latest_seq);
    dpctl_print_fieldf("lag:", "%" PRIu64, consumer->lag);
    dpctl_print_fieldf("in flight:", "%" PRIu32, consumer->in_flight);
    dpctl_print_fieldf("parked:", "%" PRIu32, consumer->parked);
    dpctl_print_fieldf("ack timeout:", "%" PRIu32 " ms", consumer->ack_timeout_ms);
    dpctl_print_fieldf("attempts:", "%" PRIu32 " before an event is parked",
                       consumer->max_attempts);
    dpctl_print_field("created:", consumer->created_at);
    /* Only that key (and staff) may fetch, ack, replay or delete it. */
    dpctl_print_field("owner:", *consumer->owner ? consumer->owner : "(none: staff only)");
}

/* Prints the consumer a reply holds; returns an exit code. */
static int s_show(const dpctl_t *self, const Dp__Consumer *consumer)
{
    if (!consumer)
        return dpctl_events_missing("consumer");
    if (self->json)
        return dpctl_json_print_message(&consumer->base);
    s_print_consumer(consumer);
    return DPCTL_EXIT_OK;
}

/* ---- consumers (list) ----------------------------------------------------------- */

static const dpctl_spec_t s_list_spec = {
    "events consumers",
    "",
    "List the durable consumers: how far each has acknowledged, what it holds in flight or "
    "parked, and its lag behind the latest event.",
    0,
    0,
    NULL};

static int s_add_row(dpctl_listing_t *listing, const ProtobufCMessage *item)
{
    const Dp__Consumer *consumer = (const Dp__Consumer *)item;
    char numbers[8][32];
    snprintf(numbers[0], sizeof numbers[0], "%" PRIu64, consumer->acked_seq);
    snprintf(numbers[1], sizeof numbers[1], "%" PRIu64, consumer->delivered_seq);
    snprintf(numbers[2], sizeof numbers[2], "%" PRIu64, consumer->latest_seq);
    snprintf(numbers[3], sizeof numbers[3], "%" PRIu64, consumer->lag);
    snprintf(numbers[4], sizeof numbers[4], "%" PRIu32, consumer->in_flight);
    snprintf(numbers[5], sizeof numbers[5], "%" PRIu32, consumer->parked);
    snprintf(numbers[6], sizeof numbers[6], "%" PRIu32, consumer->ack_timeout_ms);
    snprintf(numbers[7], sizeof numbers[7], "%" PRIu32, consumer->max_attempts);
    const char *cells[] = {consumer->name, s_prefix(consumer->topic_prefix),
                           numbers[0],     numbers[1],
                           numbers[2],     numbers[3],
                           numbers[4],     numbers[5],
                           numbers[6],     numbers[7]};
    return dpctl_listing_add(listing, &consumer->base, cells);
}

static int s_list(dpctl_t *self, dpctl_args_t *args)
{
    static const char *const headers[] = {"NAME", "TOPIC",     "ACKED",  "DELIVERED",  "LATEST",
                                          "LAG",  "IN FLIGHT", "PARKED", "TIMEOUT MS", "ATTEMPTS"};
    static const dpctl_list_view_t view = {headers, 10, s_add_row, true, "consumer"};
    Dp__ListConsumersRequest request = DP__LIST_CONSUMERS_REQUEST__INIT;
    return dpctl_call_list(self, DPCTL_NOTIFY, &request.base, &dp__list_consumers_reply__descriptor,
                           &view);
}

int dpctl_events_consumers_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_list_spec, argc, argv, s_list);
}

/* ---- consumer add | remove ------------------------------------------------------ */

static const dpctl_option_t s_add_options[] = {
    {"topic", DPCTL_TEXT, "PREFIX", "only events whose type starts with PREFIX (default: all)"},
    {"from", DPCTL_NUMBER, "SEQ", "start at SEQ (1: from the start; default: the next event)"},
    {"ack-timeout-ms", DPCTL_NUMBER, "N",
     "deliver again when not acknowledged within N ms (default: the service's, 30000)"},
    {"max-attempts", DPCTL_NUMBER, "N",
     "park an event after N deliveries (default: the service's, 5)"},
    {NULL}};

static const dpctl_spec_t s_add_spec = {
    "events consumer add",
    "NAME",
    "Add a durable consumer NAME (a slug): a cursor through the events that its workers read "
    "with fetch and move on with ack.",
    1,
    1,
    s_add_options};

static int s_add(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__CreateConsumerRequest request = DP__CREATE_CONSUMER_REQUEST__INIT;
    request.name = (char *)dpctl_args_operand(args, 0);
    request.topic_prefix = (char *)dpctl_args_text(args, "topic", "");
    request.start_seq = (uint64_t)dpctl_args_number(args, "from", 0);
    outcome = dpctl_events_uint32(args, "ack-timeout-ms", 0, &request.ack_timeout_ms);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_events_uint32(args, "max-attempts", 0, &request.max_attempts);
    Dp__CreateConsumerReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_NOTIFY, &request.base,
                             &dp__create_consumer_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_show(self, reply->consumer);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

static int s_add_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_add_spec, argc, argv, s_add);
}

static const dpctl_spec_t s_remove_spec = {
    "events consumer remove",
    "NAME",
    "Remove a durable consumer, with its cursor and its parked events.",
    1,
    1,
    NULL};

static int s_remove(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__DeleteConsumerRequest request = DP__DELETE_CONSUMER_REQUEST__INIT;
    request.name = (char *)dpctl_args_operand(args, 0);
    ProtobufCMessage *reply = NULL;
    outcome = dpctl_call(self, DPCTL_NOTIFY, &request.base, &dp__delete_consumer_reply__descriptor,
                         &reply);
    dp_message_free(&reply);
    if (outcome == DPCTL_EXIT_OK && self->json) {
        json_t *document = json_pack("{s:s, s:b}", "name", request.name, "removed", 1);
        outcome = dpctl_json_print(&document);
    } else if (outcome == DPCTL_EXIT_OK)
        printf("removed consumer %s\n", request.name);
    return outcome;
}

static int s_remove_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_remove_spec, argc, argv, s_remove);
}

static const dpctl_command_t s_consumer_commands[] = {
    {"list", "list the consumers, as 'dpctl events consumers'", dpctl_events_consumers_run},
    {"add", "add a consumer: NAME", s_add_run},
    {"remove", "remove a consumer: NAME", s_remove_run},
};

static const dpctl_group_t s_consumer_group = {
    "events consumer",
    "Durable consumers: named cursors through the events, kept by the notifications service.",
    s_consumer_commands, sizeof s_consumer_commands / sizeof s_consumer_commands[0], "list"};

int dpctl_events_consumer_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_consumer_group, argc, argv);
}

/* ---- fetch ------------------------------------------------------------------------ */

static const dpctl_option_t s_fetch_options[] = {
    {"max", DPCTL_NUMBER, "N", "events at most, 1..1000 (default 100)"}, {NULL}};

static const dpctl_spec_t s_fetch_spec = {
    "events fetch",
    "CONSUMER",
    "Fetch the consumer's next events, as its worker would: they count as delivered (attempt "
    "1, 2, ...) and come again after the ack timeout unless acknowledged with "
    "'dpctl events ack'.",
    1,
    1,
    s_fetch_options};

static int s_print_deliveries(const dpctl_t *self, const char *consumer,
                              const Dp__FetchEventsReply *reply)
{
    for (size_t i = 0; i < reply->n_deliveries; i++)
        if (!reply->deliveries[i]->event)
            return dpctl_events_missing("event");
    json_t *array = self->json ? json_array() : NULL;
    for (size_t i = 0; i < reply->n_deliveries; i++) {
        const Dp__Delivery *delivery = reply->deliveries[i];
        char note[32];
        snprintf(note, sizeof note, "attempt %" PRIu32, delivery->attempt);
        if (self->json)
            json_array_append_new(array,
                                  json_pack("{s:I, s:o}", "attempt", (json_int_t)delivery->attempt,
                                            "event", dpctl_event_json(delivery->event)));
        else
            dpctl_event_print(stdout, delivery->event, note);
    }
    if (self->json)
        return dpctl_json_print(&array);
    size_t count = reply->n_deliveries;
    printf("\n%zu deliver%s", count, count == 1 ? "y" : "ies");
    if (count)
        printf("; acknowledge them with: dpctl events ack %s %" PRIu64, consumer,
               reply->deliveries[count - 1]->event->seq);
    printf("\n");
    return DPCTL_EXIT_OK;
}

static int s_events_fetch(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__FetchEventsRequest request = DP__FETCH_EVENTS_REQUEST__INIT;
    request.consumer = (char *)dpctl_args_operand(args, 0);
    outcome = dpctl_events_uint32(args, "max", 0, &request.max);
    Dp__FetchEventsReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_NOTIFY, &request.base, &dp__fetch_events_reply__descriptor,
                             (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_deliveries(self, request.consumer, reply);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

int dpctl_events_fetch_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_fetch_spec, argc, argv, s_events_fetch);
}

/* ---- ack -------------------------------------------------------------------------- */

static const dpctl_spec_t s_ack_spec = {
    "events ack",
    "CONSUMER SEQ",
    "Acknowledge every event delivered to the consumer with a seq up to SEQ; prints the "
    "consumer afterwards.",
    2,
    2,
    NULL};

static int s_events_ack(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__AckEventsRequest request = DP__ACK_EVENTS_REQUEST__INIT;
    request.consumer = (char *)dpctl_args_operand(args, 0);
    outcome = dpctl_events_number(args, 1, "SEQ", &request.up_to_seq);
    Dp__AckEventsReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_NOTIFY, &request.base, &dp__ack_events_reply__descriptor,
                             (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_show(self, reply->consumer);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

int dpctl_events_ack_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_ack_spec, argc, argv, s_events_ack);
}
