/* Least privilege across services, on a freshly migrated database: each
   service role (dp_registry, dp_intake, dp_notify, dp_report) holds exactly
   the grants the design needs on every table and sequence of the project's
   schemas, and nothing on another service's tables, where:
     - notify may SELECT and DELETE the two outboxes (the relay moves rows);
     - report may SELECT the partner tables (not contacts, not the notes
       of partners and engagements) and the listed columns of the
       enquiries, their history and the event sequence (no staff names);
     - every role may INSERT into its own audit trail, never change it.
   The grants are read from the catalogue (has_table_privilege and
   has_column_privilege over every relation), then every refused statement
   is actually tried as the role in a read-write transaction and must fail
   with 42501; dp_report cannot write anything anywhere, even when it turns
   its session's read-only default off. test_privileges covers the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_database_t *database;
static PGconn *admin;
static PGconn *sessions[TS_ROLE_COUNT]; /* one per service role */

static const struct {
    ts_role_t role;
    const char *name;
} service_roles[] = {{TS_ROLE_REGISTRY, "dp_registry"},
                     {TS_ROLE_INTAKE, "dp_intake"},
                     {TS_ROLE_NOTIFY, "dp_notify"},
                     {TS_ROLE_REPORT, "dp_report"}};
enum { SERVICE_ROLES = 4 };

/* The design (db/migrations): for each role, the relations it has any
   privilege on. Table privileges are listed in the order SELECT, INSERT,
   UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER; `columns` lists the
   columns readable through a column grant (without a table-level SELECT).
   Every relation of the schemas registry, intake, notify, dp_meta and
   public that is not listed for a role must give it nothing. */
typedef struct {
    const char *role;     /* the role's name */
    const char *relation; /* schema.name */
    const char *table;    /* table-level privileges, comma-separated */
    const char *columns;  /* columns with a SELECT grant of their own */
} grant_t;

static const grant_t design[] = {
    {"dp_registry", "registry.area", "SELECT,INSERT,UPDATE", ""},
    {"dp_registry", "registry.audit_log", "SELECT,INSERT", ""},
    {"dp_registry", "registry.contact", "SELECT,INSERT,UPDATE,DELETE", ""},
    {"dp_registry", "registry.engagement", "SELECT,INSERT,UPDATE", ""},
    {"dp_registry", "registry.erasure_tombstone", "SELECT,INSERT", ""},
    {"dp_registry", "registry.form", "SELECT,INSERT,UPDATE", ""},
    {"dp_registry", "registry.outbox", "INSERT", ""},
    {"dp_registry", "registry.partner", "SELECT,INSERT,UPDATE", ""},
    {"dp_registry", "registry.partner_area", "SELECT,INSERT,DELETE", ""},
    {"dp_registry", "registry.partner_domain", "SELECT,INSERT,DELETE", ""},
    {"dp_registry", "registry.partner_name", "SELECT,INSERT,UPDATE", ""},

    {"dp_intake", "intake.audit_log", "SELECT,INSERT", ""},
    {"dp_intake", "intake.enquiry", "SELECT,INSERT,UPDATE", ""},
    {"dp_intake", "intake.enquiry_kind", "SELECT,INSERT", ""},
    {"dp_intake", "intake.enquiry_note", "SELECT,INSERT,UPDATE", ""},
    {"dp_intake", "intake.enquiry_transition", "SELECT,INSERT,UPDATE", ""},
    {"dp_intake", "intake.erasure_tombstone", "SELECT,INSERT", ""},
    {"dp_intake", "intake.outbox", "INSERT", ""},
    {"dp_intake", "intake.outgoing_message", "SELECT,INSERT,UPDATE", ""},
    {"dp_intake", "intake.staff", "SELECT,INSERT", ""},
    {"dp_intake", "intake.triage_rule", "SELECT,INSERT,DELETE", ""},

    {"dp_notify", "intake.outbox", "SELECT,DELETE", ""},
    {"dp_notify", "registry.outbox", "SELECT,DELETE", ""},
    {"dp_notify", "notify.consumer", "SELECT,INSERT,UPDATE,DELETE", ""},
    {"dp_notify", "notify.delivery", "SELECT,INSERT,UPDATE,DELETE", ""},
    {"dp_notify", "notify.event", "SELECT,INSERT", ""},
    {"dp_notify", "notify.webhook", "SELECT,INSERT,UPDATE", ""},
    {"dp_notify", "notify.webhook_delivery", "SELECT,INSERT,UPDATE", ""},

    {"dp_report", "registry.area", "SELECT", ""},
    {"dp_report", "registry.engagement", "",
     "id,partner_id,form_slug,area_slug,title,starts_on,ends_on,recorded_at"},
    {"dp_report", "registry.form", "SELECT", ""},
    {"dp_report", "registry.partner", "",
     "id,slug,kind,website,joined_on,joined_precision,instrument,status,withdrawn_on,version,"
     "created_at,updated_at"},
    {"dp_report", "registry.partner_area", "SELECT", ""},
    {"dp_report", "registry.partner_domain", "SELECT", ""},
    {"dp_report", "registry.partner_name", "SELECT", ""},
    {"dp_report", "intake.enquiry", "",
     "id,source,country,kind,language,areas,received_at,stored_at,status,partner_id,"
     "partner_slug,suggested_areas,possible_duplicate_of,quarantine_reason,due_on,"
     "first_response_at,resolved_at,erased_at,erasure_reason"},
    {"dp_report", "intake.enquiry_kind", "SELECT", ""},
    {"dp_report", "intake.enquiry_transition", "", "id,enquiry_id,from_status,to_status,at"},
    {"dp_report", "intake.triage_rule", "SELECT", ""},
    {"dp_report", "notify.event", "",
     "seq,event_type,aggregate_type,aggregate_id,occurred_at,relayed_at"},
};

