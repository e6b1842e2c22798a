/* Nothing of an erased person is left where it could leak: after the
   person's enquiries and contacts were read, exported and erased (and some
   requests carrying their data refused), neither the outboxes, nor the
   event sequence (notify.event, once the relay ran), nor anything the
   reporting role can read or the reports show, nor the audit trails, nor
   what the services logged during the whole test (their standard error,
   captured from the first line at the debug level) hold the person's name,
   address or a word that only their texts contained. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "dp_log.h"
#include "privacy_support.h"
#include "report.pb-c.h"

static tk_capture_t *capture; /* the services' standard error */
static ti_fixture_t *fx;
static tp_person_t subject; /* erased */
static tp_person_t other;   /* not erased: proves the scans can find something */

#define SUBJECT_EMAIL TP_SUBJECT_EMAIL

/* What must not be found, with a label to say in failure messages (which go
   to the captured standard error: they must not carry the text itself). */
typedef struct {
    const char *label; /* e.g. "the name" */
    const char *text;  /* the text itself */
} needle_t;

static needle_t needles[5];
static size_t needle_count;

/* ---- scans -------------------------------------------------------------------------------- */

/* Case-insensitive search in bytes that need not end with a NUL. */
static bool s_contains(const void *data, size_t size, const char *needle)
{
    size_t length = strlen(needle);
    const unsigned char *bytes = data;
    for (size_t i = 0; length && i + length <= size; i++)
        if (strncasecmp((const char *)bytes + i, needle, length) == 0)
            return true;
    return false;
}

static long long s_outbox_mentions(PGconn *conn, const char *needle)
{
    const char *params[] = {needle};
    return ts_query_long(
        conn,
        "SELECT (SELECT count(*) FROM intake.outbox o WHERE strpos(lower(concat_ws(' ',"
        "   o.event_type, o.aggregate_type, o.aggregate_id, encode(o.payload, 'escape'))),"
        "   lower($1)) > 0)"
        " + (SELECT count(*) FROM registry.outbox o WHERE strpos(lower(concat_ws(' ',"
        "   o.event_type, o.aggregate_type, o.aggregate_id, encode(o.payload, 'escape'))),"
        "   lower($1)) > 0)",
        1, params);
}

static long long s_event_mentions(PGconn *conn, const char *needle)
{
    const char *params[] = {needle};
    return ts_query_long(
        conn,
        "SELECT count(*) FROM notify.event e WHERE strpos(lower(concat_ws(' ', e.origin,"
        " e.event_type, e.aggregate_type, e.aggregate_id, encode(e.payload, 'escape'))),"
        " lower($1)) > 0",
        1, params);
}

static long long s_audit_mentions(PGconn *conn, const char *needle)
{
    const char *params[] = {needle};
    return ts_query_long(conn,
                         "SELECT (SELECT count(*) FROM intake.audit_log t"
                         "   WHERE strpos(lower(t::text), lower($1)) > 0)"
                         " + (SELECT count(*) FROM registry.audit_log t"
                         "   WHERE strpos(lower(t::text), lower($1)) > 0)",
                         1, params);
}

/* Every relation the session's role may read at least one column of, with
   a query that counts its rows holding $1 in a readable column. */
static PGresult *s_readable_relations(PGconn *conn)
{
    return ts_query(
        conn,
        "SELECT n.nspname || '.' || c.relname,"
        " format('SELECT count(*) FROM (SELECT %s FROM %I.%I) t"
        "   WHERE strpos(lower(t::text), lower($1)) > 0',"
        "   string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum), n.nspname, c.relname)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')"
        "   AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        "   AND n.nspname NOT LIKE 'pg\\_%'"
        "   AND has_schema_privilege(n.oid, 'USAGE')"
        "   AND has_column_privilege(c.oid, a.attnum, 'SELECT')"
        " GROUP BY n.nspname, c.relname ORDER BY 1",
        0, NULL);
}

