/* Durable consumers: create (and its refusals), fetch in batches, ack up to
   a seq, lag; redelivery after the ack timeout and parking after the last
   attempt; parked events listed and replayed; the topic filter; delete;
   unknown consumers. And a fetch that races the relay of another replica
   must not hand out an event twice. */
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
    RELAY_WAIT_MS = 20000,
    DEFAULT_ACK_TIMEOUT_MS = 30000,
    DEFAULT_MAX_ATTEMPTS = 5,
    SHORT_ACK_TIMEOUT_MS = 700, /* for the redelivery test */
    REDELIVERY_WAIT_MS = 15000,
    LOCK_WAIT_MS = 10000
};

/* ---- helpers --------------------------------------------------------------------- */

/* Writes `count` rows of one type (one INSERT each) and waits until they are
   relayed; returns the seq of the first. Only this program writes, so the
   rows get the next seqs. */
static uint64_t s_emit(const char *event_type, int count)
{
    static int serial;
    long long before = tn_event_count(admin);
    for (int i = 0; i < count; i++)
        tn_outbox_insert(writer, "registry", event_type, "consumed", ++serial, 1, "c", 1);
    assert_int_equal(tn_wait_event_count(admin, before + count, RELAY_WAIT_MS), before + count);
    return (uint64_t)before + 1;
}

static void s_create_request(Dp__CreateConsumerRequest *request, const char *name,
                             const char *prefix, uint64_t start_seq, uint32_t ack_timeout_ms,
                             uint32_t max_attempts)
{
    *request = (Dp__CreateConsumerRequest)DP__CREATE_CONSUMER_REQUEST__INIT;
    request->name = (char *)name;
    request->topic_prefix = (char *)prefix;
    request->start_seq = start_seq;
    request->ack_timeout_ms = ack_timeout_ms;
    request->max_attempts = max_attempts;
}

