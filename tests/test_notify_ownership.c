/* Durable consumers belong to the key that created them (CURVE on, a key
   folder made here): another consumer key gets PERMISSION_DENIED for
   FetchEvents, AckEvents, DeleteConsumer, ReplayParked and ListParked on
   it, and nothing changes in its row or its deliveries; the owner itself
   and a staff key may do all of these. Consumer.owner names the creating
   certificate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify_support.h"
#include "security_support.h"

enum { ANSWER_MS = 10000, RELAY_WAIT_MS = 20000 };

static ts_database_t *database;
static PGconn *admin;
static PGconn *writer;
static tk_keys_t *keys;
static tk_service_t *notify;

static tk_client_t *s_client(const char *name)
{
    return tk_client_new(tk_service_endpoint(notify), keys, TK_NOTIFY,
                         tk_keys_secret_path(keys, name));
}

/* Sends request as `name`; returns the reply (free with ts_free). */
static Dp__Reply *s_send(const char *name, const ProtobufCMessage *request)
{
    tk_client_t *client = s_client(name);
    Dp__Reply *reply = tk_exchange(client, request, ANSWER_MS);
    tk_client_destroy(&client);
    if (!reply)
        fail_msg("%s sending %s: no answer", name, request->descriptor->name);
    return reply;
}

static void s_expect(const char *name, const ProtobufCMessage *request, Dp__Code code)
{
    Dp__Reply *reply = s_send(name, request);
    if (reply->status->code != code)
        fail_msg("%s sending %s: %s (%s), expected %s", name, request->descriptor->name,
                 dp_code_name(reply->status->code), reply->status->message, dp_code_name(code));
    ts_free(&reply);
}

/* The consumer's row and its deliveries, as text. */
static char *s_state(const char *consumer)
{
    const char *params[] = {consumer};
    return ts_query_text(admin,
                         "SELECT (SELECT row(acked_seq, delivered_seq, owner)::text"
                         "   FROM notify.consumer WHERE name = $1) || '/' ||"
                         " (SELECT coalesce(string_agg(row(seq, attempts, parked_at IS NULL)::text,"
                         "   ',' ORDER BY seq), '') FROM notify.delivery WHERE consumer = $1)",
                         1, params);
}

static void test_only_the_owner_and_staff_use_a_consumer(void **state)
{
    (void)state;
    Dp__CreateConsumerRequest create = DP__CREATE_CONSUMER_REQUEST__INIT;
    create.name = "orders";
    create.topic_prefix = "owned.";
    create.start_seq = 1;
    create.ack_timeout_ms = 60000;
    Dp__Reply *reply = s_send("consumer-client", &create.base);
    if (reply->status->code != DP__CODE__CODE_OK)
        fail_msg("CreateConsumer: %s", reply->status->message);
    Dp__CreateConsumerReply *created =
        dp__create_consumer_reply__unpack(NULL, reply->body.len, reply->body.data);
    assert_non_null(created);
    assert_string_equal(created->consumer->owner, "consumer-client");
    dp__create_consumer_reply__free_unpacked(created, NULL);
    ts_free(&reply);

    tn_outbox_insert(writer, "registry", "owned.one", "owned", 1, 3, "x", 1);
    assert_true(tn_wait_seq_of(admin, "owned.one", "owned-3", RELAY_WAIT_MS) > 0);
    Dp__FetchEventsRequest fetch = DP__FETCH_EVENTS_REQUEST__INIT;
    fetch.consumer = "orders";
    fetch.max = 2;
    s_expect("consumer-client", &fetch.base, DP__CODE__CODE_OK);
    char *before = s_state("orders");

    /* Another consumer key: refused everything on it, and nothing moves. */
    Dp__AckEventsRequest ack = DP__ACK_EVENTS_REQUEST__INIT;
    ack.consumer = "orders";
    ack.up_to_seq = 1000;
    Dp__DeleteConsumerRequest remove = DP__DELETE_CONSUMER_REQUEST__INIT;
    remove.name = "orders";
    Dp__ReplayParkedRequest replay = DP__REPLAY_PARKED_REQUEST__INIT;
    replay.consumer = "orders";
    Dp__ListParkedRequest parked = DP__LIST_PARKED_REQUEST__INIT;
    parked.consumer = "orders";
    Dp__ListParkedRequest all_parked = DP__LIST_PARKED_REQUEST__INIT;
    all_parked.consumer = "";
    Dp__ReplayParkedRequest replay_hook = DP__REPLAY_PARKED_REQUEST__INIT;
    replay_hook.consumer = "webhook:1";
    const ProtobufCMessage *requests[] = {&fetch.base,  &ack.base,    &remove.base,
                                          &replay.base, &parked.base, &replay_hook.base};
    for (size_t i = 0; i < sizeof requests / sizeof *requests; i++)
        s_expect("consumer-b", requests[i], DP__CODE__CODE_PERMISSION_DENIED);
    /* Every consumer's parked events are staff's: a consumer must name its own. */
    s_expect("consumer-b", &all_parked.base, DP__CODE__CODE_INVALID_ARGUMENT);
    char *after = s_state("orders");
    assert_string_equal(after, before);
    free(after);
    free(before);

    /* The owner may list and replay its parked events (none) and ack. */
    s_expect("consumer-client", &parked.base, DP__CODE__CODE_OK);
    s_expect("consumer-client", &replay.base, DP__CODE__CODE_OK);
    s_expect("consumer-client", &ack.base, DP__CODE__CODE_OK);
    /* Staff may manage any consumer. */
    s_expect("staff-client", &fetch.base, DP__CODE__CODE_OK);
    s_expect("staff-client", &all_parked.base, DP__CODE__CODE_OK);
    /* Only the owner or staff deletes it. */
    s_expect("consumer-client", &remove.base, DP__CODE__CODE_OK);
    assert_int_equal(
        ts_query_long(admin, "SELECT count(*) FROM notify.consumer WHERE name = 'orders'", 0, NULL),
        0);

    /* Made by B, deleted by staff. */
    create.name = "b-orders";
    s_expect("consumer-b", &create.base, DP__CODE__CODE_OK);
    remove.name = "b-orders";
    s_expect("consumer-client", &remove.base, DP__CODE__CODE_PERMISSION_DENIED);
    s_expect("staff-client", &remove.base, DP__CODE__CODE_OK);
}

int main(void)
{
    tn_open("notify_ownership", &database, &admin, &writer);
    keys = tk_keys_new();
    tk_keys_add_client(keys, "consumer-b", "consumer", true);
    const char *const settings[] = {"DP_CURVE_DIR", tk_keys_dir(keys), "DP_NOTIFY_POLL_MS", "100",
                                    NULL};
    notify = tk_service_start(TK_NOTIFY, ts_database_url(database, TS_ROLE_NOTIFY), settings);
    if (!notify || !tn_wait_relay_active(admin, RELAY_WAIT_MS)) {
        fprintf(stderr, "FATAL: notify did not start with CURVE\n");
        exit(1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_the_owner_and_staff_use_a_consumer),
    };
    int failed = cmocka_run_group_tests_name("notify ownership", tests, NULL, NULL);
    tk_service_stop(&notify);
    tk_keys_destroy(&keys);
    tn_close(&database, &admin, &writer);
    return failed;
}
