/* The reporting service over HTTP (libmicrohttpd), with libcurl as the
   client: the dashboard page, the CSV exports (RFC 4180 quoting: a partner
   name with a comma and a quote comes back intact), the JSON exports
   (parsed with jansson), table selection, and the refusals: other methods
   405, unknown paths and tables 404, bad dates 400. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "report_support.h"

static tr_fixture_t *fx;
static int s_port;

#define QUOTED_NAME "Gamma, \"Quoted\" Inc"
#define MARKUP_NAME "Zeta <b>&</b>"
#define DASHBOARD "/?as_of=2022-12-31&period_from=2022-10-01&period_to=2022-12-31"

/* Partners: alpha (company, 2017-11-08, "Alpha Ltd", declares ai),
   gamma (company, 2017-11-08, QUOTED_NAME, declares cybercrime), zeta
   (association, 2019-05, MARKUP_NAME). Areas ai, cybercrime; forms event,
   project; engagements: alpha event ai 2022-03-01, gamma project
   cybercrime 2022-04-01. Enquiries in 2022: 10-05 (web, information
   request, answered after 5 h), 11-15 (email, media, from alpha, answered
   after 3 h), 11-20 (web, other, quarantined). */
static int s_setup(void **state)
{
    fx = tr_fixture_new("report_http");
    s_port = tr_report_http_port(fx->report);
    PGconn *admin = fx->admin;
    tr_insert_area(admin, "ai", "Artificial intelligence", "2020-01-01 00:00:00+00");
    tr_insert_area(admin, "cybercrime", "Cybercrime", "2020-01-02 00:00:00+00");
    tr_insert_form(admin, "event", "Event", "2020-01-01 00:00:00+00");
    tr_insert_form(admin, "project", "Project", "2020-01-02 00:00:00+00");
    int64_t alpha =
        tr_insert_partner(admin, "alpha", "company", "2017-11-08", "day", "Alpha Ltd", NULL);
    int64_t gamma =
        tr_insert_partner(admin, "gamma", "company", "2017-11-08", "day", QUOTED_NAME, NULL);
    tr_insert_partner(admin, "zeta", "association", "2019-05-01", "month", MARKUP_NAME, NULL);
    tr_insert_partner_area(admin, alpha, "ai");
    tr_insert_partner_area(admin, gamma, "cybercrime");
    tr_insert_engagement(admin, alpha, "event", "ai", "2022-03-01");
    tr_insert_engagement(admin, gamma, "project", "cybercrime", "2022-04-01");
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2022-10-05 10:00:00+00",
                                             .kind = "information-request",
                                             .status = "answered",
                                             .first_response_in = "5 hours"});
    tr_insert_enquiry(admin, &(tr_enquiry_t){.received_at = "2022-11-15 10:00:00+00",
                                             .source = "email",
                                             .kind = "media",
                                             .status = "answered",
                                             .partner_id = alpha,
                                             .first_response_in = "3 hours"});
    tr_insert_enquiry(
        admin, &(tr_enquiry_t){.received_at = "2022-11-20 10:00:00+00", .status = "quarantined"});
    return 0;
}

static int s_teardown(void **state)
{
    tr_fixture_destroy(&fx);
    return 0;
}

/* Fails unless the response has this status (showing the body otherwise). */
static void s_expect_status_at(const tr_http_t *response, long status, const char *what,
                               const char *file, int line)
{
    if (response->status == status)
        return;
    print_error("%s: expected HTTP %ld, got %ld: %.300s\n", what, status, response->status,
                response->body);
    _fail(file, line);
}
#define s_expect_status(response, status, what)                                                    \
    s_expect_status_at(response, status, what, __FILE__, __LINE__)

static bool s_starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* Occurrences of needle in text[0 .. end). */
static int s_count(const char *text, const char *end, const char *needle)
{
    int count = 0;
    for (const char *at = strstr(text, needle); at && at < end; at = strstr(at + 1, needle))
        count++;
    return count;
}

