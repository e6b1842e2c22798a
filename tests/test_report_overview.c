/* The partnership overview (OverviewReportRequest) against hand-computed
   figures: six partners in three waves (day, month and year precision),
   one renamed on a known date, one renamed on an unknown date (the new name
   counts from the day it was recorded), one withdrawn. Each figure is read
   as of dates on both sides of the renames and the withdrawal. An empty
   database gives tables without rows (by_kind: a zero total), not an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_support.h"

static tr_fixture_t *fx;

#define BY_KIND_COLUMNS "Kind|Active|Withdrawn|Joined"
#define BY_WAVE_COLUMNS "Wave|Partners|Companies|Associations|Names then"
#define BY_YEAR_COLUMNS "Year|Joined|Withdrawn|Partners at year end"

/* The partners, in id order:
     alpha    company      2017-11-08 day    Alpha Ltd
     beta     association  2017-11-08 day    Beta Old, renamed Beta New from 2021-03-01
     gamma    company      2017-11-08 day    Gamma SA, withdrawn on 2022-06-30
     delta    company      2020-02    month  Delta Old, renamed Delta New on an unknown
                                             date, recorded on 2023-05-10
     epsilon  association  2020-02    month  Epsilon Assoc
     zeta     company      2020       year   Zeta GmbH */
static void s_seed(PGconn *admin)
{
    tr_insert_partner(admin, "alpha", "company", "2017-11-08", "day", "Alpha Ltd", NULL);
    int64_t beta =
        tr_insert_partner(admin, "beta", "association", "2017-11-08", "day", "Beta Old", NULL);
    tr_insert_name(admin, beta, 2, "Beta New", "2021-03-01", "2021-03-05 09:00:00+00");
    tr_insert_partner(admin, "gamma", "company", "2017-11-08", "day", "Gamma SA", "2022-06-30");
    int64_t delta =
        tr_insert_partner(admin, "delta", "company", "2020-02-01", "month", "Delta Old", NULL);
    tr_insert_name(admin, delta, 2, "Delta New", NULL, "2023-05-10 12:00:00+00");
    tr_insert_partner(admin, "epsilon", "association", "2020-02-01", "month", "Epsilon Assoc",
                      NULL);
    tr_insert_partner(admin, "zeta", "company", "2020-01-01", "year", "Zeta GmbH", NULL);
}

/* ---- An empty database ------------------------------------------------------------ */

static void test_empty_database_gives_empty_tables(void **state)
{
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "");
    assert_int_equal(reply->report->n_tables, 3);
    /* No partner: the total counts zero, there are no waves and no years. */
    tr_assert_rows(tr_table(reply->report, "by_kind"), "total|0|0|0");
    tr_assert_no_rows(tr_table(reply->report, "by_wave"));
    tr_assert_no_rows(tr_table(reply->report, "by_year"));
    tr_assert_columns(tr_table(reply->report, "by_year"), BY_YEAR_COLUMNS);
    ts_free(&reply);
    Dp__ReportReply *past = tr_overview_ok(fx->report, "2020-06-30");
    tr_assert_no_rows(tr_table(past->report, "by_year"));
    ts_free(&past);
}

/* ---- The tables and their columns -------------------------------------------- */

static void test_overview_has_three_tables_in_order(void **state)
{
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "2024-01-01");
    const Dp__Report *report = reply->report;
    assert_string_equal(report->name, "overview");
    assert_string_equal(report->as_of, "2024-01-01");
    assert_int_equal(report->n_tables, 3);
    assert_string_equal(report->tables[0]->name, "by_kind");
    assert_string_equal(report->tables[1]->name, "by_wave");
    assert_string_equal(report->tables[2]->name, "by_year");
    tr_assert_columns(report->tables[0], BY_KIND_COLUMNS);
    tr_assert_columns(report->tables[1], BY_WAVE_COLUMNS);
    tr_assert_columns(report->tables[2], BY_YEAR_COLUMNS);
    assert_true(strlen(report->generated_at) == 20 && report->generated_at[19] == 'Z');
    ts_free(&reply);
}

