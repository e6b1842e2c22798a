/* dp_metrics' text exposition, line by line: counters by type and code,
   error counts, latency and batch histograms (cumulative buckets, +Inf
   equal to the count, sums), gauges created once and updated, every line
   in the Prometheus text format; and /metrics served over HTTP. That no
   text of a client reaches a label is test_server_frames.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_metrics.h"
#include "test_support.h"
#include "test_wire.h"

/* Fails unless the exposition holds this exact line. */
static void s_assert_line_at(const char *text, const char *line, const char *file, int at)
{
    size_t length = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += length)
        if ((p == text || p[-1] == '\n') && (p[length] == '\n' || p[length] == '\0'))
            return;
    fail_msg("%s:%d: no line '%s' in:\n%s", file, at, line, text);
}
#define s_assert_line(text, line) s_assert_line_at(text, line, __FILE__, __LINE__)

static void s_assert_no_line_with(const char *text, const char *needle)
{
    if (strstr(text, needle))
        fail_msg("'%s' in:\n%s", needle, text);
}

static void test_requests_are_counted_by_type_and_code(void **state)
{
    dp_metrics_t *metrics = dp_metrics_new("svc");
    assert_non_null(metrics);
    dp_metrics_observe_request(metrics, "dp.GetPartnerRequest", 0, 0.0004);
    dp_metrics_observe_request(metrics, "dp.GetPartnerRequest", 0, 0.003);
    dp_metrics_observe_request(metrics, "dp.GetPartnerRequest", 5, 2.0);
    dp_metrics_observe_request(metrics, "dp.ListAreasRequest", 3, 0.01);
    /* A code out of range counts as UNKNOWN. */
    dp_metrics_observe_request(metrics, "dp.ListAreasRequest", 99, 0.01);
    char *text = dp_metrics_render(metrics);
    assert_non_null(text);
    s_assert_line(text, "# TYPE dp_requests_total counter");
    s_assert_line(text,
                  "dp_requests_total{service=\"svc\",type=\"dp.GetPartnerRequest\",code=\"OK\"} 2");
    s_assert_line(
        text,
        "dp_requests_total{service=\"svc\",type=\"dp.GetPartnerRequest\",code=\"NOT_FOUND\"} 1");
    s_assert_line(text, "dp_requests_total{service=\"svc\",type=\"dp.ListAreasRequest\","
                        "code=\"INVALID_ARGUMENT\"} 1");
    s_assert_line(
        text, "dp_requests_total{service=\"svc\",type=\"dp.ListAreasRequest\",code=\"UNKNOWN\"} 1");
    /* Codes never answered get no line. */
    s_assert_no_line_with(text, "code=\"INTERNAL\"");
    s_assert_line(text, "# TYPE dp_request_errors_total counter");
    s_assert_line(text, "dp_request_errors_total{service=\"svc\",type=\"dp.GetPartnerRequest\"} 1");
    s_assert_line(text, "dp_request_errors_total{service=\"svc\",type=\"dp.ListAreasRequest\"} 2");
    free(text);
    dp_metrics_destroy(&metrics);
    dp_metrics_destroy(&metrics); /* safe twice */
}

static void test_latency_histogram_is_cumulative(void **state)
{
    dp_metrics_t *metrics = dp_metrics_new("svc");
    /* On a bound counts in that bucket (le: less or equal). */
    dp_metrics_observe_request(metrics, "dp.X", 0, 0.0005);
    dp_metrics_observe_request(metrics, "dp.X", 0, 0.003);
    dp_metrics_observe_request(metrics, "dp.X", 0, 0.2);
    dp_metrics_observe_request(metrics, "dp.X", 0, 5.0);
    char *text = dp_metrics_render(metrics);
    s_assert_line(text, "# TYPE dp_request_seconds histogram");
    const char *expected[] = {
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.0005\"} 1",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.001\"} 1",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.0025\"} 1",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.005\"} 2",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.01\"} 2",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.025\"} 2",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.05\"} 2",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.1\"} 2",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"0.25\"} 3",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"1\"} 3",
        "dp_request_seconds_bucket{service=\"svc\",type=\"dp.X\",le=\"+Inf\"} 4",
        "dp_request_seconds_sum{service=\"svc\",type=\"dp.X\"} 5.203500",
        "dp_request_seconds_count{service=\"svc\",type=\"dp.X\"} 4",
    };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        s_assert_line(text, expected[i]);
    free(text);
    dp_metrics_destroy(&metrics);
}

static void test_batch_histogram(void **state)
{
    dp_metrics_t *metrics = dp_metrics_new("intake");
    char *text = dp_metrics_render(metrics);
    /* Present with zeros before any batch. */
    s_assert_line(text, "# TYPE dp_batch_size histogram");
    s_assert_line(text, "dp_batch_size_bucket{service=\"intake\",le=\"+Inf\"} 0");
    s_assert_line(text, "dp_batch_size_count{service=\"intake\"} 0");
    free(text);
    dp_metrics_observe_batch(metrics, 1);
    dp_metrics_observe_batch(metrics, 3);
    dp_metrics_observe_batch(metrics, 600);
    text = dp_metrics_render(metrics);
    s_assert_line(text, "dp_batch_size_bucket{service=\"intake\",le=\"1\"} 1");
    s_assert_line(text, "dp_batch_size_bucket{service=\"intake\",le=\"2\"} 1");
    s_assert_line(text, "dp_batch_size_bucket{service=\"intake\",le=\"4\"} 2");
    s_assert_line(text, "dp_batch_size_bucket{service=\"intake\",le=\"512\"} 2");
    s_assert_line(text, "dp_batch_size_bucket{service=\"intake\",le=\"+Inf\"} 3");
    s_assert_line(text, "dp_batch_size_sum{service=\"intake\"} 604");
    s_assert_line(text, "dp_batch_size_count{service=\"intake\"} 3");
    free(text);
    dp_metrics_destroy(&metrics);
}

