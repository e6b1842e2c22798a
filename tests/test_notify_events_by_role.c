/* The live event stream by role (CURVE on, a key folder made here): a
   feeder key's SUB socket receives nothing, neither heartbeats nor events
   (its handshake is refused), while consumer, staff and service keys
   receive both; a consumer key removed from clients/ while it is
   subscribed stops receiving within a few seconds, and another consumer
   that stays allowed is receiving again afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify_support.h"
#include "security_support.h"

enum { RELAY_WAIT_MS = 20000, ARRIVAL_MS = 5000, SILENCE_MS = 2500, CUT_OFF_MS = 8000 };

static ts_database_t *database;
static PGconn *admin;
static PGconn *writer;
static tk_keys_t *keys;
static tk_service_t *notify;
static char *pub_endpoint;

/* A SUB socket with the named client's certificate, subscribed to everything. */
static zsock_t *s_subscriber(const char *name)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    assert_non_null(sub);
    zcert_t *client = zcert_load(tk_keys_secret_path(keys, name));
    assert_non_null(client);
    char *server_path = zsys_sprintf("%s/services/notify.key", tk_keys_dir(keys));
    zcert_t *server = zcert_load(server_path);
    zstr_free(&server_path);
    assert_non_null(server);
    zcert_apply(client, sub);
    zsock_set_curve_serverkey(sub, zcert_public_txt(server));
    zcert_destroy(&client);
    zcert_destroy(&server);
    zsock_set_subscribe(sub, "");
    zsock_set_rcvtimeo(sub, 100);
    assert_int_equal(zsock_connect(sub, "%s", pub_endpoint), 0);
    return sub;
}

/* Messages (heartbeats and events) received within ms. */
static int s_count_within(zsock_t *sub, int ms)
{
    int count = 0;
    int64_t until = zclock_mono() + ms;
    while (zclock_mono() < until) {
        zmsg_t *message = zmsg_recv(sub);
        if (message)
            count++;
        zmsg_destroy(&message);
    }
    return count;
}

/* True as soon as anything arrives within ms. */
static bool s_any_within(zsock_t *sub, int ms)
{
    int64_t until = zclock_mono() + ms;
    while (zclock_mono() < until) {
        zmsg_t *message = zmsg_recv(sub);
        bool got = message != NULL;
        zmsg_destroy(&message);
        if (got)
            return true;
    }
    return false;
}

/* Waits up to ms for an event of this type (heartbeats skipped). */
static bool s_event_arrives(zsock_t *sub, const char *type, int ms)
{
    int64_t until = zclock_mono() + ms;
    while (zclock_mono() < until) {
        zmsg_t *message = zmsg_recv(sub);
        char *topic = message ? zmsg_popstr(message) : NULL;
        bool found = topic && strcmp(topic, type) == 0;
        zstr_free(&topic);
        zmsg_destroy(&message);
        if (found)
            return true;
    }
    return false;
}

static void s_emit(const char *type, const char *tag)
{
    tn_emit_one(writer, admin, type, tag, "x", RELAY_WAIT_MS);
}

static void test_only_reading_roles_receive_events(void **state)
{
    (void)state;
    zsock_t *feeder = s_subscriber("feeder-client");
    zsock_t *consumer = s_subscriber("consumer-client");
    zsock_t *staff = s_subscriber("staff-client");
    zsock_t *service = s_subscriber("service-client");
    /* Heartbeats come every second to whoever was let in. */
    assert_true(s_any_within(consumer, ARRIVAL_MS));
    s_emit("role.secret", "secret");
    assert_true(s_event_arrives(staff, "role.secret", ARRIVAL_MS));
    assert_true(s_event_arrives(service, "role.secret", ARRIVAL_MS));
    /* The feeder got nothing at all, heartbeats included. */
    assert_int_equal(s_count_within(feeder, SILENCE_MS), 0);
    zsock_destroy(&feeder);
    zsock_destroy(&consumer);
    zsock_destroy(&staff);
    zsock_destroy(&service);
}

static void test_a_revoked_subscriber_is_cut_off(void **state)
{
    (void)state;
    zsock_t *revoked = s_subscriber("consumer-b");
    zsock_t *staying = s_subscriber("consumer-client");
    assert_true(s_any_within(revoked, ARRIVAL_MS));
    s_emit("role.before", "before");
    assert_true(s_event_arrives(revoked, "role.before", ARRIVAL_MS));

    tk_keys_revoke(keys, "consumer-b");
    /* Within a few seconds nothing more arrives: not a heartbeat in SILENCE_MS. */
    int64_t started = zclock_mono();
    bool cut_off = false;
    while (!cut_off && zclock_mono() - started < CUT_OFF_MS + SILENCE_MS)
        cut_off = s_count_within(revoked, SILENCE_MS) == 0;
    fprintf(stderr, "the revoked subscriber heard nothing from %lld ms after its revocation on\n",
            (long long)(zclock_mono() - started - SILENCE_MS));
    assert_true(cut_off);
    s_emit("role.after", "after");
    assert_int_equal(s_count_within(revoked, SILENCE_MS), 0);
    /* The consumer still allowed reconnected by itself and receives again. */
    assert_true(s_event_arrives(staying, "role.after", ARRIVAL_MS) ||
                s_any_within(staying, ARRIVAL_MS));
    zsock_destroy(&revoked);
    zsock_destroy(&staying);
}

int main(void)
{
    tn_open("notify_events_by_role", &database, &admin, &writer);
    keys = tk_keys_new();
    tk_keys_add_client(keys, "consumer-b", "consumer", true);
    const char *const settings[] = {"DP_CURVE_DIR", tk_keys_dir(keys), "DP_NOTIFY_POLL_MS", "100",
                                    NULL};
    notify = tk_service_start(TK_NOTIFY, ts_database_url(database, TS_ROLE_NOTIFY), settings);
    pub_endpoint = notify ? tk_service_ask(notify, "PUB_ENDPOINT") : NULL;
    if (!pub_endpoint || !tn_wait_relay_active(admin, RELAY_WAIT_MS)) {
        fprintf(stderr, "FATAL: notify did not start with CURVE\n");
        exit(1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_reading_roles_receive_events),
        cmocka_unit_test(test_a_revoked_subscriber_is_cut_off),
    };
    int failed = cmocka_run_group_tests_name("notify events by role", tests, NULL, NULL);
    free(pub_endpoint);
    tk_service_stop(&notify);
    tk_keys_destroy(&keys);
    tn_close(&database, &admin, &writer);
    return failed;
}
