/* The reporting service's role, dp_report, can change nothing and cannot
   read personal data: every INSERT, UPDATE, DELETE and TRUNCATE on every
   table of the registry, intake and notify schemas is refused, both in its
   default (read-only) session and after it switches the session to read
   write (then the refusal must come from the grants: 42501). The contacts
   and the personal columns of enquiries stay unreadable. Meanwhile the
   report service, connected as dp_report, keeps answering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_support.h"

static tr_fixture_t *fx;
static PGconn *s_report;     /* dp_report, as the service connects: read-only by default */
static PGconn *s_read_write; /* dp_report after SET default_transaction_read_only = off */

/* Tables that must exist (the list read from the catalogue must hold them,
   so that the loops below cannot pass by finding nothing). */
static const char *s_known_tables[] = {
    "registry.area",         "registry.form",           "registry.partner",
    "registry.partner_name", "registry.partner_domain", "registry.partner_area",
    "registry.contact",      "registry.engagement",     "registry.outbox",
    "intake.enquiry_kind",   "intake.enquiry",          "intake.enquiry_transition",
    "intake.enquiry_note",   "intake.triage_rule",      "intake.outbox",
    "notify.event",          "notify.consumer",         "notify.delivery",
    "notify.webhook",        "notify.webhook_delivery"};
#define KNOWN_TABLES (sizeof s_known_tables / sizeof *s_known_tables)

/* One row in every table, written as the superuser, so that UPDATE and
   DELETE would have something to change if they were allowed. */
static void s_fill(PGconn *admin)
{
    tr_insert_area(admin, "ai", "Artificial intelligence", "2020-01-01 00:00:00+00");
    tr_insert_form(admin, "event", "Event", "2020-01-01 00:00:00+00");
    int64_t partner =
        tr_insert_partner(admin, "alpha", "company", "2018-01-01", "day", "Alpha Ltd", NULL);
    tr_insert_partner_area(admin, partner, "ai");
    tr_insert_engagement(admin, partner, "event", "ai", "2021-01-01");
    const char *id[] = {ts_id_text(partner)};
    PQclear(ts_query(admin,
                     "INSERT INTO registry.partner_domain (domain, partner_id)"
                     " VALUES ('alpha.example', $1::bigint)",
                     1, id));
    PQclear(ts_query(admin,
                     "INSERT INTO registry.contact (partner_id, name, email)"
                     " VALUES ($1::bigint, 'Secret Person', 'secret.person@alpha.example')",
                     1, id));
    PQclear(ts_query(admin,
                     "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id,"
                     " payload) VALUES ('partner.joined', 'partner', '1', '\\x00'::bytea)",
                     0, NULL));
    int64_t enquiry = tr_insert_enquiry(
        admin, &(tr_enquiry_t){.received_at = "2024-01-10 10:00:00+00", .partner_id = partner});
    const char *enquiry_id[] = {ts_id_text(enquiry)};
    PQclear(ts_query(admin,
                     "INSERT INTO intake.enquiry_transition (enquiry_id, from_status, to_status,"
                     " actor) VALUES ($1::bigint, NULL, 'received', 'intake')",
                     1, enquiry_id));
    PQclear(ts_query(admin,
                     "INSERT INTO intake.enquiry_note (enquiry_id, actor, text)"
                     " VALUES ($1::bigint, 'officer', 'Private note about the sender')",
                     1, enquiry_id));
    PQclear(ts_query(admin,
                     "INSERT INTO intake.outbox (event_type, aggregate_type, aggregate_id,"
                     " payload) VALUES ('enquiry.received', 'enquiry', '1', '\\x00'::bytea)",
                     0, NULL));
    PQclear(ts_query(admin,
                     "INSERT INTO notify.event (seq, origin, origin_id, event_type,"
                     " aggregate_type, aggregate_id, payload, occurred_at)"
                     " VALUES (1, 'registry', 1, 'partner.joined', 'partner', '1',"
                     " '\\x00'::bytea, now())",
                     0, NULL));
    PQclear(ts_query(admin,
                     "INSERT INTO notify.consumer (name, ack_timeout_ms, max_attempts)"
                     " VALUES ('reader', 1000, 3)",
                     0, NULL));
    PQclear(ts_query(admin,
                     "INSERT INTO notify.delivery (consumer, seq, attempts, delivered_at)"
                     " VALUES ('reader', 1, 1, now())",
                     0, NULL));
    PQclear(ts_query(admin,
                     "INSERT INTO notify.webhook (url, secret)"
                     " VALUES ('https://hooks.example/dp', 'webhook-secret')",
                     0, NULL));
    PQclear(ts_query(admin,
                     "INSERT INTO notify.webhook_delivery (webhook_id, seq)"
                     " SELECT id, 1 FROM notify.webhook",
                     0, NULL));
}

