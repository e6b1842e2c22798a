/* The relay: outbox rows of committed transactions become notify.event rows
   numbered 1, 2, 3, ... with no gap and each row exactly once, whatever the
   order in which the writers commit; rolled-back rows never appear; with two
   relays on one database only the holder of the lock relays, and the other
   takes over when it stops. Writers are libpq sessions as dp_registry and
   dp_intake, so the test decides what commits when. */
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

enum {
    ROLLBACKS = 1000,
    RELAY_WAIT_MS = 20000, /* a relay turn takes milliseconds; this is the give-up point */
    LIVE_WAIT_MS = 10000,  /* for events on a SUB */
    WRITERS = 8,           /* sessions committing in shuffled order; the last two are intake */
    INTAKE_WRITERS = 2,
    ROUNDS = 60,
    STANDBY_ROUNDS = 40,
    STANDBY_WRITERS = 3,
    TAKEOVER_ROWS = 50
};

static const char *const relay_settings[] = {"DP_NOTIFY_POLL_MS", "100", NULL};

static tn_notify_t *s_relay(void)
{
    tn_notify_t *notify = tn_notify_start(ts_database_url(db, TS_ROLE_NOTIFY), relay_settings);
    assert_non_null(notify);
    return notify;
}

static long long s_count_type(const char *event_type)
{
    const char *params[] = {event_type};
    return ts_query_long(admin, "SELECT count(*) FROM notify.event WHERE event_type = $1", 1,
                         params);
}

static long long s_origin_id_of(const char *event_type, const char *aggregate_id)
{
    const char *params[] = {event_type, aggregate_id};
    return ts_query_long(admin,
                         "SELECT origin_id FROM notify.event WHERE event_type = $1"
                         " AND aggregate_id = $2",
                         2, params);
}

/* ---- rollbacks ------------------------------------------------------------------ */

static void test_rolled_back_transactions_produce_no_event(void **state)
{
    tn_notify_t *notify = s_relay();
    PGconn *registry = tn_connect(ts_database_url(db, TS_ROLE_REGISTRY));
    PGconn *intake = tn_connect(ts_database_url(db, TS_ROLE_INTAKE));
    long long before = tn_event_count(admin);

    for (int i = 0; i < ROLLBACKS; i++) {
        bool to_intake = i % 4 == 3;
        PGconn *conn = to_intake ? intake : registry;
        tn_exec(conn, "BEGIN");
        tn_outbox_insert(conn, to_intake ? "intake" : "registry", "relay.rolled_back", "rolled", i,
                         1, "rolled back", 11);
        tn_exec(conn, "ROLLBACK");
    }
    /* One committed row after them: once it is relayed, the relay has looked
       at the outboxes after every rollback. */
    tn_outbox_insert(registry, "registry", "relay.marker", "marker", 1, 1, "m", 1);
    long long seq = tn_wait_seq_of(admin, "relay.marker", "marker-1", RELAY_WAIT_MS);

    assert_int_equal(seq, before + 1);
    assert_int_equal(s_count_type("relay.rolled_back"), 0);
    tn_assert_sequence(admin, before + 1);
    /* The rollbacks used up identity values of the outbox; the sequence has no hole for them. */
    assert_true(s_origin_id_of("relay.marker", "marker-1") > ROLLBACKS * 3 / 4);

    PQfinish(intake);
    PQfinish(registry);
    tn_notify_stop(&notify);
}

/* ---- commit order ------------------------------------------------------------------ */

static void test_later_id_committed_first_is_relayed_first_and_the_earlier_follows(void **state)
{
    tn_notify_t *notify = s_relay();
    PGconn *first = tn_connect(ts_database_url(db, TS_ROLE_REGISTRY));
    PGconn *second = tn_connect(ts_database_url(db, TS_ROLE_REGISTRY));
    long long before = tn_event_count(admin);

    tn_exec(first, "BEGIN");
    tn_outbox_insert(first, "registry", "relay.order", "early", 1, 1, "e", 1);
    tn_exec(second, "BEGIN");
    tn_outbox_insert(second, "registry", "relay.order", "late", 1, 1, "l", 1);
    tn_exec(second, "COMMIT");
    /* The later id is relayed while the earlier one is still uncommitted. */
    long long late_seq = tn_wait_seq_of(admin, "relay.order", "late-1", RELAY_WAIT_MS);
    assert_int_equal(late_seq, before + 1);
    assert_int_equal(tn_seq_of(admin, "relay.order", "early-1"), 0);

    tn_exec(first, "COMMIT");
    long long early_seq = tn_wait_seq_of(admin, "relay.order", "early-1", RELAY_WAIT_MS);
    assert_int_equal(early_seq, before + 2);
    assert_true(s_origin_id_of("relay.order", "early-1") < s_origin_id_of("relay.order", "late-1"));
    tn_assert_sequence(admin, before + 2);

    PQfinish(second);
    PQfinish(first);
    tn_notify_stop(&notify);
}

