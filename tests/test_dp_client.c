/* dp_client against a stub ROUTER (test_wire.h) that answers as each test
   says: a timeout per attempt and UNAVAILABLE when nothing comes; the Lazy
   Pirate resend on a fresh connection with the same request id when the
   first request is dropped; replies to other requests and unreadable
   replies skipped; error statuses and undecodable bodies reported; replies
   over the size limit never taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_client.h"
#include "test_support.h"
#include "test_wire.h"

typedef enum {
    ANSWER,          /* every request, with a HealthReply "stub" */
    SILENT,          /* none */
    DROP_FIRST,      /* every request but the first */
    STRAYS_FIRST,    /* a reply to another id and a malformed one, then the answer */
    REFUSE,          /* NOT_FOUND naming "partner" */
    BAD_BODY,        /* OK with a body that does not decode */
    LARGE,           /* OK with a 2 MiB body */
    LARGE_AFTER_DROP /* the first request dropped, then as LARGE */
} mode_t_;

static atomic_int s_mode;
static ts_stub_t *s_stub;

static zmsg_t *s_health_reply(const char *request_id, const char *service)
{
    Dp__HealthReply health = DP__HEALTH_REPLY__INIT;
    health.service = (char *)service;
    return ts_stub_reply(request_id, DP__CODE__CODE_OK, NULL, &health.base);
}

/* Appends a message unless it could not be made (the request is then dropped). */
static void s_add(zlist_t *replies, zmsg_t *reply)
{
    if (reply)
        zlist_append(replies, reply);
}

static void s_answer(void *state, const Dp__Request *request, size_t seen, zlist_t *replies)
{
    switch ((mode_t_)atomic_load(&s_mode)) {
    case ANSWER:
        s_add(replies, s_health_reply(request->request_id, "stub"));
        break;
    case SILENT:
        break;
    case DROP_FIRST:
        if (seen > 0)
            s_add(replies, s_health_reply(request->request_id, "stub"));
        break;
    case STRAYS_FIRST: {
        /* Sent before the answer, on the same connection: the client must
           skip both. */
        s_add(replies, s_health_reply("someone-else", "stray"));
        zmsg_t *malformed = zmsg_new();
        zmsg_addstr(malformed, "-");
        zmsg_addstr(malformed, "three frames are");
        zmsg_addstr(malformed, "not a reply");
        s_add(replies, malformed);
        s_add(replies, s_health_reply(request->request_id, "stub"));
        break;
    }
    case REFUSE:
        s_add(replies,
              ts_stub_reply(request->request_id, DP__CODE__CODE_NOT_FOUND, "partner", NULL));
        break;
    case BAD_BODY: {
        static const unsigned char garbage[] = {0x0a, 0x7f, 'a'};
        s_add(replies,
              ts_stub_reply_raw(request->request_id, "dp.HealthReply", garbage, sizeof garbage));
        break;
    }
    case LARGE_AFTER_DROP:
        if (seen == 0)
            break;
        /* fall through */
    case LARGE: {
        size_t size = 2 << 20;
        char *service = malloc(size + 1);
        if (!service)
            break;
        memset(service, 's', size);
        service[size] = 0;
        s_add(replies, s_health_reply(request->request_id, service));
        free(service);
        break;
    }
    }
}

/* A fresh stub per test, so that its log and its count start at zero. */
static int s_setup(void **state)
{
    s_stub = ts_stub_new(s_answer, NULL);
    return 0;
}

static int s_teardown(void **state)
{
    ts_stub_destroy(&s_stub);
    return 0;
}

/* Health through the client; returns dp_client_call's result. */
static int s_call(dp_client_t *client, Dp__HealthReply **reply, dp_status_t *status)
{
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    *reply = NULL;
    return dp_client_call(client, &health.base, &dp__health_reply__descriptor,
                          (ProtobufCMessage **)reply, status);
}

/* Health through a new client (timeout_ms per attempt, attempts) against
   the stub answering in mode; returns dp_client_call's result. */
static int s_call_once(mode_t_ mode, int timeout_ms, int attempts, Dp__HealthReply **reply,
                       dp_status_t *status)
{
    atomic_store(&s_mode, mode);
    dp_client_t *client = dp_client_new(ts_stub_endpoint(s_stub), timeout_ms, attempts);
    assert_non_null(client);
    int result = s_call(client, reply, status);
    dp_client_destroy(&client);
    return result;
}

