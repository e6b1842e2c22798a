/* Retention: the personal data of enquiries closed or rejected longer than
   DP_INTAKE_RETENTION_MONTHS (24) ago is pseudonymised by RunRetention and
   by the scheduled job. Enquiries resolved a day before and a day after the
   boundary (resolved_at set as the superuser): the dry run counts only
   those past it and changes nothing, the run pseudonymises exactly those,
   and every figure the reports show is the same before and after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_client.h"
#include "events.pb-c.h"
#include "privacy_support.h"
#include "report.pb-c.h"

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

static ti_fixture_t *fx;
static tk_service_t *reporting; /* the reporting service, as dp_report */
static dp_client_t *reports;    /* its client */
static PGconn *report_conn;     /* a dp_report session, to read what reports may read */

/* The enquiries of the test, each from its own sender. */
enum {
    PAST_CLOSED,   /* closed, resolved a day before the boundary: erased */
    PAST_REJECTED, /* rejected, a day before: erased */
    NEAR_CLOSED,   /* closed, a day after the boundary: kept */
    NEAR_REJECTED, /* rejected, a day after: kept */
    OPEN_ANSWERED, /* answered long ago, never resolved: kept */
    PAST_ERASED,   /* closed before the boundary but erased on request: not counted */
    RECENT_CLOSED, /* closed now: kept */
    ENQUIRY_COUNT
};
static int64_t ids[ENQUIRY_COUNT];
static char words[ENQUIRY_COUNT][32]; /* a word in each one's texts */
static char emails[ENQUIRY_COUNT][64];

/* ---- the enquiries ------------------------------------------------------------------ */

static void s_answer(int64_t id, const char *note)
{
    ti_assign_ok(fx, id, note);
    ti_move_ok(fx, id, STATUS(ANSWERED), note);
}

/* One enquiry received on 2024-11-04 (more than 24 months ago), with a
   note naming its word, moved as `which` needs. */
static void s_make(int which)
{
    snprintf(words[which], sizeof words[which], "retentionword%c", 'a' + which);
    snprintf(emails[which], sizeof emails[which], "sender%d@retention.example", which);
    ti_form_t form;
    ti_form_init(&form, "retention");
    char body[200], note[200];
    snprintf(body, sizeof body, "Please keep %s confidential.", words[which]);
    snprintf(note, sizeof note, "Discussed %s with the sender", words[which]);
    form.enquiry.email = emails[which];
    form.enquiry.body = body;
    form.enquiry.received_at = "2024-11-04T09:15:00Z";
    form.enquiry.kind = which % 2 ? "media" : "information-request";
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    ids[which] = reply->enquiry_id;
    ts_free(&reply);
    if (which == PAST_REJECTED || which == NEAR_REJECTED) {
        ti_move_ok(fx, ids[which], STATUS(REJECTED), note);
        return;
    }
    s_answer(ids[which], note);
    if (which != OPEN_ANSWERED)
        ti_move_ok(fx, ids[which], STATUS(CLOSED), note);
}

/* Sets resolved_at (and a first response before it) as the superuser:
   `offset` after the retention boundary, e.g. "-1 day". */
static void s_resolved_at_boundary(int which, const char *offset)
{
    const char *params[] = {ts_id_text(ids[which]), offset};
    PQclear(ts_query(fx->admin,
                     "UPDATE intake.enquiry SET resolved_at = now() - interval '24 months'"
                     " + $2::interval, first_response_at = CASE WHEN first_response_at IS NULL"
                     " THEN NULL ELSE received_at + interval '2 days' END"
                     " WHERE id = $1::bigint",
                     2, params));
}

/* ---- what the reports see -------------------------------------------------------------- */

/* A report's tables as text: name, columns, rows. */
static void s_append_report(char **text, size_t *length, const Dp__Report *report)
{
    for (size_t t = 0; t < report->n_tables; t++) {
        const Dp__ReportTable *table = report->tables[t];
        char line[4096];
        int used = snprintf(line, sizeof line, "[%s]", table->name);
        for (size_t c = 0; c < table->n_columns; c++)
            used += snprintf(line + used, sizeof line - (size_t)used, "|%s", table->columns[c]);
        for (size_t r = 0; r < table->n_rows; r++) {
            used += snprintf(line + used, sizeof line - (size_t)used, "\n");
            for (size_t c = 0; c < table->rows[r]->n_cells; c++)
                used += snprintf(line + used, sizeof line - (size_t)used, "%s;",
                                 table->rows[r]->cells[c]);
        }
        size_t add = strlen(line);
        *text = realloc(*text, *length + add + 2);
        assert_non_null(*text);
        memcpy(*text + *length, line, add);
        *length += add;
        (*text)[(*length)++] = '\n';
        (*text)[*length] = 0;
    }
}

