/* The follower (dp_events.h) against a PUB socket in the test and a stub
   ROUTER (test_wire.h) that replays from a fixed sequence of ten events:
   events come in seq order; a skipped seq in the live stream, or a
   heartbeat ahead of what arrived, is repaired by one replay from the first
   missing seq before later events are given; duplicates are dropped; a
   start from seq N replays from N. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_events.h"
#include "test_support.h"
#include "test_wire.h"

enum { LATEST_SEQ = 10, JOIN_WAIT_MS = 5000, EVENT_WAIT_MS = 5000 };

#define TOPIC_PREFIX "test."

/* What the stub ROUTER was asked: replay requests, the last from_seq. */
static atomic_int s_replays;
static atomic_uint_fast64_t s_last_from;
static atomic_int s_bad_prefix; /* requests with another topic prefix */

static ts_stub_t *s_stub;
static zsock_t *s_pub;
static char *s_pub_endpoint;

/* Event seq of the stub's sequence (and of the live stream). */
static void s_event_init(Dp__Event *event, uint64_t seq, char *id, size_t id_size)
{
    dp__event__init(event);
    snprintf(id, id_size, "a%llu", (unsigned long long)seq);
    event->seq = seq;
    event->type = TOPIC_PREFIX "happened";
    event->aggregate_type = "test";
    event->aggregate_id = id;
    event->origin = "registry";
}

/* Answers ReplayEventsRequest as notify does: the events from from_seq
   (0: 1) up to the limit, the latest seq, and where to go on. */
static void s_answer(void *state, const Dp__Request *request, size_t seen, zlist_t *replies)
{
    Dp__ReplayEventsRequest *replay = (Dp__ReplayEventsRequest *)dp_message_decode(
        &dp__replay_events_request__descriptor, request->body.data, request->body.len, 65536);
    if (!replay || strcmp(request->type, "dp.ReplayEventsRequest") != 0) {
        zlist_append(replies, ts_stub_reply(request->request_id, DP__CODE__CODE_UNIMPLEMENTED,
                                            "type", NULL));
        dp_message_free((ProtobufCMessage **)&replay);
        return;
    }
    atomic_fetch_add(&s_replays, 1);
    atomic_store(&s_last_from, replay->from_seq);
    if (strcmp(replay->topic_prefix, TOPIC_PREFIX) != 0)
        atomic_fetch_add(&s_bad_prefix, 1);
    uint64_t from = replay->from_seq ? replay->from_seq : 1;
    uint32_t limit = replay->limit ? replay->limit : 100;
    Dp__Event events[LATEST_SEQ];
    Dp__Event *pointers[LATEST_SEQ];
    char ids[LATEST_SEQ][24];
    size_t count = 0;
    for (uint64_t seq = from; seq <= LATEST_SEQ && count < limit; seq++, count++) {
        s_event_init(&events[count], seq, ids[count], sizeof ids[count]);
        pointers[count] = &events[count];
    }
    Dp__ReplayEventsReply answer = DP__REPLAY_EVENTS_REPLY__INIT;
    answer.events = pointers;
    answer.n_events = count;
    answer.latest_seq = LATEST_SEQ;
    answer.next_seq = count ? pointers[count - 1]->seq + 1 : LATEST_SEQ + 1;
    zlist_append(replies,
                 ts_stub_reply(request->request_id, DP__CODE__CODE_OK, NULL, &answer.base));
    dp_message_free((ProtobufCMessage **)&replay);
}

static void s_publish(uint64_t seq)
{
    char id[24];
    Dp__Event event;
    s_event_init(&event, seq, id, sizeof id);
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&event.base, &size);
    assert_non_null(packed);
    zmsg_t *message = zmsg_new();
    zmsg_addstr(message, event.type);
    zmsg_addmem(message, packed, size);
    free(packed);
    assert_int_equal(zmsg_send(&message, s_pub), 0);
}

static void s_publish_heartbeat(uint64_t latest_seq)
{
    Dp__Heartbeat beat = DP__HEARTBEAT__INIT;
    beat.latest_seq = latest_seq;
    beat.at = "2026-01-01T00:00:00Z";
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&beat.base, &size);
    assert_non_null(packed);
    zmsg_t *message = zmsg_new();
    zmsg_addstr(message, "heartbeat");
    zmsg_addmem(message, packed, size);
    free(packed);
    assert_int_equal(zmsg_send(&message, s_pub), 0);
}

/* The next event must be this seq. */
static void s_expect_next_at(dp_follower_t *follower, uint64_t seq, const char *file, int line)
{
    Dp__Event *event = dp_follower_next(follower, EVENT_WAIT_MS);
    if (!event)
        fail_msg("%s:%d: no event; expected seq %llu", file, line, (unsigned long long)seq);
    if (event->seq != seq)
        fail_msg("%s:%d: seq %llu; expected %llu", file, line, (unsigned long long)event->seq,
                 (unsigned long long)seq);
    char id[24];
    snprintf(id, sizeof id, "a%llu", (unsigned long long)seq);
    assert_string_equal(event->aggregate_id, id);
    dp_message_free((ProtobufCMessage **)&event);
}
#define s_expect_next(follower, seq) s_expect_next_at(follower, seq, __FILE__, __LINE__)

/* Nothing more within a short wait. */
static void s_expect_nothing(dp_follower_t *follower)
{
    Dp__Event *event = dp_follower_next(follower, 200);
    if (event)
        fail_msg("unexpected event seq %llu", (unsigned long long)event->seq);
}

/* A follower from the next live event, once the subscription is in force:
   seq 1 is published until it arrives (later copies are duplicates). */