/* Every request the stub took carried the same id; the peers are counted
   (distinct routing ids: distinct connections). */
static size_t s_assert_one_id(size_t expected_requests)
{
    assert_int_equal(ts_stub_count(s_stub), expected_requests);
    char *first_id = NULL;
    char *peers[8] = {NULL};
    size_t distinct = 0;
    for (size_t i = 0; i < expected_requests; i++) {
        char *id, *type, *peer;
        assert_true(ts_stub_request(s_stub, i, &id, &type, &peer));
        assert_string_equal(type, "dp.HealthRequest");
        if (!first_id)
            first_id = strdup(id);
        else
            assert_string_equal(id, first_id);
        bool known = false;
        for (size_t p = 0; p < distinct; p++)
            known = known || strcmp(peers[p], peer) == 0;
        if (!known && distinct < 8)
            peers[distinct++] = strdup(peer);
        free(id);
        free(type);
        free(peer);
    }
    for (size_t p = 0; p < distinct; p++)
        free(peers[p]);
    free(first_id);
    return distinct;
}

static void test_answer_is_decoded(void **state)
{
    atomic_store(&s_mode, ANSWER);
    dp_client_t *client = dp_client_new(ts_stub_endpoint(s_stub), 2000, 1);
    assert_non_null(client);
    Dp__HealthReply *reply;
    dp_status_t status;
    assert_int_equal(s_call(client, &reply, &status), 0);
    ts_assert_ok(&status);
    assert_non_null(reply);
    assert_string_equal(reply->service, "stub");
    ts_free(&reply);
    /* Each call has an id of its own. */
    assert_int_equal(s_call(client, &reply, &status), 0);
    ts_free(&reply);
    char *first, *second, *type, *peer;
    assert_true(ts_stub_request(s_stub, 0, &first, &type, &peer));
    free(type);
    free(peer);
    assert_true(ts_stub_request(s_stub, 1, &second, &type, &peer));
    free(type);
    free(peer);
    assert_string_not_equal(first, second);
    free(first);
    free(second);
    dp_client_destroy(&client);
}

/* No answer: each attempt waits its timeout, then UNAVAILABLE; every
   attempt is the same request on a fresh connection. */
static void test_silence_times_out_after_every_attempt(void **state)
{
    atomic_store(&s_mode, SILENT);
    enum { TIMEOUT_MS = 200, ATTEMPTS = 3 };
    dp_client_t *client = dp_client_new(ts_stub_endpoint(s_stub), TIMEOUT_MS, ATTEMPTS);
    assert_non_null(client);
    Dp__HealthReply *reply;
    dp_status_t status;
    int64_t started = zclock_mono();
    assert_int_equal(s_call(client, &reply, &status), -1);
    int64_t took = zclock_mono() - started;
    assert_null(reply);
    assert_int_equal(status.code, DP__CODE__CODE_UNAVAILABLE);
    assert_non_null(strstr(status.message, "3 attempts"));
    if (took < TIMEOUT_MS * ATTEMPTS || took > TIMEOUT_MS * ATTEMPTS + 2000)
        fail_msg("3 attempts of %d ms took %lld ms", TIMEOUT_MS, (long long)took);
    assert_int_equal(s_assert_one_id(ATTEMPTS), ATTEMPTS);
    dp_client_destroy(&client);
}

/* Lazy Pirate: the first request is dropped; the second attempt, on a new
   connection with the same request id, gets the answer. */
static void test_dropped_request_is_resent_with_the_same_id(void **state)
{
    Dp__HealthReply *reply;
    dp_status_t status;
    assert_int_equal(s_call_once(DROP_FIRST, 300, 3, &reply, &status), 0);
    ts_assert_ok(&status);
    assert_string_equal(reply->service, "stub");
    ts_free(&reply);
    assert_int_equal(s_assert_one_id(2), 2);
}

/* One attempt only: a dropped request is not sent again. */
static void test_one_attempt_is_not_resent(void **state)
{
    Dp__HealthReply *reply;
    dp_status_t status;
    assert_int_equal(s_call_once(DROP_FIRST, 300, 1, &reply, &status), -1);
    assert_int_equal(status.code, DP__CODE__CODE_UNAVAILABLE);
    assert_int_equal(ts_stub_count(s_stub), 1);
}