static int s_setup(void **state)
{
    fx = tr_fixture_new("report_readonly");
    s_fill(fx->admin);
    s_report = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_REPORT));
    s_read_write = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_REPORT));
    /* Any role may lift its own default; only the grants stop it then. */
    PQclear(ts_query(s_read_write, "SET default_transaction_read_only = off", 0, NULL));
    return 0;
}

static int s_teardown(void **state)
{
    if (s_report)
        PQfinish(s_report);
    if (s_read_write)
        PQfinish(s_read_write);
    s_report = s_read_write = NULL;
    tr_fixture_destroy(&fx);
    return 0;
}

/* ---- Statements over every table ------------------------------------------------ */

/* A table of the three schemas, as the catalogue names it. */
typedef struct {
    char name[128];   /* "schema.table", for messages */
    char quoted[160]; /* the same, quoted by libpq for use in SQL */
    char column[160]; /* an ordinary (not identity, not generated) column, quoted */
} s_table_t;

/* Every table of the registry, intake and notify schemas; *count of them. */
static s_table_t *s_tables(size_t *count)
{
    PGresult *result =
        ts_query(fx->admin,
                 "SELECT n.nspname, c.relname,"
                 " (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0"
                 "    AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''"
                 "  ORDER BY a.attnum LIMIT 1)"
                 " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                 " WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('registry', 'intake', 'notify')"
                 " ORDER BY 1, 2",
                 0, NULL);
    *count = (size_t)PQntuples(result);
    s_table_t *tables = calloc(*count ? *count : 1, sizeof *tables);
    assert_non_null(tables);
    for (size_t i = 0; i < *count; i++) {
        const char *schema = PQgetvalue(result, (int)i, 0), *table = PQgetvalue(result, (int)i, 1),
                   *column = PQgetvalue(result, (int)i, 2);
        char *quoted_schema = PQescapeIdentifier(fx->admin, schema, strlen(schema));
        char *quoted_table = PQescapeIdentifier(fx->admin, table, strlen(table));
        char *quoted_column = PQescapeIdentifier(fx->admin, column, strlen(column));
        assert_non_null(quoted_schema);
        assert_non_null(quoted_table);
        assert_non_null(quoted_column);
        snprintf(tables[i].name, sizeof tables[i].name, "%s.%s", schema, table);
        snprintf(tables[i].quoted, sizeof tables[i].quoted, "%s.%s", quoted_schema, quoted_table);
        snprintf(tables[i].column, sizeof tables[i].column, "%s", quoted_column);
        PQfreemem(quoted_schema);
        PQfreemem(quoted_table);
        PQfreemem(quoted_column);
    }
    PQclear(result);
    for (size_t k = 0; k < KNOWN_TABLES; k++) {
        bool found = false;
        for (size_t i = 0; i < *count && !found; i++)
            found = strcmp(tables[i].name, s_known_tables[k]) == 0;
        if (!found)
            fail_msg("the catalogue does not list %s", s_known_tables[k]);
    }
    return tables;
}

/* The writes tried on a table. The statements are built here, and only
   here, because they must name each table of the catalogue (identifiers
   cannot travel as parameters); every name is quoted by libpq. */
static void s_write_statements(const s_table_t *table, char sql[4][512])
{
    snprintf(sql[0], 512, "INSERT INTO %s DEFAULT VALUES", table->quoted);
    snprintf(sql[1], 512, "UPDATE %s SET %s = %s", table->quoted, table->column, table->column);
    snprintf(sql[2], 512, "DELETE FROM %s", table->quoted);
    snprintf(sql[3], 512, "TRUNCATE %s CASCADE", table->quoted);
}

