/* The event stream as a subscriber sees it: live events on the PUB socket
   (topic = type, a dp.Event whose payload is the events.proto message of
   its type), heartbeats, replay from a seq with a topic prefix and a limit,
   and the C follower (dp_events.h): events in order, gaps repaired by
   replay after a stalled subscriber lost events to the PUB's high-water
   mark, and an idle follower brought up to date by a heartbeat.

   The stalled subscriber is this program run again as a child
   (--follower ...): the test stops it with SIGSTOP while a burst of large
   events overflows what the PUB and the kernel buffer for it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <cmocka.h>

#include "dp_events.h"
#include "notify_support.h"

static ts_fixture_t *fx;
static tn_notify_t *notify;
static PGconn *writer;
static pid_t child_pid = -1;

enum {
    RELAY_WAIT_MS = 30000,
    LIVE_WAIT_MS = 10000,
    PUB_HWM = 100,         /* the smallest the service accepts: drops come early */
    STALL_MS = 3000,       /* how long the stalled subscriber stays stopped */
    BURST = 2000,          /* events published while it is stopped ... */
    BURST_PAYLOAD = 16384, /* ... of this size: 32 MB, far past HWM and socket buffers */
    BURST_ROWS_PER_INSERT = 200,
    TAIL = 20, /* events after it resumes: they arrive live, after the gap */
    CHILD_READY_MS = 15000,
    CHILD_RESULT_MS = 90000,
    CHILD_DEADLINE_MS = 120000, /* the child gives up on its own after this */
    REPLAY_ROWS = 15            /* of each of two types, interleaved */
};

/* ---- helpers --------------------------------------------------------------------- */

/* "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" */
static void s_assert_rfc3339_utc(const char *text)
{
    int year, month, day, hour, minute, second;
    char tail = 0;
    size_t length = strlen(text);
    if (length < 20 || text[length - 1] != 'Z' || text[10] != 'T' ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &month, &day, &hour, &minute, &second,
               &tail) != 7 ||
        (tail != '.' && tail != 'Z') || month < 1 || month > 12 || day < 1 || day > 31)
        fail_msg("'%s' is not an RFC 3339 UTC time", text);
}

/* Waits until the follower's socket holds something (a heartbeat, as no
   event is due): the subscription is then in force. Consumes it. */
static void s_await_follower_subscription(dp_follower_t *follower)
{
    zmq_pollitem_t item = {zsock_resolve(dp_follower_socket(follower)), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, LIVE_WAIT_MS) != 1)
        fail_msg("no heartbeat reached the follower within %d ms", LIVE_WAIT_MS);
    Dp__Event *none = dp_follower_next(follower, 0);
    assert_null(none);
}

/* Writes `count` rows of one type, one INSERT each (so they interleave
   with other writes), and waits until they are relayed. */
static void s_emit(const char *event_type, const char *tag, int first, int count)
{
    long long before = tn_event_count(fx->admin);
    for (int i = 0; i < count; i++)
        tn_outbox_insert(writer, "registry", event_type, tag, first + i, 1, tag, strlen(tag));
    assert_int_equal(tn_wait_event_count(fx->admin, before + count, RELAY_WAIT_MS), before + count);
}

/* ---- live events ------------------------------------------------------------------ */