/* Rows holding the needle in what the session's role may read, summed over
   every readable relation; *relations says how many were scanned and
   `found_in` names the first relation with a hit. */
static long long s_readable_mentions(PGconn *conn, const char *needle, int *relations,
                                     char *found_in, size_t found_size)
{
    PGresult *readable = s_readable_relations(conn);
    *relations = PQntuples(readable);
    long long total = 0;
    for (int row = 0; row < *relations; row++) {
        const char *params[] = {needle};
        long long hits = ts_query_long(conn, PQgetvalue(readable, row, 1), 1, params);
        if (hits && !total)
            snprintf(found_in, found_size, "%s", PQgetvalue(readable, row, 0));
        total += hits;
    }
    PQclear(readable);
    return total;
}

/* ---- the person's data passes through the services ---------------------------------------- */

static void s_exercise(void)
{
    tp_person_add_enquiries(fx, &subject);
    tp_person_add_enquiries(fx, &other);
    /* Reads and an export, as staff and the data protection officer would. */
    for (int i = 0; i < TP_ENQUIRIES; i++) {
        Dp__GetEnquiryReply *got = ti_get(fx, subject.enquiry_ids[i]);
        ts_free(&got);
    }
    Dp__ListEnquiriesRequest list = DP__LIST_ENQUIRIES_REQUEST__INIT;
    dp_status_t status;
    Dp__ListEnquiriesReply *listed = ti_list_enquiries(fx->intake, &list, &status);
    ts_assert_ok(&status);
    ts_free(&listed);
    Dp__GetPartnerReply *partner = ts_get_partner_by_slug(fx->registry, subject.slugs[0], NULL);
    ts_free(&partner);
    Dp__ExportPersonalDataReply *exported = tp_export_intake(fx, SUBJECT_EMAIL, "dpo", &status);
    ts_assert_ok(&status);
    ts_free(&exported);
    exported = tp_export_registry(fx, SUBJECT_EMAIL, "dpo", &status);
    ts_assert_ok(&status);
    ts_free(&exported);

    /* Refusals that carry the person's data: they are logged. */
    ti_form_t bad;
    ti_form_init(&bad, "refused");
    bad.enquiry.sender_name = (char *)subject.name;
    bad.enquiry.email = SUBJECT_EMAIL;
    bad.enquiry.body = subject.bodies[0];
    bad.enquiry.country = "Quillworks";
    Dp__SubmitEnquiryReply *submitted = ti_submit_enquiry(fx->intake, &bad.request, &status);
    assert_int_equal(status.code, DP__CODE__CODE_INVALID_ARGUMENT);
    ts_free(&submitted);
    ti_form_t changed = subject.forms[0];
    changed.request.enquiry = &changed.enquiry;
    changed.enquiry.idempotency_key = changed.key;
    changed.enquiry.email = changed.email;
    changed.enquiry.subject = changed.subject;
    changed.enquiry.body = "Same key, other words from Zephyrine Quillfeather (xylokrambit).";
    submitted = ti_submit_enquiry(fx->intake, &changed.request, &status);
    assert_int_equal(status.code, DP__CODE__CODE_ALREADY_EXISTS);
    ts_free(&submitted);
    Dp__AddContactRequest contact = DP__ADD_CONTACT_REQUEST__INIT;
    TS_REF_SLUG(nowhere, "no-such-partner");
    contact.partner = &nowhere;
    contact.name = (char *)subject.name;
    contact.email = SUBJECT_EMAIL;
    Dp__AddContactReply *added = ts_add_contact(fx->registry, &contact, &status);
    assert_int_equal(status.code, DP__CODE__CODE_NOT_FOUND);
    ts_free(&added);

    /* The erasure. */
    Dp__ErasePersonalDataReply *erased =
        tp_erase_intake(fx, SUBJECT_EMAIL, "dpo", "REQ-1", &status);
    ts_assert_ok(&status);
    assert_int_equal(erased->erased, TP_ENQUIRIES);
    ts_free(&erased);
    erased = tp_erase_registry(fx, SUBJECT_EMAIL, "dpo", "REQ-1", &status);
    ts_assert_ok(&status);
    assert_int_equal(erased->erased, TP_CONTACTS);
    ts_free(&erased);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_the_stored_rows_hold_nothing_of_the_person(void **state)
{
    for (size_t i = 0; i < needle_count; i++)
        if (tp_enquiry_mentions(fx->admin, needles[i].text) ||
            tp_contact_mentions(fx->admin, needles[i].text) ||
            s_audit_mentions(fx->admin, needles[i].text))
            fail_msg("%s is still stored in the enquiries, contacts or audit trails",
                     needles[i].label);
    /* The scans do find what is there. */
    assert_true(tp_enquiry_mentions(fx->admin, other.word) > 0);
    assert_true(tp_contact_mentions(fx->admin, other.name) > 0);
}

static void test_the_outboxes_hold_nothing_of_the_person(void **state)
{
    assert_true(ti_outbox_count_after(fx->admin, 0) >= 2 * TP_ENQUIRIES);
    assert_true(ts_outbox_count_after(fx->admin, 0) >= 2 * TP_CONTACTS);
    assert_true(s_outbox_mentions(fx->admin, "privacy.erased") == 2);
    for (size_t i = 0; i < needle_count; i++)
        if (s_outbox_mentions(fx->admin, needles[i].text))
            fail_msg("%s is in an outbox", needles[i].label);
}

static void test_the_event_sequence_holds_nothing_of_the_person(void **state)
{
    long long waiting = ti_outbox_count_after(fx->admin, 0) + ts_outbox_count_after(fx->admin, 0);
    tk_service_t *notify =
        tk_service_start(TK_NOTIFY, ts_database_url(fx->database, TS_ROLE_NOTIFY), NULL);
    assert_non_null(notify);
    bool relayed = tp_wait_value(fx->admin,
                                 "SELECT (SELECT count(*) FROM intake.outbox)"
                                 " + (SELECT count(*) FROM registry.outbox)",
                                 0, NULL, 0, 15000);
    tk_service_stop(&notify);
    if (!relayed)
        fail_msg("the relay did not empty the outboxes within 15 s");
    assert_int_equal(ts_query_long(fx->admin, "SELECT count(*) FROM notify.event", 0, NULL),
                     waiting);
    assert_int_equal(s_event_mentions(fx->admin, "privacy.erased"), 2);
    for (size_t i = 0; i < needle_count; i++)
        if (s_event_mentions(fx->admin, needles[i].text))
            fail_msg("%s is in notify.event", needles[i].label);
}

static void test_the_reporting_role_can_read_nothing_of_the_person(void **state)
{
    PGconn *report = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_REPORT));
    int relations = 0;
    char found_in[128] = "";
    /* Not vacuous: it reads the enquiries, and finds their kinds. */
    assert_true(s_readable_mentions(report, "information-request", &relations, found_in,
                                    sizeof found_in) > 0);
    assert_true(relations >= 10);
    for (size_t i = 0; i < needle_count; i++)
        if (s_readable_mentions(report, needles[i].text, &relations, found_in, sizeof found_in))
            fail_msg("dp_report can read %s (in %s)", needles[i].label, found_in);
    /* Not even the other person's, never erased: reports never show people. */
    if (s_readable_mentions(report, other.email, &relations, found_in, sizeof found_in))
        fail_msg("dp_report can read the other person's address (in %s)", found_in);
    PQfinish(report);
}

