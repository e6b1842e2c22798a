/* dp_pipeline against a stub ROUTER in this program (no service, no
   database): the stub drops requests, answers late, out of order, twice, or
   with a transient refusal, as each request's body tells it; every request
   must end exactly once, resent with its own request id, within its
   deadlines. The body is a DeleteConsumerRequest whose name says what the
   stub does ("<behaviour>-<number>"); the stub echoes it as the reply's
   body, so that each verdict can be matched to its request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>
#include <pthread.h>

#include "dp_codec.h"
#include "dp_pipeline.h"
#include "notify.pb-c.h"

enum { S_MAX_REQUESTS = 64, S_HOLD_COUNT = 24 };

/* What the stub saw of one request (by the name in its body). */
typedef struct {
    char name[64];
    int receipts;          /* sends that reached the stub */
    char request_id[96];   /* the first send's */
    bool same_id;          /* every send carried that id */
    char identity[64];     /* the first send's routing id, hex */
    bool identity_changed; /* a later send came on another socket */
} s_seen_t;

/* A reply the stub sends later. */
typedef struct {
    int64_t due;     /* zclock_mono */
    zmsg_t *message; /* identity, empty, reply */
} s_later_t;

typedef struct {
    pthread_mutex_t lock;
    s_seen_t seen[S_MAX_REQUESTS];
    size_t seen_count;
    size_t identities; /* distinct routing ids seen */
    char identity_list[16][64];
} s_stub_t;

static s_stub_t s_stub;

static s_seen_t *s_find(const char *name)
{
    for (size_t i = 0; i < s_stub.seen_count; i++)
        if (strcmp(s_stub.seen[i].name, name) == 0)
            return &s_stub.seen[i];
    return NULL;
}

/* Notes one receipt; returns how many sends of this request arrived so far. */
static int s_note(const char *name, const char *request_id, const char *identity)
{
    pthread_mutex_lock(&s_stub.lock);
    s_seen_t *seen = s_find(name);
    if (!seen && s_stub.seen_count < S_MAX_REQUESTS) {
        seen = &s_stub.seen[s_stub.seen_count++];
        snprintf(seen->name, sizeof seen->name, "%s", name);
        snprintf(seen->request_id, sizeof seen->request_id, "%s", request_id);
        snprintf(seen->identity, sizeof seen->identity, "%s", identity);
        seen->same_id = true;
    }
    int receipts = 0;
    if (seen) {
        receipts = ++seen->receipts;
        seen->same_id = seen->same_id && strcmp(seen->request_id, request_id) == 0;
        seen->identity_changed = seen->identity_changed || strcmp(seen->identity, identity) != 0;
    }
    bool known = false;
    for (size_t i = 0; i < s_stub.identities; i++)
        known = known || strcmp(s_stub.identity_list[i], identity) == 0;
    if (!known && s_stub.identities < 16)
        snprintf(s_stub.identity_list[s_stub.identities++], 64, "%s", identity);
    pthread_mutex_unlock(&s_stub.lock);
    return receipts;
}

static zmsg_t *s_reply(zframe_t *identity, const Dp__Request *request, Dp__Code code)
{
    Dp__Status status = DP__STATUS__INIT;
    status.code = code;
    status.message = code == DP__CODE__CODE_OK ? "" : "try again";
    Dp__Reply reply = DP__REPLY__INIT;
    reply.request_id = request->request_id;
    reply.status = &status;
    reply.body = request->body; /* the echo */
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&reply.base, &size);
    zmsg_t *message = zmsg_new();
    zmsg_append(message, &(zframe_t *){zframe_dup(identity)});
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, packed, size);
    free(packed);
    return message;
}

/* What the stub does with one request, by its name's behaviour:
   ok: answers at once; drop: ignores the first send; late: answers each
   send 300 ms later; never: ignores it; hold: keeps it until S_HOLD_COUNT
   are held, then answers them all in reverse order, the first one twice;
   transient: UNAVAILABLE to the first send, OK to the next. */