static void test_partner_created_arrives_live_as_partner_joined(void **state)
{
    const char *topics[] = {"partner.", NULL};
    zsock_t *sub = tn_subscribe(tn_notify_pub_endpoint(notify), topics);
    /* A reference event first: not subscribed, so it never arrives. */
    ts_make_area(fx->registry, "stream-area", "Stream Area");
    char slug[64];
    snprintf(slug, sizeof slug, "%s", ts_unique("streamed"));
    Dp__CreatePartnerReply *created =
        ts_new_partner(fx->registry, slug, "Streamed Partner", "2021-03-04", DAY);
    int64_t id = created->partner->id;
    ts_free(&created);

    Dp__Event *event = tn_next_event(sub, LIVE_WAIT_MS);
    if (!event)
        fail_msg("partner.joined did not arrive within %d ms", LIVE_WAIT_MS);
    assert_string_equal(event->type, "partner.joined");
    assert_string_equal(event->aggregate_type, "partner");
    assert_string_equal(event->aggregate_id, ts_id_text(id));
    assert_string_equal(event->origin, "registry");
    assert_int_equal(event->seq, tn_seq_of(fx->admin, "partner.joined", ts_id_text(id)));
    long long area_seq = tn_seq_of(fx->admin, "reference.area_added", "stream-area");
    assert_true(area_seq > 0 && area_seq < (long long)event->seq);
    s_assert_rfc3339_utc(event->occurred_at);

    assert_ptr_equal(dp_event_payload_type(event->type), &dp__partner_event__descriptor);
    Dp__PartnerEvent *payload = (Dp__PartnerEvent *)dp_message_decode(
        &dp__partner_event__descriptor, event->payload.data, event->payload.len, 1 << 20);
    assert_non_null(payload);
    assert_int_equal(payload->partner_id, id);
    assert_string_equal(payload->slug, slug);
    assert_string_equal(payload->name, "Streamed Partner");
    assert_string_equal(payload->kind, "company");
    assert_string_equal(payload->status, "active");
    assert_string_equal(payload->effective_on, "2021-03-04");
    assert_int_equal(payload->version, 1);
    ts_free(&payload);
    ts_free(&event);
    zsock_destroy(&sub);
}

static void test_heartbeat_reports_the_latest_seq(void **state)
{
    zsock_t *sub = tn_subscribe(tn_notify_pub_endpoint(notify), NULL);
    long long latest = tn_latest_seq(fx->admin);
    assert_true(latest > 0);
    tn_live_t live;
    assert_true(tn_receive_live(sub, LIVE_WAIT_MS, &live));
    assert_non_null(live.heartbeat);
    assert_int_equal(live.heartbeat->latest_seq, latest);
    tn_live_free(&live);
    zsock_destroy(&sub);
}

/* ---- replay ------------------------------------------------------------------------ */