/* One line per role and relation it holds anything on:
   "role relation table=<privileges> columns=<select columns> writes=<column
   grants for INSERT, UPDATE or REFERENCES>". */
static const char *s_actual_sql =
    "WITH rel AS ("
    "  SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relkind FROM pg_class c"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE n.nspname IN ('registry', 'intake', 'notify', 'dp_meta', 'public')"
    "    AND c.relkind IN ('r', 'p', 'v', 'm', 'f')),"
    " role AS (SELECT oid, rolname FROM pg_roles"
    "  WHERE rolname IN ('dp_registry', 'dp_intake', 'dp_notify', 'dp_report')),"
    " grants AS ("
    "  SELECT role.rolname, rel.name,"
    "   array_to_string(ARRAY(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE',"
    "     'TRUNCATE', 'REFERENCES', 'TRIGGER']) WITH ORDINALITY AS u(p, i)"
    "     WHERE has_table_privilege(role.oid, rel.oid, p) ORDER BY i), ',') AS table_privileges,"
    "   (SELECT coalesce(string_agg(a.attname, ',' ORDER BY a.attnum), '') FROM pg_attribute a"
    "     WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped"
    "       AND NOT has_table_privilege(role.oid, rel.oid, 'SELECT')"
    "       AND has_column_privilege(role.oid, rel.oid, a.attnum, 'SELECT')) AS columns,"
    "   (SELECT coalesce(string_agg(a.attname || ':' || p, ',' ORDER BY a.attnum, p), '')"
    "     FROM pg_attribute a CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'REFERENCES']) AS p"
    "     WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped"
    "       AND NOT has_table_privilege(role.oid, rel.oid, p)"
    "       AND has_column_privilege(role.oid, rel.oid, a.attnum, p)) AS writes"
    "  FROM role CROSS JOIN rel)"
    " SELECT rolname, name, table_privileges, columns, writes FROM grants"
    " WHERE table_privileges <> '' OR columns <> '' OR writes <> ''"
    " ORDER BY 1, 2";

/* ---- the catalogue ------------------------------------------------------------------------ */

