/* The dp-notify executable killed with SIGKILL while a writer streams
   20,000 outbox rows, and started again each time: at the end notify.event
   holds exactly those rows, numbered 1..20000, each once. A relay
   transaction cut short by the kill is rolled back by PostgreSQL and its
   rows stay in the outbox for the next process. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_client.h"
#include "notify_support.h"

static ts_database_t *db;
static PGconn *admin;
static pid_t notify_pid = -1;
static char router_endpoint[64];
static char pub_endpoint[64];

enum {
    ROWS = 20000,
    BATCH = 100,         /* rows per writer transaction */
    KILLS = 3,           /* evenly spread over the stream */
    READY_MS = 20000,    /* for a started process to answer Health */
    PROGRESS_MS = 20000, /* for a process to relay its first rows */
    DRAIN_MS = 120000,   /* for the last process to relay everything */
    EXIT_MS = 15000      /* for SIGTERM to end the process */
};

/* Starts dp-notify on the fixed ports and waits until it answers Health
   with its database reachable. */
static void s_start_notify(void)
{
    /* Small relay turns, so that a kill finds one under way more often. */
    const char *extra[] = {"DP_NOTIFY_POLL_MS=100", "DP_NOTIFY_RELAY_BATCH=50", "DP_LOG_LEVEL=info",
                           NULL};
    tn_start_notify(&notify_pid, db, router_endpoint, pub_endpoint, extra, READY_MS);
}

static void s_kill_notify(void)
{
    assert_true(notify_pid > 0);
    assert_int_equal(kill(notify_pid, SIGKILL), 0);
    assert_int_equal(tn_wait_pid(notify_pid, EXIT_MS), 128 + SIGKILL);
    notify_pid = -1;
}

/* Makes the relay stop inside a transaction: with notify.event share-locked,
   its next relay statement (it runs one every poll) waits for the lock,
   holding the relay lock and whatever it read. Returns the session holding
   the share lock; COMMIT on it lets the statement go on. */
static PGconn *s_hold_relay_inside_a_transaction(void)
{
    PGconn *locker = tn_connect(ts_database_url(db, TS_ROLE_ADMIN));
    tn_exec(locker, "BEGIN");
    tn_exec(locker, "LOCK TABLE notify.event IN SHARE MODE");
    if (!tn_wait_value(admin,
                       "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND application_name = 'dp-notify-relay' AND wait_event_type = 'Lock'"
                       " AND state = 'active' AND xact_start IS NOT NULL",
                       0, NULL, 1, PROGRESS_MS))
        fail_msg("the relay did not reach its relay statement within %d ms", PROGRESS_MS);
    return locker;
}

static void test_relay_killed_during_a_stream_loses_and_repeats_nothing(void **state)
{
    static const char payload[] = "payload of a row written while the relay is killed";
    PGconn *writer = tn_connect(ts_database_url(db, TS_ROLE_REGISTRY));
    s_start_notify();
    long long relayed_at_start = 0;
    int kills = 0;
    const int batches = ROWS / BATCH, kill_every = batches / (KILLS + 1);

    for (int batch = 0; batch < batches; batch++) {
        tn_outbox_insert(writer, "registry", "kill.row", "row", batch * BATCH + 1, BATCH, payload,
                         sizeof payload - 1);
        if ((batch + 1) % kill_every != 0 || kills == KILLS)
            continue;
        /* Each process relays some of the stream before it is killed. */
        long long relayed = tn_wait_event_count(admin, relayed_at_start + 1, PROGRESS_MS);
        assert_true(relayed > relayed_at_start);
        /* The second kill hits a relay transaction under way for certain:
           PostgreSQL must roll it back and free the relay lock only then. */
        PGconn *locker = kills == 1 ? s_hold_relay_inside_a_transaction() : NULL;
        s_kill_notify();
        kills++;
        relayed_at_start = tn_event_count(admin);
        fprintf(stderr, "killed dp-notify%s with %lld of %d rows written relayed\n",
                locker ? " inside a relay transaction" : "", relayed_at_start, (batch + 1) * BATCH);
        s_start_notify();
        if (locker) {
            tn_exec(locker, "COMMIT");
            PQfinish(locker);
        }
    }
    assert_int_equal(kills, KILLS);

    long long relayed = tn_wait_event_count(admin, ROWS, DRAIN_MS);
    assert_int_equal(relayed, ROWS);
    tn_assert_sequence(admin, ROWS);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(DISTINCT aggregate_id) FROM notify.event"
                                   " WHERE event_type = 'kill.row'",
                                   0, NULL),
                     ROWS);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(*) FROM generate_series(1, 20000) n"
                                   " WHERE NOT EXISTS (SELECT 1 FROM notify.event e"
                                   "   WHERE e.aggregate_id = 'row-' || n)",
                                   0, NULL),
                     0);

    /* The last process still stops cleanly on SIGTERM. */
    assert_int_equal(kill(notify_pid, SIGTERM), 0);
    assert_int_equal(tn_wait_pid(notify_pid, EXIT_MS), 0);
    notify_pid = -1;
    PQfinish(writer);
}

/* A failed assertion leaves the process running: end it. */
static int s_teardown(void **state)
{
    if (notify_pid > 0) {
        kill(notify_pid, SIGKILL);
        tn_wait_pid(notify_pid, EXIT_MS);
        notify_pid = -1;
    }
    return 0;
}

int main(void)
{
    tn_open("notify_kill", &db, &admin, NULL);
    int router_port = tn_free_port(), pub_port = tn_free_port();
    while (pub_port == router_port)
        pub_port = tn_free_port();
    snprintf(router_endpoint, sizeof router_endpoint, "tcp://127.0.0.1:%d", router_port);
    snprintf(pub_endpoint, sizeof pub_endpoint, "tcp://127.0.0.1:%d", pub_port);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_relay_killed_during_a_stream_loses_and_repeats_nothing,
                                  s_teardown),
    };
    int failed = cmocka_run_group_tests_name("notify kill", tests, NULL, NULL);
    tn_close(&db, &admin, NULL);
    return failed;
}
