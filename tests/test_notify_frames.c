/* The notifications service's own part of the door, with a raw DEALER
   (test_wire.h) or a raw TCP socket: its size limit, another service's
   request refused naming notify, garbage on the PUB socket, and numbers
   the database cannot hold refused as arguments; the service keeps
   serving: requests, the PUB socket and the relay. The framing every
   service shares (malformed frames and envelopes, unknown types, NUL,
   garbage on the ROUTER) is test_server_frames.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify_support.h"

static ts_database_t *db;
static PGconn *admin;
static PGconn *writer;
static tn_notify_t *notify;

enum {
    MAX_MESSAGE_BYTES = 65536,
    REPLY_TIMEOUT_MS = 10000,
    NO_REPLY_MS = 1000, /* how long a dropped request is given to (wrongly) get an answer */
    RELAY_WAIT_MS = 20000
};

static zsock_t *s_dealer(void)
{
    return ts_dealer_new(tn_notify_endpoint(notify), REPLY_TIMEOUT_MS);
}

/* A request on the same socket, one from the typed client, a live
   heartbeat and a relayed event: all still work. */
static void s_assert_still_serving(zsock_t *dealer)
{
    Dp__ListConsumersRequest consumers = DP__LIST_CONSUMERS_REQUEST__INIT;
    ts_assert_answered(dealer, &consumers.base, "dp.ListConsumersReply");
    ts_assert_healthy(notify);
}

