/* The registry's two domain rules, written once as SQL functions
   (migration 0010) and used by the registry and the reports:

   - registry.partner_name_on(id, date): the name in force on a date (the
     latest that had started; a name without a start counts from the day
     it was recorded; the first name always counts; NULL means now);
   - registry.partner_active_on(joined_on, withdrawn_on, date): a member
     on that date (joined by then, not withdrawn by then);
   - both are SQL functions the planner inlines (LANGUAGE sql, not
     volatile, no SET, not SECURITY DEFINER: EXPLAIN shows the rule, not
     a call), executable by dp_registry and dp_report, not by dp_intake.
   The reports' own tests (hand-computed figures) and the registry's
   history tests check the statements that call them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_database_t *database;
static PGconn *admin, *report, *registry, *intake;
static char partner_id[24];

static char *s_name_on(PGconn *conn, const char *date)
{
    const char *params[] = {partner_id, date};
    return ts_query_text(conn, "SELECT name FROM registry.partner_name_on($1::bigint, $2::date)", 2,
                         params);
}

static void test_the_name_in_force_on_a_date(void **state)
{
    PGconn *roles[] = {report, registry};
    for (size_t i = 0; i < 2; i++) {
        char *name = s_name_on(roles[i], "2017-01-01"); /* before joining: the first name */
        assert_string_equal(name, "First");
        free(name);
        name = s_name_on(roles[i], "2019-12-31");
        assert_string_equal(name, "First");
        free(name);
        name = s_name_on(roles[i], "2020-01-01");
        assert_string_equal(name, "Second");
        free(name);
        /* The third has no start: it counts from the day it was recorded (today). */
        name = s_name_on(roles[i], "2021-06-30");
        assert_string_equal(name, "Second");
        free(name);
        name = s_name_on(roles[i], NULL);
        assert_string_equal(name, "Third");
        free(name);
    }
}

static long long s_active(PGconn *conn, const char *joined, const char *withdrawn, const char *on)
{
    const char *params[] = {joined, withdrawn, on};
    return ts_query_long(
        conn, "SELECT registry.partner_active_on($1::date, $2::date, $3::date)::int", 3, params);
}

static void test_a_member_on_a_date(void **state)
{
    assert_int_equal(s_active(report, "2018-03-01", NULL, "2018-02-28"), 0);
    assert_int_equal(s_active(report, "2018-03-01", NULL, "2018-03-01"), 1);
    assert_int_equal(s_active(registry, "2018-03-01", "2020-05-01", "2020-04-30"), 1);
    /* Withdrawn on a day: no longer a member that day. */
    assert_int_equal(s_active(registry, "2018-03-01", "2020-05-01", "2020-05-01"), 0);
}

static void test_the_functions_inline_and_only_two_roles_run_them(void **state)
{
    assert_int_equal(
        ts_query_long(admin,
                      "SELECT count(*) FROM pg_proc p JOIN pg_language l ON "
                      "l.oid = p.prolang WHERE p.pronamespace = 'registry'::regnamespace "
                      "AND p.proname IN ('partner_name_on', 'partner_active_on') "
                      "AND l.lanname = 'sql' AND p.provolatile IN ('s', 'i') "
                      "AND NOT p.prosecdef AND p.proconfig IS NULL",
                      0, NULL),
        2);
    char *sqlstate =
        ts_query_error(intake, "SELECT registry.partner_active_on(NULL, NULL, NULL)", 0, NULL);
    assert_string_equal(sqlstate, "42501");
    free(sqlstate);
    /* Inlined: the plan shows the rule, not a call of the function. */
    PGresult *plan =
        ts_query(report,
                 "EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM registry.partner p "
                 "WHERE registry.partner_active_on(p.joined_on, p.withdrawn_on, "
                 "'2020-01-01'::date)",
                 0, NULL);
    bool called = false, inlined = false;
    for (int row = 0; row < PQntuples(plan); row++) {
        called = called || strstr(PQgetvalue(plan, row, 0), "partner_active_on") != NULL;
        inlined = inlined || strstr(PQgetvalue(plan, row, 0), "joined_on <=") != NULL;
    }
    PQclear(plan);
    assert_false(called);
    assert_true(inlined);
}

static int s_setup(void **state)
{
    database = ts_database_new("registry_rules");
    admin = ts_connect_or_exit(ts_database_url(database, TS_ROLE_ADMIN));
    report = ts_connect_or_exit(ts_database_url(database, TS_ROLE_REPORT));
    registry = ts_connect_or_exit(ts_database_url(database, TS_ROLE_REGISTRY));
    intake = ts_connect_or_exit(ts_database_url(database, TS_ROLE_INTAKE));
    PGresult *result =
        PQexec(admin, "INSERT INTO registry.partner (slug, kind, joined_on, joined_precision) "
                      "VALUES ('renamed', 'company', '2018-03-01', 'day') RETURNING id");
    if (PQresultStatus(result) != PGRES_TUPLES_OK)
        return -1;
    snprintf(partner_id, sizeof partner_id, "%s", PQgetvalue(result, 0, 0));
    PQclear(result);
    const char *params[] = {partner_id};
    result =
        PQexecParams(admin,
                     "INSERT INTO registry.partner_name (partner_id, position, name, valid_from) "
                     "VALUES ($1, 1, 'First', '2018-03-01'), ($1, 2, 'Second', '2020-01-01'), "
                     "($1, 3, 'Third', NULL)",
                     1, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    return ok ? 0 : -1;
}

static int s_teardown(void **state)
{
    PQfinish(admin);
    PQfinish(report);
    PQfinish(registry);
    PQfinish(intake);
    ts_database_destroy(&database);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_name_in_force_on_a_date),
        cmocka_unit_test(test_a_member_on_a_date),
        cmocka_unit_test(test_the_functions_inline_and_only_two_roles_run_them),
    };
    return cmocka_run_group_tests_name("registry_rules", tests, s_setup, s_teardown);
}