static void s_call_report(const ProtobufCMessage *request, char **text, size_t *length)
{
    ProtobufCMessage *reply = NULL;
    dp_status_t status;
    if (dp_client_call(reports, request, &dp__report_reply__descriptor, &reply, &status) != 0)
        fail_msg("the report service did not answer %s", request->descriptor->name);
    ts_assert_ok(&status);
    const Dp__ReportReply *answer = (const Dp__ReportReply *)reply;
    assert_non_null(answer->report);
    s_append_report(text, length, answer->report);
    dp_message_free(&reply);
}

/* Every figure the three reports give over the test's period, plus every
   column of the enquiries and their history that the reporting role may
   read (but the erasure markers). */
static char *s_report_figures(void)
{
    char *text = calloc(1, 1);
    size_t length = 0;
    Dp__EnquiriesReportRequest enquiries = DP__ENQUIRIES_REPORT_REQUEST__INIT;
    enquiries.period_from = "2024-10-01";
    enquiries.granularity = DP__REPORT_GRANULARITY__REPORT_GRANULARITY_MONTH;
    s_call_report(&enquiries.base, &text, &length);
    enquiries.period_from = "2024-11-01";
    enquiries.period_to = "2024-11-30";
    enquiries.granularity = DP__REPORT_GRANULARITY__REPORT_GRANULARITY_WEEK;
    s_call_report(&enquiries.base, &text, &length);
    Dp__OverviewReportRequest overview = DP__OVERVIEW_REPORT_REQUEST__INIT;
    s_call_report(&overview.base, &text, &length);
    Dp__CooperationReportRequest cooperation = DP__COOPERATION_REPORT_REQUEST__INIT;
    s_call_report(&cooperation.base, &text, &length);
    char *columns = ts_query_text(
        report_conn,
        "SELECT concat_ws(E'\\n',"
        " (SELECT string_agg(concat_ws('|', id, source, kind, country, language, areas,"
        "    received_at, stored_at, status, partner_id, partner_slug, suggested_areas,"
        "    possible_duplicate_of, quarantine_reason, due_on, first_response_at,"
        "    resolved_at), ';' ORDER BY id) FROM intake.enquiry),"
        " (SELECT string_agg(concat_ws('|', id, enquiry_id, from_status, to_status, at),"
        "    ';' ORDER BY id) FROM intake.enquiry_transition))",
        0, NULL);
    size_t add = strlen(columns);
    text = realloc(text, length + add + 1);
    assert_non_null(text);
    memcpy(text + length, columns, add + 1);
    free(columns);
    return text;
}

/* Every row of one enquiry, its notes and history, whole. */
static char *s_whole(int which)
{
    const char *params[] = {ts_id_text(ids[which])};
    return ts_query_text(
        fx->admin,
        "SELECT concat_ws(E'\\n', (SELECT e::text FROM intake.enquiry e WHERE id = $1::bigint),"
        " (SELECT string_agg(n::text, ';' ORDER BY n.id) FROM intake.enquiry_note n"
        "    WHERE enquiry_id = $1::bigint),"
        " (SELECT string_agg(s::text, ';' ORDER BY s.id) FROM intake.enquiry_transition s"
        "    WHERE enquiry_id = $1::bigint))",
        1, params);
}

static bool s_erased_for_retention(int which)
{
    const char *params[] = {ts_id_text(ids[which]), words[which]};
    return ts_query_long(fx->admin,
                         "SELECT count(*) FROM intake.enquiry WHERE id = $1::bigint"
                         " AND sender_name = '[erased]' AND body = '[erased]'"
                         " AND subject = '[erased]' AND email LIKE 'erased-%@invalid'"
                         " AND erased_at IS NOT NULL AND erasure_reason = 'retention'",
                         1, params) == 1 &&
           tp_enquiry_mentions(fx->admin, words[which]) == 0;
}

