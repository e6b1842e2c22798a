/* Least privilege, checked by connecting as each service role to a freshly
   migrated database; and dp-migrate run again applies nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_database_t *s_database;
static PGconn *s_admin;
static PGconn *s_report;
static PGconn *s_registry;

/* Fails unless the statement is refused for lack of privilege (42501) or
   because the session is read-only (25006). */
static void s_assert_refused_at(PGconn *conn, const char *sql, const char *file, int line)
{
    char *sqlstate = ts_query_error(conn, sql, 0, NULL);
    bool refused = strcmp(sqlstate, "42501") == 0 || strcmp(sqlstate, "25006") == 0;
    if (!refused) {
        print_error("expected 42501 or 25006 for: %s\n  got '%s'\n", sql,
                    *sqlstate ? sqlstate : "success");
        free(sqlstate);
        _fail(file, line);
    }
    free(sqlstate);
}
#define s_assert_refused(conn, sql) s_assert_refused_at(conn, sql, __FILE__, __LINE__)

static void s_assert_denied_at(PGconn *conn, const char *sql, const char *file, int line)
{
    char *sqlstate = ts_query_error(conn, sql, 0, NULL);
    if (strcmp(sqlstate, "42501") != 0) {
        print_error("expected permission denied (42501) for: %s\n  got '%s'\n", sql,
                    *sqlstate ? sqlstate : "success");
        free(sqlstate);
        _fail(file, line);
    }
    free(sqlstate);
}
#define s_assert_denied(conn, sql) s_assert_denied_at(conn, sql, __FILE__, __LINE__)

/* Puts one row in each table as the superuser, so that UPDATE and DELETE
   would have something to change if they were allowed. */
static void s_fill(void)
{
    PGresult *result =
        ts_query(s_admin,
                 "WITH p AS (INSERT INTO registry.partner (slug, kind, joined_on, joined_precision)"
                 "           VALUES ('priv-partner', 'company', '2019-01-01', 'day') RETURNING id),"
                 " n AS (INSERT INTO registry.partner_name (partner_id, position, name)"
                 "       SELECT id, 1, 'Privileged' FROM p),"
                 " c AS (INSERT INTO registry.contact (partner_id, name, email)"
                 "       SELECT id, 'Secret Person', 'secret@example.org' FROM p)"
                 " INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, payload)"
                 " SELECT 'partner.joined', 'partner', id::text, '\\x00'::bytea FROM p",
                 0, NULL);
    PQclear(result);
}

/* ---- dp_report ------------------------------------------------------------- */

static void test_report_reads_partners(void **state)
{
    assert_int_equal(ts_query_long(s_report, "SELECT count(*) FROM registry.partner", 0, NULL), 1);
    assert_int_equal(ts_query_long(s_report, "SELECT count(*) FROM registry.partner_name", 0, NULL),
                     1);
}

static void test_report_cannot_insert(void **state)
{
    s_assert_refused(s_report, "INSERT INTO registry.area (slug, label) VALUES ('x', 'X')");
    s_assert_refused(s_report,
                     "INSERT INTO registry.partner (slug, kind, joined_on, joined_precision)"
                     " VALUES ('report-made', 'company', '2020-01-01', 'day')");
    s_assert_refused(s_report, "INSERT INTO registry.outbox (event_type, aggregate_type,"
                               " aggregate_id, payload) VALUES ('x', 'x', 'x', '')");
}

static void test_report_cannot_update_or_delete(void **state)
{
    s_assert_refused(s_report, "UPDATE registry.partner SET note = 'changed by report'");
    s_assert_refused(s_report, "UPDATE registry.partner_name SET name = 'Changed'");
    s_assert_refused(s_report, "DELETE FROM registry.partner_area");
    s_assert_refused(s_report, "DELETE FROM registry.contact");
    s_assert_refused(s_report, "TRUNCATE registry.engagement");
    /* Nothing changed. */
    assert_int_equal(
        ts_query_long(s_admin, "SELECT count(*) FROM registry.partner WHERE note = ''", 0, NULL),
        1);
}

static void test_report_cannot_read_contacts(void **state)
{
    s_assert_denied(s_report, "SELECT name, email FROM registry.contact");
    s_assert_denied(s_report, "SELECT count(*) FROM registry.contact");
}

/* The dashboard is served without authentication: the role behind it
   reads no staff name and no free text (0009), but still the figures. */
static void test_report_reads_no_staff_names_or_notes(void **state)
{
    s_assert_denied(s_report, "SELECT assignee FROM intake.enquiry");
    s_assert_denied(s_report, "SELECT * FROM intake.enquiry");
    s_assert_denied(s_report, "SELECT actor FROM intake.enquiry_transition");
    s_assert_denied(s_report, "SELECT note FROM intake.enquiry_transition");
    s_assert_denied(s_report, "SELECT text, actor FROM intake.enquiry_note");
    s_assert_denied(s_report, "SELECT name FROM intake.staff");
    s_assert_denied(s_report, "SELECT note FROM registry.partner");
    s_assert_denied(s_report, "SELECT * FROM registry.partner");
    s_assert_denied(s_report, "SELECT note FROM registry.engagement");
    assert_int_equal(ts_query_long(s_report,
                                   "SELECT count(*) FROM registry.partner"
                                   " WHERE slug = 'priv-partner' AND kind = 'company'",
                                   0, NULL),
                     1);
    assert_int_equal(ts_query_long(s_report,
                                   "SELECT count(id) FROM intake.enquiry WHERE status <> ''"
                                   " AND due_on IS NOT NULL",
                                   0, NULL),
                     0);
    assert_int_equal(
        ts_query_long(s_report, "SELECT count(to_status) FROM intake.enquiry_transition", 0, NULL),
        0);
}

