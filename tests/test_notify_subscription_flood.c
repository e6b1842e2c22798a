/* Subscriptions cannot make notify hold memory (the dp-notify executable,
   its resident set read from /proc): one client sends 5,000 subscriptions
   of 2 KB (as the issue found: +64 MB that stayed), and notify grows by
   less than FLOOD_BOUND_KB, since a subscription frame over 74 bytes drops
   that connection; another sends 5,000 distinct subscriptions of the
   longest topic accepted (64 bytes) and leaves: within a few seconds
   notify is back within LEFT_BOUND_KB of where it started. */
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

enum {
    READY_MS = 20000,
    SUBSCRIPTIONS = 5000,
    LONG_TOPIC_BYTES = 2048,
    SHORT_TOPIC_BYTES = 64,
    SETTLE_MS = 3000,
    RETURN_MS = 15000,
    FLOOD_BOUND_KB = 8 * 1024,
    LEFT_BOUND_KB = 4 * 1024
};

static ts_database_t *db;
static pid_t notify_pid = -1;
static char router_endpoint[64];
static char pub_endpoint[64];

static long s_rss_kb(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)notify_pid);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, file))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(file);
    assert_true(kb > 0);
    return kb;
}

static void s_start_notify(void)
{
    const char *extra[] = {"DP_METRICS_PORT=-1", "DP_LOG_LEVEL=warning", NULL};
    tn_start_notify(&notify_pid, db, router_endpoint, pub_endpoint, extra, READY_MS);
}

/* A SUB socket that sends `count` distinct subscriptions of `bytes` bytes
   (made of [a-z0-9], as a valid topic would be), with no limit on its
   queue so that none is dropped on the way. */
static zsock_t *s_flood(int count, size_t bytes)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    assert_non_null(sub);
    zsock_set_sndhwm(sub, 0);
    assert_int_equal(zsock_connect(sub, "%s", pub_endpoint), 0);
    zclock_sleep(200);
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char *topic = malloc(bytes + 1);
    assert_non_null(topic);
    for (int i = 0; i < count; i++) {
        /* Distinct from the first byte on: every one is a path of its own in the trie. */
        for (size_t j = 0; j < bytes; j++)
            topic[j] = alphabet[(size_t)(i * 7 + (int)j * 13 + (i / 36) * (int)j) % 36];
        snprintf(topic, 9, "%08u", (unsigned)i % 100000000u);
        topic[8] = 'x';
        topic[bytes] = 0;
        zsock_set_subscribe(sub, topic);
    }
    free(topic);
    return sub;
}

static void test_subscriptions_of_2_kb_are_refused(void **state)
{
    (void)state;
    long before = s_rss_kb();
    zsock_t *sub = s_flood(SUBSCRIPTIONS, LONG_TOPIC_BYTES);
    zclock_sleep(SETTLE_MS);
    long during = s_rss_kb();
    fprintf(stderr, "5,000 subscriptions of 2 KB: notify from %ld to %ld kB\n", before, during);
    assert_true(during - before < FLOOD_BOUND_KB);
    zsock_destroy(&sub);
}

static void test_memory_of_subscriptions_returns_after_the_peer_leaves(void **state)
{
    (void)state;
    long before = s_rss_kb();
    zsock_t *sub = s_flood(SUBSCRIPTIONS, SHORT_TOPIC_BYTES);
    zclock_sleep(SETTLE_MS);
    long during = s_rss_kb();
    zsock_destroy(&sub);
    int64_t deadline = zclock_mono() + RETURN_MS;
    long after = s_rss_kb();
    while (after - before >= LEFT_BOUND_KB && zclock_mono() < deadline) {
        zclock_sleep(250);
        after = s_rss_kb();
    }
    fprintf(stderr,
            "5,000 subscriptions of 64 bytes: notify from %ld to %ld kB, %ld kB after the peer "
            "left\n",
            before, during, after);
    assert_true(after - before < LEFT_BOUND_KB);
}

int main(void)
{
    db = ts_database_new("notify_subscription_flood");
    snprintf(router_endpoint, sizeof router_endpoint, "tcp://127.0.0.1:%d", tn_free_port());
    snprintf(pub_endpoint, sizeof pub_endpoint, "tcp://127.0.0.1:%d", tn_free_port());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscriptions_of_2_kb_are_refused),
        cmocka_unit_test(test_memory_of_subscriptions_returns_after_the_peer_leaves),
    };
    s_start_notify();
    int failed = cmocka_run_group_tests_name("notify subscription flood", tests, NULL, NULL);
    if (notify_pid > 0) {
        kill(notify_pid, SIGTERM);
        if (tn_wait_pid(notify_pid, 10000) < 0)
            kill(notify_pid, SIGKILL);
    }
    ts_database_destroy(&db);
    return failed;
}