/* A digest of every row of the three schemas, read as the superuser. */
static char *s_everything_digest(const s_table_t *tables, size_t count)
{
    char *digest = strdup("");
    assert_non_null(digest);
    for (size_t i = 0; i < count; i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY"
                 " t::text), '')) FROM %s t",
                 tables[i].quoted);
        char *part = ts_query_text(fx->admin, sql, 0, NULL);
        char *joined = zsys_sprintf("%s%s=%s;", digest, tables[i].name, part);
        free(part);
        free(digest);
        digest = strdup(joined);
        zstr_free(&joined);
        assert_non_null(digest);
    }
    return digest;
}

/* Runs every write on every table through conn; fails (listing each
   statement that was not refused as expected) unless each ended with one
   of the accepted SQLSTATEs. */
static void s_expect_every_write_refused(PGconn *conn, const char *accepted_a,
                                         const char *accepted_b)
{
    size_t count = 0;
    s_table_t *tables = s_tables(&count);
    char *before = s_everything_digest(tables, count);
    int wrong = 0, tried = 0;
    for (size_t i = 0; i < count; i++) {
        char sql[4][512];
        s_write_statements(&tables[i], sql);
        for (size_t s = 0; s < 4; s++) {
            char *sqlstate = ts_query_error(conn, sql[s], 0, NULL);
            tried++;
            if (strcmp(sqlstate, accepted_a) != 0 && strcmp(sqlstate, accepted_b) != 0) {
                print_error("as dp_report: %s\n  expected %s or %s, got '%s'\n", sql[s], accepted_a,
                            accepted_b, *sqlstate ? sqlstate : "success");
                wrong++;
            }
            free(sqlstate);
        }
    }
    char *after = s_everything_digest(tables, count);
    bool unchanged = strcmp(before, after) == 0;
    free(before);
    free(after);
    free(tables);
    assert_true(tried >= (int)(4 * KNOWN_TABLES));
    assert_int_equal(wrong, 0);
    assert_true(unchanged);
}

static void test_no_write_anywhere_in_the_default_session(void **state)
{
    /* 25006 (read-only transaction) comes first; 42501 if a statement gets that far. */
    char *read_only = ts_query_text(s_report, "SHOW transaction_read_only", 0, NULL);
    assert_string_equal(read_only, "on");
    free(read_only);
    s_expect_every_write_refused(s_report, "25006", "42501");
}

static void test_no_write_anywhere_even_read_write(void **state)
{
    char *read_only = ts_query_text(s_read_write, "SHOW transaction_read_only", 0, NULL);
    assert_string_equal(read_only, "off");
    free(read_only);
    /* The grants alone must refuse every write. */
    s_expect_every_write_refused(s_read_write, "42501", "42501");
}

/* ---- Reading ------------------------------------------------------------------------ */

static void s_expect_denied_at(const char *sql, const char *file, int line)
{
    PGconn *sessions[] = {s_report, s_read_write};
    for (size_t i = 0; i < 2; i++) {
        char *sqlstate = ts_query_error(sessions[i], sql, 0, NULL);
        bool denied = strcmp(sqlstate, "42501") == 0;
        if (!denied)
            print_error("as dp_report: %s\n  expected 42501, got '%s'\n", sql,
                        *sqlstate ? sqlstate : "success");
        free(sqlstate);
        if (!denied)
            _fail(file, line);
    }
}
#define s_expect_denied(sql) s_expect_denied_at(sql, __FILE__, __LINE__)

static void test_contacts_cannot_be_read(void **state)
{
    s_expect_denied("SELECT * FROM registry.contact");
    s_expect_denied("SELECT name, email FROM registry.contact");
    s_expect_denied("SELECT count(*) FROM registry.contact");
    s_expect_denied("SELECT id, partner_id FROM registry.contact");
}

