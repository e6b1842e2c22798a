/* dp_db against the real cluster: failures reported as what they are.

   - a login the server refuses (a database or a role that does not exist:
     the test cluster trusts every login, so a wrong password cannot be
     had) is DP_DB_LOGIN with its own SQLSTATE (3D000, 28000), comes back
     at once instead of after the whole wait, and is not tried again on
     every use of the handle;
   - the registry started on such a database answers FAILED_PRECONDITION
     naming the SQLSTATE, not UNAVAILABLE ("not reachable yet"), and does
     not wait out DP_DB_WAIT_MS before answering;
   - a statement cancelled by statement_timeout (57014) is
     DEADLINE_EXCEEDED, not INTERNAL;
   - a transaction run again after a serialization failure is counted by
     dp_db_retry_count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_db.h"
#include "registry.pb-c.h"
#include "security_support.h"

enum { ANSWER_MS = 10000 };

static ts_database_t *database;

enum { SELECT_ONE, SLEEP, FAIL_SERIALIZATION };
static const dp_statement_t s_statements[] = {
    [SELECT_ONE] = {"select_one", "SELECT 1", 0},
    [SLEEP] = {"sleep", "SELECT pg_sleep(2)", 0},
    [FAIL_SERIALIZATION] = {"fail_serialization", "SELECT pg_temp.fail_serialization()", 0},
};
enum { STATEMENT_COUNT = sizeof s_statements / sizeof s_statements[0] };

static dp_db_t *s_db_on(const char *url)
{
    dp_db_t *db = dp_db_new(url, "test-db-failures", s_statements, STATEMENT_COUNT);
    assert_non_null(db);
    return db;
}

static void s_expect_refused_login(const char *url, const char *sqlstate)
{
    dp_db_t *db = s_db_on(url);
    int64_t started = zclock_mono();
    assert_int_equal(dp_db_connect(db, 20000), -1);
    int64_t took = zclock_mono() - started;
    /* Refused is final: no waiting out the 20 s as for a server not up. */
    if (took > 5000)
        fail_msg("a refused login took %lld ms to be reported", (long long)took);
    assert_int_equal(dp_db_failure(db), DP_DB_LOGIN);
    assert_string_equal(dp_db_failure_sqlstate(db), sqlstate);
    assert_int_equal(dp_db_failure_code(db), DP__CODE__CODE_FAILED_PRECONDITION);
    assert_non_null(strstr(dp_db_failure_message(db), "does not exist"));
    /* Uses of the handle meanwhile answer with the same failure. */
    assert_null(dp_db_run(db, SELECT_ONE, NULL));
    assert_int_equal(dp_db_failure(db), DP_DB_LOGIN);
    assert_string_equal(dp_db_failure_sqlstate(db), sqlstate);
    assert_false(dp_db_check(db));
    assert_int_equal(dp_db_failure(db), DP_DB_LOGIN);
    dp_db_destroy(&db);
}

static void test_a_database_that_does_not_exist_is_a_refused_login(void **state)
{
    char *url =
        ts_url_with_dbname(ts_database_url(database, TS_ROLE_REGISTRY), "dp_no_such_database");
    assert_non_null(url);
    s_expect_refused_login(url, "3D000");
    free(url);
}

static void test_a_role_that_does_not_exist_is_a_refused_login(void **state)
{
    /* The registry's URL with another user name. */
    const char *url = ts_database_url(database, TS_ROLE_REGISTRY);
    const char *user = strstr(url, "dp_registry");
    assert_non_null(user);
    char changed[512];
    snprintf(changed, sizeof changed, "%.*sdp_no_such_role%s", (int)(user - url), url,
             user + strlen("dp_registry"));
    s_expect_refused_login(changed, "28000");
}