static void test_well_formed_request_is_answered(void **state)
{
    zsock_t *dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_another_services_request_is_unimplemented(void **state)
{
    zsock_t *dealer = s_dealer();
    Dp__CreatePartnerRequest partner = DP__CREATE_PARTNER_REQUEST__INIT;
    partner.slug = "not-here";
    ts_assert_not_served(dealer, &partner.base, "notify");
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

/* A webhook request whose secret makes it larger than the limit. */
static zmsg_t *s_webhook_request_of(size_t secret_bytes)
{
    char *secret = malloc(secret_bytes + 1);
    assert_non_null(secret);
    memset(secret, 's', secret_bytes);
    secret[secret_bytes] = 0;
    Dp__AddWebhookRequest body = DP__ADD_WEBHOOK_REQUEST__INIT;
    body.url = "https://example.org/too-large";
    body.secret = secret;
    zmsg_t *request = ts_request_message("too-large", &body.base);
    free(secret);
    return request;
}

static void test_request_over_the_size_limit_is_resource_exhausted(void **state)
{
    long long webhooks = ts_query_long(admin, "SELECT count(*) FROM notify.webhook", 0, NULL);
    zsock_t *dealer = s_dealer();
    zmsg_t *request = s_webhook_request_of(100 * 1024);
    assert_true(zmsg_content_size(request) > MAX_MESSAGE_BYTES);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, RESOURCE_EXHAUSTED, NULL);
    ts_free(&reply);
    assert_int_equal(ts_query_long(admin, "SELECT count(*) FROM notify.webhook", 0, NULL),
                     webhooks);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_request_far_over_the_limit_drops_the_connection_only(void **state)
{
    /* Past four times the limit ZeroMQ drops the peer without reading the
       message: no reply, and other clients are served as before. */
    zsock_t *dealer = ts_dealer_new(tn_notify_endpoint(notify), NO_REPLY_MS);
    zmsg_t *request = s_webhook_request_of(5 * MAX_MESSAGE_BYTES);
    assert_int_equal(zmsg_send(&request, dealer), 0);
    zmsg_t *answer = zmsg_recv(dealer);
    assert_null(answer);
    zsock_destroy(&dealer);
    dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

/* Garbage on the ROUTER is test_server_frames.c's; the PUB is notify's own. */
static void test_raw_garbage_on_the_pub_socket_harms_nothing(void **state)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    unsigned char noise[4096];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 37 + 11);
    ts_send_raw_tcp(tn_notify_pub_endpoint(notify), http, sizeof http - 1);
    ts_send_raw_tcp(tn_notify_pub_endpoint(notify), noise, sizeof noise);
    /* A DEALER is not a SUB: the PUB refuses it at the handshake. */
    zsock_t *dealer = ts_dealer_new(tn_notify_pub_endpoint(notify), NO_REPLY_MS);
    Dp__ListConsumersRequest body = DP__LIST_CONSUMERS_REQUEST__INIT;
    zmsg_t *request = ts_request_message("to-the-pub", &body.base);
    zmsg_send(&request, dealer);
    zmsg_t *answer = zmsg_recv(dealer);
    assert_null(answer);
    zsock_destroy(&dealer);

    dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
    /* The PUB still publishes, and the relay still relays. */
    const char *topics[] = {"frames.", NULL};
    zsock_t *sub = tn_subscribe(tn_notify_pub_endpoint(notify), topics);
    tn_outbox_insert(writer, "registry", "frames.after", "after", 1, 1, "a", 1);
    Dp__Event *event = tn_next_event(sub, RELAY_WAIT_MS);
    assert_non_null(event);
    assert_string_equal(event->type, "frames.after");
    ts_free(&event);
    zsock_destroy(&sub);
}

/* Appends to `wrong` unless status is INVALID_ARGUMENT naming field, or the
   other acceptable answer (code, other_field; other_field NULL: none). */
static void s_note_unless(const dp_status_t *status, const char *request, const char *field,
                          Dp__Code other, const char *other_field, char *wrong, size_t size)
{
    if (status->code == DP__CODE__CODE_INVALID_ARGUMENT && strcmp(status->field, field) == 0)
        return;
    if (other_field && status->code == other && strcmp(status->field, other_field) == 0)
        return;
    size_t used = strlen(wrong);
    snprintf(wrong + used, size - used,
             "\n  %s: expected INVALID_ARGUMENT %s%s%s%s%s, got %s '%s': %s", request, field,
             other_field ? " or " : "", other_field ? dp_code_name(other) : "",
             other_field && *other_field ? " " : "", other_field ? other_field : "",
             dp_code_name(status->code), status->field, status->message);
}

/* Numbers a uint64 field can carry but PostgreSQL's bigint cannot are the
   caller's business: refused as an argument naming the field, or answered
   as any seq past the end would be (an empty page, an unknown consumer),
   never a database error. Every case is tried; the failure lists each
   wrong answer. */
static void test_seqs_beyond_bigint_get_an_answer_not_a_database_error(void **state)
{
    long long consumers = ts_query_long(admin, "SELECT count(*) FROM notify.consumer", 0, NULL);
    char wrong[4096] = "";
    dp_status_t status;

    Dp__ReplayEventsRequest replay = DP__REPLAY_EVENTS_REQUEST__INIT;
    replay.topic_prefix = "";
    uint64_t huge[] = {UINT64_MAX, (uint64_t)INT64_MAX - 5}; /* the second: its scan window */
    const char *names[] = {"ReplayEvents from_seq 2^64-1", "ReplayEvents from_seq 2^63-6"};
    for (size_t i = 0; i < 2; i++) {
        replay.from_seq = huge[i];
        Dp__ReplayEventsReply *replayed = tn_replay_events(notify, &replay, &status);
        if (replayed && replayed->n_events)
            fail_msg("%s gave %zu events", names[i], replayed->n_events);
        ts_free(&replayed);
        s_note_unless(&status, names[i], "from_seq", DP__CODE__CODE_OK, "", wrong, sizeof wrong);
    }

    Dp__CreateConsumerRequest create = DP__CREATE_CONSUMER_REQUEST__INIT;
    create.name = "huge-start";
    create.topic_prefix = "";
    create.start_seq = UINT64_MAX;
    Dp__CreateConsumerReply *created = tn_create_consumer(notify, &create, &status);
    ts_free(&created);
    s_note_unless(&status, "CreateConsumer start_seq 2^64-1", "start_seq", DP__CODE__CODE_OK, NULL,
                  wrong, sizeof wrong);

    Dp__AckEventsRequest ack = DP__ACK_EVENTS_REQUEST__INIT;
    ack.consumer = "nobody";
    ack.up_to_seq = UINT64_MAX;
    Dp__AckEventsReply *acked = tn_ack_events(notify, &ack, &status);
    ts_free(&acked);
    s_note_unless(&status, "AckEvents up_to_seq 2^64-1", "up_to_seq", DP__CODE__CODE_NOT_FOUND,
                  "consumer", wrong, sizeof wrong);

    Dp__ReplayParkedRequest parked = DP__REPLAY_PARKED_REQUEST__INIT;
    parked.consumer = "nobody";
    parked.seq = UINT64_MAX;
    Dp__ReplayParkedReply *back = tn_replay_parked(notify, &parked, &status);
    ts_free(&back);
    s_note_unless(&status, "ReplayParked seq 2^64-1", "seq", DP__CODE__CODE_NOT_FOUND, "seq", wrong,
                  sizeof wrong);

    assert_int_equal(ts_query_long(admin, "SELECT count(*) FROM notify.consumer", 0, NULL),
                     consumers);
    zsock_t *dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
    if (*wrong)
        fail_msg("out-of-range seqs end in a database error:%s", wrong);
}

int main(void)
{
    tn_open("notify_frames", &db, &admin, &writer);
    char limit[16];
    snprintf(limit, sizeof limit, "%d", MAX_MESSAGE_BYTES);
    const char *const settings[] = {"DP_MAX_MESSAGE_BYTES", limit, "DP_NOTIFY_POLL_MS", "100",
                                    NULL};
    notify = tn_notify_start(ts_database_url(db, TS_ROLE_NOTIFY), settings);
    if (!notify) {
        fprintf(stderr, "FATAL: the notify service did not start\n");
        exit(1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed_request_is_answered),
        cmocka_unit_test(test_another_services_request_is_unimplemented),
        cmocka_unit_test(test_request_over_the_size_limit_is_resource_exhausted),
        cmocka_unit_test(test_request_far_over_the_limit_drops_the_connection_only),
        cmocka_unit_test(test_raw_garbage_on_the_pub_socket_harms_nothing),
        cmocka_unit_test(test_seqs_beyond_bigint_get_an_answer_not_a_database_error),
    };
    int failed = cmocka_run_group_tests_name("notify frames", tests, NULL, NULL);
    tn_notify_stop(&notify);
    tn_close(&db, &admin, &writer);
    return failed;
}