static void test_gauges_are_made_once_and_updated(void **state)
{
    dp_metrics_t *metrics = dp_metrics_new("notify");
    dp_metrics_set_gauge(metrics, "dp_outbox_lag", "Rows waiting in the outboxes", 7);
    dp_metrics_set_gauge(metrics, "dp_outbox_lag", "another help, ignored", 3.5);
    dp_metrics_set_gauge(metrics, "dp_db_up", "1 when the database answers", 1);
    char *text = dp_metrics_render(metrics);
    s_assert_line(text, "# HELP dp_outbox_lag Rows waiting in the outboxes");
    s_assert_line(text, "# TYPE dp_outbox_lag gauge");
    s_assert_line(text, "dp_outbox_lag{service=\"notify\"} 3.5");
    s_assert_line(text, "dp_db_up{service=\"notify\"} 1");
    s_assert_no_line_with(text, "another help");
    /* One TYPE line per gauge. */
    const char *first = strstr(text, "# TYPE dp_outbox_lag");
    assert_non_null(first);
    assert_null(strstr(first + 1, "# TYPE dp_outbox_lag"));
    free(text);
    dp_metrics_destroy(&metrics);
}

/* Every line is a comment (# HELP / # TYPE) or `name{labels} value` with
   label values in quotes and no quote, backslash or control character
   inside them: what a Prometheus parser takes. */
static void test_every_line_is_in_the_text_format(void **state)
{
    dp_metrics_t *metrics = dp_metrics_new("svc");
    dp_metrics_observe_request(metrics, "dp.A", 0, 0.01);
    dp_metrics_observe_request(metrics, "(undecoded)", 3, 0.0);
    dp_metrics_observe_batch(metrics, 2);
    dp_metrics_set_gauge(metrics, "dp_g", "a gauge", -1.25);
    char *text = dp_metrics_render(metrics);
    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    char *copy = strdup(text);
    size_t samples = 0;
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0)
            continue;
        const char *brace = strchr(line, '{');
        const char *close = strrchr(line, '}');
        if (!brace || !close || close < brace || close[1] != ' ')
            fail_msg("not a sample line: '%s'", line);
        for (const char *p = line; p < brace; p++)
            if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9')))
                fail_msg("bad metric name in '%s'", line);
        /* Labels: name="value", separated by commas. */
        const char *p = brace + 1;
        while (p < close) {
            const char *equals = strchr(p, '=');
            if (!equals || equals[1] != '"')
                fail_msg("bad label in '%s'", line);
            const char *end = strchr(equals + 2, '"');
            if (!end || end > close)
                fail_msg("unclosed label in '%s'", line);
            for (const char *c = equals + 2; c < end; c++)
                if (*c == '\\' || (unsigned char)*c < 0x20)
                    fail_msg("unescaped label in '%s'", line);
            p = end + 1;
            if (*p == ',')
                p++;
        }
        char *rest = NULL;
        strtod(close + 2, &rest);
        if (rest == close + 2 || *rest)
            fail_msg("bad value in '%s'", line);
        samples++;
    }
    /* 1 + 1 request lines, 2 error lines, 2 x 13 latency lines, 13 batch
       lines, 1 gauge. */
    assert_int_equal(samples, 2 + 2 + 26 + 13 + 1);
    free(copy);
    free(text);
    dp_metrics_destroy(&metrics);
}

/* GET /metrics over HTTP gives the exposition with Prometheus' content
   type; another path is 404. */
static void test_metrics_are_served_over_http(void **state)
{
    dp_metrics_t *metrics = dp_metrics_new("svc");
    dp_metrics_set_gauge(metrics, "dp_served", "served over HTTP", 42);
    int port = dp_metrics_serve(metrics, "127.0.0.1", 0);
    assert_true(port > 0);
    char command[160];
    snprintf(command, sizeof command,
             "curl -s -i --max-time 10 http://127.0.0.1:%d/metrics; echo; "
             "curl -s -o /dev/null -w '%%{http_code}' --max-time 10 http://127.0.0.1:%d/other",
             port, port);
    ts_process_t run = ts_run_shell(command, 15000);
    assert_int_equal(run.exit_code, 0);
    if (!strstr(run.out, "HTTP/1.1 200") ||
        !strstr(run.out, "Content-Type: text/plain; version=0.0.4") ||
        !strstr(run.out, "\ndp_served{service=\"svc\"} 42") || !strstr(run.out, "\n404"))
        fail_msg("unexpected answers:\n%s", run.out);
    ts_process_free(&run);
    dp_metrics_destroy(&metrics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_are_counted_by_type_and_code),
        cmocka_unit_test(test_latency_histogram_is_cumulative),
        cmocka_unit_test(test_batch_histogram),
        cmocka_unit_test(test_gauges_are_made_once_and_updated),
        cmocka_unit_test(test_every_line_is_in_the_text_format),
        cmocka_unit_test(test_metrics_are_served_over_http),
    };
    return cmocka_run_group_tests_name("dp_metrics", tests, NULL, NULL);
}