static void test_overview_default_as_of_is_today(void **state)
{
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "");
    assert_string_equal(reply->report->as_of, tr_today_plus(0));
    /* Today every partner has joined, one has withdrawn, both renames apply. */
    tr_assert_rows(tr_table(reply->report, "by_kind"), "association|2|0|2", "company|3|1|4",
                   "total|5|1|6");
    ts_free(&reply);
}

/* ---- by_kind ------------------------------------------------------------------- */

static void test_by_kind_before_the_second_wave(void **state)
{
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "2019-12-31");
    tr_assert_rows(tr_table(reply->report, "by_kind"), "association|1|0|1", "company|2|0|2",
                   "total|3|0|3");
    ts_free(&reply);
}

static void test_by_kind_on_each_side_of_the_withdrawal(void **state)
{
    Dp__ReportReply *before = tr_overview_ok(fx->report, "2022-06-29");
    tr_assert_rows(tr_table(before->report, "by_kind"), "association|2|0|2", "company|4|0|4",
                   "total|6|0|6");
    ts_free(&before);
    /* Withdrawn on 2022-06-30: no longer active on that day. */
    Dp__ReportReply *on = tr_overview_ok(fx->report, "2022-06-30");
    tr_assert_rows(tr_table(on->report, "by_kind"), "association|2|0|2", "company|3|1|4",
                   "total|5|1|6");
    ts_free(&on);
}

/* ---- by_wave ------------------------------------------------------------------- */

static void test_by_wave_labels_follow_the_precision(void **state)
{
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "2021-06-01");
    /* Waves in date order: the year-precision wave dates from 2020-01-01. */
    tr_assert_rows(tr_table(reply->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta New; Gamma SA", "2020|1|1|0|Zeta GmbH",
                   "2020-02|2|1|1|Delta Old; Epsilon Assoc");
    ts_free(&reply);
}

