/* dp_db_classify_sqlstate: how a failure's SQLSTATE decides the reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dp_db.h"

static void test_unique_violation(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("23505"), DP_DB_UNIQUE_VIOLATION);
}

static void test_foreign_key_violation(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("23503"), DP_DB_FOREIGN_KEY);
}

static void test_other_integrity_violations_are_check_violations(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("23514"), DP_DB_CHECK_VIOLATION); /* check */
    assert_int_equal(dp_db_classify_sqlstate("23502"), DP_DB_CHECK_VIOLATION); /* not null */
    assert_int_equal(dp_db_classify_sqlstate("23P01"), DP_DB_CHECK_VIOLATION); /* exclusion */
    assert_int_equal(dp_db_classify_sqlstate("23000"), DP_DB_CHECK_VIOLATION);
}

static void test_serialization_failure_and_deadlock_are_retryable(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("40001"), DP_DB_RETRYABLE);
    assert_int_equal(dp_db_classify_sqlstate("40P01"), DP_DB_RETRYABLE);
}

static void test_other_rollbacks_are_not_retryable(void **state)
{
    assert_int_not_equal(dp_db_classify_sqlstate("40002"), DP_DB_RETRYABLE);
    assert_int_not_equal(dp_db_classify_sqlstate("40003"), DP_DB_RETRYABLE);
}

static void test_connection_failures(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("08000"), DP_DB_CONNECTION);
    assert_int_equal(dp_db_classify_sqlstate("08003"), DP_DB_CONNECTION);
    assert_int_equal(dp_db_classify_sqlstate("08006"), DP_DB_CONNECTION);
    assert_int_equal(dp_db_classify_sqlstate("57P01"), DP_DB_CONNECTION); /* admin shutdown */
    assert_int_equal(dp_db_classify_sqlstate("57P02"), DP_DB_CONNECTION); /* crash shutdown */
    assert_int_equal(dp_db_classify_sqlstate("57P03"), DP_DB_CONNECTION); /* cannot connect now */
}

static void test_missing_sqlstate_means_the_connection_failed(void **state)
{
    /* libpq gives no SQLSTATE when the server never answered. */
    assert_int_equal(dp_db_classify_sqlstate(NULL), DP_DB_CONNECTION);
    assert_int_equal(dp_db_classify_sqlstate(""), DP_DB_CONNECTION);
    assert_int_equal(dp_db_classify_sqlstate("0800"), DP_DB_CONNECTION);
}

static void test_data_exceptions_are_invalid_input(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("22001"), DP_DB_INVALID_INPUT); /* too long */
    assert_int_equal(dp_db_classify_sqlstate("22007"), DP_DB_INVALID_INPUT); /* bad datetime */
    assert_int_equal(dp_db_classify_sqlstate("22P02"), DP_DB_INVALID_INPUT); /* bad text repr */
    assert_int_equal(dp_db_classify_sqlstate("22021"), DP_DB_INVALID_INPUT); /* bad encoding */
}

static void test_read_only_and_permission(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("25006"), DP_DB_READ_ONLY);
    assert_int_equal(dp_db_classify_sqlstate("42501"), DP_DB_PERMISSION);
}

static void test_everything_else_is_other(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("42P01"), DP_DB_OTHER); /* undefined table */
    assert_int_equal(dp_db_classify_sqlstate("42601"), DP_DB_OTHER); /* syntax error */
    assert_int_equal(dp_db_classify_sqlstate("XX000"), DP_DB_OTHER); /* internal error */
    assert_int_equal(dp_db_classify_sqlstate("25001"), DP_DB_OTHER);
}

static void test_a_protocol_violation_is_not_a_lost_connection(void **state)
{
    /* Reconnecting and sending the same thing again would repeat it. */
    assert_int_equal(dp_db_classify_sqlstate("08P01"), DP_DB_OTHER);
}

static void test_a_refused_login_is_its_own_failure(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("28P01"), DP_DB_LOGIN); /* wrong password */
    assert_int_equal(dp_db_classify_sqlstate("28000"), DP_DB_LOGIN); /* unknown role, pg_hba */
    assert_int_equal(dp_db_classify_sqlstate("3D000"), DP_DB_LOGIN); /* no such database */
    assert_int_equal(dp_db_failure_code_of(DP_DB_LOGIN), DP__CODE__CODE_FAILED_PRECONDITION);
}