/* ---- tests -------------------------------------------------------------------------------- */

static char *figures_before;             /* the reports before any retention run */
static char *kept_before[ENQUIRY_COUNT]; /* each enquiry whole, before */

static void test_the_dry_run_counts_only_enquiries_past_the_boundary(void **state)
{
    char *before = tp_digest(fx->admin);
    dp_status_t status;
    Dp__RunRetentionReply *reply = tp_run_retention(fx, true, "records.officer", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->enquiries, 2);
    /* The cutoff lies between the two sides of the boundary. */
    const char *params[] = {reply->cutoff, ts_id_text(ids[PAST_CLOSED])};
    char near[24];
    snprintf(near, sizeof near, "%s", ts_id_text(ids[NEAR_CLOSED]));
    const char *between[] = {reply->cutoff, params[1], near};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) WHERE $1::timestamptz > (SELECT resolved_at"
                                   " FROM intake.enquiry WHERE id = $2::bigint) AND"
                                   " $1::timestamptz < (SELECT resolved_at FROM intake.enquiry"
                                   " WHERE id = $3::bigint)",
                                   3, between),
                     1);
    ts_free(&reply);
    char *after = tp_digest(fx->admin);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_the_run_pseudonymises_exactly_those_past_the_boundary(void **state)
{
    long long outbox = ti_outbox_last_id(fx->admin);
    dp_status_t status;
    Dp__RunRetentionReply *reply = tp_run_retention(fx, false, "records.officer", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->enquiries, 2);
    char cutoff[40];
    snprintf(cutoff, sizeof cutoff, "%s", reply->cutoff);
    ts_free(&reply);

    assert_true(s_erased_for_retention(PAST_CLOSED));
    assert_true(s_erased_for_retention(PAST_REJECTED));
    const char *notes[] = {ts_id_text(ids[PAST_CLOSED])};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry_note WHERE"
                                   " enquiry_id = $1::bigint AND text <> '[erased]'",
                                   1, notes),
                     0);
    for (int which = 0; which < ENQUIRY_COUNT; which++) {
        if (which == PAST_CLOSED || which == PAST_REJECTED)
            continue;
        char *now = s_whole(which);
        if (strcmp(now, kept_before[which]) != 0)
            fail_msg("enquiry %d (case %d) changed although it is not past the boundary:\n"
                     "before %s\nafter  %s",
                     (int)ids[which], which, kept_before[which], now);
        free(now);
    }
    char detail[120];
    snprintf(detail, sizeof detail, "2 enquiries resolved before %s", cutoff);
    const char *audit[] = {detail};
    assert_int_equal(
        ts_query_long(fx->admin,
                      "SELECT count(*) FROM intake.audit_log WHERE action = 'retention'"
                      " AND actor = 'records.officer (unauthenticated)' AND subject_key = ''"
                      " AND detail = $1",
                      1, audit),
        1);
    ts_event_t *event = ti_expect_one_event(fx->admin, outbox, "privacy.erased", NULL);
    Dp__PrivacyEvent *decoded = (Dp__PrivacyEvent *)dp_message_decode(
        &dp__privacy_event__descriptor, event->payload, event->payload_size, 1 << 20);
    assert_non_null(decoded);
    assert_string_equal(decoded->service, "intake");
    assert_string_equal(decoded->subject_key, "");
    assert_int_equal(decoded->erased, 2);
    assert_string_equal(decoded->reason, "retention");
    ts_free(&decoded);
    ts_event_free(&event);
}

static void test_every_report_figure_is_the_same_after_the_run(void **state)
{
    char *after = s_report_figures();
    if (strcmp(after, figures_before) != 0)
        fail_msg("the reports changed with retention:\nbefore:\n%s\nafter:\n%s", figures_before,
                 after);
    free(after);
}

