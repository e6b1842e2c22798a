/* The intake never waits on the registry: with the registry absent it
   acknowledges submissions at its normal speed, stores them for partner
   matching later, matches them (with an enquiry.partner_matched event
   each, ids only) as soon as a registry appears, and stops within 2 s of
   $TERM whether the registry is absent or accepts requests and never
   answers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_client.h"
#include "dp_config.h"
#include "dp_server.h"
#include "intake_server.h"
#include "intake_support.h"

enum {
    SUBMISSIONS = 10,
    FAST_MS = 500,        /* "well under a second" for one acknowledgement */
    TERM_MS = 2000,       /* $TERM honoured within this */
    MATCH_WAIT_MS = 30000 /* the partner actor's backoff is at most 10 s */
};

#define DOMAIN "acme-without-registry.example"

/* An intake actor started by the test itself (ti_intake_start waits for
   a partner map, which is the point here not to have). */
typedef struct {
    dp_config_t *config; /* must outlive the actor */
    zactor_t *actor;     /* the intake */
    char *endpoint;      /* where it listens */
    dp_client_t *client; /* the test's client */
} own_intake_t;

static ts_database_t *database;
static PGconn *admin;
static own_intake_t absent;      /* the intake whose registry is absent at first */
static char registry_at[64];     /* where that intake looks for the registry */
static int64_t ids[SUBMISSIONS]; /* what it acknowledged */

static void s_start(own_intake_t *self, const char *registry_endpoint)
{
    memset(self, 0, sizeof *self);
    self->config =
        dp_config_new("dp-intake", "intake under test", intake_settings, intake_setting_count);
    assert_non_null(self->config);
    const char *settings[] = {"DP_DATABASE_URL",
                              ts_database_url(database, TS_ROLE_INTAKE),
                              "DP_INTAKE_ENDPOINT",
                              "tcp://127.0.0.1:*",
                              "DP_REGISTRY_ENDPOINT",
                              registry_endpoint,
                              "DP_NOTIFY_PUB_ENDPOINT",
                              "",
                              "DP_METRICS_PORT",
                              "-1",
                              "DP_INTAKE_SENDER_LIMIT_PER_HOUR",
                              "0",
                              NULL};
    for (const char *const *pair = settings; *pair; pair += 2)
        assert_int_equal(dp_config_set(self->config, pair[0], pair[1]), 0);
    self->actor = dp_server_start(intake_actor, self->config, &self->endpoint);
    assert_non_null(self->actor);
    self->client = dp_client_new(self->endpoint, 15000, 1);
    assert_non_null(self->client);
}

/* Stops the intake and returns how long $TERM took, in ms. */
static int64_t s_stop(own_intake_t *self)
{
    dp_client_destroy(&self->client);
    int64_t started = zclock_mono();
    zactor_destroy(&self->actor);
    int64_t took = zclock_mono() - started;
    zstr_free(&self->endpoint);
    dp_config_destroy(&self->config);
    return took;
}

/* Submits a fresh enquiry from DOMAIN; returns its id and how long the
   acknowledgement took. */
static int64_t s_submit(own_intake_t *self, const char *tag, int64_t *took_ms)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    snprintf(form.email, sizeof form.email, "%s-%lld@" DOMAIN, tag,
             (long long)zclock_usecs() % 1000000);
    Dp__SubmitEnquiryReply *reply = NULL;
    dp_status_t status;
    int64_t started = zclock_mono();
    int called =
        dp_client_call(self->client, &form.request.base, &dp__submit_enquiry_reply__descriptor,
                       (ProtobufCMessage **)&reply, &status);
    *took_ms = zclock_mono() - started;
    if (called != 0 || status.code != DP__CODE__CODE_OK)
        fail_msg("submission refused or unanswered: %s %s", dp_code_name(status.code),
                 status.message);
    int64_t id = reply->enquiry_id;
    dp_message_free((ProtobufCMessage **)&reply);
    return id;
}

static void test_submissions_are_acknowledged_at_once_without_a_registry(void **state)
{
    int64_t slowest = 0;
    for (int i = 0; i < SUBMISSIONS; i++) {
        int64_t took = 0;
        ids[i] = s_submit(&absent, "no-registry", &took);
        print_message("submission %d acknowledged in %lld ms\n", i + 1, (long long)took);
        if (took > slowest)
            slowest = took;
    }
    if (slowest >= FAST_MS)
        fail_msg("the slowest of %d acknowledgements took %lld ms with the registry absent",
                 SUBMISSIONS, (long long)slowest);
    /* Stored, and waiting for a partner map. */
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE partner_pending"
                                   " AND partner_id IS NULL",
                                   0, NULL),
                     SUBMISSIONS);
}

