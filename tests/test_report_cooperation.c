/* The cooperation report (CooperationReportRequest) against hand-computed
   figures: areas declared by partners and engagements inside and outside
   the period (on both of its edges), a withdrawn partner with an engagement
   in the period, a partner who joins after the as-of date, and a form
   without any engagement (its zero cells must be there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_support.h"

static tr_fixture_t *fx;

/* Areas (in creation order): ai, cybercrime, data-protection.
   Forms (in creation order): event, project, training.
   Partners:
     alpha  company      2017-11-08  Alpha Ltd; declares ai and data-protection
     beta   association 2020-02     Beta Old, Beta New from 2021-03-01; declares data-protection
     gamma  company      2017-11-08  Gamma SA, withdrawn 2022-06-30; declares cybercrime
     delta  company      2023-01-01  Delta AG (joins after 2022-12-31); declares ai
   Engagements (partner, form, area, start):
     G1 alpha event   ai              2022-03-10
     G2 beta  project cybercrime      2022-01-01   first day of 2022
     G3 alpha event   data-protection 2021-12-31   last day of 2021
     G4 beta  event   cybercrime      2022-07-07
     G5 beta  event   data-protection 2022-12-31   last day of 2022
     G6 beta  event   data-protection 2023-01-01   first day of 2023
     G7 gamma project cybercrime      2022-05-05   withdrawn partner
     G8 alpha project cybercrime      2020-06-01
     G9 alpha project ai              2021-06-01
     G10 delta event  ai              2023-02-01 */
static void s_seed(PGconn *admin)
{
    tr_insert_area(admin, "ai", "Artificial intelligence", "2020-01-01 10:00:00+00");
    tr_insert_area(admin, "cybercrime", "Cybercrime", "2020-01-02 10:00:00+00");
    tr_insert_area(admin, "data-protection", "Data protection", "2020-01-03 10:00:00+00");
    tr_insert_form(admin, "event", "Event", "2020-01-01 10:00:00+00");
    tr_insert_form(admin, "project", "Project", "2020-01-02 10:00:00+00");
    tr_insert_form(admin, "training", "Training", "2020-01-03 10:00:00+00");
    int64_t alpha =
        tr_insert_partner(admin, "alpha", "company", "2017-11-08", "day", "Alpha Ltd", NULL);
    int64_t beta =
        tr_insert_partner(admin, "beta", "association", "2020-02-01", "month", "Beta Old", NULL);
    tr_insert_name(admin, beta, 2, "Beta New", "2021-03-01", "2021-03-02 09:00:00+00");
    int64_t gamma =
        tr_insert_partner(admin, "gamma", "company", "2017-11-08", "day", "Gamma SA", "2022-06-30");
    int64_t delta =
        tr_insert_partner(admin, "delta", "company", "2023-01-01", "day", "Delta AG", NULL);
    tr_insert_partner_area(admin, alpha, "ai");
    tr_insert_partner_area(admin, alpha, "data-protection");
    tr_insert_partner_area(admin, beta, "data-protection");
    tr_insert_partner_area(admin, gamma, "cybercrime");
    tr_insert_partner_area(admin, delta, "ai");
    tr_insert_engagement(admin, alpha, "event", "ai", "2022-03-10");
    tr_insert_engagement(admin, beta, "project", "cybercrime", "2022-01-01");
    tr_insert_engagement(admin, alpha, "event", "data-protection", "2021-12-31");
    tr_insert_engagement(admin, beta, "event", "cybercrime", "2022-07-07");
    tr_insert_engagement(admin, beta, "event", "data-protection", "2022-12-31");
    tr_insert_engagement(admin, beta, "event", "data-protection", "2023-01-01");
    tr_insert_engagement(admin, gamma, "project", "cybercrime", "2022-05-05");
    tr_insert_engagement(admin, alpha, "project", "cybercrime", "2020-06-01");
    tr_insert_engagement(admin, alpha, "project", "ai", "2021-06-01");
    tr_insert_engagement(admin, delta, "event", "ai", "2023-02-01");
}

/* ---- An empty database ----------------------------------------------------------------- */

static void test_empty_database_gives_empty_tables(void **state)
{
    Dp__ReportReply *reply = tr_cooperation_ok(fx->report, "", "", "");
    assert_int_equal(reply->report->n_tables, 5);
    tr_assert_no_rows(tr_table(reply->report, "partners_by_area"));
    tr_assert_columns(tr_table(reply->report, "partners_by_area"), "Partner|Name");
    tr_assert_no_rows(tr_table(reply->report, "areas"));
    tr_assert_no_rows(tr_table(reply->report, "engagements_by_form_area"));
    tr_assert_no_rows(tr_table(reply->report, "engagements_by_year_form"));
    tr_assert_no_rows(tr_table(reply->report, "engagements_by_year_area"));
    ts_free(&reply);
}

/* 2022 as of its last day. */
static Dp__ReportReply *s_year_2022(void)
{
    return tr_cooperation_ok(fx->report, "2022-12-31", "2022-01-01", "2022-12-31");
}