/* The <svg> element with this id, as [*start, return value): the end is
   its closing tag. Fails the test when the page has no such chart. */
static const char *s_chart(const char *page, const char *id, const char **start)
{
    char opening[96];
    snprintf(opening, sizeof opening, "<svg id=\"%s\"", id);
    *start = strstr(page, opening);
    if (!*start)
        fail_msg("the dashboard has no chart %s", id);
    const char *end = strstr(*start, "</svg>");
    assert_non_null(end);
    return end;
}

/* True when the page has a <table id="table-[<report>-]<name>">. */
static bool s_has_table(const char *page, const char *name)
{
    static const char opening[] = "<table id=\"table-";
    size_t length = strlen(name);
    for (const char *at = strstr(page, opening); at; at = strstr(at + 1, opening)) {
        const char *id = at + strlen(opening), *end = strchr(id, '"');
        if (!end || (size_t)(end - id) < length || strncmp(end - length, name, length) != 0)
            continue;
        if (end - length == id || end[-(long)length - 1] == '-')
            return true;
    }
    return false;
}

/* ---- The dashboard ----------------------------------------------------------------- */

static void test_dashboard_is_html_with_every_chart(void **state)
{
    tr_http_t page = tr_http(s_port, "GET", DASHBOARD);
    s_expect_status(&page, 200, "GET /");
    assert_true(s_starts_with(page.content_type, "text/html"));
    assert_true(s_starts_with(page.body, "<!DOCTYPE html>"));
    const char *charts[] = {
        "chart-partners-by-year", "chart-partners-total", "chart-enquiries-per-period",
        "chart-response-times",   "chart-backlog",        "chart-areas-forms"};
    for (size_t i = 0; i < sizeof charts / sizeof *charts; i++) {
        const char *start = NULL;
        const char *end = s_chart(page.body, charts[i], &start);
        /* Drawn, not the "no data" placeholder. */
        assert_int_equal(s_count(start, end, "class=\"empty\""), 0);
    }
    /* Each report's tables, as "table-<name>" (or "table-<report>-<name>", should the ids
       carry the report's name to stay unique). */
    const char *tables[] = {"by_kind",   "by_wave",   "response_times", "by_status",
                            "by_source", "by_sender", "areas",          "partners_by_area"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        if (!s_has_table(page.body, tables[i]))
            fail_msg("the dashboard has no table %s", tables[i]);
    tr_http_free(&page);
}

static void test_dashboard_draws_the_figures(void **state)
{
    tr_http_t page = tr_http(s_port, "GET", DASHBOARD);
    s_expect_status(&page, 200, "GET /");
    const char *start = NULL, *end = NULL;
    /* One bar per year from 2017 to 2022. */
    end = s_chart(page.body, "chart-partners-by-year", &start);
    assert_int_equal(s_count(start, end, "<rect class=\"bar\""), 6);
    end = s_chart(page.body, "chart-partners-total", &start);
    assert_int_equal(s_count(start, end, "<rect class=\"bar\""), 6);
    /* Two series over the weeks. */
    end = s_chart(page.body, "chart-enquiries-per-period", &start);
    assert_int_equal(s_count(start, end, "<polyline"), 2);
    end = s_chart(page.body, "chart-response-times", &start);
    assert_int_equal(s_count(start, end, "<polyline"), 2);
    /* Five age buckets; two forms by two areas. */
    end = s_chart(page.body, "chart-backlog", &start);
    assert_int_equal(s_count(start, end, "<rect class=\"bar\""), 5);
    end = s_chart(page.body, "chart-areas-forms", &start);
    assert_int_equal(s_count(start, end, "<rect class=\"cell\""), 4);
    tr_http_free(&page);
}

static void test_dashboard_ids_are_unique(void **state)
{
    tr_http_t page = tr_http(s_port, "GET", DASHBOARD);
    s_expect_status(&page, 200, "GET /");
    /* An id names one element of the page (links, scripts and tests find it by id). */
    zhash_t *seen = zhash_new();
    int duplicates = 0, ids = 0;
    for (const char *at = strstr(page.body, " id=\""); at; at = strstr(at + 1, " id=\"")) {
        const char *start = at + 5, *end = strchr(start, '"');
        assert_non_null(end);
        char id[128];
        snprintf(id, sizeof id, "%.*s", (int)(end - start), start);
        ids++;
        if (zhash_lookup(seen, id)) {
            print_error("the id \"%s\" is used more than once\n", id);
            duplicates++;
        } else
            zhash_insert(seen, id, (void *)1);
    }
    zhash_destroy(&seen);
    tr_http_free(&page);
    assert_true(ids >= 15);
    assert_int_equal(duplicates, 0);
}

static void test_dashboard_draws_no_zero_for_weeks_without_answers(void **state)
{
    /* From 2022-10-01 only two weeks have answered enquiries (5 h and 3 h). The other weeks
       have no response time ("" in the table): drawing them at 0 hours would show the fastest
       answers ever where there were none. The zero line of a chart is at y = 220.0. */
    tr_http_t page = tr_http(s_port, "GET", DASHBOARD);
    s_expect_status(&page, 200, "GET /");
    const char *start = NULL;
    const char *end = s_chart(page.body, "chart-response-times", &start);
    int points = 0, zeros = 0;
    for (const char *at = strstr(start, "points=\""); at && at < end;
         at = strstr(at + 1, "points=\"")) {
        const char *p = at + 8;
        double x, y;
        int used = 0;
        while (sscanf(p, "%lf,%lf %n", &x, &y, &used) == 2 && used > 0) {
            points++;
            zeros += y == 220.0;
            p += used;
        }
    }
    tr_http_free(&page);
    assert_true(points >= 2);
    if (zeros)
        fail_msg("%d of %d points of chart-response-times sit at 0 hours", zeros, points);
}

static void test_dashboard_escapes_names(void **state)
{
    tr_http_t page = tr_http(s_port, "GET", DASHBOARD);
    s_expect_status(&page, 200, "GET /");
    assert_non_null(strstr(page.body, "Gamma, &quot;Quoted&quot; Inc"));
    assert_non_null(strstr(page.body, "Zeta &lt;b&gt;&amp;&lt;/b&gt;"));
    assert_null(strstr(page.body, MARKUP_NAME));
    tr_http_free(&page);
}

static void test_dashboard_head_and_health(void **state)
{
    tr_http_t head = tr_http(s_port, "HEAD", "/");
    s_expect_status(&head, 200, "HEAD /");
    assert_int_equal(head.size, 0);
    tr_http_free(&head);
    tr_http_t health = tr_http(s_port, "GET", "/health");
    s_expect_status(&health, 200, "GET /health");
    assert_string_equal(health.body, "ok\n");
    tr_http_free(&health);
}

static void test_dashboard_as_of_before_the_first_wave(void **state)
{
    /* A valid date: the page must be drawn (with empty partner charts), not refused. */
    tr_http_t page = tr_http(s_port, "GET", "/?as_of=2017-01-01");
    s_expect_status(&page, 200, "GET /?as_of=2017-01-01");
    tr_http_free(&page);
}

/* ---- CSV ----------------------------------------------------------------------------- */

static void test_overview_csv_parses_with_its_quoting(void **state)
{
    tr_http_t csv_text = tr_http(s_port, "GET", "/reports/overview.csv?as_of=2022-12-31");
    s_expect_status(&csv_text, 200, "overview.csv");
    assert_true(s_starts_with(csv_text.content_type, "text/csv"));
    /* RFC 4180 on the wire: CRLF, the quoted cell with its quotes doubled. */
    assert_true(s_starts_with(csv_text.body, "table,Kind,Active,Withdrawn,Joined\r\n"));
    assert_non_null(strstr(csv_text.body, ",\"Alpha Ltd; Gamma, \"\"Quoted\"\" Inc\"\r\n"));
    tr_csv_t *csv = tr_csv_parse(csv_text.body, csv_text.size);
    assert_int_equal(csv->malformed, 0);
    const char *expected[] = {"table|Kind|Active|Withdrawn|Joined",
                              "by_kind|association|1|0|1",
                              "by_kind|company|2|0|2",
                              "by_kind|total|3|0|3",
                              "",
                              "table|Wave|Partners|Companies|Associations|Names then",
                              "by_wave|2017-11-08|2|2|0|Alpha Ltd; " QUOTED_NAME,
                              "by_wave|2019-05|1|0|1|" MARKUP_NAME,
                              "",
                              "table|Year|Joined|Withdrawn|Partners at year end",
                              "by_year|2017|2|0|2",
                              "by_year|2018|0|0|2",
                              "by_year|2019|1|0|3",
                              "by_year|2020|0|0|3",
                              "by_year|2021|0|0|3",
                              "by_year|2022|0|0|3"};
    size_t rows = sizeof expected / sizeof *expected;
    for (size_t r = 0; r < rows && r < csv->rows; r++)
        assert_string_equal(tr_csv_row_text(csv, r), expected[r]);
    assert_int_equal(csv->rows, rows);
    /* The name is one field, intact. */
    assert_int_equal(csv->cells[6], 6);
    assert_string_equal(csv->values[6][5], "Alpha Ltd; " QUOTED_NAME);
    tr_csv_free(&csv);
    tr_http_free(&csv_text);
}

static void test_csv_of_one_table(void **state)
{
    tr_http_t one = tr_http(s_port, "GET", "/reports/overview.csv?as_of=2022-12-31&table=by_kind");
    s_expect_status(&one, 200, "overview.csv?table=by_kind");
    tr_csv_t *csv = tr_csv_parse(one.body, one.size);
    assert_int_equal(csv->malformed, 0);
    assert_int_equal(csv->rows, 4);
    assert_string_equal(tr_csv_row_text(csv, 0), "Kind|Active|Withdrawn|Joined");
    assert_string_equal(tr_csv_row_text(csv, 1), "association|1|0|1");
    assert_string_equal(tr_csv_row_text(csv, 2), "company|2|0|2");
    assert_string_equal(tr_csv_row_text(csv, 3), "total|3|0|3");
    tr_csv_free(&csv);
    tr_http_free(&one);

    tr_http_t matrix =
        tr_http(s_port, "GET", "/reports/cooperation.csv?as_of=2022-12-31&table=partners_by_area");
    s_expect_status(&matrix, 200, "cooperation.csv?table=partners_by_area");
    csv = tr_csv_parse(matrix.body, matrix.size);
    assert_int_equal(csv->malformed, 0);
    assert_int_equal(csv->rows, 4);
    assert_string_equal(tr_csv_row_text(csv, 0), "Partner|Name|ai|cybercrime");
    assert_string_equal(tr_csv_row_text(csv, 1), "alpha|Alpha Ltd|D 1|");
    assert_string_equal(tr_csv_row_text(csv, 2), "gamma|" QUOTED_NAME "||D 1");
    assert_string_equal(tr_csv_row_text(csv, 3), "zeta|" MARKUP_NAME "||");
    assert_string_equal(csv->values[2][1], QUOTED_NAME);
    tr_csv_free(&csv);
    tr_http_free(&matrix);
}

static void test_unknown_table_is_404(void **state)
{
    tr_http_t response = tr_http(s_port, "GET", "/reports/overview.csv?table=no_such_table");
    s_expect_status(&response, 404, "overview.csv?table=no_such_table");
    tr_http_free(&response);
}

/* ---- JSON ----------------------------------------------------------------------------- */

/* The rows of a named table of a parsed report (borrowed), or fails. */
static json_t *s_json_rows(json_t *report, const char *name)
{
    size_t index;
    json_t *table;
    json_array_foreach(json_object_get(report, "tables"), index, table)
    {
        if (strcmp(json_string_value(json_object_get(table, "name")), name) == 0)
            return json_object_get(table, "rows");
    }
    fail_msg("the JSON report has no table %s", name);
    return NULL;
}

static const char *s_json_cell(json_t *rows, size_t row, const char *column)
{
    const char *value = json_string_value(json_object_get(json_array_get(rows, row), column));
    if (!value)
        fail_msg("no cell %s in row %zu", column, row);
    return value;
}

static void test_enquiries_json_parses(void **state)
{
    tr_http_t response =
        tr_http(s_port, "GET",
                "/reports/enquiries.json?period_from=2022-10-01&period_to=2022-12-31"
                "&granularity=month");
    s_expect_status(&response, 200, "enquiries.json");
    assert_true(s_starts_with(response.content_type, "application/json"));
    json_error_t error;
    json_t *report = json_loadb(response.body, response.size, 0, &error);
    if (!report)
        fail_msg("enquiries.json does not parse: %s (line %d)", error.text, error.line);
    assert_string_equal(json_string_value(json_object_get(report, "name")), "enquiries");
    assert_string_equal(json_string_value(json_object_get(report, "period_from")), "2022-10-01");
    assert_string_equal(json_string_value(json_object_get(report, "period_to")), "2022-12-31");
    assert_int_equal(json_array_size(json_object_get(report, "tables")), 9);

    json_t *per_period = s_json_rows(report, "per_period");
    assert_int_equal(json_array_size(per_period), 3);
    const char *months[] = {"2022-10-01", "2022-11-01", "2022-12-01"};
    const char *received[] = {"1", "2", "0"}, *partners[] = {"0", "1", "0"},
               *quarantined[] = {"0", "1", "0"};
    for (size_t r = 0; r < 3; r++) {
        assert_string_equal(s_json_cell(per_period, r, "Period from"), months[r]);
        assert_string_equal(s_json_cell(per_period, r, "Received"), received[r]);
        assert_string_equal(s_json_cell(per_period, r, "From partners"), partners[r]);
        assert_string_equal(s_json_cell(per_period, r, "Quarantined"), quarantined[r]);
    }
    json_t *times = s_json_rows(report, "response_times");
    assert_string_equal(s_json_cell(times, 0, "Measure"), "first response (hours)");
    assert_string_equal(s_json_cell(times, 0, "Count"), "2");
    assert_string_equal(s_json_cell(times, 0, "Median"), "4.0");
    assert_string_equal(s_json_cell(times, 0, "p90"), "4.8");
    json_t *sources = s_json_rows(report, "by_source");
    assert_string_equal(s_json_cell(sources, 0, "Source"), "web");
    assert_string_equal(s_json_cell(sources, 0, "This period"), "2");
    assert_string_equal(s_json_cell(sources, 0, "Change"), "new");
    json_decref(report);
    tr_http_free(&response);
}

static void test_overview_json_keeps_the_names(void **state)
{
    tr_http_t response = tr_http(s_port, "GET", "/reports/overview.json?as_of=2022-12-31");
    s_expect_status(&response, 200, "overview.json");
    json_error_t error;
    json_t *report = json_loadb(response.body, response.size, 0, &error);
    if (!report)
        fail_msg("overview.json does not parse: %s", error.text);
    assert_string_equal(json_string_value(json_object_get(report, "as_of")), "2022-12-31");
    json_t *waves = s_json_rows(report, "by_wave");
    assert_string_equal(s_json_cell(waves, 0, "Names then"), "Alpha Ltd; " QUOTED_NAME);
    assert_string_equal(s_json_cell(waves, 1, "Names then"), MARKUP_NAME);
    json_decref(report);
    tr_http_free(&response);
}

/* ---- Refusals --------------------------------------------------------------------------- */

/* Sends method to every path; fails after trying them all unless each got
   the status (each mismatch is shown). */
static void s_expect_all_at(const char *method, const char *const *paths, size_t count, long status,
                            const char *file, int line)
{
    int wrong = 0;
    for (size_t p = 0; p < count; p++) {
        tr_http_t response = tr_http_at(s_port, method, paths[p], file, line);
        if (response.status != status) {
            print_error("%s %s: expected HTTP %ld, got %ld: %.120s\n", method, paths[p], status,
                        response.status, response.body);
            wrong++;
        }
        tr_http_free(&response);
    }
    if (wrong)
        _fail(file, line);
}
#define s_expect_all(method, paths, status)                                                        \
    s_expect_all_at(method, paths, sizeof paths / sizeof *paths, status, __FILE__, __LINE__)

static void test_other_methods_are_405(void **state)
{
    const char *paths[] = {"/", "/reports/overview.csv", "/health"};
    s_expect_all("POST", paths, 405);
    s_expect_all("PUT", paths, 405);
    s_expect_all("DELETE", paths, 405);
    s_expect_all("PATCH", paths, 405);
}

static void test_unknown_paths_are_404(void **state)
{
    const char *paths[] = {"/nothing",
                           "/reports/",
                           "/reports/overview",
                           "/reports/overview.xml",
                           "/reports/Overview.csv",
                           "/reports/nothing.csv",
                           "/index.htm",
                           "/reports/overview.csv/extra",
                           "/reports/overview.json.bak"};
    s_expect_all("GET", paths, 404);
}

static void test_bad_dates_are_400(void **state)
{
    const char *paths[] = {"/reports/overview.csv?as_of=2022-02-30",
                           "/reports/overview.json?as_of=yesterday",
                           "/reports/cooperation.csv?period_from=2022-13-01",
                           "/reports/enquiries.json?period_to=2022/12/31",
                           "/reports/enquiries.csv?period_from=2022-12-01&period_to=2022-11-01",
                           "/?as_of=2022-02-30",
                           "/?period_from=2022-12-01&period_to=2022-11-01"};
    s_expect_all("GET", paths, 400);
}

static void test_unknown_granularity_is_400(void **state)
{
    /* Over ZeroMQ an unknown granularity is INVALID_ARGUMENT; the HTTP export must not answer
       in weeks instead. */
    tr_http_t response = tr_http(s_port, "GET",
                                 "/reports/enquiries.csv?period_from=2022-10-01"
                                 "&period_to=2022-12-31&granularity=year");
    s_expect_status(&response, 400, "granularity=year");
    tr_http_free(&response);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dashboard_is_html_with_every_chart),
        cmocka_unit_test(test_dashboard_draws_the_figures),
        cmocka_unit_test(test_dashboard_ids_are_unique),
        cmocka_unit_test(test_dashboard_draws_no_zero_for_weeks_without_answers),
        cmocka_unit_test(test_dashboard_escapes_names),
        cmocka_unit_test(test_dashboard_head_and_health),
        cmocka_unit_test(test_dashboard_as_of_before_the_first_wave),
        cmocka_unit_test(test_overview_csv_parses_with_its_quoting),
        cmocka_unit_test(test_csv_of_one_table),
        cmocka_unit_test(test_unknown_table_is_404),
        cmocka_unit_test(test_enquiries_json_parses),
        cmocka_unit_test(test_overview_json_keeps_the_names),
        cmocka_unit_test(test_other_methods_are_405),
        cmocka_unit_test(test_unknown_paths_are_404),
        cmocka_unit_test(test_bad_dates_are_400),
        cmocka_unit_test(test_unknown_granularity_is_400),
    };
    return cmocka_run_group_tests_name("report_http", tests, s_setup, s_teardown);
}