static void s_expect_failed_precondition(const char *wait_ms)
{
    char *url =
        ts_url_with_dbname(ts_database_url(database, TS_ROLE_REGISTRY), "dp_no_such_database");
    const char *settings[] = {"DP_DB_WAIT_MS", wait_ms, NULL};
    tk_service_t *registry = tk_service_start(TK_REGISTRY, url, settings);
    assert_non_null(registry);
    tk_client_t *client = tk_client_new(tk_service_endpoint(registry), NULL, TK_REGISTRY, NULL);
    Dp__ListAreasRequest request = DP__LIST_AREAS_REQUEST__INIT;
    for (int i = 0; i < 2; i++) {
        Dp__Reply *reply = tk_exchange(client, &request.base, ANSWER_MS);
        assert_non_null(reply);
        assert_non_null(reply->status);
        if (reply->status->code != DP__CODE__CODE_FAILED_PRECONDITION)
            fail_msg("code %d (%s), expected FAILED_PRECONDITION", reply->status->code,
                     reply->status->message);
        assert_non_null(strstr(reply->status->message, "3D000"));
        ts_free(&reply);
    }
    tk_client_destroy(&client);
    tk_service_stop(&registry);
    free(url);
}

static void test_the_registry_on_a_refused_login_answers_failed_precondition(void **state)
{
    s_expect_failed_precondition("0");
}

static void test_a_refused_login_ends_the_wait_for_the_database(void **state)
{
    /* With 30 s to wait for PostgreSQL, a refused login still gets the
       requests answered within ANSWER_MS: waiting would not change it. */
    s_expect_failed_precondition("30000");
}

static void test_a_statement_timeout_is_deadline_exceeded(void **state)
{
    dp_db_t *db = s_db_on(ts_database_url(database, TS_ROLE_REGISTRY));
    assert_int_equal(dp_db_connect(db, 5000), 0);
    assert_int_equal(dp_db_run_script(db, "SET statement_timeout = 100"), 0);
    assert_null(dp_db_run(db, SLEEP, NULL));
    assert_string_equal(dp_db_failure_sqlstate(db), "57014");
    assert_int_equal(dp_db_failure(db), DP_DB_TIMEOUT);
    assert_int_equal(dp_db_failure_code(db), DP__CODE__CODE_DEADLINE_EXCEEDED);
    /* The connection is still good: a cancelled statement is not a lost one. */
    assert_true(dp_db_is_connected(db));
    PGresult *result = dp_db_run(db, SELECT_ONE, NULL);
    assert_non_null(result);
    PQclear(result);
    assert_int_equal(dp_db_reconnect_count(db), 0);
    dp_db_destroy(&db);
}

/* Fails with a serialization failure on its first run only. */
static dp_txn_outcome_t s_fail_once(dp_db_t *db, void *arg)
{
    int *runs = arg;
    (*runs)++;
    PGresult *result = dp_db_run(db, *runs == 1 ? FAIL_SERIALIZATION : SELECT_ONE, NULL);
    if (!result)
        return DP_TXN_FAILED;
    PQclear(result);
    return DP_TXN_COMMIT;
}

static void test_retried_transactions_are_counted(void **state)
{
    dp_db_t *db = s_db_on(ts_database_url(database, TS_ROLE_REGISTRY));
    assert_int_equal(dp_db_connect(db, 5000), 0);
    assert_int_equal(dp_db_run_script(db,
                                      "CREATE FUNCTION pg_temp.fail_serialization() RETURNS int "
                                      "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'test' "
                                      "USING ERRCODE = '40001'; END$$"),
                     0);
    assert_int_equal(dp_db_retry_count(db), 0);
    int runs = 0;
    assert_int_equal(dp_db_transaction(db, s_fail_once, &runs), 0);
    assert_int_equal(runs, 2);
    assert_int_equal(dp_db_retry_count(db), 1);
    runs = 1; /* no failure this time */
    assert_int_equal(dp_db_transaction(db, s_fail_once, &runs), 0);
    assert_int_equal(dp_db_retry_count(db), 1);
    dp_db_destroy(&db);
}

static int s_setup(void **state)
{
    database = ts_database_new("db_failures");
    return database ? 0 : -1;
}

static int s_teardown(void **state)
{
    ts_database_destroy(&database);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_database_that_does_not_exist_is_a_refused_login),
        cmocka_unit_test(test_a_role_that_does_not_exist_is_a_refused_login),
        cmocka_unit_test(test_the_registry_on_a_refused_login_answers_failed_precondition),
        cmocka_unit_test(test_a_refused_login_ends_the_wait_for_the_database),
        cmocka_unit_test(test_a_statement_timeout_is_deadline_exceeded),
        cmocka_unit_test(test_retried_transactions_are_counted),
    };
    return cmocka_run_group_tests_name("db_failures", tests, s_setup, s_teardown);
}