static void test_by_wave_names_across_the_known_rename(void **state)
{
    Dp__ReportReply *before = tr_overview_ok(fx->report, "2021-02-28");
    tr_assert_rows(tr_table(before->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta Old; Gamma SA", "2020|1|1|0|Zeta GmbH",
                   "2020-02|2|1|1|Delta Old; Epsilon Assoc");
    ts_free(&before);
    Dp__ReportReply *on = tr_overview_ok(fx->report, "2021-03-01");
    tr_assert_rows(tr_table(on->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta New; Gamma SA", "2020|1|1|0|Zeta GmbH",
                   "2020-02|2|1|1|Delta Old; Epsilon Assoc");
    ts_free(&on);
}

static void test_by_wave_names_across_the_unknown_date_rename(void **state)
{
    /* The change's date is unknown: the new name counts from the day it was recorded. */
    Dp__ReportReply *before = tr_overview_ok(fx->report, "2023-05-09");
    tr_assert_rows(tr_table(before->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta New; Gamma SA (withdrawn)",
                   "2020|1|1|0|Zeta GmbH", "2020-02|2|1|1|Delta Old; Epsilon Assoc");
    ts_free(&before);
    Dp__ReportReply *on = tr_overview_ok(fx->report, "2023-05-10");
    tr_assert_rows(tr_table(on->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta New; Gamma SA (withdrawn)",
                   "2020|1|1|0|Zeta GmbH", "2020-02|2|1|1|Delta New; Epsilon Assoc");
    ts_free(&on);
}

static void test_by_wave_marks_the_withdrawal_from_its_date(void **state)
{
    Dp__ReportReply *before = tr_overview_ok(fx->report, "2022-06-29");
    tr_assert_rows(tr_table(before->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta New; Gamma SA", "2020|1|1|0|Zeta GmbH",
                   "2020-02|2|1|1|Delta Old; Epsilon Assoc");
    ts_free(&before);
    Dp__ReportReply *on = tr_overview_ok(fx->report, "2022-06-30");
    tr_assert_rows(tr_table(on->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta New; Gamma SA (withdrawn)",
                   "2020|1|1|0|Zeta GmbH", "2020-02|2|1|1|Delta Old; Epsilon Assoc");
    ts_free(&on);
}

static void test_by_wave_only_waves_joined_by_the_date(void **state)
{
    /* The year wave (from 2020-01-01) is in; the month wave (2020-02) not yet. */
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "2020-01-31");
    tr_assert_rows(tr_table(reply->report, "by_wave"),
                   "2017-11-08|3|2|1|Alpha Ltd; Beta Old; Gamma SA", "2020|1|1|0|Zeta GmbH");
    ts_free(&reply);
}

/* ---- by_year ------------------------------------------------------------------- */

static void test_by_year_from_the_first_wave_to_the_date(void **state)
{
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "2024-01-01");
    tr_assert_rows(tr_table(reply->report, "by_year"), "2017|3|0|3", "2018|0|0|3", "2019|0|0|3",
                   "2020|3|0|6", "2021|0|0|6", "2022|0|1|5", "2023|0|0|5", "2024|0|0|5");
    ts_free(&reply);
}

static void test_by_year_counts_only_what_happened_by_the_date(void **state)
{
    /* The year of the as-of date ends on that date: the withdrawal of 2022-06-30 is not counted
       on 2022-06-29. */
    Dp__ReportReply *before = tr_overview_ok(fx->report, "2022-06-29");
    tr_assert_rows(tr_table(before->report, "by_year"), "2017|3|0|3", "2018|0|0|3", "2019|0|0|3",
                   "2020|3|0|6", "2021|0|0|6", "2022|0|0|6");
    ts_free(&before);
    Dp__ReportReply *on = tr_overview_ok(fx->report, "2022-06-30");
    tr_assert_rows(tr_table(on->report, "by_year"), "2017|3|0|3", "2018|0|0|3", "2019|0|0|3",
                   "2020|3|0|6", "2021|0|0|6", "2022|0|1|5");
    ts_free(&on);
    /* Early in 2020 only the year-precision partner has joined that year. */
    Dp__ReportReply *early = tr_overview_ok(fx->report, "2020-01-31");
    tr_assert_rows(tr_table(early->report, "by_year"), "2017|3|0|3", "2018|0|0|3", "2019|0|0|3",
                   "2020|1|0|4");
    ts_free(&early);
}

/* ---- Before the first wave, and refusals ---------------------------------------- */

static void test_overview_before_the_first_wave_is_empty(void **state)
{
    /* An overview has no period: any valid as-of date must be answered. */
    Dp__ReportReply *reply = tr_overview_ok(fx->report, "2017-11-07");
    tr_assert_rows(tr_table(reply->report, "by_kind"), "total|0|0|0");
    tr_assert_no_rows(tr_table(reply->report, "by_wave"));
    tr_assert_no_rows(tr_table(reply->report, "by_year"));
    ts_free(&reply);
}

static void test_overview_refuses_invalid_dates(void **state)
{
    const char *invalid[] = {"2021-02-29", "2021-13-01", "20210101",
                             "2021-1-01",  "yesterday",  "2021-01-01T00:00"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        dp_status_t status;
        tr_assert_refused(tr_overview(fx->report, invalid[i], &status), &status, "as_of");
    }
}

int main(void)
{
    const struct CMUnitTest seeded[] = {
        cmocka_unit_test(test_overview_has_three_tables_in_order),
        cmocka_unit_test(test_overview_default_as_of_is_today),
        cmocka_unit_test(test_by_kind_before_the_second_wave),
        cmocka_unit_test(test_by_kind_on_each_side_of_the_withdrawal),
        cmocka_unit_test(test_by_wave_labels_follow_the_precision),
        cmocka_unit_test(test_by_wave_names_across_the_known_rename),
        cmocka_unit_test(test_by_wave_names_across_the_unknown_date_rename),
        cmocka_unit_test(test_by_wave_marks_the_withdrawal_from_its_date),
        cmocka_unit_test(test_by_wave_only_waves_joined_by_the_date),
        cmocka_unit_test(test_by_year_from_the_first_wave_to_the_date),
        cmocka_unit_test(test_by_year_counts_only_what_happened_by_the_date),
        cmocka_unit_test(test_overview_before_the_first_wave_is_empty),
        cmocka_unit_test(test_overview_refuses_invalid_dates),
    };
    return tr_run("report_overview", &fx, s_seed, seeded, sizeof seeded / sizeof *seeded,
                  test_empty_database_gives_empty_tables);
}
