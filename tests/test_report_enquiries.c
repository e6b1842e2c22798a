/* The enquiries report (EnquiriesReportRequest) against hand-computed
   figures. The period is 2024-02-14 (a Wednesday) to 2024-03-20; the year
   before is 2023-02-14 to 2023-03-20. Enquiries sit on both edges of both
   periods. Breakdowns compare the two periods; buckets are weeks (from
   Monday) or months, empty ones included; response times are medians and
   90th percentiles with linear interpolation (percentile_cont), in hours
   to one decimal. Backlog and past-due figures are relative to today, so
   those enquiries are placed relative to now. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_support.h"

static tr_fixture_t *fx;

#define FROM "2024-02-14"
#define TO "2024-03-20"

/* Ids of the enquiries that must appear as past due. */
static int64_t s_e5, s_e7, s_e8, s_b3, s_b4, s_b5, s_b9;

static void s_seed(PGconn *admin)
{
    int64_t alpha =
        tr_insert_partner(admin, "alpha", "company", "2017-11-08", "day", "Alpha Ltd", NULL);
    int64_t beta =
        tr_insert_partner(admin, "beta", "association", "2017-11-08", "day", "Beta", NULL);

    /* This period. First responses (hours): 4, 10, 2, 1.5, 20; resolutions: 30, 48, 72. */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-02-14 09:00:00+00",
                                             .kind = "membership-application",
                                             .status = "answered",
                                             .partner_id = alpha,
                                             .first_response_in = "4 hours",
                                             .resolved_in = "30 hours"}); /* E1 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-02-15 10:00:00+00",
                                             .source = "email",
                                             .kind = "information-request",
                                             .status = "closed",
                                             .first_response_in = "10 hours",
                                             .resolved_in = "48 hours"}); /* E2 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-02-20 08:00:00+00",
                                             .kind = "information-request",
                                             .status = "answered",
                                             .first_response_in = "2 hours"}); /* E3 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-02-21 12:00:00+00",
                                             .kind = "media",
                                             .status = "quarantined"}); /* E4 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-02-27 16:00:00+00",
                                             .kind = "information-request",
                                             .status = "answered",
                                             .first_response_in = "1 hour 30 minutes"}); /* E9 */
    s_e5 = tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-03-05 09:30:00+00",
                                                    .source = "email",
                                                    .kind = "cooperation-proposal",
                                                    .status = "assigned",
                                                    .assignee = "alice",
                                                    .partner_id = beta,
                                                    .due_on = "2024-03-15"});
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-03-06 14:00:00+00",
                                             .kind = "information-request",
                                             .status = "answered",
                                             .first_response_in = "20 hours",
                                             .resolved_in = "72 hours"}); /* E6 */
    s_e7 = tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-03-19 23:30:00+00",
                                                    .kind = "information-request",
                                                    .partner_id = alpha,
                                                    .due_on = "2024-03-29"});
    s_e8 = tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-03-20 23:59:59+00",
                                                    .status = "triaged",
                                                    .due_on = "2024-03-30"});
    /* Just outside this period: a second before it, and the first second after it. */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-02-13 23:59:59+00",
                                             .kind = "information-request",
                                             .status = "answered",
                                             .first_response_in = "100 hours"});
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2024-03-21 00:00:00+00",
                                             .kind = "information-request",
                                             .status = "answered",
                                             .first_response_in = "100 hours"});

    /* The year before. First responses: 6, 3, 8; resolutions: 24, 12. */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2023-02-14 00:00:00+00",
                                             .kind = "information-request",
                                             .status = "closed",
                                             .first_response_in = "6 hours",
                                             .resolved_in = "24 hours"}); /* Y1 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2023-02-20 10:00:00+00",
                                             .status = "closed",
                                             .first_response_in = "3 hours",
                                             .resolved_in = "12 hours"}); /* Y6 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2023-03-01 12:00:00+00",
                                             .source = "email",
                                             .kind = "information-request",
                                             .status = "answered",
                                             .partner_id = alpha,
                                             .first_response_in = "8 hours"}); /* Y2 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2023-03-10 10:00:00+00",
                                             .source = "email",
                                             .status = "closed"}); /* Y7 */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2023-03-20 23:00:00+00",
                                             .kind = "media",
                                             .status = "rejected"}); /* Y3 */
    /* Just outside the year before. */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2023-03-21 00:00:00+00",
                                             .kind = "media",
                                             .status = "rejected"});
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2023-02-13 23:00:00+00",
                                             .kind = "media",
                                             .status = "rejected"});

    /* Relative to now, for the backlog and the past-due list. */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_ago = "1 day 2 hours",
                                             .due_in_days = "5"}); /* B1: 0-2 days */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_ago = "2 days 20 hours",
                                             .status = "triaged",
                                             .due_in_days = "0"}); /* B2: 0-2 days, due today */
    s_b3 = tr_insert_enquiry(admin, &(tr_enquiry_t){.received_ago = "5 days",
                                                    .status = "assigned",
                                                    .assignee = "bob",
                                                    .due_in_days = "-1"});
    s_b4 =
        tr_insert_enquiry(admin, &(tr_enquiry_t){.received_ago = "10 days", .due_in_days = "-3"});
    s_b5 = tr_insert_enquiry(admin, &(tr_enquiry_t){.received_ago = "45 days",
                                                    .status = "assigned",
                                                    .assignee = "carol",
                                                    .kind = "media",
                                                    .due_in_days = "-35"});
    s_b9 = tr_insert_enquiry(admin,
                             &(tr_enquiry_t){.received_ago = "120 days", .due_in_days = "-110"});
    /* Answered, quarantined or closed: not open, though late. */
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_ago = "4 days",
                                             .status = "answered",
                                             .first_response_in = "1 hour",
                                             .due_in_days = "-2"});
    tr_insert_enquiry(
        admin,
        &(tr_enquiry_t){.received_ago = "6 days", .status = "quarantined", .due_in_days = "-4"});
    tr_insert_enquiry(
        admin, &(tr_enquiry_t){.received_ago = "1 day", .status = "closed", .due_in_days = "-1"});
}