static void test_the_reports_show_nothing_of_the_person(void **state)
{
    tk_service_t *service =
        tk_service_start(TK_REPORT, ts_database_url(fx->database, TS_ROLE_REPORT), NULL);
    assert_non_null(service);
    tk_client_t *client = tk_client_new(tk_service_endpoint(service), NULL, TK_REPORT, NULL);
    Dp__OverviewReportRequest overview = DP__OVERVIEW_REPORT_REQUEST__INIT;
    Dp__CooperationReportRequest cooperation = DP__COOPERATION_REPORT_REQUEST__INIT;
    Dp__EnquiriesReportRequest enquiries = DP__ENQUIRIES_REPORT_REQUEST__INIT;
    Dp__DashboardRequest dashboard = DP__DASHBOARD_REQUEST__INIT;
    const ProtobufCMessage *requests[] = {&overview.base, &cooperation.base, &enquiries.base,
                                          &dashboard.base};
    for (size_t r = 0; r < 4; r++) {
        Dp__Reply *reply = tk_exchange(client, requests[r], 15000);
        assert_non_null(reply);
        assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
        assert_true(reply->body.len > 0);
        for (size_t i = 0; i < needle_count; i++)
            if (s_contains(reply->body.data, reply->body.len, needles[i].text))
                fail_msg("the %s answer shows %s", requests[r]->descriptor->name, needles[i].label);
        ts_free(&reply);
    }
    tk_client_destroy(&client);
    tk_service_stop(&service);
}