static void test_cancelled_and_out_of_resources_have_codes_a_client_can_act_on(void **state)
{
    assert_int_equal(dp_db_classify_sqlstate("57014"), DP_DB_TIMEOUT);   /* query cancelled */
    assert_int_equal(dp_db_classify_sqlstate("53100"), DP_DB_RESOURCES); /* disk full */
    assert_int_equal(dp_db_classify_sqlstate("53200"), DP_DB_RESOURCES); /* out of memory */
    assert_int_equal(dp_db_classify_sqlstate("53300"), DP_DB_RESOURCES); /* too many connections */
    assert_int_equal(dp_db_failure_code_of(DP_DB_TIMEOUT), DP__CODE__CODE_DEADLINE_EXCEEDED);
    assert_int_equal(dp_db_failure_code_of(DP_DB_RESOURCES), DP__CODE__CODE_RESOURCE_EXHAUSTED);
    assert_int_equal(dp_db_failure_code_of(DP_DB_OTHER), DP__CODE__CODE_INTERNAL);
    assert_int_equal(dp_db_failure_code_of(DP_DB_CONNECTION), DP__CODE__CODE_UNAVAILABLE);
}

static void test_connect_messages_give_their_sqlstate(void **state)
{
    char sqlstate[6];
    dp_db_connect_sqlstate("connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL:  "
                           "password authentication failed for user \"dp_registry\"\n",
                           sqlstate);
    assert_string_equal(sqlstate, "28P01");
    dp_db_connect_sqlstate("connection to server on socket \"/run/x\" failed: FATAL:  role "
                           "\"nobody\" does not exist\n",
                           sqlstate);
    assert_string_equal(sqlstate, "28000");
    dp_db_connect_sqlstate("connection to server at \"db\", port 5432 failed: FATAL:  database "
                           "\"dp_misspelt\" does not exist\n",
                           sqlstate);
    assert_string_equal(sqlstate, "3D000");
    dp_db_connect_sqlstate("FATAL:  no pg_hba.conf entry for host \"10.0.0.9\", user \"x\"",
                           sqlstate);
    assert_string_equal(sqlstate, "28000");
    dp_db_connect_sqlstate("FATAL:  sorry, too many clients already", sqlstate);
    assert_string_equal(sqlstate, "53300");
    dp_db_connect_sqlstate("FATAL:  the database system is starting up", sqlstate);
    assert_string_equal(sqlstate, "57P03");
    /* What says nothing known stays a connection that is not there yet. */
    dp_db_connect_sqlstate("connection to server at \"db\", port 5432 failed: Connection refused",
                           sqlstate);
    assert_string_equal(sqlstate, "08006");
    dp_db_connect_sqlstate(NULL, sqlstate);
    assert_string_equal(sqlstate, "08006");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique_violation),
        cmocka_unit_test(test_foreign_key_violation),
        cmocka_unit_test(test_other_integrity_violations_are_check_violations),
        cmocka_unit_test(test_serialization_failure_and_deadlock_are_retryable),
        cmocka_unit_test(test_other_rollbacks_are_not_retryable),
        cmocka_unit_test(test_connection_failures),
        cmocka_unit_test(test_missing_sqlstate_means_the_connection_failed),
        cmocka_unit_test(test_data_exceptions_are_invalid_input),
        cmocka_unit_test(test_read_only_and_permission),
        cmocka_unit_test(test_everything_else_is_other),
        cmocka_unit_test(test_a_protocol_violation_is_not_a_lost_connection),
        cmocka_unit_test(test_a_refused_login_is_its_own_failure),
        cmocka_unit_test(test_cancelled_and_out_of_resources_have_codes_a_client_can_act_on),
        cmocka_unit_test(test_connect_messages_give_their_sqlstate),
    };
    return cmocka_run_group_tests_name("dp_db_classify_sqlstate", tests, NULL, NULL);
}