static void test_each_role_holds_exactly_the_grants_of_the_design(void **state)
{
    PGresult *result = ts_query(admin, s_actual_sql, 0, NULL);
    char problems[8192] = "";
    size_t used = 0;
    bool matched[sizeof design / sizeof *design] = {false};
    for (int row = 0; row < PQntuples(result); row++) {
        const char *role = PQgetvalue(result, row, 0), *relation = PQgetvalue(result, row, 1);
        const char *table = PQgetvalue(result, row, 2), *columns = PQgetvalue(result, row, 3);
        const char *writes = PQgetvalue(result, row, 4);
        const grant_t *expected = NULL;
        for (size_t i = 0; i < sizeof design / sizeof *design; i++)
            if (strcmp(design[i].role, role) == 0 && strcmp(design[i].relation, relation) == 0) {
                expected = &design[i];
                matched[i] = true;
            }
        if (!expected || strcmp(expected->table, table) != 0 ||
            strcmp(expected->columns, columns) != 0 || *writes)
            used += (size_t)snprintf(problems + used, sizeof problems - used,
                                     "  %s on %s: table '%s' columns '%s' column writes '%s';"
                                     " the design says table '%s' columns '%s'\n",
                                     role, relation, table, columns, writes,
                                     expected ? expected->table : "",
                                     expected ? expected->columns : "");
    }
    PQclear(result);
    for (size_t i = 0; i < sizeof design / sizeof *design; i++)
        if (!matched[i])
            used += (size_t)snprintf(problems + used, sizeof problems - used,
                                     "  %s has nothing on %s; the design says table '%s'"
                                     " columns '%s'\n",
                                     design[i].role, design[i].relation, design[i].table,
                                     design[i].columns);
    if (*problems)
        fail_msg("grants differ from the design:\n%s", problems);
}

static void test_no_role_may_use_a_sequence_create_objects_or_set_passwords(void **state)
{
    assert_int_equal(
        ts_query_long(admin,
                      "SELECT count(*) FROM pg_roles r CROSS JOIN pg_class c"
                      " JOIN pg_namespace n ON n.oid = c.relnamespace"
                      " WHERE r.rolname IN ('dp_registry', 'dp_intake', 'dp_notify', 'dp_report')"
                      "   AND n.nspname IN ('registry', 'intake', 'notify', 'dp_meta', 'public')"
                      "   AND c.relkind = 'S' AND (has_sequence_privilege(r.oid, c.oid, 'USAGE')"
                      "     OR has_sequence_privilege(r.oid, c.oid, 'UPDATE')"
                      "     OR has_sequence_privilege(r.oid, c.oid, 'SELECT'))",
                      0, NULL),
        0);
    assert_int_equal(
        ts_query_long(admin,
                      "SELECT count(*) FROM pg_roles r CROSS JOIN pg_namespace n"
                      " WHERE r.rolname IN ('dp_registry', 'dp_intake', 'dp_notify', 'dp_report')"
                      "   AND n.nspname IN ('registry', 'intake', 'notify', 'dp_meta', 'public')"
                      "   AND has_schema_privilege(r.oid, n.oid, 'CREATE')",
                      0, NULL),
        0);
    assert_int_equal(
        ts_query_long(admin,
                      "SELECT count(*) FROM pg_roles r"
                      " WHERE r.rolname IN ('dp_registry', 'dp_intake', 'dp_notify', 'dp_report')"
                      "   AND (has_database_privilege(r.oid, current_database(), 'CREATE')"
                      "     OR has_function_privilege(r.oid,"
                      "       'dp_meta.set_login_password(text, text)', 'EXECUTE')"
                      "     OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls)",
                      0, NULL),
        0);
    /* The schemas each role may look into: its own, notify (to wake the
       relay), and what the reports and the relay read. */
    char *usage = ts_query_text(
        admin,
        "SELECT string_agg(r.rolname || ':' || n.nspname, ',' ORDER BY r.rolname, n.nspname)"
        " FROM pg_roles r CROSS JOIN pg_namespace n"
        " WHERE r.rolname IN ('dp_registry', 'dp_intake', 'dp_notify', 'dp_report')"
        "   AND n.nspname IN ('registry', 'intake', 'notify', 'dp_meta')"
        "   AND has_schema_privilege(r.oid, n.oid, 'USAGE')",
        0, NULL);
    assert_string_equal(usage, "dp_intake:dp_meta,dp_intake:intake,dp_intake:notify,"
                               "dp_notify:intake,dp_notify:notify,dp_notify:registry,"
                               "dp_registry:dp_meta,dp_registry:notify,dp_registry:registry,"
                               "dp_report:intake,dp_report:notify,dp_report:registry");
    free(usage);
}

