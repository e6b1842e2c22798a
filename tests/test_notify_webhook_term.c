/* A webhook whose receiver never answers (a listener that never accepts:
   the connection waits in its backlog), with DP_WEBHOOK_TIMEOUT_MS at 30 s,
   holds back neither another webhook (added after it, so later in the
   worker's order) nor the service: the other receiver gets the same event
   within 5 s, and stopping notify ($TERM to its actor, what SIGTERM leads
   to) takes less than 2 s while the first POST is still in flight. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify_support.h"

static ts_database_t *db;
static PGconn *admin;
static PGconn *writer;

enum {
    RELAY_WAIT_MS = 20000,
    CONNECT_WAIT_MS = 15000,
    OTHER_WEBHOOK_MS = 5000,
    STOP_BOUND_MS = 2000
};

static void test_term_is_answered_within_2_s_while_a_receiver_hangs(void **state)
{
    (void)state;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    assert_true(listener >= 0);
    assert_int_equal(bind(listener, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal(listen(listener, 16), 0);
    assert_int_equal(getsockname(listener, (struct sockaddr *)&address, &length), 0);

    const char *const settings[] = {
        "DP_NOTIFY_POLL_MS", "100", "DP_WEBHOOK_TIMEOUT_MS", "30000", "DP_WEBHOOK_ALLOW_HOSTS",
        "127.0.0.1",         NULL};
    tn_notify_t *notify = tn_notify_start(ts_database_url(db, TS_ROLE_NOTIFY), settings);
    assert_non_null(notify);
    assert_true(tn_wait_relay_active(admin, RELAY_WAIT_MS));
    char url[100];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hangs", ntohs(address.sin_port));
    Dp__AddWebhookRequest add = DP__ADD_WEBHOOK_REQUEST__INIT;
    add.url = url;
    add.topic_prefix = "term.";
    add.secret = "a-test-secret-of-32-bytes-length";
    dp_status_t status;
    Dp__AddWebhookReply *added = tn_add_webhook(notify, &add, &status);
    ts_assert_ok(&status);
    ts_free(&added);
    tn_http_receiver_t *other = tn_http_receiver_new(NULL, 0, 200);
    add.url = (char *)tn_http_receiver_url(other);
    added = tn_add_webhook(notify, &add, &status);
    ts_assert_ok(&status);
    ts_free(&added);

    tn_outbox_insert(writer, "registry", "term.hangs", "hangs", 1, 1, "x", 1);
    assert_true(tn_wait_seq_of(admin, "term.hangs", "hangs-1", RELAY_WAIT_MS) > 0);
    /* The POST is in flight once its connection waits to be accepted. */
    struct pollfd item = {.fd = listener, .events = POLLIN};
    assert_int_equal(poll(&item, 1, CONNECT_WAIT_MS), 1);
    /* The other webhook is not held behind the one that hangs. */
    assert_int_equal(tn_http_receiver_wait(other, 1, OTHER_WEBHOOK_MS), 1);
    usleep(200 * 1000);

    int64_t started = zclock_mono();
    tn_notify_stop(&notify);
    int64_t took = zclock_mono() - started;
    fprintf(stderr, "notify stopped in %lld ms with a webhook POST in flight\n", (long long)took);
    assert_true(took < STOP_BOUND_MS);
    tn_http_receiver_destroy(&other);
    close(listener);
}

int main(void)
{
    tn_open("notify_webhook_term", &db, &admin, &writer);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term_is_answered_within_2_s_while_a_receiver_hangs),
    };
    int failed = cmocka_run_group_tests_name("notify webhook term", tests, NULL, NULL);
    tn_close(&db, &admin, &writer);
    return failed;
}