/* Shuffles order[0..count) (Fisher-Yates with rand, seeded by the caller). */
static void s_shuffle(int *order, int count)
{
    for (int i = 0; i < count; i++)
        order[i] = i;
    for (int i = count - 1; i > 0; i--) {
        int j = rand() % (i + 1);
        int kept = order[i];
        order[i] = order[j];
        order[j] = kept;
    }
}

/* Appends text to a growing array literal "{a,b,...}". */
static void s_append_id(char **array, size_t *length, const char *id)
{
    size_t extra = strlen(id) + 2;
    *array = realloc(*array, *length + extra + 2);
    assert_non_null(*array);
    *length += (size_t)sprintf(*array + *length, "%s%s", *length > 1 ? "," : "", id);
}

static void test_concurrent_writers_committing_out_of_order_give_a_gap_free_sequence(void **state)
{
    tn_notify_t *notify = s_relay();
    PGconn *writers[WRITERS];
    for (int w = 0; w < WRITERS; w++)
        writers[w] = tn_connect(
            ts_database_url(db, w >= WRITERS - INTAKE_WRITERS ? TS_ROLE_INTAKE : TS_ROLE_REGISTRY));
    long long before = tn_event_count(admin);
    srand(20261128);
    long long committed = 0, rolled_back = 0;
    char *expected = strdup("{");
    size_t expected_length = 1;

    for (int round = 0; round < ROUNDS; round++) {
        int rows[WRITERS], order[WRITERS];
        char tags[WRITERS][32];
        /* Every writer opens a transaction and writes; identities are taken
           in writer order, commits happen in a shuffled order, while the
           relay keeps running. */
        for (int w = 0; w < WRITERS; w++) {
            rows[w] = 1 + rand() % 3;
            snprintf(tags[w], sizeof tags[w], "w%d-r%d", w, round);
            tn_exec(writers[w], "BEGIN");
            tn_outbox_insert(writers[w], w >= WRITERS - INTAKE_WRITERS ? "intake" : "registry",
                             "relay.writers", tags[w], 1, rows[w], tags[w], strlen(tags[w]));
        }
        s_shuffle(order, WRITERS);
        for (int k = 0; k < WRITERS; k++) {
            int w = order[k];
            if (rand() % 7 == 0) {
                tn_exec(writers[w], "ROLLBACK");
                rolled_back += rows[w];
                continue;
            }
            tn_exec(writers[w], "COMMIT");
            committed += rows[w];
            for (int r = 1; r <= rows[w]; r++) {
                char id[48];
                snprintf(id, sizeof id, "%s-%d", tags[w], r);
                s_append_id(&expected, &expected_length, id);
            }
        }
    }
    strcat(expected, "}");
    assert_true(rolled_back > 0);

    long long seen = tn_wait_event_count(admin, before + committed, RELAY_WAIT_MS);
    assert_int_equal(seen, before + committed);
    tn_assert_sequence(admin, before + committed);
    /* Exactly the committed rows: as many as committed, all different, none
       outside the committed set (so no rolled-back row). */
    const char *params[] = {expected};
    assert_int_equal(s_count_type("relay.writers"), committed);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(DISTINCT aggregate_id) FROM notify.event"
                                   " WHERE event_type = 'relay.writers'",
                                   0, NULL),
                     committed);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(*) FROM notify.event WHERE event_type ="
                                   " 'relay.writers' AND aggregate_id <> ALL ($1::text[])",
                                   1, params),
                     0);
    /* Both outboxes took part. */
    assert_true(ts_query_long(admin,
                              "SELECT count(*) FROM notify.event WHERE event_type ="
                              " 'relay.writers' AND origin = 'intake'",
                              0, NULL) > 0);

    free(expected);
    for (int w = 0; w < WRITERS; w++)
        PQfinish(writers[w]);
    tn_notify_stop(&notify);
}

/* ---- a standby beside the active relay ---------------------------------------------- */

/* Reads events from both SUBs until `count` arrived in all; counts them per
   socket and checks that each socket's seqs are consecutive from `first`. */
static void s_collect(zsock_t *pair[2], long long count, long long first, long long got[2])
{
    zpoller_t *poller = zpoller_new(pair[0], pair[1], NULL);
    assert_non_null(poller);
    long long next[2] = {first, first};
    got[0] = got[1] = 0;
    int64_t deadline = zclock_mono() + LIVE_WAIT_MS;
    while (got[0] + got[1] < count && zclock_mono() < deadline) {
        void *which = zpoller_wait(poller, (int)(deadline - zclock_mono()));
        if (!which)
            break;
        int index = which == pair[0] ? 0 : 1;
        tn_live_t live;
        if (!tn_receive_live(pair[index], 0, &live))
            continue;
        if (live.event) {
            assert_int_equal(live.event->seq, next[index]);
            next[index]++;
            got[index]++;
        }
        tn_live_free(&live);
    }
    zpoller_destroy(&poller);
}