/* ---- statements tried as each role ------------------------------------------------------ */

/* Runs sql as the session in a read-write transaction that is rolled back
   and returns its SQLSTATE ("" when it succeeded). */
static char *s_try(PGconn *session, const char *sql)
{
    PQclear(ts_query(session, "BEGIN READ WRITE", 0, NULL));
    char *sqlstate = ts_query_error(session, sql, 0, NULL);
    PQclear(ts_query(session, "ROLLBACK", 0, NULL));
    return sqlstate;
}

/* Fails the test unless who's session may run sql (allowed), or else is
   refused it for want of a privilege (42501). */
static void s_expect(PGconn *session, const char *who, const char *sql, bool allowed)
{
    char *sqlstate = s_try(session, sql);
    bool as_expected = allowed ? !*sqlstate : strcmp(sqlstate, "42501") == 0;
    if (!as_expected)
        fail_msg("%s: %s -> %s", who, sql, *sqlstate ? sqlstate : "succeeded");
    free(sqlstate);
}

static void s_expect_each(PGconn *session, const char *who, const char *const *statements,
                          size_t count, bool allowed)
{
    for (size_t i = 0; i < count; i++)
        s_expect(session, who, statements[i], allowed);
}

/* For each relation of the project and each kind of access, the statement
   that exercises it (made by the server, so that names are quoted), and
   whether the role holds the privilege. */
static const char *s_attempts_sql =
    "WITH rel AS ("
    "  SELECT c.oid, n.nspname, c.relname FROM pg_class c"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE n.nspname IN ('registry', 'intake', 'notify', 'dp_meta', 'public')"
    "    AND c.relkind IN ('r', 'p')),"
    " first AS (SELECT rel.oid, (SELECT attname FROM pg_attribute a WHERE a.attrelid = rel.oid"
    "    AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''"
    "    ORDER BY attnum LIMIT 1) AS col FROM rel)"
    " SELECT rel.nspname || '.' || rel.relname, v.verb,"
    "  CASE v.verb"
    "   WHEN 'SELECT' THEN format('SELECT * FROM %I.%I LIMIT 1', rel.nspname, rel.relname)"
    "   WHEN 'INSERT' THEN format('INSERT INTO %I.%I DEFAULT VALUES', rel.nspname, rel.relname)"
    "   WHEN 'UPDATE' THEN format('UPDATE %I.%I SET %I = %I WHERE false', rel.nspname,"
    "     rel.relname, first.col, first.col)"
    "   WHEN 'DELETE' THEN format('DELETE FROM %I.%I WHERE false', rel.nspname, rel.relname)"
    "   ELSE format('TRUNCATE %I.%I', rel.nspname, rel.relname) END,"
    "  has_table_privilege($1, rel.oid, v.verb)"
    " FROM rel JOIN first ON first.oid = rel.oid"
    " CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS v(verb)"
    " ORDER BY 1, 2";