static Dp__ReplayEventsReply *s_replay(uint64_t from, const char *prefix, uint32_t limit)
{
    Dp__ReplayEventsRequest request = DP__REPLAY_EVENTS_REQUEST__INIT;
    request.from_seq = from;
    request.topic_prefix = (char *)prefix;
    request.limit = limit;
    dp_status_t status;
    Dp__ReplayEventsReply *reply = tn_replay_events(notify, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    return reply;
}

static void s_expect_replay_refused(uint64_t from, const char *prefix, uint32_t limit,
                                    const char *field)
{
    Dp__ReplayEventsRequest request = DP__REPLAY_EVENTS_REQUEST__INIT;
    request.from_seq = from;
    request.topic_prefix = (char *)prefix;
    request.limit = limit;
    dp_status_t status;
    Dp__ReplayEventsReply *reply = tn_replay_events(notify, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_INVALID_ARGUMENT, field, __FILE__, __LINE__);
    assert_null(reply);
}

static void test_replay_from_a_seq_with_a_topic_prefix_and_a_limit(void **state)
{
    for (int i = 1; i <= REPLAY_ROWS; i++) {
        s_emit("replay.alpha", "alpha", i, 1);
        s_emit("replay.beta", "beta", i, 1);
    }
    PGresult *result = ts_query(fx->admin,
                                "SELECT seq FROM notify.event WHERE event_type = 'replay.alpha'"
                                " ORDER BY seq",
                                0, NULL);
    assert_int_equal(PQntuples(result), REPLAY_ROWS);
    uint64_t alpha[REPLAY_ROWS];
    for (int i = 0; i < REPLAY_ROWS; i++)
        alpha[i] = strtoull(PQgetvalue(result, i, 0), NULL, 10);
    PQclear(result);
    uint64_t latest = (uint64_t)tn_latest_seq(fx->admin);

    /* From the 4th alpha, 5 alpha events. */
    Dp__ReplayEventsReply *page = s_replay(alpha[3], "replay.alpha", 5);
    assert_int_equal(page->n_events, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(page->events[i]->seq, alpha[3 + i]);
        assert_string_equal(page->events[i]->type, "replay.alpha");
        assert_int_equal(page->events[i]->payload.len, 5);
        assert_memory_equal(page->events[i]->payload.data, "alpha", 5);
    }
    assert_int_equal(page->latest_seq, latest);
    assert_int_equal(page->next_seq, alpha[7] + 1);

    /* Following next_seq gives the rest of the alpha events, then nothing. */
    size_t index = 8;
    uint64_t next = page->next_seq;
    ts_free(&page);
    for (int pages = 0; pages < 10 && next <= latest; pages++) {
        page = s_replay(next, "replay.alpha", 5);
        for (size_t i = 0; i < page->n_events; i++) {
            assert_true(index < REPLAY_ROWS);
            assert_int_equal(page->events[i]->seq, alpha[index++]);
        }
        assert_true(page->next_seq > next);
        next = page->next_seq;
        ts_free(&page);
    }
    assert_int_equal(index, REPLAY_ROWS);
    assert_int_equal(next, latest + 1);

    /* Without a prefix: consecutive seqs, whatever their type. */
    page = s_replay(alpha[3], "", 3);
    assert_int_equal(page->n_events, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(page->events[i]->seq, alpha[3] + i);
    ts_free(&page);

    /* Limit 0 means 100; from 0 means from the start. */
    page = s_replay(0, "", 0);
    assert_int_equal(page->n_events, latest < 100 ? latest : 100);
    assert_int_equal(page->events[0]->seq, 1);
    ts_free(&page);

    /* Past the end: nothing, and where to ask next. */
    page = s_replay(latest + 1, "", 10);
    assert_int_equal(page->n_events, 0);
    assert_int_equal(page->next_seq, latest + 1);
    ts_free(&page);

    char long_prefix[102];
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    long_prefix[sizeof long_prefix - 1] = 0;
    s_expect_replay_refused(1, "", 1001, "limit");
    s_expect_replay_refused(1, "replay alpha", 10, "topic_prefix");
    s_expect_replay_refused(1, long_prefix, 10, "topic_prefix");
    s_expect_replay_refused(1, "replay.\x01", 10, "topic_prefix");
}

/* ---- the follower ------------------------------------------------------------------ */

static void test_follower_gives_live_events_in_order(void **state)
{
    uint64_t first = (uint64_t)tn_latest_seq(fx->admin) + 1;
    dp_follower_t *follower =
        dp_follower_new(tn_notify_pub_endpoint(notify), tn_notify_endpoint(notify), "", first);
    assert_non_null(follower);
    s_await_follower_subscription(follower);
    assert_int_equal(dp_follower_expected(follower), first);

    enum { COUNT = 50 };
    for (int i = 0; i < COUNT; i += 10)
        tn_outbox_insert(writer, "registry", "follow.live", "live", i + 1, 10, "f", 1);
    for (uint64_t seq = first; seq < first + COUNT; seq++) {
        Dp__Event *event = dp_follower_next(follower, LIVE_WAIT_MS);
        if (!event)
            fail_msg("the follower gave nothing for seq %llu", (unsigned long long)seq);
        assert_int_equal(event->seq, seq);
        assert_string_equal(event->type, "follow.live");
        ts_free(&event);
    }
    /* Subscribed before the writes, nothing was lost: all came live. */
    assert_int_equal(dp_follower_repaired(follower), 0);
    assert_int_equal(dp_follower_expected(follower), first + COUNT);
    dp_follower_destroy(&follower);
    assert_null(follower);
}

static void test_follower_with_a_prefix_replays_history_then_follows_live(void **state)
{
    long long history = ts_query_long(fx->admin,
                                      "SELECT count(*) FROM notify.event"
                                      " WHERE starts_with(event_type, 'partner.')",
                                      0, NULL);
    assert_true(history > 0);
    dp_follower_t *follower =
        dp_follower_new(tn_notify_pub_endpoint(notify), tn_notify_endpoint(notify), "partner.", 1);
    assert_non_null(follower);
    uint64_t previous = 0;
    for (long long i = 0; i < history; i++) {
        Dp__Event *event = dp_follower_next(follower, LIVE_WAIT_MS);
        assert_non_null(event);
        assert_true(event->seq > previous);
        assert_true(strncmp(event->type, "partner.", 8) == 0);
        previous = event->seq;
        ts_free(&event);
    }
    assert_int_equal(dp_follower_repaired(follower), history);
    s_await_follower_subscription(follower);

    /* Then live: a new partner, while other events pass by unseen. */
    s_emit("follow.other", "other", 1, 3);
    int64_t id =
        ts_create_partner_id(fx->registry, ts_unique("followed"), "Followed Partner", "2022-01-01");
    Dp__Event *event = dp_follower_next(follower, LIVE_WAIT_MS);
    assert_non_null(event);
    assert_string_equal(event->type, "partner.joined");
    assert_string_equal(event->aggregate_id, ts_id_text(id));
    ts_free(&event);
    dp_follower_destroy(&follower);
}

static tn_notify_t *standby;            /* a second notify, stopped by the teardown */
static dp_follower_t *standby_follower; /* following it */

static int s_stop_standby(void **state)
{
    dp_follower_destroy(&standby_follower);
    tn_notify_stop(&standby);
    return 0;
}

static void test_idle_follower_notices_missing_tail_events_by_heartbeat(void **state)
{
    /* A second notify on the same database is a standby: it publishes
       heartbeats but never the events, which the active one relays. A
       follower of the standby learns of them only from its heartbeat. */
    const char *const settings[] = {"DP_NOTIFY_POLL_MS", "100", NULL};
    standby = tn_notify_start(ts_database_url(fx->database, TS_ROLE_NOTIFY), settings);
    assert_non_null(standby);
    assert_int_equal(tn_relay_lock_holders(fx->admin), 1);
    uint64_t first = (uint64_t)tn_latest_seq(fx->admin) + 1;
    standby_follower =
        dp_follower_new(tn_notify_pub_endpoint(standby), tn_notify_endpoint(standby), "", first);
    assert_non_null(standby_follower);
    s_await_follower_subscription(standby_follower);

    enum { COUNT = 5 };
    s_emit("follow.tail", "tail", 1, COUNT);
    for (uint64_t seq = first; seq < first + COUNT; seq++) {
        Dp__Event *event = dp_follower_next(standby_follower, LIVE_WAIT_MS);
        if (!event)
            fail_msg("the idle follower never learnt of seq %llu", (unsigned long long)seq);
        assert_int_equal(event->seq, seq);
        assert_string_equal(event->type, "follow.tail");
        ts_free(&event);
    }
    assert_int_equal(dp_follower_repaired(standby_follower), COUNT);
}

/* ---- a replay that fails half way --------------------------------------------------- */

/* A stand-in for the service's ROUTER, in a thread of its own: it answers
   ReplayEvents from an imaginary sequence 1..FAKE_LATEST, except that its
   second answer is UNAVAILABLE, as a service restarting would give. */
enum { FAKE_LATEST = 1503, FAKE_FAILED_ANSWER = 2 };

static void s_fake_replay_actor(zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new_router("tcp://127.0.0.1:*");
    char *endpoint = router ? zsock_last_endpoint(router) : NULL;
    zsock_signal(pipe, 0);
    zstr_send(pipe, endpoint ? endpoint : "");
    free(endpoint);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    for (int answers = 1; router && poller; answers++) {
        void *which = zpoller_wait(poller, -1);
        if (which != router)
            break; /* $TERM or interrupted */
        zmsg_t *message = zmsg_recv(router);
        zframe_t *identity = zmsg_pop(message);
        zframe_t *frame = zmsg_last(message);
        Dp__Request *envelope = (Dp__Request *)dp_message_decode(
            &dp__request__descriptor, zframe_data(frame), zframe_size(frame), 1 << 20);
        Dp__ReplayEventsRequest *request =
            envelope ? (Dp__ReplayEventsRequest *)dp_message_decode(
                           &dp__replay_events_request__descriptor, envelope->body.data,
                           envelope->body.len, 1 << 20)
                     : NULL;
        Dp__Status status = DP__STATUS__INIT;
        Dp__Reply reply = DP__REPLY__INIT;
        reply.request_id = envelope ? envelope->request_id : "";
        reply.status = &status;
        Dp__ReplayEventsReply page = DP__REPLAY_EVENTS_REPLY__INIT;
        Dp__Event *events = NULL, **pointers = NULL;
        unsigned char *body = NULL;
        if (!request || answers == FAKE_FAILED_ANSWER) {
            status.code = DP__CODE__CODE_UNAVAILABLE;
            status.message = "database unavailable: restarting";
            reply.type = "";
        } else {
            uint64_t from = request->from_seq ? request->from_seq : 1;
            uint64_t limit = request->limit ? request->limit : 100;
            size_t count = from > FAKE_LATEST ? 0 : (size_t)(FAKE_LATEST + 1 - from);
            if (count > limit)
                count = (size_t)limit;
            events = calloc(count ? count : 1, sizeof *events);
            pointers = calloc(count ? count : 1, sizeof *pointers);
            for (size_t i = 0; i < count; i++) {
                dp__event__init(&events[i]);
                events[i].seq = from + i;
                events[i].type = "fake.event";
                events[i].aggregate_type = "fake";
                events[i].aggregate_id = "1";
                events[i].occurred_at = "2026-01-01T00:00:00Z";
                events[i].origin = "registry";
                pointers[i] = &events[i];
            }
            page.events = pointers;
            page.n_events = count;
            page.latest_seq = FAKE_LATEST;
            page.next_seq = from + count;
            body = dp_message_pack(&page.base, &reply.body.len);
            reply.body.data = body;
            reply.type = (char *)dp__replay_events_reply__descriptor.name;
        }
        size_t size = 0;
        unsigned char *packed = dp_message_pack(&reply.base, &size);
        zmsg_t *answer = zmsg_new();
        zmsg_append(answer, &identity);
        zmsg_addmem(answer, NULL, 0);
        zmsg_addmem(answer, packed, size);
        zmsg_send(&answer, router);
        free(packed);
        free(body);
        free(events);
        free(pointers);
        dp_message_free((ProtobufCMessage **)&request);
        dp_message_free((ProtobufCMessage **)&envelope);
        zframe_destroy(&identity);
        zmsg_destroy(&message);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

static void s_publish_fake(zsock_t *pub, uint64_t seq)
{
    Dp__Event event = DP__EVENT__INIT;
    event.seq = seq;
    event.type = "fake.event";
    event.aggregate_type = "fake";
    event.aggregate_id = "1";
    event.occurred_at = "2026-01-01T00:00:00Z";
    event.origin = "registry";
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&event.base, &size);
    zmsg_t *message = zmsg_new();
    zmsg_addstr(message, "fake.event");
    zmsg_addmem(message, packed, size);
    zmsg_send(&message, pub);
    free(packed);
}

static zactor_t *fake_replay; /* stopped by the teardown */
static zsock_t *fake_pub;     /* likewise */
static dp_follower_t *fake_follower;

static int s_stop_fake(void **state)
{
    dp_follower_destroy(&fake_follower);
    zsock_destroy(&fake_pub);
    zactor_destroy(&fake_replay);
    return 0;
}

static void test_repair_interrupted_by_a_failed_replay_gives_no_event_twice(void **state)
{
    fake_replay = zactor_new(s_fake_replay_actor, NULL);
    assert_non_null(fake_replay);
    char *router_endpoint = zstr_recv(fake_replay);
    assert_non_null(router_endpoint);
    assert_true(strncmp(router_endpoint, "tcp://", 6) == 0);
    fake_pub = zsock_new_pub("tcp://127.0.0.1:*");
    assert_non_null(fake_pub);
    char *pub_endpoint = zsock_last_endpoint(fake_pub);
    fake_follower = dp_follower_new(pub_endpoint, router_endpoint, "", 0);
    zstr_free(&router_endpoint);
    zstr_free(&pub_endpoint);
    assert_non_null(fake_follower);

    /* Heartbeats until one arrives: the subscription is in force. Before its
       first event the follower ignores them. */
    Dp__Heartbeat beat = DP__HEARTBEAT__INIT;
    beat.at = "";
    size_t beat_size = 0;
    unsigned char *beat_packed = dp_message_pack(&beat.base, &beat_size);
    zmq_pollitem_t item = {zsock_resolve(dp_follower_socket(fake_follower)), 0, ZMQ_POLLIN, 0};
    int64_t deadline = zclock_mono() + LIVE_WAIT_MS;
    while (zmq_poll(&item, 1, 20) == 0 && zclock_mono() < deadline) {
        zmsg_t *message = zmsg_new();
        zmsg_addstr(message, "heartbeat");
        zmsg_addmem(message, beat_packed, beat_size);
        zmsg_send(&message, fake_pub);
    }
    free(beat_packed);
    assert_true(item.revents & ZMQ_POLLIN);

    /* Event 1 live; then 1502 and 1503: the first gap (2..1501) needs two
       replay pages, and the second page fails; the second gap repair
       succeeds. The follower must still give 2, 3, ... 1503, each once. */
    s_publish_fake(fake_pub, 1);
    s_publish_fake(fake_pub, FAKE_LATEST - 1);
    s_publish_fake(fake_pub, FAKE_LATEST);
    uint64_t expected = 1;
    while (expected <= FAKE_LATEST) {
        Dp__Event *event = dp_follower_next(fake_follower, LIVE_WAIT_MS);
        if (!event)
            fail_msg("the follower gave nothing after seq %llu", (unsigned long long)expected - 1);
        uint64_t seq = event->seq;
        ts_free(&event);
        if (seq != expected)
            fail_msg("the follower gave seq %llu after %llu (it gives replayed events again when "
                     "a repair fails half way)",
                     (unsigned long long)seq, (unsigned long long)expected - 1);
        expected++;
    }
    Dp__Event *extra = dp_follower_next(fake_follower, 0);
    if (extra) {
        uint64_t seq = extra->seq;
        ts_free(&extra);
        fail_msg("the follower gave seq %llu again after the last", (unsigned long long)seq);
    }
}

/* The child: follows from argv[4] until argv[5] events came (or its own
   deadline), then prints what it saw on one line. */
static int s_follower_child(int argc, char **argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (argc != 6) {
        printf("error usage: --follower PUB ROUTER FROM COUNT\n");
        return 2;
    }
    uint64_t from = strtoull(argv[4], NULL, 10);
    long long count = atoll(argv[5]);
    dp_follower_t *follower = dp_follower_new(argv[2], argv[3], "", from);
    if (!follower) {
        printf("error cannot follow %s\n", argv[2]);
        return 1;
    }
    zmq_pollitem_t item = {zsock_resolve(dp_follower_socket(follower)), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, CHILD_READY_MS) != 1) {
        printf("error no heartbeat\n");
        return 1;
    }
    Dp__Event *none = dp_follower_next(follower, 0);
    dp_message_free((ProtobufCMessage **)&none);
    printf("ready\n");
    fflush(stdout);

    long long got = 0;
    uint64_t first = 0, last = 0;
    int contiguous = 1;
    int64_t deadline = zclock_mono() + CHILD_DEADLINE_MS;
    while (got < count && zclock_mono() < deadline) {
        Dp__Event *event = dp_follower_next(follower, 1000);
        if (!event)
            continue;
        if (!got)
            first = event->seq;
        else if (event->seq != last + 1)
            contiguous = 0;
        last = event->seq;
        got++;
        dp_message_free((ProtobufCMessage **)&event);
    }
    printf("events %lld first %llu last %llu contiguous %d repaired %llu\n", got,
           (unsigned long long)first, (unsigned long long)last, contiguous,
           (unsigned long long)dp_follower_repaired(follower));
    fflush(stdout);
    dp_follower_destroy(&follower);
    return 0;
}

static void test_stalled_subscriber_recovers_every_event_in_order(void **state)
{
    long long before = tn_event_count(fx->admin);
    long long first = tn_latest_seq(fx->admin) + 1, total = BURST + TAIL;
    char first_text[24], total_text[24];
    snprintf(first_text, sizeof first_text, "%lld", first);
    snprintf(total_text, sizeof total_text, "%lld", total);
    const char *argv[] = {"/proc/self/exe",
                          "--follower",
                          tn_notify_pub_endpoint(notify),
                          tn_notify_endpoint(notify),
                          first_text,
                          total_text,
                          NULL};
    int out = -1;
    child_pid = tn_spawn(argv, NULL, &out);
    char *line = tn_read_line(out, CHILD_READY_MS);
    if (!line || strcmp(line, "ready") != 0)
        fail_msg("the follower child did not get ready: %s", line ? line : "(nothing)");
    free(line);

    assert_int_equal(kill(child_pid, SIGSTOP), 0);
    int64_t stopped_at = zclock_mono();
    unsigned char *payload = malloc(BURST_PAYLOAD);
    assert_non_null(payload);
    for (int i = 0; i < BURST_PAYLOAD; i++)
        payload[i] = (unsigned char)(i * 7);
    for (int i = 0; i < BURST; i += BURST_ROWS_PER_INSERT)
        tn_outbox_insert(writer, "registry", "stall.burst", "burst", i + 1, BURST_ROWS_PER_INSERT,
                         payload, BURST_PAYLOAD);
    free(payload);
    assert_int_equal(tn_wait_event_count(fx->admin, before + BURST, RELAY_WAIT_MS), before + BURST);
    /* The stall itself: the subscriber stays stopped this long in all. */
    int64_t left = STALL_MS - (zclock_mono() - stopped_at);
    if (left > 0)
        zclock_sleep((int)left);
    assert_int_equal(kill(child_pid, SIGCONT), 0);
    tn_outbox_insert(writer, "registry", "stall.tail", "tail", 1, TAIL, "t", 1);

    line = tn_read_line(out, CHILD_RESULT_MS);
    if (!line)
        fail_msg("the follower child reported nothing within %d ms", CHILD_RESULT_MS);
    long long got = 0;
    unsigned long long seen_first = 0, seen_last = 0, repaired = 0;
    int contiguous = 0;
    if (sscanf(line, "events %lld first %llu last %llu contiguous %d repaired %llu", &got,
               &seen_first, &seen_last, &contiguous, &repaired) != 5)
        fail_msg("the follower child said: %s", line);
    fprintf(stderr, "stalled follower: %s\n", line);
    free(line);
    close(out);
    assert_int_equal(tn_wait_pid(child_pid, CHILD_RESULT_MS), 0);
    child_pid = -1;

    assert_int_equal(got, total);
    assert_int_equal(seen_first, first);
    assert_int_equal(seen_last, first + total - 1);
    assert_int_equal(contiguous, 1);
    /* The PUB dropped what did not fit: those came by replay. */
    assert_true(repaired > 0);
}

static int s_teardown(void **state)
{
    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
        tn_wait_pid(child_pid, 10000);
        child_pid = -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--follower") == 0)
        return s_follower_child(argc, argv);
    fx = ts_fixture_new("notify_stream", NULL);
    char hwm[16];
    snprintf(hwm, sizeof hwm, "%d", PUB_HWM);
    const char *const settings[] = {"DP_NOTIFY_POLL_MS", "100", "DP_NOTIFY_PUB_HWM", hwm, NULL};
    notify = tn_notify_start(ts_database_url(fx->database, TS_ROLE_NOTIFY), settings);
    writer = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_REGISTRY));
    if (!notify || !tn_wait_relay_active(fx->admin, RELAY_WAIT_MS)) {
        fprintf(stderr, "FATAL: the notify service did not start relaying\n");
        exit(1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partner_created_arrives_live_as_partner_joined),
        cmocka_unit_test(test_heartbeat_reports_the_latest_seq),
        cmocka_unit_test(test_replay_from_a_seq_with_a_topic_prefix_and_a_limit),
        cmocka_unit_test(test_follower_gives_live_events_in_order),
        cmocka_unit_test(test_follower_with_a_prefix_replays_history_then_follows_live),
        cmocka_unit_test_teardown(test_idle_follower_notices_missing_tail_events_by_heartbeat,
                                  s_stop_standby),
        cmocka_unit_test_teardown(test_repair_interrupted_by_a_failed_replay_gives_no_event_twice,
                                  s_stop_fake),
        cmocka_unit_test_teardown(test_stalled_subscriber_recovers_every_event_in_order,
                                  s_teardown),
    };
    int failed = cmocka_run_group_tests_name("notify stream", tests, NULL, NULL);
    PQfinish(writer);
    tn_notify_stop(&notify);
    ts_fixture_destroy(&fx);
    return failed;
}