/* Fails when an event arrives on sub before a heartbeat reporting latest >=
   seq: a relay publishes what it relayed before its next heartbeat, so a
   standby that relayed anything up to seq would show it here first. */
static void s_assert_published_nothing_up_to(zsock_t *sub, long long seq)
{
    int64_t deadline = zclock_mono() + LIVE_WAIT_MS;
    while (zclock_mono() < deadline) {
        tn_live_t live;
        if (!tn_receive_live(sub, (int)(deadline - zclock_mono()), &live))
            break;
        if (live.event) {
            long long published = (long long)live.event->seq;
            tn_live_free(&live);
            fail_msg("the standby published event %lld", published);
        }
        bool caught_up = (long long)live.heartbeat->latest_seq >= seq;
        tn_live_free(&live);
        if (caught_up)
            return;
    }
    fail_msg("no heartbeat reporting seq %lld on the standby", seq);
}

/* Two relays and a SUB on each, stopped by the teardown whatever happens. */
static tn_notify_t *relays[2];
static zsock_t *subs[2];

static int s_stop_relays(void **state)
{
    for (int i = 0; i < 2; i++) {
        zsock_destroy(&subs[i]);
        tn_notify_stop(&relays[i]);
    }
    return 0;
}

static void test_standby_relays_nothing_until_the_active_stops_then_takes_over(void **state)
{
    relays[0] = s_relay();
    relays[1] = s_relay();
    assert_true(tn_wait_relay_active(admin, RELAY_WAIT_MS));
    const char *topics[] = {"relay.", NULL};
    subs[0] = tn_subscribe(tn_notify_pub_endpoint(relays[0]), topics);
    subs[1] = tn_subscribe(tn_notify_pub_endpoint(relays[1]), topics);
    long long before = tn_event_count(admin);

    PGconn *writers[STANDBY_WRITERS];
    for (int w = 0; w < STANDBY_WRITERS; w++)
        writers[w] = tn_connect(ts_database_url(db, TS_ROLE_REGISTRY));
    for (int round = 0; round < STANDBY_ROUNDS; round++) {
        for (int w = 0; w < STANDBY_WRITERS; w++) {
            char tag[32];
            snprintf(tag, sizeof tag, "s%d-r%d", w, round);
            tn_exec(writers[w], "BEGIN");
            tn_outbox_insert(writers[w], "registry", "relay.standby", tag, 1, 2, "s", 1);
        }
        for (int w = STANDBY_WRITERS - 1; w >= 0; w--)
            tn_exec(writers[w], "COMMIT");
    }
    long long written = STANDBY_ROUNDS * STANDBY_WRITERS * 2;
    assert_int_equal(tn_wait_event_count(admin, before + written, RELAY_WAIT_MS), before + written);
    tn_assert_sequence(admin, before + written);

    long long got[2];
    s_collect(subs, written, before + 1, got);
    assert_int_equal(got[0] + got[1], written);
    int active = got[0] ? 0 : 1, standby = 1 - active;
    assert_int_equal(got[active], written);
    s_assert_published_nothing_up_to(subs[standby], before + written);
    assert_int_equal(tn_relay_lock_holders(admin), 1);

    /* The active one stops: its session ends, the lock is free, and the
       standby relays what comes next. */
    tn_notify_stop(&relays[active]);
    tn_outbox_insert(writers[0], "registry", "relay.takeover", "takeover", 1, TAKEOVER_ROWS, "t",
                     1);
    long long total = before + written + TAKEOVER_ROWS;
    assert_int_equal(tn_wait_event_count(admin, total, RELAY_WAIT_MS), total);
    tn_assert_sequence(admin, total);
    assert_int_equal(s_count_type("relay.takeover"), TAKEOVER_ROWS);
    for (long long seq = before + written + 1; seq <= total; seq++) {
        Dp__Event *event = tn_next_event(subs[standby], LIVE_WAIT_MS);
        if (!event)
            fail_msg("the standby did not publish event %lld after taking over", seq);
        assert_int_equal(event->seq, seq);
        assert_string_equal(event->type, "relay.takeover");
        ts_free(&event);
    }
    assert_int_equal(tn_relay_lock_holders(admin), 1);

    for (int w = 0; w < STANDBY_WRITERS; w++)
        PQfinish(writers[w]);
}

int main(void)
{
    tn_open("notify_relay", &db, &admin, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rolled_back_transactions_produce_no_event),
        cmocka_unit_test(test_later_id_committed_first_is_relayed_first_and_the_earlier_follows),
        cmocka_unit_test(test_concurrent_writers_committing_out_of_order_give_a_gap_free_sequence),
        cmocka_unit_test_teardown(
            test_standby_relays_nothing_until_the_active_stops_then_takes_over, s_stop_relays),
    };
    int failed = cmocka_run_group_tests_name("notify relay", tests, NULL, NULL);
    tn_close(&db, &admin, NULL);
    return failed;
}