static void test_they_are_matched_with_an_event_when_the_registry_appears(void **state)
{
    long long last = ti_outbox_last_id(admin);
    /* The partner is made first, through a registry elsewhere, so that the
       first map the intake gets already holds it. */
    ts_registry_t *maker = ts_registry_start(ts_database_url(database, TS_ROLE_REGISTRY), NULL);
    assert_non_null(maker);
    int64_t partner = ti_create_partner_with_domain(maker, "acme-later", DOMAIN);
    ts_registry_stop(&maker);
    const char *at[] = {"DP_REGISTRY_ENDPOINT", registry_at, NULL};
    ts_registry_t *registry = ts_registry_start(ts_database_url(database, TS_ROLE_REGISTRY), at);
    assert_non_null(registry);

    int64_t deadline = zclock_mono() + MATCH_WAIT_MS;
    long long matched = 0;
    while (zclock_mono() < deadline &&
           (matched = ts_query_long(admin,
                                    "SELECT count(*) FROM intake.enquiry WHERE NOT partner_pending"
                                    " AND partner_slug = 'acme-later'",
                                    0, NULL)) < SUBMISSIONS)
        zclock_sleep(100);
    if (matched != SUBMISSIONS)
        fail_msg("%lld of %d enquiries matched within %d ms of the registry appearing", matched,
                 SUBMISSIONS, MATCH_WAIT_MS);

    /* One enquiry.partner_matched per enquiry, with ids only. */
    size_t count = 0;
    ts_event_t **events = ti_events_after(admin, last, &count);
    assert_int_equal(count, SUBMISSIONS);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(events[i]->event_type, "enquiry.partner_matched");
        assert_string_equal(events[i]->aggregate_type, "enquiry");
        Dp__EnquiryEvent *event = ti_enquiry_event(events[i]);
        assert_int_equal(event->partner_id, partner);
        assert_string_equal(events[i]->aggregate_id, ts_id_text(event->enquiry_id));
        bool known = false;
        for (int k = 0; k < SUBMISSIONS; k++)
            known = known || ids[k] == event->enquiry_id;
        assert_true(known);
        assert_string_equal(event->source, "");
        assert_int_equal(event->n_areas, 0);
        assert_false(ts_event_mentions(events[i], DOMAIN));
        ts_free(&event);
    }
    ti_events_free(&events, count);

    /* From now on, matched at intake. */
    int64_t took = 0;
    const char *params[] = {ts_id_text(s_submit(&absent, "with-registry", &took))};
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE id = $1::bigint"
                                   " AND NOT partner_pending AND partner_slug = 'acme-later'",
                                   1, params),
                     1);
    /* The registry stays up while this intake stops (teardown). */
    ts_registry_stop(&registry);
}

static void test_term_is_honoured_within_two_seconds_while_the_registry_is_unreachable(void **state)
{
    /* A registry that takes requests and never answers (the worst case: a
       connection that looks alive), and one that is not there at all. */
    zsock_t *silent = zsock_new(ZMQ_ROUTER);
    assert_non_null(silent);
    int port = zsock_bind(silent, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    char silent_at[64], nowhere_at[64];
    snprintf(silent_at, sizeof silent_at, "tcp://127.0.0.1:%d", port);
    snprintf(nowhere_at, sizeof nowhere_at, "tcp://127.0.0.1:%d", ts_free_port());
    const char *endpoints[] = {silent_at, nowhere_at};
    for (size_t i = 0; i < 2; i++) {
        own_intake_t intake;
        s_start(&intake, endpoints[i]);
        int64_t took = 0;
        s_submit(&intake, "term", &took);
        assert_true(took < FAST_MS);
        /* The partner actor's question is in flight by now. */
        zclock_sleep(300);
        int64_t stop_ms = s_stop(&intake);
        print_message("$TERM took %lld ms (registry %s)\n", (long long)stop_ms,
                      i ? "absent" : "silent");
        if (stop_ms >= TERM_MS)
            fail_msg("$TERM took %lld ms with the registry %s", (long long)stop_ms,
                     i ? "absent" : "silent");
    }
    zsock_destroy(&silent);
}

static void test_a_malformed_registry_endpoint_still_stops_the_start(void **state)
{
    /* Not waiting on the registry is no licence to run without a way to it. */
    dp_config_t *config =
        dp_config_new("dp-intake", "intake under test", intake_settings, intake_setting_count);
    assert_non_null(config);
    assert_int_equal(
        dp_config_set(config, "DP_DATABASE_URL", ts_database_url(database, TS_ROLE_INTAKE)), 0);
    assert_int_equal(dp_config_set(config, "DP_INTAKE_ENDPOINT", "tcp://127.0.0.1:*"), 0);
    assert_int_equal(dp_config_set(config, "DP_REGISTRY_ENDPOINT", "no-such-transport"), 0);
    assert_int_equal(dp_config_set(config, "DP_METRICS_PORT", "-1"), 0);
    int64_t started = zclock_mono();
    zactor_t *actor = dp_server_start(intake_actor, config, NULL);
    int64_t took = zclock_mono() - started;
    if (actor) {
        zactor_destroy(&actor);
        fail_msg("the intake started with DP_REGISTRY_ENDPOINT=no-such-transport");
    }
    assert_true(took < TERM_MS);
    dp_config_destroy(&config);
}

int main(void)
{
    database = ts_database_new("intake_without_registry");
    admin = ts_connect_or_exit(ts_database_url(database, TS_ROLE_ADMIN));
    snprintf(registry_at, sizeof registry_at, "tcp://127.0.0.1:%d", ts_free_port());
    s_start(&absent, registry_at);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submissions_are_acknowledged_at_once_without_a_registry),
        cmocka_unit_test(test_they_are_matched_with_an_event_when_the_registry_appears),
        cmocka_unit_test(
            test_term_is_honoured_within_two_seconds_while_the_registry_is_unreachable),
        cmocka_unit_test(test_a_malformed_registry_endpoint_still_stops_the_start),
    };
    int failed = cmocka_run_group_tests_name("intake without registry", tests, NULL, NULL);
    s_stop(&absent);
    PQfinish(admin);
    ts_database_destroy(&database);
    return failed;
}