static void test_replies_to_other_requests_are_skipped(void **state)
{
    Dp__HealthReply *reply;
    dp_status_t status;
    assert_int_equal(s_call_once(STRAYS_FIRST, 2000, 1, &reply, &status), 0);
    ts_assert_ok(&status);
    assert_string_equal(reply->service, "stub");
    ts_free(&reply);
}

static void test_error_status_is_the_servers_verdict(void **state)
{
    Dp__HealthReply *reply;
    dp_status_t status;
    /* An answer, not a failure: no resend. */
    assert_int_equal(s_call_once(REFUSE, 2000, 3, &reply, &status), 0);
    assert_null(reply);
    assert_int_equal(status.code, DP__CODE__CODE_NOT_FOUND);
    assert_string_equal(status.field, "partner");
    assert_string_equal(status.message, "refused by the stub");
    assert_int_equal(ts_stub_count(s_stub), 1);
}

static void test_body_that_does_not_decode_is_internal(void **state)
{
    Dp__HealthReply *reply;
    dp_status_t status;
    assert_int_equal(s_call_once(BAD_BODY, 2000, 1, &reply, &status), 0);
    assert_null(reply);
    assert_int_equal(status.code, DP__CODE__CODE_INTERNAL);
}

/* Under the default limit (64 MiB) a large reply comes; over the client's
   limit it is never taken (ZeroMQ drops the connection) and the call
   times out. */
static void test_large_reply_under_the_limit_is_taken(void **state)
{
    Dp__HealthReply *reply;
    dp_status_t status;
    assert_int_equal(s_call_once(LARGE, 500, 1, &reply, &status), 0);
    ts_assert_ok(&status);
    assert_int_equal(strlen(reply->service), 2 << 20);
    ts_free(&reply);
}

/* A client with a 1 MiB reply limit, `attempts` sends, against the stub in
   `mode`: the large reply is never taken, the call ends UNAVAILABLE after
   the stub has seen `seen` requests. */
static void s_expect_over_the_limit(mode_t_ mode, int attempts, size_t seen)
{
    Dp__HealthReply *reply;
    dp_status_t status;
    atomic_store(&s_mode, mode);
    dp_client_t *client = dp_client_new(ts_stub_endpoint(s_stub), 500, attempts);
    assert_non_null(client);
    dp_client_set_max_reply_bytes(client, 1 << 20);
    assert_int_equal(s_call(client, &reply, &status), -1);
    assert_null(reply);
    assert_int_equal(status.code, DP__CODE__CODE_UNAVAILABLE);
    assert_int_equal(ts_stub_count(s_stub), seen);
    dp_client_destroy(&client);
}

static void test_reply_over_the_limit_is_not_taken(void **state)
{
    /* The limit holds on the fresh connection of a resend too: the stub
       answered the second attempt. */
    s_expect_over_the_limit(LARGE_AFTER_DROP, 2, 2);
}

static void test_reply_over_the_limit_is_refused_from_the_first_attempt(void **state)
{
    /* ZeroMQ reads ZMQ_MAXMSGSIZE when it connects: setting the limit gives
       the client a fresh connection that has it. */
    s_expect_over_the_limit(LARGE, 1, 1);
}

static void test_endpoints_that_do_not_parse_give_no_client(void **state)
{
    assert_null(dp_client_new("", 100, 1));
    assert_null(dp_client_new("not-an-endpoint", 100, 1));
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    assert_int_equal(dp_client_connect_all(dealer, "tcp://127.0.0.1:1, ,bad,tcp://127.0.0.1:2"), 2);
    zsock_destroy(&dealer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answer_is_decoded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_silence_times_out_after_every_attempt, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_dropped_request_is_resent_with_the_same_id, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_one_attempt_is_not_resent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replies_to_other_requests_are_skipped, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_error_status_is_the_servers_verdict, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_body_that_does_not_decode_is_internal, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_large_reply_under_the_limit_is_taken, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_reply_over_the_limit_is_not_taken, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_reply_over_the_limit_is_refused_from_the_first_attempt,
                                        s_setup, s_teardown),
        cmocka_unit_test(test_endpoints_that_do_not_parse_give_no_client),
    };
    return cmocka_run_group_tests_name("dp_client", tests, NULL, NULL);
}