static void test_personal_columns_of_enquiries_cannot_be_read(void **state)
{
    s_expect_denied("SELECT email FROM intake.enquiry");
    s_expect_denied("SELECT sender_name FROM intake.enquiry");
    s_expect_denied("SELECT subject FROM intake.enquiry");
    s_expect_denied("SELECT body FROM intake.enquiry");
    s_expect_denied("SELECT subject_key FROM intake.enquiry");
    s_expect_denied("SELECT organisation FROM intake.enquiry");
    s_expect_denied("SELECT * FROM intake.enquiry");
    s_expect_denied("SELECT e FROM intake.enquiry e");
    s_expect_denied("SELECT id FROM intake.enquiry WHERE email LIKE '%@alpha.example'");
    s_expect_denied("SELECT text FROM intake.enquiry_note");
    s_expect_denied("SELECT note FROM intake.enquiry_transition");
    s_expect_denied("SELECT secret FROM notify.webhook");
    s_expect_denied("SELECT payload FROM notify.event");
}

static void test_counting_columns_can_be_read(void **state)
{
    /* What the reports need is readable: the refusals above are not a broken connection. */
    assert_int_equal(ts_query_long(s_report,
                                   "SELECT count(*) FROM intake.enquiry WHERE status = 'received'"
                                   " AND kind = 'other' AND partner_slug = 'alpha'",
                                   0, NULL),
                     1);
    assert_int_equal(ts_query_long(s_report, "SELECT count(*) FROM registry.partner_name", 0, NULL),
                     1);
    assert_int_equal(ts_query_long(s_report, "SELECT count(seq) FROM notify.event", 0, NULL), 1);
}

static void test_role_cannot_escape(void **state)
{
    s_expect_denied("SET ROLE postgres");
    s_expect_denied("SET ROLE dp_registry");
    s_expect_denied("SELECT dp_meta.set_login_password('dp_report', 'chosen')");
    char *sqlstate =
        ts_query_error(s_read_write, "CREATE TABLE registry.report_made (a int)", 0, NULL);
    assert_string_equal(sqlstate, "42501");
    free(sqlstate);
}

/* ---- The service meanwhile --------------------------------------------------------- */

static void test_service_answers_as_dp_report(void **state)
{
    Dp__ReportReply *before = tr_overview_ok(fx->report, "2024-01-01");
    tr_assert_rows(tr_table(before->report, "by_kind"), "company|1|0|1", "total|1|0|1");
    ts_free(&before);
    tr_http_t health = tr_http(tr_report_http_port(fx->report), "GET", "/health");
    assert_int_equal(health.status, 200);
    tr_http_free(&health);
    /* Both of its sessions (requests and dashboard) are dp_report's. */
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM pg_stat_activity WHERE"
                                   " datname = current_database() AND application_name IN"
                                   " ('dp-report', 'dp-report-http') AND usename = 'dp_report'",
                                   0, NULL),
                     2);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM pg_stat_activity WHERE"
                                   " datname = current_database() AND application_name LIKE"
                                   " 'dp-report%' AND usename <> 'dp_report'",
                                   0, NULL),
                     0);
    /* After every refusal above, it still answers every report. */
    Dp__ReportReply *enquiries = tr_enquiries_ok(fx->report, "2024-01-01", "2024-01-31", MONTH);
    tr_assert_rows(tr_table(enquiries->report, "per_period"), "2024-01-01|1|1|0");
    ts_free(&enquiries);
    Dp__ReportReply *cooperation = tr_cooperation_ok(fx->report, "2024-01-01", "", "");
    tr_assert_rows(tr_table(cooperation->report, "partners_by_area"), "alpha|Alpha Ltd|D 1");
    ts_free(&cooperation);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_write_anywhere_in_the_default_session),
        cmocka_unit_test(test_no_write_anywhere_even_read_write),
        cmocka_unit_test(test_contacts_cannot_be_read),
        cmocka_unit_test(test_personal_columns_of_enquiries_cannot_be_read),
        cmocka_unit_test(test_counting_columns_can_be_read),
        cmocka_unit_test(test_role_cannot_escape),
        cmocka_unit_test(test_service_answers_as_dp_report),
    };
    return cmocka_run_group_tests_name("report_readonly", tests, s_setup, s_teardown);
}