static void test_a_second_run_finds_nothing(void **state)
{
    char *before = tp_digest(fx->admin);
    dp_status_t status;
    Dp__RunRetentionReply *reply = tp_run_retention(fx, false, "records.officer", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->enquiries, 0);
    ts_free(&reply);
    char *after = tp_digest(fx->admin);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_the_scheduled_job_applies_retention_when_the_intake_starts(void **state)
{
    /* A day later, so to speak: the enquiry closed a day after the boundary
       is now a day before it. The job runs as the service starts. */
    s_resolved_at_boundary(NEAR_CLOSED, "-1 day");
    ti_intake_stop(&fx->intake);
    tp_fixture_start_intake(fx, NULL);
    const char *params[] = {ts_id_text(ids[NEAR_CLOSED])};
    bool erased = tp_wait_value(fx->admin,
                                "SELECT count(*) FROM intake.enquiry WHERE id = $1::bigint"
                                " AND erasure_reason = 'retention'",
                                1, params, 1, 10000);
    if (!erased)
        fail_msg("the privacy job did not apply retention at start");
    assert_true(s_erased_for_retention(NEAR_CLOSED));
    assert_int_equal(tp_audit_rows(fx->admin, "intake", "retention", "retention job", ""), 1);
    char *now = s_whole(NEAR_REJECTED);
    assert_string_equal(now, kept_before[NEAR_REJECTED]);
    free(now);
}

static void test_retention_refuses_a_bad_actor_and_changes_nothing(void **state)
{
    char actor[120];
    memset(actor, 'a', sizeof actor - 1);
    actor[sizeof actor - 1] = 0;
    Dp__RunRetentionRequest request = DP__RUN_RETENTION_REQUEST__INIT;
    request.actor = actor;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "actor");
}

int main(void)
{
    fx = tp_fixture_new("privacy_retention");
    tp_fixture_start_intake(fx, NULL);
    for (int which = 0; which < ENQUIRY_COUNT; which++)
        s_make(which);
    s_resolved_at_boundary(PAST_CLOSED, "-1 day");
    s_resolved_at_boundary(PAST_REJECTED, "-1 day");
    s_resolved_at_boundary(NEAR_CLOSED, "+1 day");
    s_resolved_at_boundary(NEAR_REJECTED, "+1 day");
    s_resolved_at_boundary(PAST_ERASED, "-3 days");
    const char *first_response[] = {ts_id_text(ids[OPEN_ANSWERED])};
    PQclear(ts_query(fx->admin,
                     "UPDATE intake.enquiry SET first_response_at = received_at + interval '1 day'"
                     " WHERE id = $1::bigint",
                     1, first_response));
    /* The sender of PAST_ERASED had asked to be erased. */
    dp_status_t status;
    Dp__ErasePersonalDataReply *erased =
        tp_erase_intake(fx, emails[PAST_ERASED], "dpo.alice", "REQ-7", &status);
    if (status.code != DP__CODE__CODE_OK || erased->erased != 1) {
        fprintf(stderr, "FATAL: the erasure on request failed: %s\n", status.message);
        ti_fixture_destroy(&fx);
        return 1;
    }
    ts_free(&erased);

    reporting = tk_service_start(TK_REPORT, ts_database_url(fx->database, TS_ROLE_REPORT), NULL);
    reports = reporting ? dp_client_new(tk_service_endpoint(reporting), 15000, 1) : NULL;
    report_conn = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_REPORT));
    if (!reports) {
        fprintf(stderr, "FATAL: cannot start the report service\n");
        tk_service_stop(&reporting);
        PQfinish(report_conn);
        ti_fixture_destroy(&fx);
        return 1;
    }
    figures_before = s_report_figures();
    for (int which = 0; which < ENQUIRY_COUNT; which++)
        kept_before[which] = s_whole(which);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_dry_run_counts_only_enquiries_past_the_boundary),
        cmocka_unit_test(test_the_run_pseudonymises_exactly_those_past_the_boundary),
        cmocka_unit_test(test_every_report_figure_is_the_same_after_the_run),
        cmocka_unit_test(test_a_second_run_finds_nothing),
        cmocka_unit_test(test_the_scheduled_job_applies_retention_when_the_intake_starts),
        cmocka_unit_test(test_retention_refuses_a_bad_actor_and_changes_nothing),
    };
    int failed = cmocka_run_group_tests_name("privacy retention", tests, NULL, NULL);
    for (int which = 0; which < ENQUIRY_COUNT; which++)
        free(kept_before[which]);
    free(figures_before);
    dp_client_destroy(&reports);
    tk_service_stop(&reporting);
    PQfinish(report_conn);
    ti_fixture_destroy(&fx);
    return failed;
}