static void s_handle(zsock_t *router, zmsg_t *message, s_later_t *later, size_t *later_count,
                     zmsg_t **held, size_t *held_count)
{
    zframe_t *identity = zmsg_first(message);
    zframe_t *body = zmsg_last(message);
    Dp__Request *request = (Dp__Request *)dp_message_decode(
        &dp__request__descriptor, zframe_data(body), zframe_size(body), 1 << 20);
    Dp__DeleteConsumerRequest *inner = request ? (Dp__DeleteConsumerRequest *)dp_message_decode(
                                                     &dp__delete_consumer_request__descriptor,
                                                     request->body.data, request->body.len, 1 << 20)
                                               : NULL;
    if (!inner) {
        dp_message_free((ProtobufCMessage **)&request);
        zmsg_destroy(&message);
        return;
    }
    char *hex = zframe_strhex(identity);
    int receipts = s_note(inner->name, request->request_id, hex);
    free(hex);
    const char *name = inner->name;
    zmsg_t *reply = NULL;
    if (strncmp(name, "ok-", 3) == 0 || (strncmp(name, "drop-", 5) == 0 && receipts > 1))
        reply = s_reply(identity, request, DP__CODE__CODE_OK);
    else if (strncmp(name, "transient-", 10) == 0)
        reply = s_reply(identity, request,
                        receipts == 1 ? DP__CODE__CODE_UNAVAILABLE : DP__CODE__CODE_OK);
    else if (strncmp(name, "late-", 5) == 0 && *later_count < 256) {
        later[*later_count].due = zclock_mono() + 300;
        later[(*later_count)++].message = s_reply(identity, request, DP__CODE__CODE_OK);
    } else if (strncmp(name, "hold-", 5) == 0 && *held_count < S_HOLD_COUNT) {
        held[(*held_count)++] = s_reply(identity, request, DP__CODE__CODE_OK);
        if (*held_count == S_HOLD_COUNT) {
            zmsg_t *again = zmsg_dup(held[0]);
            for (size_t i = S_HOLD_COUNT; i-- > 0;)
                zmsg_send(&held[i], router);
            zmsg_send(&again, router); /* a duplicate: must be counted stale */
            *held_count = 0;
        }
    }
    if (reply)
        zmsg_send(&reply, router);
    dp_message_free((ProtobufCMessage **)&inner);
    dp_message_free((ProtobufCMessage **)&request);
    zmsg_destroy(&message);
}