/* ---- An empty database ------------------------------------------------------------------------
 */

static void test_empty_database(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    tr_assert_no_rows(tr_table(reply->report, "by_status"));
    tr_assert_no_rows(tr_table(reply->report, "by_kind"));
    tr_assert_no_rows(tr_table(reply->report, "by_source"));
    tr_assert_no_rows(tr_table(reply->report, "by_sender"));
    /* Buckets are there, empty. */
    tr_assert_rows(tr_table(reply->report, "per_period"), "2024-02-12|0|0|0", "2024-02-19|0|0|0",
                   "2024-02-26|0|0|0", "2024-03-04|0|0|0", "2024-03-11|0|0|0", "2024-03-18|0|0|0");
    tr_assert_rows(tr_table(reply->report, "response_times"), "first response (hours)|0|||0||",
                   "resolution (hours)|0|||0||");
    tr_assert_rows(tr_table(reply->report, "response_times_per_period"), "2024-02-12|0||",
                   "2024-02-19|0||", "2024-02-26|0||", "2024-03-04|0||", "2024-03-11|0||",
                   "2024-03-18|0||");
    tr_assert_rows(tr_table(reply->report, "backlog"), "0-2 days|0", "3-7 days|0", "8-30 days|0",
                   "31-90 days|0", "over 90 days|0");
    tr_assert_no_rows(tr_table(reply->report, "past_due"));
    ts_free(&reply);
}

#define BREAKDOWN_COLUMNS(first) first "|This period|Year before|Change"

/* ---- The report ------------------------------------------------------------------ */