/* 2020 to 2022, as of 2022-12-31. */
static Dp__ReportReply *s_three_years(void)
{
    return tr_cooperation_ok(fx->report, "2022-12-31", "2020-01-01", "2022-12-31");
}

/* ---- The report ---------------------------------------------------------------- */

static void test_cooperation_has_five_tables_in_order(void **state)
{
    Dp__ReportReply *reply = s_year_2022();
    const Dp__Report *report = reply->report;
    assert_string_equal(report->name, "cooperation");
    assert_string_equal(report->as_of, "2022-12-31");
    assert_string_equal(report->period_from, "2022-01-01");
    assert_string_equal(report->period_to, "2022-12-31");
    const char *names[] = {"partners_by_area", "areas", "engagements_by_form_area",
                           "engagements_by_year_form", "engagements_by_year_area"};
    assert_int_equal(report->n_tables, 5);
    for (size_t t = 0; t < 5; t++)
        assert_string_equal(report->tables[t]->name, names[t]);
    tr_assert_columns(report->tables[0], "Partner|Name|ai|cybercrime|data-protection");
    tr_assert_columns(report->tables[1],
                      "Area|Label|Partners declaring|Partners engaged|Engagements");
    tr_assert_columns(report->tables[2], "Form|Area|Engagements");
    tr_assert_columns(report->tables[3], "Year|Form|Engagements");
    tr_assert_columns(report->tables[4], "Year|Area|Engagements");
    ts_free(&reply);
}

static void test_cooperation_default_period_runs_from_the_first_wave(void **state)
{
    Dp__ReportReply *reply = tr_cooperation_ok(fx->report, "2022-12-31", "", "");
    assert_string_equal(reply->report->period_from, "2017-11-08");
    assert_string_equal(reply->report->period_to, "2022-12-31");
    /* Every engagement up to 2022-12-31: all but G6 and G10. */
    tr_assert_rows(tr_table(reply->report, "engagements_by_year_area"), "2020|cybercrime|1",
                   "2021|ai|1", "2021|data-protection|1", "2022|ai|1", "2022|cybercrime|3",
                   "2022|data-protection|1");
    ts_free(&reply);
    Dp__ReportReply *today = tr_cooperation_ok(fx->report, "", "", "");
    assert_string_equal(today->report->as_of, tr_today_plus(0));
    assert_string_equal(today->report->period_to, tr_today_plus(0));
    ts_free(&today);
}

/* ---- partners_by_area ------------------------------------------------------------ */

static void test_matrix_cells_in_one_year(void **state)
{
    Dp__ReportReply *reply = s_year_2022();
    /* Active on 2022-12-31: alpha and beta (gamma withdrew, delta not yet joined).
       alpha: ai declared + G1; cybercrime only G8 (2020, outside); data-protection declared,
       G3 a day before the period. beta: G2 and G4 in cybercrime; data-protection declared + G5
       on the last day (G6 a day after). */
    tr_assert_rows(tr_table(reply->report, "partners_by_area"), "alpha|Alpha Ltd|D 1||D",
                   "beta|Beta New||2|D 1");
    ts_free(&reply);
}

static void test_matrix_cells_over_three_years(void **state)
{
    Dp__ReportReply *reply = s_three_years();
    tr_assert_rows(tr_table(reply->report, "partners_by_area"), "alpha|Alpha Ltd|D 2|1|D 1",
                   "beta|Beta New||2|D 1");
    ts_free(&reply);
}

static void test_matrix_partners_and_names_as_of_the_date(void **state)
{
    /* On 2021-01-01 gamma is still active and beta still has its old name. */
    Dp__ReportReply *reply =
        tr_cooperation_ok(fx->report, "2021-01-01", "2020-01-01", "2020-12-31");
    tr_assert_rows(tr_table(reply->report, "partners_by_area"), "alpha|Alpha Ltd|D|1|D",
                   "beta|Beta Old|||D", "gamma|Gamma SA||D|");
    ts_free(&reply);
    /* From 2023-01-01 delta is in, and G6 counts for beta in 2023. */
    Dp__ReportReply *later =
        tr_cooperation_ok(fx->report, "2023-12-31", "2023-01-01", "2023-12-31");
    tr_assert_rows(tr_table(later->report, "partners_by_area"), "alpha|Alpha Ltd|D||D",
                   "beta|Beta New|||D 1", "delta|Delta AG|D 1||");
    ts_free(&later);
}

/* ---- areas ----------------------------------------------------------------------- */

static void test_areas_summary(void **state)
{
    Dp__ReportReply *reply = s_year_2022();
    /* Declaring: active partners only (gamma's cybercrime no longer counts). Engaged and
       engagements: everything that started in the period, gamma's G7 included. */
    tr_assert_rows(tr_table(reply->report, "areas"), "ai|Artificial intelligence|1|1|1",
                   "cybercrime|Cybercrime|0|2|3", "data-protection|Data protection|2|1|1");
    ts_free(&reply);
    Dp__ReportReply *three = s_three_years();
    tr_assert_rows(tr_table(three->report, "areas"), "ai|Artificial intelligence|1|1|2",
                   "cybercrime|Cybercrime|0|3|4", "data-protection|Data protection|2|2|2");
    ts_free(&three);
}