static void s_stub_actor(zsock_t *pipe, void *args)
{
    (void)args;
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    zsock_signal(pipe, 0);
    zstr_sendf(pipe, "tcp://127.0.0.1:%d", port);
    s_later_t later[256];
    size_t later_count = 0;
    zmsg_t *held[S_HOLD_COUNT];
    size_t held_count = 0;
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    while (true) {
        void *which = zpoller_wait(poller, 10);
        if (which == pipe || zpoller_terminated(poller))
            break;
        if (which == router) {
            zmsg_t *message = zmsg_recv(router);
            if (message)
                s_handle(router, message, later, &later_count, held, &held_count);
        }
        int64_t now = zclock_mono();
        for (size_t i = 0; i < later_count;)
            if (later[i].due <= now) {
                zmsg_send(&later[i].message, router);
                later[i] = later[--later_count];
            } else
                i++;
    }
    for (size_t i = 0; i < later_count; i++)
        zmsg_destroy(&later[i].message);
    for (size_t i = 0; i < held_count; i++)
        zmsg_destroy(&held[i]);
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

/* ---- the client side ------------------------------------------------------------------- */

/* One verdict as done heard it. */
typedef struct {
    uint64_t tag;
    Dp__Code code;
    bool has_reply;
    char echoed[64]; /* the reply body's name */
    int attempts;
    int sends;
    int64_t at; /* zclock_mono */
} s_verdict_t;

typedef struct {
    zactor_t *stub;
    char endpoint[64];
    s_verdict_t verdicts[4 * S_MAX_REQUESTS];
    size_t verdict_count;
    char names[S_MAX_REQUESTS][64]; /* the name sent under tag i */
    int transient_delay_ms;         /* what done asks after a transient refusal */
} s_fixture_t;

static int s_done(void *sink, const dp_pipeline_result_t *result)
{
    s_fixture_t *fixture = sink;
    if (fixture->verdict_count < sizeof fixture->verdicts / sizeof *fixture->verdicts) {
        s_verdict_t *verdict = &fixture->verdicts[fixture->verdict_count++];
        verdict->tag = result->tag;
        verdict->code = result->status->code;
        verdict->has_reply = result->envelope != NULL;
        verdict->attempts = result->attempts;
        verdict->sends = result->sends;
        verdict->at = zclock_mono();
        const Dp__DeleteConsumerRequest *echo = (const Dp__DeleteConsumerRequest *)result->reply;
        snprintf(verdict->echoed, sizeof verdict->echoed, "%s", echo ? echo->name : "");
    }
    bool transient = result->envelope && result->status->code == DP__CODE__CODE_UNAVAILABLE;
    return transient ? fixture->transient_delay_ms : 0;
}

static int s_setup(void **state)
{
    memset(&s_stub, 0, sizeof s_stub);
    pthread_mutex_init(&s_stub.lock, NULL);
    s_fixture_t *fixture = calloc(1, sizeof *fixture);
    fixture->stub = zactor_new(s_stub_actor, NULL);
    char *endpoint = zstr_recv(fixture->stub);
    snprintf(fixture->endpoint, sizeof fixture->endpoint, "%s", endpoint);
    zstr_free(&endpoint);
    *state = fixture;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fixture = *state;
    zactor_destroy(&fixture->stub);
    pthread_mutex_destroy(&s_stub.lock);
    free(fixture);
    return 0;
}

static dp_pipeline_t *s_pipeline(s_fixture_t *fixture, size_t sockets, size_t window,
                                 int timeout_ms, int attempts, dp_pipeline_fresh_t fresh)
{
    dp_pipeline_options_t options = {.endpoints = fixture->endpoint,
                                     .sockets = sockets,
                                     .window = window,
                                     .timeout_ms = timeout_ms,
                                     .attempts = attempts,
                                     .fresh = fresh,
                                     .reply_type = &dp__delete_consumer_request__descriptor,
                                     .done = s_done,
                                     .sink = fixture};
    dp_pipeline_t *pipeline = dp_pipeline_new(&options);
    assert_non_null(pipeline);
    return pipeline;
}

static void s_send(s_fixture_t *fixture, dp_pipeline_t *pipeline, uint64_t tag, const char *what)
{
    snprintf(fixture->names[tag], sizeof fixture->names[tag], "%s-%llu", what,
             (unsigned long long)tag);
    Dp__DeleteConsumerRequest request = DP__DELETE_CONSUMER_REQUEST__INIT;
    request.name = fixture->names[tag];
    assert_int_equal(dp_pipeline_send(pipeline, &request.base, tag), 0);
}

/* The one final verdict for tag (fails when there is none, or two). */
static const s_verdict_t *s_final(const s_fixture_t *fixture, uint64_t tag)
{
    const s_verdict_t *found = NULL;
    for (size_t i = 0; i < fixture->verdict_count; i++) {
        const s_verdict_t *verdict = &fixture->verdicts[i];
        if (verdict->tag != tag)
            continue;
        bool final = !(verdict->has_reply && verdict->code == DP__CODE__CODE_UNAVAILABLE &&
                       fixture->transient_delay_ms > 0);
        if (!final)
            continue;
        if (found)
            fail_msg("request %llu ended twice", (unsigned long long)tag);
        found = verdict;
    }
    if (!found)
        fail_msg("request %llu never ended", (unsigned long long)tag);
    return found;
}

static s_seen_t s_seen(const char *name)
{
    pthread_mutex_lock(&s_stub.lock);
    s_seen_t *seen = s_find(name);
    s_seen_t copy = seen ? *seen : (s_seen_t){0};
    pthread_mutex_unlock(&s_stub.lock);
    if (!seen)
        fail_msg("the stub never saw %s", name);
    return copy;
}

/* What the stub saw of name, which must have come `receipts` times, every
   time with the same request id. */
static s_seen_t s_seen_sent(const char *name, int receipts)
{
    s_seen_t seen = s_seen(name);
    assert_true(seen.same_id);
    assert_int_equal(seen.receipts, receipts);
    return seen;
}

/* ---- the cases ------------------------------------------------------------------------- */

static void test_replies_out_of_order_end_each_request_once_and_a_duplicate_is_stale(void **state)
{
    s_fixture_t *fixture = *state;
    dp_pipeline_t *pipeline =
        s_pipeline(fixture, 1, S_HOLD_COUNT, 2000, 2, DP_PIPELINE_FRESH_WHEN_SILENT);
    assert_int_equal(dp_pipeline_room(pipeline), S_HOLD_COUNT);
    for (uint64_t tag = 0; tag < S_HOLD_COUNT; tag++)
        s_send(fixture, pipeline, tag, "hold");
    assert_int_equal(dp_pipeline_room(pipeline), 0);
    assert_int_equal(dp_pipeline_outstanding(pipeline), S_HOLD_COUNT);
    dp_pipeline_drain(pipeline);
    zclock_sleep(100);
    dp_pipeline_poll(pipeline, 0); /* the duplicate */
    assert_int_equal(fixture->verdict_count, S_HOLD_COUNT);
    /* Answered in reverse: the last sent ends first. */
    assert_int_equal(fixture->verdicts[0].tag, S_HOLD_COUNT - 1);
    for (uint64_t tag = 0; tag < S_HOLD_COUNT; tag++) {
        const s_verdict_t *verdict = s_final(fixture, tag);
        assert_int_equal(verdict->code, DP__CODE__CODE_OK);
        assert_string_equal(verdict->echoed, fixture->names[tag]);
        assert_int_equal(verdict->attempts, 1);
        assert_int_equal(s_seen(fixture->names[tag]).receipts, 1);
    }
    const dp_pipeline_stats_t *stats = dp_pipeline_stats(pipeline);
    assert_int_equal(stats->requests, S_HOLD_COUNT);
    assert_int_equal(stats->sends, S_HOLD_COUNT);
    assert_int_equal(stats->resent, 0);
    assert_int_equal(stats->stale, 1);
    assert_int_equal(dp_pipeline_room(pipeline), S_HOLD_COUNT);
    dp_pipeline_destroy(&pipeline);
}

static void test_a_dropped_request_is_sent_again_with_its_own_id(void **state)
{
    s_fixture_t *fixture = *state;
    dp_pipeline_t *pipeline = s_pipeline(fixture, 1, 16, 300, 3, DP_PIPELINE_FRESH_WHEN_SILENT);
    for (uint64_t tag = 0; tag < 12; tag++)
        s_send(fixture, pipeline, tag, tag % 3 == 0 ? "drop" : "ok");
    int64_t start = zclock_mono();
    dp_pipeline_drain(pipeline);
    int64_t took = zclock_mono() - start;
    for (uint64_t tag = 0; tag < 12; tag++) {
        const s_verdict_t *verdict = s_final(fixture, tag);
        assert_int_equal(verdict->code, DP__CODE__CODE_OK);
        assert_string_equal(verdict->echoed, fixture->names[tag]);
        s_seen_sent(fixture->names[tag], tag % 3 == 0 ? 2 : 1);
        assert_int_equal(verdict->attempts, tag % 3 == 0 ? 2 : 1);
    }
    /* Resent at the deadline, not before; and not much after. */
    assert_true(took >= 300);
    assert_true(took < 1500);
    const dp_pipeline_stats_t *stats = dp_pipeline_stats(pipeline);
    assert_int_equal(stats->timeouts, 4);
    assert_int_equal(stats->resent, 4);
    dp_pipeline_destroy(&pipeline);
}

static void test_a_late_answer_ends_the_request_and_the_later_one_is_stale(void **state)
{
    s_fixture_t *fixture = *state;
    /* Its socket kept, so that the first send's answer can come back. */
    dp_pipeline_t *pipeline = s_pipeline(fixture, 1, 4, 200, 3, DP_PIPELINE_FRESH_NEVER);
    s_send(fixture, pipeline, 0, "late");
    dp_pipeline_drain(pipeline);
    const s_verdict_t *verdict = s_final(fixture, 0);
    assert_int_equal(verdict->code, DP__CODE__CODE_OK);
    /* The first send's answer (300 ms) came after the second send (200 ms). */
    assert_int_equal(verdict->attempts, 2);
    zclock_sleep(400);
    dp_pipeline_poll(pipeline, 0);
    assert_int_equal(fixture->verdict_count, 1);
    assert_int_equal(dp_pipeline_stats(pipeline)->stale, 1);
    s_seen_sent(fixture->names[0], 2);
    dp_pipeline_destroy(&pipeline);
}

static void test_an_unanswered_request_ends_unavailable_after_its_attempts(void **state)
{
    s_fixture_t *fixture = *state;
    dp_pipeline_t *pipeline = s_pipeline(fixture, 1, 4, 150, 3, DP_PIPELINE_FRESH_WHEN_SILENT);
    int64_t start = zclock_mono();
    s_send(fixture, pipeline, 0, "never");
    assert_false(dp_pipeline_unresponsive(pipeline));
    dp_pipeline_drain(pipeline);
    const s_verdict_t *verdict = s_final(fixture, 0);
    assert_int_equal(verdict->code, DP__CODE__CODE_UNAVAILABLE);
    assert_false(verdict->has_reply);
    assert_int_equal(verdict->attempts, 3);
    /* Three attempts of 150 ms: not before 450 ms, and not long after. */
    assert_true(verdict->at - start >= 450);
    assert_true(verdict->at - start < 1200);
    assert_true(dp_pipeline_unresponsive(pipeline));
    s_seen_t seen = s_seen_sent(fixture->names[0], 3);
    /* Nothing came back at all: every resend went on a fresh socket. */
    assert_true(seen.identity_changed);
    assert_true(dp_pipeline_stats(pipeline)->reconnects >= 2);
    dp_pipeline_destroy(&pipeline);
}

static void test_fresh_on_timeout_resends_everything_in_flight_on_a_new_socket(void **state)
{
    s_fixture_t *fixture = *state;
    dp_pipeline_t *pipeline = s_pipeline(fixture, 1, 8, 400, 0, DP_PIPELINE_FRESH_ON_TIMEOUT);
    s_send(fixture, pipeline, 0, "drop");
    zclock_sleep(200);
    s_send(fixture, pipeline, 1, "late"); /* in flight, not late, when 0 times out */
    dp_pipeline_drain(pipeline);
    assert_int_equal(s_final(fixture, 0)->code, DP__CODE__CODE_OK);
    assert_int_equal(s_final(fixture, 1)->code, DP__CODE__CODE_OK);
    s_seen_t dropped = s_seen(fixture->names[0]);
    assert_true(dropped.identity_changed);
    assert_true(dropped.same_id);
    /* The late one went again on the new socket, as a move, not an attempt. */
    s_seen_t late = s_seen_sent(fixture->names[1], 2);
    assert_true(late.identity_changed);
    assert_int_equal(s_final(fixture, 1)->attempts, 1);
    assert_int_equal(s_final(fixture, 1)->sends, 2);
    assert_int_equal(dp_pipeline_stats(pipeline)->reconnects, 1);
    dp_pipeline_destroy(&pipeline);
}

static void test_a_transient_refusal_goes_again_after_the_delay_done_asks(void **state)
{
    s_fixture_t *fixture = *state;
    fixture->transient_delay_ms = 250;
    dp_pipeline_t *pipeline = s_pipeline(fixture, 1, 4, 1000, 0, DP_PIPELINE_FRESH_WHEN_SILENT);
    s_send(fixture, pipeline, 0, "transient");
    dp_pipeline_drain(pipeline);
    assert_int_equal(fixture->verdict_count, 2);
    assert_int_equal(fixture->verdicts[0].code, DP__CODE__CODE_UNAVAILABLE);
    const s_verdict_t *verdict = s_final(fixture, 0);
    assert_int_equal(verdict->code, DP__CODE__CODE_OK);
    assert_true(verdict->at - fixture->verdicts[0].at >= 250);
    assert_int_equal(verdict->sends, 2);
    s_seen_sent(fixture->names[0], 2);
    dp_pipeline_destroy(&pipeline);
}

static void test_several_sockets_share_the_requests(void **state)
{
    s_fixture_t *fixture = *state;
    dp_pipeline_t *pipeline = s_pipeline(fixture, 3, 4, 1000, 1, DP_PIPELINE_FRESH_NEVER);
    assert_int_equal(dp_pipeline_room(pipeline), 12);
    for (uint64_t tag = 0; tag < 12; tag++)
        s_send(fixture, pipeline, tag, "never");
    assert_int_equal(dp_pipeline_room(pipeline), 0);
    dp_pipeline_poll(pipeline, 200);
    pthread_mutex_lock(&s_stub.lock);
    size_t identities = s_stub.identities;
    pthread_mutex_unlock(&s_stub.lock);
    assert_int_equal(identities, 3);
    /* Full: the next send waits for the first to end (one attempt). */
    s_send(fixture, pipeline, 12, "ok");
    assert_true(fixture->verdict_count >= 1);
    dp_pipeline_drain(pipeline);
    for (uint64_t tag = 0; tag < 12; tag++)
        assert_int_equal(s_final(fixture, tag)->code, DP__CODE__CODE_UNAVAILABLE);
    assert_int_equal(s_final(fixture, 12)->code, DP__CODE__CODE_OK);
    /* FRESH_NEVER: the sockets were kept. */
    assert_int_equal(dp_pipeline_stats(pipeline)->reconnects, 0);
    dp_pipeline_destroy(&pipeline);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_replies_out_of_order_end_each_request_once_and_a_duplicate_is_stale, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_a_dropped_request_is_sent_again_with_its_own_id,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_late_answer_ends_the_request_and_the_later_one_is_stale, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_an_unanswered_request_ends_unavailable_after_its_attempts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_fresh_on_timeout_resends_everything_in_flight_on_a_new_socket, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_transient_refusal_goes_again_after_the_delay_done_asks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_several_sockets_share_the_requests, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests_name("dp_pipeline", tests, NULL, NULL);
}