static void test_enquiries_has_nine_tables_in_order(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    const Dp__Report *report = reply->report;
    assert_string_equal(report->name, "enquiries");
    assert_string_equal(report->period_from, FROM);
    assert_string_equal(report->period_to, TO);
    const char *names[] = {"by_status",
                           "by_kind",
                           "by_source",
                           "by_sender",
                           "per_period",
                           "response_times",
                           "response_times_per_period",
                           "backlog",
                           "past_due"};
    assert_int_equal(report->n_tables, 9);
    for (size_t t = 0; t < 9; t++)
        assert_string_equal(report->tables[t]->name, names[t]);
    tr_assert_columns(report->tables[0], BREAKDOWN_COLUMNS("Status"));
    tr_assert_columns(report->tables[1], BREAKDOWN_COLUMNS("Kind"));
    tr_assert_columns(report->tables[2], BREAKDOWN_COLUMNS("Source"));
    tr_assert_columns(report->tables[3], BREAKDOWN_COLUMNS("Sender"));
    tr_assert_columns(report->tables[4], "Period from|Received|From partners|Quarantined");
    tr_assert_columns(report->tables[5],
                      "Measure|Count|Median|p90|Count before|Median before|p90 before");
    tr_assert_columns(report->tables[6], "Period from|Answered|Median first response (h)|"
                                         "p90 first response (h)");
    tr_assert_columns(report->tables[7], "Age|Open enquiries");
    tr_assert_columns(report->tables[8], "Enquiry|Received|Kind|Status|Due|Days late");
    ts_free(&reply);
}

/* ---- Breakdowns: this period, the year before, the change ---------------------------- */

static void test_by_status(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    /* Most frequent first; 1 against 3 is -67 %; none before is "new". */
    tr_assert_rows(tr_table(reply->report, "by_status"), "answered|4|1|+300%", "assigned|1|0|new",
                   "closed|1|3|-67%", "quarantined|1|0|new", "received|1|0|new", "triaged|1|0|new",
                   "rejected|0|1|-100%");
    ts_free(&reply);
}

static void test_by_kind(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    tr_assert_rows(tr_table(reply->report, "by_kind"), "information-request|5|2|+150%",
                   "cooperation-proposal|1|0|new", "media|1|1|+0%",
                   "membership-application|1|0|new", "other|1|2|-50%");
    ts_free(&reply);
}

static void test_by_source(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    tr_assert_rows(tr_table(reply->report, "by_source"), "web|7|3|+133%", "email|2|2|+0%");
    ts_free(&reply);
}

static void test_by_sender(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    tr_assert_rows(tr_table(reply->report, "by_sender"), "non-partner|6|4|+50%",
                   "partner|3|1|+200%");
    ts_free(&reply);
}

/* ---- Buckets ---------------------------------------------------------------------------- */

static void test_per_week_with_empty_weeks(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    /* Weeks start on Monday: the first one (from 2024-02-12) counts only from 2024-02-14. */
    tr_assert_rows(tr_table(reply->report, "per_period"), "2024-02-12|2|1|0", "2024-02-19|2|0|1",
                   "2024-02-26|1|0|0", "2024-03-04|2|1|0", "2024-03-11|0|0|0", "2024-03-18|2|1|0");
    ts_free(&reply);
}

static void test_unspecified_granularity_is_weeks(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, UNSPECIFIED);
    assert_int_equal(tr_table(reply->report, "per_period")->n_rows, 6);
    assert_string_equal(tr_row_text(tr_table(reply->report, "per_period"), 4), "2024-03-11|0|0|0");
    ts_free(&reply);
}

static void test_per_month(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, MONTH);
    tr_assert_rows(tr_table(reply->report, "per_period"), "2024-02-01|5|1|1", "2024-03-01|4|2|0");
    ts_free(&reply);
}

static void test_per_month_with_an_empty_month(void **state)
{
    /* Wider than the period: the enquiries on its edges (2024-02-13, 2024-03-21) count. */
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, "2024-01-01", "2024-04-30", MONTH);
    tr_assert_rows(tr_table(reply->report, "per_period"), "2024-01-01|0|0|0", "2024-02-01|6|1|1",
                   "2024-03-01|5|2|0", "2024-04-01|0|0|0");
    ts_free(&reply);
}

/* ---- Response times --------------------------------------------------------------------- */