static void test_every_statement_without_a_grant_is_refused(void **state)
{
    char problems[8192] = "";
    size_t used = 0;
    int tried = 0;
    for (int r = 0; r < SERVICE_ROLES; r++) {
        const char *params[] = {service_roles[r].name};
        PGresult *attempts = ts_query(admin, s_attempts_sql, 1, params);
        PGconn *session = sessions[service_roles[r].role];
        for (int row = 0; row < PQntuples(attempts); row++) {
            if (strcmp(PQgetvalue(attempts, row, 3), "t") == 0)
                continue; /* granted */
            char *sqlstate = s_try(session, PQgetvalue(attempts, row, 2));
            tried++;
            if (strcmp(sqlstate, "42501") != 0)
                used +=
                    (size_t)snprintf(problems + used, sizeof problems - used, "  %s: %s -> %s\n",
                                     service_roles[r].name, PQgetvalue(attempts, row, 2),
                                     *sqlstate ? sqlstate : "succeeded");
            free(sqlstate);
            if (used > sizeof problems - 300)
                break;
        }
        PQclear(attempts);
    }
    if (*problems)
        fail_msg("statements without a grant were not refused (42501):\n%s", problems);
    assert_true(tried > 4 * 60);
}

static void test_each_service_reads_no_other_services_personal_data(void **state)
{
    /* The tables that hold people, tried by everyone but their owner. */
    const struct {
        ts_role_t owner;
        const char *sql;
    } personal[] = {
        {TS_ROLE_REGISTRY, "SELECT name, email FROM registry.contact"},
        {TS_ROLE_REGISTRY, "SELECT * FROM registry.audit_log"},
        {TS_ROLE_REGISTRY, "SELECT * FROM registry.erasure_tombstone"},
        {TS_ROLE_INTAKE, "SELECT sender_name, email, body FROM intake.enquiry"},
        {TS_ROLE_INTAKE, "SELECT email FROM intake.enquiry"},
        {TS_ROLE_INTAKE, "SELECT text FROM intake.enquiry_note"},
        {TS_ROLE_INTAKE, "SELECT note FROM intake.enquiry_transition"},
        {TS_ROLE_INTAKE, "SELECT * FROM intake.audit_log"},
        {TS_ROLE_INTAKE, "SELECT * FROM intake.erasure_tombstone"},
        {TS_ROLE_NOTIFY, "SELECT payload FROM notify.event"},
        {TS_ROLE_NOTIFY, "SELECT secret FROM notify.webhook"},
    };
    for (size_t i = 0; i < sizeof personal / sizeof *personal; i++)
        for (int r = 0; r < SERVICE_ROLES; r++) {
            if (service_roles[r].role == personal[i].owner)
                continue;
            s_expect(sessions[service_roles[r].role], service_roles[r].name, personal[i].sql,
                     false);
        }
}

static void test_notify_moves_outbox_rows_and_does_nothing_else_with_them(void **state)
{
    PGconn *notify = sessions[TS_ROLE_NOTIFY];
    const char *allowed[] = {
        "SELECT id, payload FROM registry.outbox", "SELECT id, payload FROM intake.outbox",
        "DELETE FROM registry.outbox WHERE id = 0", "DELETE FROM intake.outbox WHERE id = 0"};
    s_expect_each(notify, "dp_notify", allowed, sizeof allowed / sizeof *allowed, true);
    const char *refused[] = {
        "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, payload)"
        " VALUES ('forged', 'x', 'x', '')",
        "INSERT INTO intake.outbox (event_type, aggregate_type, aggregate_id, payload)"
        " VALUES ('forged', 'x', 'x', '')",
        "UPDATE registry.outbox SET payload = ''",
        "UPDATE intake.outbox SET event_type = 'x'",
        "TRUNCATE registry.outbox",
        "TRUNCATE intake.outbox",
        "SELECT id FROM registry.partner",
        "SELECT id FROM intake.enquiry"};
    s_expect_each(notify, "dp_notify", refused, sizeof refused / sizeof *refused, false);
}