static Dp__Consumer *s_create_at(const char *name, const char *prefix, uint64_t start_seq,
                                 uint32_t ack_timeout_ms, uint32_t max_attempts, const char *file,
                                 int line)
{
    Dp__CreateConsumerRequest request;
    s_create_request(&request, name, prefix, start_seq, ack_timeout_ms, max_attempts);
    dp_status_t status;
    Dp__CreateConsumerReply *reply = tn_create_consumer(notify, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    assert_non_null(reply);
    assert_non_null(reply->consumer);
    Dp__Consumer *consumer = reply->consumer;
    reply->consumer = NULL;
    ts_free(&reply);
    return consumer;
}
#define s_create(name, prefix, start_seq, ack_timeout_ms, max_attempts)                            \
    s_create_at(name, prefix, start_seq, ack_timeout_ms, max_attempts, __FILE__, __LINE__)

static void s_expect_create_refused(const char *name, const char *prefix, uint32_t ack_timeout_ms,
                                    uint32_t max_attempts, Dp__Code code, const char *field)
{
    Dp__CreateConsumerRequest request;
    s_create_request(&request, name, prefix, 0, ack_timeout_ms, max_attempts);
    dp_status_t status;
    Dp__CreateConsumerReply *reply = tn_create_consumer(notify, &request, &status);
    ts_assert_status_at(&status, code, field, __FILE__, __LINE__);
    assert_null(reply);
}

static Dp__FetchEventsReply *s_fetch(const char *consumer, uint32_t max)
{
    Dp__FetchEventsRequest request = DP__FETCH_EVENTS_REQUEST__INIT;
    request.consumer = (char *)consumer;
    request.max = max;
    dp_status_t status;
    Dp__FetchEventsReply *reply = tn_fetch_events(notify, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    return reply;
}

static Dp__Consumer *s_ack(const char *consumer, uint64_t up_to_seq)
{
    Dp__AckEventsRequest request = DP__ACK_EVENTS_REQUEST__INIT;
    request.consumer = (char *)consumer;
    request.up_to_seq = up_to_seq;
    dp_status_t status;
    Dp__AckEventsReply *reply = tn_ack_events(notify, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    assert_non_null(reply->consumer);
    Dp__Consumer *consumer_state = reply->consumer;
    reply->consumer = NULL;
    ts_free(&reply);
    return consumer_state;
}

/* The consumer as ListConsumers shows it (NULL when absent). Free with ts_free. */
static Dp__Consumer *s_listed(const char *name)
{
    Dp__ListConsumersRequest request = DP__LIST_CONSUMERS_REQUEST__INIT;
    dp_status_t status;
    Dp__ListConsumersReply *reply = tn_list_consumers(notify, &request, &status);
    ts_assert_ok(&status);
    Dp__Consumer *found = NULL;
    for (size_t i = 0; i < reply->n_consumers; i++)
        if (strcmp(reply->consumers[i]->name, name) == 0) {
            found = reply->consumers[i];
            reply->consumers[i] = reply->consumers[--reply->n_consumers];
        }
    ts_free(&reply);
    return found;
}

static uint32_t s_replay_parked(const char *consumer, uint64_t seq, Dp__Code expected,
                                const char *field)
{
    Dp__ReplayParkedRequest request = DP__REPLAY_PARKED_REQUEST__INIT;
    request.consumer = (char *)consumer;
    request.seq = seq;
    dp_status_t status;
    Dp__ReplayParkedReply *reply = tn_replay_parked(notify, &request, &status);
    ts_assert_status_at(&status, expected, field, __FILE__, __LINE__);
    uint32_t replayed = reply ? reply->replayed : 0;
    ts_free(&reply);
    return replayed;
}

static long long s_consumer_rows(void)
{
    return ts_query_long(admin, "SELECT count(*) FROM notify.consumer", 0, NULL);
}

/* ---- create ------------------------------------------------------------------------ */

static void test_create_consumer_and_its_refusals(void **state)
{
    uint64_t latest = s_emit("cons.before", 2) + 1;
    Dp__Consumer *consumer = s_create("audit", "cons.audit.", 0, 0, 0);
    assert_string_equal(consumer->name, "audit");
    assert_string_equal(consumer->topic_prefix, "cons.audit.");
    /* start_seq 0: from the next event. */
    assert_int_equal(consumer->acked_seq, latest);
    assert_int_equal(consumer->delivered_seq, latest);
    assert_int_equal(consumer->latest_seq, latest);
    assert_int_equal(consumer->lag, 0);
    assert_int_equal(consumer->in_flight, 0);
    assert_int_equal(consumer->parked, 0);
    assert_int_equal(consumer->ack_timeout_ms, DEFAULT_ACK_TIMEOUT_MS);
    assert_int_equal(consumer->max_attempts, DEFAULT_MAX_ATTEMPTS);
    assert_true(strlen(consumer->created_at) >= 20);
    ts_free(&consumer);

    long long rows = s_consumer_rows();
    s_expect_create_refused("audit", "", 0, 0, DP__CODE__CODE_ALREADY_EXISTS, "name");
    const char *bad_names[] = {
        "",       "Audit",  "-audit",
        "audit-", "au dit", "audit_1",
        "audit.", "äudit",  "a123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        s_expect_create_refused(bad_names[i], "", 0, 0, DP__CODE__CODE_INVALID_ARGUMENT, "name");
    s_expect_create_refused("spaced", "cons. audit", 0, 0, DP__CODE__CODE_INVALID_ARGUMENT,
                            "topic_prefix");
    s_expect_create_refused("too-slow", "", 86400001, 0, DP__CODE__CODE_INVALID_ARGUMENT,
                            "ack_timeout_ms");
    s_expect_create_refused("too-many", "", 0, 1001, DP__CODE__CODE_INVALID_ARGUMENT,
                            "max_attempts");
    assert_int_equal(s_consumer_rows(), rows);

    /* Explicit settings and start_seq 1: from the beginning. */
    consumer = s_create("from-start", "", 1, 1234, 7);
    assert_int_equal(consumer->acked_seq, 0);
    assert_int_equal(consumer->lag, latest);
    assert_int_equal(consumer->ack_timeout_ms, 1234);
    assert_int_equal(consumer->max_attempts, 7);
    ts_free(&consumer);
    consumer = s_listed("from-start");
    assert_non_null(consumer);
    assert_int_equal(consumer->max_attempts, 7);
    ts_free(&consumer);
}

/* ---- fetch, ack, lag, topic filter ------------------------------------------------- */

static void test_fetch_in_batches_ack_and_lag_with_the_topic_filter(void **state)
{
    uint64_t start = (uint64_t)tn_latest_seq(admin) + 1;
    Dp__Consumer *consumer = s_create("batcher", "cons.b.", start, 0, 0);
    ts_free(&consumer);
    uint64_t wanted[6];
    for (int i = 0; i < 6; i++) {
        wanted[i] = s_emit("cons.b.item", 1);
        s_emit("cons.other", 1);
    }

    Dp__FetchEventsReply *batch = s_fetch("batcher", 4);
    assert_int_equal(batch->n_deliveries, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(batch->deliveries[i]->attempt, 1);
        assert_int_equal(batch->deliveries[i]->event->seq, wanted[i]);
        assert_string_equal(batch->deliveries[i]->event->type, "cons.b.item");
    }
    ts_free(&batch);
    batch = s_fetch("batcher", 100);
    assert_int_equal(batch->n_deliveries, 2);
    assert_int_equal(batch->deliveries[0]->event->seq, wanted[4]);
    assert_int_equal(batch->deliveries[1]->event->seq, wanted[5]);
    ts_free(&batch);
    /* Nothing new, nothing timed out. */
    batch = s_fetch("batcher", 100);
    assert_int_equal(batch->n_deliveries, 0);
    ts_free(&batch);

    consumer = s_ack("batcher", wanted[3]);
    uint64_t latest = (uint64_t)tn_latest_seq(admin);
    assert_int_equal(consumer->acked_seq, wanted[3]);
    assert_int_equal(consumer->in_flight, 2);
    assert_int_equal(consumer->latest_seq, latest);
    assert_int_equal(consumer->lag, latest - wanted[3]);
    ts_free(&consumer);

    /* Lag counts every event after the ack, matching or not. */
    s_emit("cons.other", 3);
    consumer = s_listed("batcher");
    assert_non_null(consumer);
    assert_int_equal(consumer->lag, latest + 3 - wanted[3]);
    assert_int_equal(consumer->in_flight, 2);
    ts_free(&consumer);

    /* An ack cannot run ahead of what was delivered. */
    consumer = s_ack("batcher", UINT32_MAX);
    assert_int_equal(consumer->in_flight, 0);
    assert_int_equal(consumer->acked_seq, consumer->delivered_seq);
    assert_true(consumer->delivered_seq >= wanted[5]);
    assert_true(consumer->delivered_seq <= consumer->latest_seq);
    ts_free(&consumer);
    batch = s_fetch("batcher", 100);
    assert_int_equal(batch->n_deliveries, 0);
    ts_free(&batch);
}

static void test_consumer_without_a_prefix_gets_every_event_in_order(void **state)
{
    uint64_t latest = (uint64_t)tn_latest_seq(admin);
    Dp__Consumer *consumer = s_create("everything", "", 1, 0, 0);
    ts_free(&consumer);
    Dp__FetchEventsReply *batch = s_fetch("everything", 1000);
    assert_int_equal(batch->n_deliveries, latest);
    for (size_t i = 0; i < batch->n_deliveries; i++)
        assert_int_equal(batch->deliveries[i]->event->seq, i + 1);
    ts_free(&batch);
    consumer = s_ack("everything", latest);
    assert_int_equal(consumer->lag, 0);
    assert_int_equal(consumer->in_flight, 0);
    ts_free(&consumer);
}

/* ---- redelivery, parking, replay of parked ------------------------------------------ */

static void test_unacked_event_is_redelivered_then_parked_then_replayed(void **state)
{
    enum { MAX_ATTEMPTS = 2 };
    uint64_t start = (uint64_t)tn_latest_seq(admin) + 1;
    Dp__Consumer *consumer =
        s_create("slow", "cons.slow.", start, SHORT_ACK_TIMEOUT_MS, MAX_ATTEMPTS);
    ts_free(&consumer);
    uint64_t seq = s_emit("cons.slow.item", 1);

    int64_t first_sent = zclock_mono();
    Dp__FetchEventsReply *batch = s_fetch("slow", 10);
    assert_int_equal(batch->n_deliveries, 1);
    assert_int_equal(batch->deliveries[0]->event->seq, seq);
    assert_int_equal(batch->deliveries[0]->attempt, 1);
    ts_free(&batch);
    batch = s_fetch("slow", 10);
    if (zclock_mono() - first_sent < SHORT_ACK_TIMEOUT_MS)
        assert_int_equal(batch->n_deliveries, 0);
    ts_free(&batch);

    /* Not acked within the timeout: delivered again, as attempt 2. */
    int64_t deadline = zclock_mono() + REDELIVERY_WAIT_MS;
    bool redelivered = false;
    while (!redelivered && zclock_mono() < deadline) {
        batch = s_fetch("slow", 10);
        if (batch->n_deliveries) {
            assert_int_equal(batch->n_deliveries, 1);
            assert_int_equal(batch->deliveries[0]->event->seq, seq);
            assert_int_equal(batch->deliveries[0]->attempt, 2);
            redelivered = true;
        }
        ts_free(&batch);
        if (!redelivered)
            zclock_sleep(50);
    }
    assert_true(redelivered);
    /* The database's clock and ours differ by a few milliseconds at most. */
    assert_true(zclock_mono() - first_sent >= SHORT_ACK_TIMEOUT_MS - 50);

    /* Not acked again, and that was the last attempt: parked, never a third. */
    deadline = zclock_mono() + REDELIVERY_WAIT_MS;
    bool parked = false;
    while (!parked && zclock_mono() < deadline) {
        batch = s_fetch("slow", 10);
        assert_int_equal(batch->n_deliveries, 0);
        ts_free(&batch);
        consumer = s_listed("slow");
        parked = consumer->parked == 1;
        ts_free(&consumer);
        if (!parked)
            zclock_sleep(50);
    }
    assert_true(parked);
    consumer = s_listed("slow");
    assert_int_equal(consumer->in_flight, 0);
    ts_free(&consumer);

    Dp__ListParkedReply *list = tn_parked(notify, "slow");
    assert_int_equal(list->n_parked, 1);
    assert_string_equal(list->parked[0]->consumer, "slow");
    assert_int_equal(list->parked[0]->event->seq, seq);
    assert_string_equal(list->parked[0]->event->type, "cons.slow.item");
    assert_int_equal(list->parked[0]->attempts, MAX_ATTEMPTS);
    assert_true(strlen(list->parked[0]->parked_at) >= 20);
    ts_free(&list);
    /* Listed with everyone's parked events too. */
    list = tn_parked(notify, "");
    bool listed = false;
    for (size_t i = 0; i < list->n_parked; i++)
        listed |=
            strcmp(list->parked[i]->consumer, "slow") == 0 && list->parked[i]->event->seq == seq;
    assert_true(listed);
    ts_free(&list);

    /* An ack does not drop a parked event: only a replay brings it back. */
    consumer = s_ack("slow", seq);
    ts_free(&consumer);
    list = tn_parked(notify, "slow");
    assert_int_equal(list->n_parked, 1);
    ts_free(&list);

    assert_int_equal(s_replay_parked("slow", 0, DP__CODE__CODE_OK, NULL), 1);
    list = tn_parked(notify, "slow");
    assert_int_equal(list->n_parked, 0);
    ts_free(&list);
    batch = s_fetch("slow", 10);
    assert_int_equal(batch->n_deliveries, 1);
    assert_int_equal(batch->deliveries[0]->event->seq, seq);
    assert_int_equal(batch->deliveries[0]->attempt, 1);
    ts_free(&batch);
    consumer = s_ack("slow", seq);
    assert_int_equal(consumer->in_flight, 0);
    assert_int_equal(consumer->parked, 0);
    ts_free(&consumer);

    /* Nothing parked any more at that seq; refusals name their field. */
    s_replay_parked("slow", seq, DP__CODE__CODE_NOT_FOUND, "seq");
    s_replay_parked("", 0, DP__CODE__CODE_INVALID_ARGUMENT, "consumer");
    s_replay_parked("webhook:x", 0, DP__CODE__CODE_INVALID_ARGUMENT, "consumer");
    Dp__ListParkedRequest bad = DP__LIST_PARKED_REQUEST__INIT;
    bad.consumer = "Not A Name";
    dp_status_t status;
    Dp__ListParkedReply *refused = tn_list_parked(notify, &bad, &status);
    ts_assert_status(&status, INVALID_ARGUMENT, "consumer");
    assert_null(refused);
}

/* ---- delete, unknown --------------------------------------------------------------- */

static void test_delete_consumer_and_unknown_consumers(void **state)
{
    Dp__Consumer *consumer = s_create("doomed", "", 1, 0, 0);
    ts_free(&consumer);
    /* With deliveries in flight: they go with it. */
    Dp__FetchEventsReply *batch = s_fetch("doomed", 5);
    assert_true(batch->n_deliveries > 0);
    ts_free(&batch);

    Dp__DeleteConsumerRequest remove = DP__DELETE_CONSUMER_REQUEST__INIT;
    remove.name = "doomed";
    dp_status_t status;
    Dp__DeleteConsumerReply *removed = tn_delete_consumer(notify, &remove, &status);
    ts_assert_ok(&status);
    ts_free(&removed);
    consumer = s_listed("doomed");
    assert_null(consumer);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(*) FROM notify.delivery WHERE consumer = 'doomed'",
                                   0, NULL),
                     0);

    removed = tn_delete_consumer(notify, &remove, &status);
    ts_assert_status(&status, NOT_FOUND, "name");
    assert_null(removed);

    Dp__FetchEventsRequest fetch = DP__FETCH_EVENTS_REQUEST__INIT;
    fetch.consumer = "doomed";
    Dp__FetchEventsReply *fetched = tn_fetch_events(notify, &fetch, &status);
    ts_assert_status(&status, NOT_FOUND, "consumer");
    assert_null(fetched);
    fetch.consumer = "nobody";
    fetched = tn_fetch_events(notify, &fetch, &status);
    ts_assert_status(&status, NOT_FOUND, "consumer");
    fetch.consumer = "Nobody";
    fetched = tn_fetch_events(notify, &fetch, &status);
    ts_assert_status(&status, INVALID_ARGUMENT, "consumer");
    fetch.consumer = "batcher";
    fetch.max = 1001;
    fetched = tn_fetch_events(notify, &fetch, &status);
    ts_assert_status(&status, INVALID_ARGUMENT, "max");

    Dp__AckEventsRequest ack = DP__ACK_EVENTS_REQUEST__INIT;
    ack.consumer = "nobody";
    ack.up_to_seq = 1;
    Dp__AckEventsReply *acked = tn_ack_events(notify, &ack, &status);
    ts_assert_status(&status, NOT_FOUND, "consumer");
    assert_null(acked);

    remove.name = "Not-Valid";
    removed = tn_delete_consumer(notify, &remove, &status);
    ts_assert_status(&status, INVALID_ARGUMENT, "name");
}

/* ---- a fetch racing the relay of another replica ------------------------------------ */

/* Two replicas on one database: `notify` relays; `other` (a standby) serves
   this consumer's fetch. The consumer's row is held locked so that the fetch
   starts, waits, and goes on only after the relay has committed new events:
   its later statements see events its first one did not. Each event must
   still be handed out once and the consumer's cursor must cover it. */
static tn_notify_t *other; /* a second replica, stopped by the teardown */
static zsock_t *dealer;    /* its raw client */

static void test_fetch_racing_the_relay_hands_out_each_event_once(void **state)
{
    const char *const settings[] = {"DP_NOTIFY_POLL_MS", "100", NULL};
    other = tn_notify_start(ts_database_url(db, TS_ROLE_NOTIFY), settings);
    assert_non_null(other);
    assert_int_equal(tn_relay_lock_holders(admin), 1);
    Dp__Consumer *consumer = s_create("racer", "cons.race.", 0, 0, 0);
    ts_free(&consumer);

    PGconn *locker = tn_connect(ts_database_url(db, TS_ROLE_ADMIN));
    tn_exec(locker, "BEGIN");
    tn_exec(locker, "SELECT 1 FROM notify.consumer WHERE name = 'racer' FOR UPDATE");
    dealer = ts_dealer_new(tn_notify_endpoint(other), 15000);
    Dp__FetchEventsRequest fetch = DP__FETCH_EVENTS_REQUEST__INIT;
    fetch.consumer = "racer";
    fetch.max = 100;
    zmsg_t *request = ts_request_message("race", &fetch.base);
    assert_int_equal(zmsg_send(&request, dealer), 0);
    assert_true(tn_wait_value(admin,
                              "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                              " current_database() AND application_name = 'dp-notify'"
                              " AND wait_event_type = 'Lock'",
                              0, NULL, 1, LOCK_WAIT_MS));
    uint64_t first = s_emit("cons.race.item", 3);
    tn_exec(locker, "COMMIT");
    PQfinish(locker);

    Dp__Reply *reply = ts_receive_reply(dealer);
    Dp__FetchEventsReply *batch =
        (Dp__FetchEventsReply *)ts_reply_body(reply, &dp__fetch_events_reply__descriptor);
    ts_free(&reply);
    assert_int_equal(batch->n_deliveries, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(batch->deliveries[i]->event->seq, first + i);
    ts_free(&batch);

    /* The next fetch hands out nothing new (the three are in flight), and
       fails in nothing ... */
    Dp__FetchEventsRequest again = DP__FETCH_EVENTS_REQUEST__INIT;
    again.consumer = "racer";
    dp_status_t status;
    batch = tn_fetch_events(notify, &again, &status);
    ts_assert_ok(&status);
    assert_int_equal(batch->n_deliveries, 0);
    ts_free(&batch);
    /* ... because the cursor covers what was handed out. */
    consumer = s_listed("racer");
    assert_non_null(consumer);
    assert_int_equal(consumer->in_flight, 3);
    uint64_t delivered_seq = consumer->delivered_seq;
    ts_free(&consumer);
    if (delivered_seq < first + 2)
        fail_msg("the fetch handed out seqs %llu..%llu but left the cursor at %llu",
                 (unsigned long long)first, (unsigned long long)first + 2,
                 (unsigned long long)delivered_seq);
}

static int s_stop_other(void **state)
{
    zsock_destroy(&dealer);
    tn_notify_stop(&other);
    return 0;
}

int main(void)
{
    tn_open("notify_consumers", &db, &admin, &writer);
    char timeout[16], attempts[16];
    snprintf(timeout, sizeof timeout, "%d", DEFAULT_ACK_TIMEOUT_MS);
    snprintf(attempts, sizeof attempts, "%d", DEFAULT_MAX_ATTEMPTS);
    const char *const settings[] = {"DP_NOTIFY_POLL_MS",
                                    "100",
                                    "DP_CONSUMER_ACK_TIMEOUT_MS",
                                    timeout,
                                    "DP_CONSUMER_MAX_ATTEMPTS",
                                    attempts,
                                    NULL};
    notify = tn_notify_start(ts_database_url(db, TS_ROLE_NOTIFY), settings);
    tn_require_relaying(notify, admin, RELAY_WAIT_MS);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_consumer_and_its_refusals),
        cmocka_unit_test(test_fetch_in_batches_ack_and_lag_with_the_topic_filter),
        cmocka_unit_test(test_consumer_without_a_prefix_gets_every_event_in_order),
        cmocka_unit_test(test_unacked_event_is_redelivered_then_parked_then_replayed),
        cmocka_unit_test(test_delete_consumer_and_unknown_consumers),
        cmocka_unit_test_teardown(test_fetch_racing_the_relay_hands_out_each_event_once,
                                  s_stop_other),
    };
    int failed = cmocka_run_group_tests_name("notify consumers", tests, NULL, NULL);
    tn_notify_stop(&notify);
    tn_close(&db, &admin, &writer);
    return failed;
}