static void test_response_times_median_and_p90(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    /* First responses 1.5 2 4 10 20: median 4; p90 at rank 1 + 0.9 * 4 = 4.6, so
       10 + 0.6 * (20 - 10) = 16. Resolutions 30 48 72: median 48; p90 at rank 2.8:
       48 + 0.8 * 24 = 67.2. A year before: 3 6 8 (median 6, p90 6 + 0.8 * 2 = 7.6) and
       12 24 (median 18, p90 12 + 0.9 * 12 = 22.8). */
    tr_assert_rows(tr_table(reply->report, "response_times"),
                   "first response (hours)|5|4.0|16.0|3|6.0|7.6",
                   "resolution (hours)|3|48.0|67.2|2|18.0|22.8");
    ts_free(&reply);
}

static void test_response_times_per_week(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    /* Week of 2024-02-12: 4 and 10 hours, median 7, p90 4 + 0.9 * 6 = 9.4. */
    tr_assert_rows(tr_table(reply->report, "response_times_per_period"), "2024-02-12|2|7.0|9.4",
                   "2024-02-19|1|2.0|2.0", "2024-02-26|1|1.5|1.5", "2024-03-04|1|20.0|20.0",
                   "2024-03-11|0||", "2024-03-18|0||");
    ts_free(&reply);
}

static void test_response_times_per_month(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, MONTH);
    /* February: 1.5 2 4 10: median 2 + 0.5 * 2 = 3, p90 at rank 3.7: 4 + 0.7 * 6 = 8.2. */
    tr_assert_rows(tr_table(reply->report, "response_times_per_period"), "2024-02-01|4|3.0|8.2",
                   "2024-03-01|1|20.0|20.0");
    ts_free(&reply);
}

/* ---- Backlog and past due (relative to today) --------------------------------------------- */

static void test_backlog_by_age(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    /* Open = received, triaged or assigned, whatever the period: the three open ones of
       2024 and one of 120 days are over 90 days old. */
    tr_assert_rows(tr_table(reply->report, "backlog"), "0-2 days|2", "3-7 days|1", "8-30 days|1",
                   "31-90 days|1", "over 90 days|4");
    ts_free(&reply);
}

static void test_past_due_list(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, FROM, TO, WEEK);
    char rows[7][160];
    snprintf(rows[0], sizeof rows[0],
             "%lld|2024-03-05|cooperation-proposal|assigned|2024-03-15|%ld", (long long)s_e5,
             tr_days_between("2024-03-15", tr_today_plus(0)));
    snprintf(rows[1], sizeof rows[1], "%lld|2024-03-19|information-request|received|2024-03-29|%ld",
             (long long)s_e7, tr_days_between("2024-03-29", tr_today_plus(0)));
    snprintf(rows[2], sizeof rows[2], "%lld|2024-03-20|other|triaged|2024-03-30|%ld",
             (long long)s_e8, tr_days_between("2024-03-30", tr_today_plus(0)));
    snprintf(rows[3], sizeof rows[3], "%lld|%s|other|received|%s|110", (long long)s_b9,
             tr_today_plus(-120), tr_today_plus(-110));
    snprintf(rows[4], sizeof rows[4], "%lld|%s|media|assigned|%s|35", (long long)s_b5,
             tr_today_plus(-45), tr_today_plus(-35));
    snprintf(rows[5], sizeof rows[5], "%lld|%s|other|received|%s|3", (long long)s_b4,
             tr_today_plus(-10), tr_today_plus(-3));
    snprintf(rows[6], sizeof rows[6], "%lld|%s|other|assigned|%s|1", (long long)s_b3,
             tr_today_plus(-5), tr_today_plus(-1));
    /* Oldest due date first; due today is not late; answered, quarantined and closed
       enquiries are never listed. */
    tr_assert_rows(tr_table(reply->report, "past_due"), rows[0], rows[1], rows[2], rows[3], rows[4],
                   rows[5], rows[6]);
    ts_free(&reply);
}

/* ---- Defaults ------------------------------------------------------------------------------- */

