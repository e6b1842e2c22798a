/* A service started while PostgreSQL is not there waits for it without
   holding anyone: for each of the four services, started against a port
   where nothing listens with DP_DB_WAIT_MS at 30 s, the start returns at
   once (the wait happens after the actor has signalled), a request sent
   meanwhile stays queued rather than refused, and $TERM is obeyed within
   2 s although the wait has most of its 30 s left. */
#include <arpa/inet.h>
#include <netinet/in.h>
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

#include "security_support.h"
#include "test_wire.h"

enum { START_MS = 2000, TERM_MS = 2000, QUEUED_MS = 1000 };

static char nowhere_url[128]; /* a PostgreSQL URL on a port nobody listens on */

static void s_check(tk_kind_t kind)
{
    const char *settings[] = {"DP_DB_WAIT_MS", "30000", "DP_REGISTRY_ENDPOINT", "tcp://127.0.0.1:1",
                              NULL};
    /* Only the intake knows DP_REGISTRY_ENDPOINT. */
    if (kind != TK_INTAKE)
        settings[2] = NULL;
    int64_t started = zclock_mono();
    tk_service_t *service = tk_service_start(kind, nowhere_url, settings);
    int64_t start_ms = zclock_mono() - started;
    assert_non_null(service);
    print_message("%s: started in %lld ms\n", tk_kind_name(kind), (long long)start_ms);
    if (start_ms >= START_MS)
        fail_msg("the %s took %lld ms to start: it waited for PostgreSQL before signalling",
                 tk_kind_name(kind), (long long)start_ms);

    /* A health request meanwhile: queued until the wait ends, not answered
       (the database is not there yet) and not lost. */
    tk_client_t *client = tk_client_new(tk_service_endpoint(service), NULL, kind, NULL);
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    Dp__Reply *reply = tk_exchange(client, &health.base, QUEUED_MS);
    if (reply) {
        ts_free(&reply);
        fail_msg("the %s answered while it was still waiting for PostgreSQL", tk_kind_name(kind));
    }

    started = zclock_mono();
    tk_service_stop(&service);
    int64_t stop_ms = zclock_mono() - started;
    print_message("%s: $TERM obeyed in %lld ms\n", tk_kind_name(kind), (long long)stop_ms);
    tk_client_destroy(&client);
    if (stop_ms >= TERM_MS)
        fail_msg("the %s took %lld ms to obey $TERM while waiting for PostgreSQL",
                 tk_kind_name(kind), (long long)stop_ms);
}

static void test_registry_waits_for_the_database_without_holding_term(void **state)
{
    s_check(TK_REGISTRY);
}

static void test_intake_waits_for_the_database_without_holding_term(void **state)
{
    s_check(TK_INTAKE);
}

static void test_notify_waits_for_the_database_without_holding_term(void **state)
{
    s_check(TK_NOTIFY);
}

static void test_report_waits_for_the_database_without_holding_term(void **state)
{
    s_check(TK_REPORT);
}

int main(void)
{
    snprintf(nowhere_url, sizeof nowhere_url, "postgresql://postgres@127.0.0.1:%d/dp",
             ts_free_port());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_waits_for_the_database_without_holding_term),
        cmocka_unit_test(test_intake_waits_for_the_database_without_holding_term),
        cmocka_unit_test(test_notify_waits_for_the_database_without_holding_term),
        cmocka_unit_test(test_report_waits_for_the_database_without_holding_term),
    };
    return cmocka_run_group_tests_name("server database wait", tests, NULL, NULL);
}