static void test_the_logs_hold_nothing_of_the_person(void **state)
{
    char *text = tk_capture_text(capture);
    size_t size = strlen(text);
    /* Not vacuous: the services logged, refusals included. */
    assert_non_null(strstr(text, "serving on"));
    assert_non_null(strstr(text, "INVALID_ARGUMENT"));
    assert_non_null(strstr(text, "ALREADY_EXISTS"));
    for (size_t i = 0; i < needle_count; i++)
        if (s_contains(text, size, needles[i].text)) {
            /* Say which line, with the needle masked. */
            char line[300] = "";
            for (char *start = text; *start;) {
                char *end = strchr(start, '\n');
                size_t length = end ? (size_t)(end - start) : strlen(start);
                if (s_contains(start, length, needles[i].text)) {
                    snprintf(line, sizeof line, "%.*s", (int)(length < 200 ? length : 200), start);
                    break;
                }
                start = end ? end + 1 : start + length;
            }
            for (char *p = line; *p; p++)
                if (strncasecmp(p, needles[i].text, strlen(needles[i].text)) == 0)
                    memset(p, '#',
                           strlen(p) < strlen(needles[i].text) ? strlen(p)
                                                               : strlen(needles[i].text));
            free(text);
            fail_msg("the services logged %s: %s", needles[i].label, line);
        }
    free(text);
}

int main(void)
{
    capture = tk_capture_start();
    dp_log_init(NULL, "debug");
    fx = tp_fixture_new("privacy_no_leak");
    tp_people_init(fx, &subject, &other);
    needles[needle_count++] = (needle_t){"the name", subject.name};
    needles[needle_count++] = (needle_t){"the surname", "Quillfeather"};
    needles[needle_count++] = (needle_t){"the e-mail address", subject.email};
    needles[needle_count++] = (needle_t){"the word from the body", subject.word};
    const char *settings[] = {"DP_INTAKE_PRIVACY_JOB_MS", "1000", NULL};
    tp_fixture_start_intake(fx, settings);
    s_exercise();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_stored_rows_hold_nothing_of_the_person),
        cmocka_unit_test(test_the_outboxes_hold_nothing_of_the_person),
        cmocka_unit_test(test_the_event_sequence_holds_nothing_of_the_person),
        cmocka_unit_test(test_the_reporting_role_can_read_nothing_of_the_person),
        cmocka_unit_test(test_the_reports_show_nothing_of_the_person),
        cmocka_unit_test(test_the_logs_hold_nothing_of_the_person),
    };
    int failed = cmocka_run_group_tests_name("privacy no leak", tests, NULL, NULL);
    ti_fixture_destroy(&fx);
    tk_capture_end(&capture);
    return failed;
}