static void test_default_period_is_the_last_90_days(void **state)
{
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, "", "", UNSPECIFIED);
    assert_string_equal(reply->report->period_to, tr_today_plus(0));
    assert_string_equal(reply->report->period_from, tr_today_plus(-90));
    /* Received in the last 90 days: the enquiries of 1 to 45 days ago; none a year before. */
    tr_assert_rows(tr_table(reply->report, "by_status"), "assigned|2|0|new", "received|2|0|new",
                   "answered|1|0|new", "closed|1|0|new", "quarantined|1|0|new", "triaged|1|0|new");
    ts_free(&reply);
    /* Only period_to: the period still spans 90 days before it. */
    Dp__ReportReply *to_only = tr_enquiries_ok(fx->report, "", TO, WEEK);
    assert_string_equal(to_only->report->period_from, "2023-12-21");
    ts_free(&to_only);
}

/* ---- Refusals ------------------------------------------------------------------------------- */

static void s_expect_refused_at(const char *from, const char *to, Dp__ReportGranularity granularity,
                                const char *field, const char *file, int line)
{
    dp_status_t status;
    Dp__ReportReply *reply = tr_enquiries(fx->report, from, to, granularity, &status);
    if (reply)
        print_error("period %s..%s was accepted\n", from, to);
    tr_assert_refused_at(reply, &status, field, file, line);
}
#define s_expect_refused(from, to, granularity, field)                                             \
    s_expect_refused_at(from, to, DP__REPORT_GRANULARITY__REPORT_GRANULARITY_##granularity, field, \
                        __FILE__, __LINE__)

static void test_invalid_dates_are_refused_with_their_field(void **state)
{
    s_expect_refused("2024-02-30", TO, WEEK, "period_from");
    s_expect_refused("2024/02/14", TO, WEEK, "period_from");
    s_expect_refused("14-02-2024", TO, WEEK, "period_from");
    s_expect_refused(FROM, "2024-13-01", WEEK, "period_to");
    s_expect_refused(FROM, "2023-02-29", WEEK, "period_to");
    s_expect_refused("", "tomorrow", WEEK, "period_to");
}

static void test_period_from_after_period_to_is_refused(void **state)
{
    s_expect_refused("2024-03-21", TO, WEEK, "period_from");
    s_expect_refused(TO, FROM, MONTH, "period_from");
    /* The same day at both ends is a period of one day. */
    Dp__ReportReply *reply = tr_enquiries_ok(fx->report, TO, TO, WEEK);
    tr_assert_rows(tr_table(reply->report, "per_period"), "2024-03-18|1|0|0");
    ts_free(&reply);
}

static void test_unknown_granularity_is_refused(void **state)
{
    s_expect_refused_at(FROM, TO, (Dp__ReportGranularity)7, "granularity", __FILE__, __LINE__);
}

int main(void)
{
    const struct CMUnitTest seeded[] = {
        cmocka_unit_test(test_enquiries_has_nine_tables_in_order),
        cmocka_unit_test(test_by_status),
        cmocka_unit_test(test_by_kind),
        cmocka_unit_test(test_by_source),
        cmocka_unit_test(test_by_sender),
        cmocka_unit_test(test_per_week_with_empty_weeks),
        cmocka_unit_test(test_unspecified_granularity_is_weeks),
        cmocka_unit_test(test_per_month),
        cmocka_unit_test(test_per_month_with_an_empty_month),
        cmocka_unit_test(test_response_times_median_and_p90),
        cmocka_unit_test(test_response_times_per_week),
        cmocka_unit_test(test_response_times_per_month),
        cmocka_unit_test(test_backlog_by_age),
        cmocka_unit_test(test_past_due_list),
        cmocka_unit_test(test_default_period_is_the_last_90_days),
        cmocka_unit_test(test_invalid_dates_are_refused_with_their_field),
        cmocka_unit_test(test_period_from_after_period_to_is_refused),
        cmocka_unit_test(test_unknown_granularity_is_refused),
    };
    return tr_run("report_enquiries", &fx, s_seed, seeded, sizeof seeded / sizeof *seeded,
                  test_empty_database);
}