static void test_report_reads_the_listed_columns_only(void **state)
{
    PGconn *report = sessions[TS_ROLE_REPORT];
    const char *allowed[] = {
        "SELECT id, source, kind, status, received_at, resolved_at, erased_at, erasure_reason"
        " FROM intake.enquiry",
        "SELECT count(*) FROM intake.enquiry",
        "SELECT id, enquiry_id, from_status, to_status, at FROM intake.enquiry_transition",
        "SELECT seq, event_type, aggregate_type, aggregate_id, occurred_at, relayed_at"
        " FROM notify.event",
        "SELECT id, slug, kind, joined_on, joined_precision, status, withdrawn_on"
        " FROM registry.partner",
        "SELECT id, partner_id, form_slug, area_slug, title, starts_on, ends_on"
        " FROM registry.engagement"};
    s_expect_each(report, "dp_report", allowed, sizeof allowed / sizeof *allowed, true);
    /* Staff names and free text (0009). */
    const char *refused[] = {
        "SELECT assignee FROM intake.enquiry", "SELECT actor FROM intake.enquiry_transition",
        "SELECT note FROM registry.partner", "SELECT note FROM registry.engagement",
        "SELECT * FROM registry.partner"};
    s_expect_each(report, "dp_report", refused, sizeof refused / sizeof *refused, false);
}

static void test_report_writes_nothing_anywhere_even_read_write(void **state)
{
    PGconn *report = sessions[TS_ROLE_REPORT];
    char *read_only = ts_query_text(report, "SHOW default_transaction_read_only", 0, NULL);
    assert_string_equal(read_only, "on");
    free(read_only);
    /* The session can turn its default off; the grants must still hold. */
    PQclear(ts_query(report, "SET default_transaction_read_only = off", 0, NULL));
    PGresult *sequences = ts_query(
        admin,
        "SELECT format('SELECT nextval(%L)', n.nspname || '.' || c.relname) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'S' AND n.nspname IN ('registry', 'intake', 'notify', 'dp_meta')",
        0, NULL);
    assert_true(PQntuples(sequences) >= 10);
    for (int row = 0; row < PQntuples(sequences); row++) {
        s_expect(report, "dp_report", PQgetvalue(sequences, row, 0), false);
    }
    PQclear(sequences);
    const char *refused[] = {
        "CREATE TABLE registry.made_by_report (a int)",
        "CREATE TABLE intake.made_by_report (a int)",
        "CREATE TABLE notify.made_by_report (a int)",
        "CREATE TABLE dp_meta.made_by_report (a int)",
        "CREATE TABLE public.made_by_report (a int)",
        "CREATE SCHEMA made_by_report",
        "CREATE VIEW public.made_by_report AS SELECT 1",
        "CREATE FUNCTION public.made_by_report() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "SELECT dp_meta.set_login_password('dp_report', 'x')",
        "INSERT INTO dp_meta.schema_migrations DEFAULT VALUES"};
    s_expect_each(report, "dp_report", refused, sizeof refused / sizeof *refused, false);
    PQclear(ts_query(report, "RESET default_transaction_read_only", 0, NULL));
}

int main(void)
{
    database = ts_database_new("security_privileges");
    admin = ts_connect_or_exit(ts_database_url(database, TS_ROLE_ADMIN));
    for (int r = 0; r < SERVICE_ROLES; r++)
        sessions[service_roles[r].role] =
            ts_connect_or_exit(ts_database_url(database, service_roles[r].role));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_role_holds_exactly_the_grants_of_the_design),
        cmocka_unit_test(test_no_role_may_use_a_sequence_create_objects_or_set_passwords),
        cmocka_unit_test(test_every_statement_without_a_grant_is_refused),
        cmocka_unit_test(test_each_service_reads_no_other_services_personal_data),
        cmocka_unit_test(test_notify_moves_outbox_rows_and_does_nothing_else_with_them),
        cmocka_unit_test(test_report_reads_the_listed_columns_only),
        cmocka_unit_test(test_report_writes_nothing_anywhere_even_read_write),
    };
    int failed = cmocka_run_group_tests_name("security privileges", tests, NULL, NULL);
    for (int r = 0; r < SERVICE_ROLES; r++)
        PQfinish(sessions[service_roles[r].role]);
    PQfinish(admin);
    ts_database_destroy(&database);
    return failed;
}
