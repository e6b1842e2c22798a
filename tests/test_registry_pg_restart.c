/* PostgreSQL stops and starts under the running registry: requests get
   UNAVAILABLE meanwhile, health says so, and the same requests succeed again
   after the restart without restarting the service.

   This stops the shared test cluster ($DP_TEST_PG_CTL), so ctest runs it
   alone (RUN_SERIAL). The cluster is started again whatever happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_fixture_t *fx;
static bool s_cluster_stopped; /* true between our stop and start */

enum { PG_CTL_TIMEOUT_MS = 60000, RECOVERY_ATTEMPTS = 10 };

static void s_pg_ctl(const char *action)
{
    char *command = zsys_sprintf("%s %s", ts_require_env("DP_TEST_PG_CTL"), action);
    ts_process_t process = ts_run_shell(command, PG_CTL_TIMEOUT_MS);
    if (process.exit_code != 0)
        print_error("%s failed (exit %d):\n%s%s\n", command, process.exit_code, process.out,
                    process.err);
    int exit_code = process.exit_code;
    ts_process_free(&process);
    zstr_free(&command);
    assert_int_equal(exit_code, 0);
}

static void s_stop_cluster(void)
{
    s_cluster_stopped = true;
    s_pg_ctl("stop");
}

static void s_start_cluster(void)
{
    s_pg_ctl("start");
    s_cluster_stopped = false;
    /* The tests' own admin connection died with the server. */
    PQreset(fx->admin);
    assert_int_equal(PQstatus(fx->admin), CONNECTION_OK);
}

/* Whatever a test did, leave the shared cluster running. */
static int s_restart_if_stopped(void **state)
{
    if (s_cluster_stopped)
        s_start_cluster();
    return 0;
}

static Dp__HealthReply *s_health(void)
{
    Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
    dp_status_t status;
    Dp__HealthReply *reply = ts_health(fx->registry, &request, &status);
    ts_assert_ok(&status);
    return reply;
}

static Dp__GetPartnerReply *s_get(const char *slug, dp_status_t *status)
{
    TS_REF_SLUG(ref, slug);
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    return ts_get_partner(fx->registry, &request, status);
}

static void test_reads_are_unavailable_while_down_and_recover(void **state)
{
    char slug[64];
    snprintf(slug, sizeof slug, "%s", ts_unique("survivor"));
    int64_t id = ts_create_partner_id(fx->registry, slug, "Survivor", "2019-01-01");
    dp_status_t status;
    Dp__GetPartnerReply *reply = s_get(slug, &status);
    ts_assert_ok(&status);
    ts_free(&reply);

    s_stop_cluster();
    reply = s_get(slug, &status);
    ts_assert_status(&status, UNAVAILABLE, NULL);
    assert_null(reply);
    /* The service itself still answers, and says the database is away. */
    Dp__HealthReply *health = s_health();
    assert_false(health->database_ok);
    assert_string_equal(health->service, "registry");
    ts_free(&health);
    /* Asking again while it is down gives the same answer, not a hang. */
    reply = s_get(slug, &status);
    ts_assert_status(&status, UNAVAILABLE, NULL);

    s_start_cluster();
    int attempts = 0;
    do {
        ts_free(&reply);
        reply = s_get(slug, &status);
        attempts++;
    } while (status.code == DP__CODE__CODE_UNAVAILABLE && attempts < RECOVERY_ATTEMPTS);
    ts_assert_ok(&status);
    assert_int_equal(reply->partner->id, id);
    assert_string_equal(reply->partner->name, "Survivor");
    ts_free(&reply);

    health = s_health();
    assert_true(health->database_ok);
    ts_free(&health);
}

static void test_writes_are_unavailable_while_down_and_leave_nothing(void **state)
{
    char slug[64];
    snprintf(slug, sizeof slug, "%s", ts_unique("never-written"));
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.slug = slug;
    create.name = "Never Written";
    create.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create.joined_on = "2020-01-01";
    long long last = ts_outbox_last_id(fx->admin);

    s_stop_cluster();
    dp_status_t status;
    Dp__CreatePartnerReply *created = ts_create_partner(fx->registry, &create, &status);
    ts_assert_status(&status, UNAVAILABLE, NULL);
    assert_null(created);
    s_start_cluster();

    /* The refused write left nothing behind. */
    Dp__GetPartnerReply *reply = NULL;
    int attempts = 0;
    do {
        ts_free(&reply);
        reply = s_get(slug, &status);
        attempts++;
    } while (status.code == DP__CODE__CODE_UNAVAILABLE && attempts < RECOVERY_ATTEMPTS);
    ts_assert_status(&status, NOT_FOUND, "partner");
    assert_int_equal(ts_outbox_count_after(fx->admin, last), 0);

    /* And the same write now succeeds on the same service. */
    created = ts_create_partner(fx->registry, &create, &status);
    ts_assert_ok(&status);
    assert_string_equal(created->partner->slug, slug);
    ts_free(&created);
    ts_event_t *event = ts_expect_one_event(fx->admin, last, "partner.joined", NULL);
    ts_event_free(&event);
}

int main(void)
{
    ts_require_env("DP_TEST_PG_CTL");
    fx = ts_fixture_new("pg_restart", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reads_are_unavailable_while_down_and_recover,
                                  s_restart_if_stopped),
        cmocka_unit_test_teardown(test_writes_are_unavailable_while_down_and_leave_nothing,
                                  s_restart_if_stopped),
    };
    int failed =
        cmocka_run_group_tests_name("registry across a PostgreSQL restart", tests, NULL, NULL);
    ts_fixture_destroy(&fx);
    return failed;
}
