/* dp-fault-consume: a durable consumer of the event sequence, as an
   application would run one: fetch (dp.FetchEventsRequest), handle each
   event (here: DP_FAULT_WORK_US of work, as a real handler spends on its
   own I/O, then append "seq attempt" to DP_FAULT_SEQ_FILE and flush, so a
   line is written exactly when its event was handled), then acknowledge
   the batch (dp.AckEventsRequest up to its highest seq). The fault suite
   kills it with SIGKILL and starts it again; every start appends to the
   same file. With DP_FAULT_UNTIL_SEQ set it exits 0 once the consumer's
   acked_seq has reached that seq, printing the consumer's state. */
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "dp_client.h"
#include "dp_config.h"
#include "fault_common.h"
#include "notify.pb-c.h"

static const dp_setting_t s_settings[] = {
    {"DP_FAULT_ENDPOINT", "tcp://127.0.0.1:7603", "the notifications service"},
    {"DP_FAULT_CONSUMER", "faults", "the consumer's name (created when missing, from seq 1)"},
    {"DP_FAULT_ACK_TIMEOUT_MS", "2000", "the consumer's redelivery timeout", true, 10, 86400000},
    {"DP_FAULT_MAX_ATTEMPTS", "1000", "the consumer's deliveries before parking", true, 1, 1000},
    {"DP_FAULT_FETCH_MAX", "100", "events per fetch", true, 1, 1000},
    {"DP_FAULT_SEQ_FILE", "", "appended: 'seq attempt' per event handled (required)"},
    {"DP_FAULT_WORK_US", "0", "time spent handling each event, in microseconds", true, 0, 10000000},
    {"DP_FAULT_UNTIL_SEQ", "0", "exit once acked_seq reaches this (0: run until SIGTERM)", true, 0,
     1000000000000},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

/* One call; 0 with the reply, or -1 (no answer or a refusal, in status). */
static int s_call(dp_client_t *client, const ProtobufCMessage *request,
                  const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply,
                  dp_status_t *status)
{
    if (dp_client_call(client, request, reply_type, reply, status) != 0)
        return -1;
    return status->code == DP__CODE__CODE_OK ? 0 : -1;
}

static void s_print(const Dp__Consumer *consumer, uint64_t handled)
{
    printf("handled=%" PRIu64 " acked_seq=%" PRIu64 " delivered_seq=%" PRIu64 " latest_seq=%" PRIu64
           " in_flight=%u parked=%u\n",
           handled, consumer->acked_seq, consumer->delivered_seq, consumer->latest_seq,
           consumer->in_flight, consumer->parked);
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config =
        fault_config_load("dp-fault-consume", "durable consumer for the fault suite", s_settings,
                          SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    const char *path = dp_config_get(config, "DP_FAULT_SEQ_FILE");
    const char *name = dp_config_get(config, "DP_FAULT_CONSUMER");
    uint64_t until = (uint64_t)dp_config_get_int(config, "DP_FAULT_UNTIL_SEQ");
    long work_us = dp_config_get_int(config, "DP_FAULT_WORK_US");
    FILE *out = *path ? fopen(path, "a") : NULL;
    dp_client_t *client = dp_client_new(dp_config_get(config, "DP_FAULT_ENDPOINT"), 2000, 1);
    if (!out || !client) {
        fprintf(stderr, "dp-fault-consume: cannot append to '%s' or cannot connect\n", path);
        if (out)
            fclose(out);
        dp_client_destroy(&client);
        dp_config_destroy(&config);
        return 2;
    }
    dp_status_t status;
    bool created = false;
    while (!created && !fault_stopping()) {
        Dp__CreateConsumerRequest create = DP__CREATE_CONSUMER_REQUEST__INIT;
        create.name = (char *)name;
        create.topic_prefix = "";
        create.start_seq = 1;
        create.ack_timeout_ms = (uint32_t)dp_config_get_int(config, "DP_FAULT_ACK_TIMEOUT_MS");
        create.max_attempts = (uint32_t)dp_config_get_int(config, "DP_FAULT_MAX_ATTEMPTS");
        ProtobufCMessage *reply = NULL;
        created = s_call(client, &create.base, &dp__create_consumer_reply__descriptor, &reply,
                         &status) == 0 ||
                  status.code == DP__CODE__CODE_ALREADY_EXISTS;
        dp_message_free(&reply);
        if (!created)
            zclock_sleep(200);
    }
    uint64_t handled = 0;
    int exit_status = 1;
    while (!fault_stopping()) {
        Dp__FetchEventsRequest fetch = DP__FETCH_EVENTS_REQUEST__INIT;
        fetch.consumer = (char *)name;
        fetch.max = (uint32_t)dp_config_get_int(config, "DP_FAULT_FETCH_MAX");
        Dp__FetchEventsReply *batch = NULL;
        if (s_call(client, &fetch.base, &dp__fetch_events_reply__descriptor,
                   (ProtobufCMessage **)&batch, &status) != 0) {
            zclock_sleep(100);
            continue;
        }
        uint64_t up_to = 0;
        for (size_t i = 0; i < batch->n_deliveries; i++) {
            const Dp__Delivery *delivery = batch->deliveries[i];
            if (work_us)
                usleep((useconds_t)work_us);
            fprintf(out, "%" PRIu64 " %u\n", delivery->event->seq, delivery->attempt);
            fflush(out);
            handled++;
            if (delivery->event->seq > up_to)
                up_to = delivery->event->seq;
        }
        bool idle = batch->n_deliveries == 0;
        dp_message_free((ProtobufCMessage **)&batch);
        /* An idle consumer acknowledges nothing new (up to 0): the reply
           still tells where the consumer stands. */
        Dp__AckEventsRequest ack = DP__ACK_EVENTS_REQUEST__INIT;
        ack.consumer = (char *)name;
        ack.up_to_seq = up_to;
        Dp__AckEventsReply *acked = NULL;
        while (!fault_stopping() && s_call(client, &ack.base, &dp__ack_events_reply__descriptor,
                                           (ProtobufCMessage **)&acked, &status) != 0)
            zclock_sleep(100);
        bool finished = acked && until && acked->consumer && acked->consumer->acked_seq >= until;
        if (finished) {
            s_print(acked->consumer, handled);
            exit_status = 0;
        }
        dp_message_free((ProtobufCMessage **)&acked);
        if (finished)
            break;
        if (idle)
            zclock_sleep(50);
    }
    if (fclose(out) != 0)
        exit_status = 2;
    dp_client_destroy(&client);
    dp_config_destroy(&config);
    return exit_status;
}