static void test_report_cannot_create_objects(void **state)
{
    s_assert_refused(s_report, "CREATE TABLE registry.report_made (a int)");
    s_assert_refused(s_report, "CREATE TABLE public.report_made (a int)");
}

/* ---- dp_registry ----------------------------------------------------------- */

static void test_registry_uses_its_tables(void **state)
{
    assert_int_equal(ts_query_long(s_registry, "SELECT count(*) FROM registry.contact", 0, NULL),
                     1);
    PGresult *result = ts_query(
        s_registry, "UPDATE registry.partner SET note = note WHERE slug = 'priv-partner'", 0, NULL);
    assert_string_equal(PQcmdTuples(result), "1");
    PQclear(result);
}

static void test_registry_cannot_change_or_delete_outbox_rows(void **state)
{
    s_assert_denied(s_registry, "UPDATE registry.outbox SET event_type = 'tampered'");
    s_assert_denied(s_registry, "DELETE FROM registry.outbox");
    s_assert_denied(s_registry, "TRUNCATE registry.outbox");
    assert_int_equal(ts_query_long(s_admin,
                                   "SELECT count(*) FROM registry.outbox"
                                   " WHERE event_type = 'partner.joined'",
                                   0, NULL),
                     1);
}

static void test_registry_cannot_delete_partners_or_alter_schema(void **state)
{
    s_assert_denied(s_registry, "DELETE FROM registry.partner");
    s_assert_denied(s_registry, "DELETE FROM registry.partner_name");
    s_assert_denied(s_registry, "ALTER TABLE registry.partner ADD COLUMN extra int");
    s_assert_denied(s_registry, "CREATE TABLE registry.registry_made (a int)");
    s_assert_denied(s_registry, "SELECT * FROM dp_meta.schema_migrations");
}

/* ---- migrations ------------------------------------------------------------ */

/* A digest of what migrations record and create: the applied versions, and
   every schema object of the project with its row version (xmin changes when
   an object is created, altered, granted or replaced). */
static char *s_schema_digest(void)
{
    return ts_query_text(
        s_admin,
        "SELECT concat_ws('/',"
        " (SELECT md5(coalesce(string_agg(m::text, '|' ORDER BY m.version), ''))"
        "    FROM dp_meta.schema_migrations m),"
        " (SELECT md5(coalesce(string_agg(c.oid::text || ':' || c.xmin::text, ','"
        "                                 ORDER BY c.oid), ''))"
        "    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        "   WHERE n.nspname IN ('registry', 'dp_meta')),"
        " (SELECT md5(coalesce(string_agg(p.oid::text || ':' || p.xmin::text, ','"
        "                                 ORDER BY p.oid), ''))"
        "    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
        "   WHERE n.nspname IN ('registry', 'dp_meta')),"
        " (SELECT md5(coalesce(string_agg(n.oid::text || ':' || n.xmin::text, ','"
        "                                 ORDER BY n.oid), ''))"
        "    FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('registry', 'dp_meta')))",
        0, NULL);
}

static void test_migrate_again_applies_nothing(void **state)
{
    long long applied =
        ts_query_long(s_admin, "SELECT count(*) FROM dp_meta.schema_migrations", 0, NULL);
    assert_true(applied >= 2);
    char *before = s_schema_digest();
    ts_process_t process = ts_run_migrate(ts_database_url(s_database, TS_ROLE_ADMIN));
    if (process.exit_code != 0)
        print_error("dp-migrate up failed (exit %d):\n%s%s\n", process.exit_code, process.out,
                    process.err);
    int exit_code = process.exit_code;
    ts_process_free(&process);
    assert_int_equal(exit_code, 0);
    char *after = s_schema_digest();
    assert_string_equal(before, after);
    assert_int_equal(
        ts_query_long(s_admin, "SELECT count(*) FROM dp_meta.schema_migrations", 0, NULL), applied);
    free(before);
    free(after);
}

int main(void)
{
    s_database = ts_database_new("privileges");
    s_admin = ts_connect_or_exit(ts_database_url(s_database, TS_ROLE_ADMIN));
    s_report = ts_connect_or_exit(ts_database_url(s_database, TS_ROLE_REPORT));
    s_registry = ts_connect_or_exit(ts_database_url(s_database, TS_ROLE_REGISTRY));
    s_fill();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_reads_partners),
        cmocka_unit_test(test_report_cannot_insert),
        cmocka_unit_test(test_report_cannot_update_or_delete),
        cmocka_unit_test(test_report_cannot_read_contacts),
        cmocka_unit_test(test_report_reads_no_staff_names_or_notes),
        cmocka_unit_test(test_report_cannot_create_objects),
        cmocka_unit_test(test_registry_uses_its_tables),
        cmocka_unit_test(test_registry_cannot_change_or_delete_outbox_rows),
        cmocka_unit_test(test_registry_cannot_delete_partners_or_alter_schema),
        cmocka_unit_test(test_migrate_again_applies_nothing),
    };
    int failed = cmocka_run_group_tests_name("least privilege", tests, NULL, NULL);
    PQfinish(s_registry);
    PQfinish(s_report);
    PQfinish(s_admin);
    ts_database_destroy(&s_database);
    return failed;
}