static dp_follower_t *s_follow_from_live(void)
{
    dp_follower_t *follower =
        dp_follower_new(s_pub_endpoint, ts_stub_endpoint(s_stub), TOPIC_PREFIX, 0);
    assert_non_null(follower);
    int64_t deadline = zclock_mono() + JOIN_WAIT_MS;
    Dp__Event *first = NULL;
    while (!first && zclock_mono() < deadline) {
        s_publish(1);
        first = dp_follower_next(follower, 50);
    }
    if (!first)
        fail_msg("the follower never received seq 1");
    assert_int_equal(first->seq, 1);
    dp_message_free((ProtobufCMessage **)&first);
    return follower;
}

static int s_setup(void **state)
{
    atomic_store(&s_replays, 0);
    atomic_store(&s_last_from, 0);
    atomic_store(&s_bad_prefix, 0);
    return 0;
}

static void test_live_events_come_in_order_without_replay(void **state)
{
    dp_follower_t *follower = s_follow_from_live();
    s_publish(2);
    s_publish(3);
    s_expect_next(follower, 2);
    s_expect_next(follower, 3);
    assert_int_equal(dp_follower_expected(follower), 4);
    assert_int_equal(dp_follower_repaired(follower), 0);
    assert_int_equal(atomic_load(&s_replays), 0);
    dp_follower_destroy(&follower);
}

/* 1, 2, then 4: seq 3 comes by replay (one request, from 3), before 4. */
static void test_skipped_seq_is_repaired_by_replay(void **state)
{
    dp_follower_t *follower = s_follow_from_live();
    s_publish(2);
    s_expect_next(follower, 2);
    s_publish(4);
    s_expect_next(follower, 3);
    s_expect_next(follower, 4);
    assert_int_equal(dp_follower_repaired(follower), 1);
    assert_int_equal(atomic_load(&s_replays), 1);
    assert_int_equal(atomic_load(&s_last_from), 3);
    assert_int_equal(atomic_load(&s_bad_prefix), 0);
    assert_int_equal(dp_follower_expected(follower), 5);
    /* Duplicates of what was given, live, are dropped. */
    s_publish(3);
    s_publish(4);
    s_publish(5);
    s_expect_next(follower, 5);
    s_expect_nothing(follower);
    assert_int_equal(atomic_load(&s_replays), 1);
    dp_follower_destroy(&follower);
}

/* An idle follower sees in a heartbeat that it missed 2 to 6. */
static void test_heartbeat_ahead_is_repaired_by_replay(void **state)
{
    dp_follower_t *follower = s_follow_from_live();
    s_publish_heartbeat(6);
    for (uint64_t seq = 2; seq <= 6; seq++)
        s_expect_next(follower, seq);
    assert_int_equal(dp_follower_repaired(follower), 5);
    assert_int_equal(atomic_load(&s_replays), 1);
    assert_int_equal(atomic_load(&s_last_from), 2);
    /* A heartbeat that is not ahead asks for nothing. */
    s_publish_heartbeat(6);
    s_expect_nothing(follower);
    assert_int_equal(atomic_load(&s_replays), 1);
    dp_follower_destroy(&follower);
}

/* from_seq 8: 8, 9 and 10 replayed at the start, before any live event. */
static void test_start_from_a_seq_replays_from_it(void **state)
{
    dp_follower_t *follower =
        dp_follower_new(s_pub_endpoint, ts_stub_endpoint(s_stub), TOPIC_PREFIX, 8);
    assert_non_null(follower);
    assert_int_equal(atomic_load(&s_replays), 1);
    assert_int_equal(atomic_load(&s_last_from), 8);
    s_expect_next(follower, 8);
    s_expect_next(follower, 9);
    s_expect_next(follower, 10);
    assert_int_equal(dp_follower_repaired(follower), 3);
    assert_int_equal(dp_follower_expected(follower), 11);
    dp_follower_destroy(&follower);
}

static void test_payload_types_by_event_type(void **state)
{
    assert_ptr_equal(dp_event_payload_type("partner.contact_added"),
                     &dp__contact_event__descriptor);
    assert_ptr_equal(dp_event_payload_type("partner.joined"), &dp__partner_event__descriptor);
    assert_ptr_equal(dp_event_payload_type("enquiry.rule_added"),
                     &dp__intake_reference_event__descriptor);
    assert_ptr_equal(dp_event_payload_type("enquiry.received"), &dp__enquiry_event__descriptor);
    assert_null(dp_event_payload_type("nothing.known"));
}

int main(void)
{
    s_stub = ts_stub_new(s_answer, NULL);
    s_pub = zsock_new_pub("tcp://127.0.0.1:*");
    if (!s_pub) {
        fprintf(stderr, "FATAL: cannot bind a PUB socket\n");
        return 1;
    }
    s_pub_endpoint = zsock_last_endpoint(s_pub);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_live_events_come_in_order_without_replay, s_setup),
        cmocka_unit_test_setup(test_skipped_seq_is_repaired_by_replay, s_setup),
        cmocka_unit_test_setup(test_heartbeat_ahead_is_repaired_by_replay, s_setup),
        cmocka_unit_test_setup(test_start_from_a_seq_replays_from_it, s_setup),
        cmocka_unit_test(test_payload_types_by_event_type),
    };
    int failed = cmocka_run_group_tests_name("dp_events", tests, NULL, NULL);
    free(s_pub_endpoint);
    zsock_destroy(&s_pub);
    ts_stub_destroy(&s_stub);
    return failed;
}