/* ---- engagements ------------------------------------------------------------------- */

static void test_engagements_by_form_and_area_include_zeros(void **state)
{
    Dp__ReportReply *reply = s_year_2022();
    tr_assert_rows(tr_table(reply->report, "engagements_by_form_area"), "event|ai|1",
                   "event|cybercrime|1", "event|data-protection|1", "project|ai|0",
                   "project|cybercrime|2", "project|data-protection|0", "training|ai|0",
                   "training|cybercrime|0", "training|data-protection|0");
    ts_free(&reply);
    Dp__ReportReply *three = s_three_years();
    tr_assert_rows(tr_table(three->report, "engagements_by_form_area"), "event|ai|1",
                   "event|cybercrime|1", "event|data-protection|2", "project|ai|1",
                   "project|cybercrime|3", "project|data-protection|0", "training|ai|0",
                   "training|cybercrime|0", "training|data-protection|0");
    ts_free(&three);
}

static void test_engagements_by_year_and_form(void **state)
{
    Dp__ReportReply *reply = s_year_2022();
    tr_assert_rows(tr_table(reply->report, "engagements_by_year_form"), "2022|event|3",
                   "2022|project|2");
    ts_free(&reply);
    Dp__ReportReply *three = s_three_years();
    tr_assert_rows(tr_table(three->report, "engagements_by_year_form"), "2020|project|1",
                   "2021|event|1", "2021|project|1", "2022|event|3", "2022|project|2");
    ts_free(&three);
}

static void test_engagements_by_year_and_area(void **state)
{
    Dp__ReportReply *reply = s_year_2022();
    tr_assert_rows(tr_table(reply->report, "engagements_by_year_area"), "2022|ai|1",
                   "2022|cybercrime|3", "2022|data-protection|1");
    ts_free(&reply);
    Dp__ReportReply *three = s_three_years();
    tr_assert_rows(tr_table(three->report, "engagements_by_year_area"), "2020|cybercrime|1",
                   "2021|ai|1", "2021|data-protection|1", "2022|ai|1", "2022|cybercrime|3",
                   "2022|data-protection|1");
    ts_free(&three);
}

static void test_single_day_period(void **state)
{
    Dp__ReportReply *reply =
        tr_cooperation_ok(fx->report, "2022-12-31", "2022-12-31", "2022-12-31");
    tr_assert_rows(tr_table(reply->report, "engagements_by_year_area"), "2022|data-protection|1");
    tr_assert_rows(tr_table(reply->report, "partners_by_area"), "alpha|Alpha Ltd|D||D",
                   "beta|Beta New|||D 1");
    ts_free(&reply);
}

/* ---- Refusals ------------------------------------------------------------------------ */

static void test_cooperation_refuses_invalid_dates(void **state)
{
    struct {
        const char *as_of, *from, *to, *field;
    } cases[] = {
        {"2022-02-30", "", "", "as_of"},
        {"", "2022-13-01", "2022-12-31", "period_from"},
        {"", "2022-01-01", "2022/12/31", "period_to"},
        {"2022-12-31", "2022-06-01", "2022-05-31", "period_from"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dp_status_t status;
        Dp__ReportReply *reply =
            tr_cooperation(fx->report, cases[i].as_of, cases[i].from, cases[i].to, &status);
        tr_assert_refused(reply, &status, cases[i].field);
    }
}

static void test_cooperation_as_of_before_the_first_wave(void **state)
{
    /* Only as_of given, before 2017-11-08: the default period cannot start after it ends;
       the report must still be answered (an empty one). */
    Dp__ReportReply *reply = tr_cooperation_ok(fx->report, "2017-01-01", "", "");
    tr_assert_no_rows(tr_table(reply->report, "partners_by_area"));
    tr_assert_no_rows(tr_table(reply->report, "engagements_by_year_form"));
    ts_free(&reply);
}

int main(void)
{
    const struct CMUnitTest seeded[] = {
        cmocka_unit_test(test_cooperation_has_five_tables_in_order),
        cmocka_unit_test(test_cooperation_default_period_runs_from_the_first_wave),
        cmocka_unit_test(test_matrix_cells_in_one_year),
        cmocka_unit_test(test_matrix_cells_over_three_years),
        cmocka_unit_test(test_matrix_partners_and_names_as_of_the_date),
        cmocka_unit_test(test_areas_summary),
        cmocka_unit_test(test_engagements_by_form_and_area_include_zeros),
        cmocka_unit_test(test_engagements_by_year_and_form),
        cmocka_unit_test(test_engagements_by_year_and_area),
        cmocka_unit_test(test_single_day_period),
        cmocka_unit_test(test_cooperation_refuses_invalid_dates),
        cmocka_unit_test(test_cooperation_as_of_before_the_first_wave),
    };
    return tr_run("report_cooperation", &fx, s_seed, seeded, sizeof seeded / sizeof *seeded,
                  test_empty_database_gives_empty_tables);
}
