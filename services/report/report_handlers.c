/* Report requests over ZeroMQ. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_validate.h"
#include "report_build.h"
#include "report_dashboard.h"
#include "report_service.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

static void s_date_shift(char out[11], const char *date, int days)
{
    struct tm day = {0};
    sscanf(date, "%d-%d-%d", &day.tm_year, &day.tm_mon, &day.tm_mday);
    day.tm_year -= 1900;
    day.tm_mon -= 1;
    day.tm_mday += days;
    day.tm_hour = 12;
    time_t seconds = timegm(&day);
    struct tm shifted;
    gmtime_r(&seconds, &shifted);
    strftime(out, 11, "%Y-%m-%d", &shifted);
}

/* Days from date a to date b (both valid YYYY-MM-DD): b - a. */
static long s_days_between(const char *a, const char *b)
{
    struct tm day_a = {0}, day_b = {0};
    sscanf(a, "%d-%d-%d", &day_a.tm_year, &day_a.tm_mon, &day_a.tm_mday);
    sscanf(b, "%d-%d-%d", &day_b.tm_year, &day_b.tm_mon, &day_b.tm_mday);
    day_a.tm_year -= 1900, day_b.tm_year -= 1900;
    day_a.tm_mon -= 1, day_b.tm_mon -= 1;
    day_a.tm_hour = day_b.tm_hour = 12;
    return (long)((timegm(&day_b) - timegm(&day_a)) / 86400);
}

static const char *s_refuse(report_dates_t *dates, const char *field, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static const char *s_refuse(report_dates_t *dates, const char *field, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(dates->problem, sizeof dates->problem, format, args);
    va_end(args);
    return field;
}

const char *report_dates_resolve(report_dates_t *dates, const char *as_of, const char *from,
                                 const char *to, Dp__ReportGranularity granularity, int cooperation)
{
    dates->problem[0] = '\0';
    const char *given[][2] = {{"as_of", as_of}, {"period_from", from}, {"period_to", to}};
    for (size_t i = 0; i < 3; i++)
        if (given[i][1] && *given[i][1] && !dp_valid_date(given[i][1]))
            return s_refuse(dates, given[i][0], "%s must be a date YYYY-MM-DD", given[i][0]);
    if (granularity != DP__REPORT_GRANULARITY__REPORT_GRANULARITY_UNSPECIFIED &&
        granularity != DP__REPORT_GRANULARITY__REPORT_GRANULARITY_WEEK &&
        granularity != DP__REPORT_GRANULARITY__REPORT_GRANULARITY_MONTH)
        return s_refuse(dates, "granularity", "granularity must be WEEK or MONTH");
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    char today[11], last[16];
    strftime(today, sizeof today, "%Y-%m-%d", &utc);
    snprintf(last, sizeof last, "%04d-12-31", (utc.tm_year + 1901) % 10000);
    for (size_t i = 0; i < 3; i++)
        if (given[i][1] && *given[i][1] &&
            (strcmp(given[i][1], REPORT_FIRST_DATE) < 0 || strcmp(given[i][1], last) > 0))
            return s_refuse(dates, given[i][0], "%s must be between %s and %s", given[i][0],
                            REPORT_FIRST_DATE, last);
    snprintf(dates->as_of, sizeof dates->as_of, "%s", as_of && *as_of ? as_of : today);
    snprintf(dates->to, sizeof dates->to, "%s", to && *to ? to : dates->as_of);
    if (from && *from)
        snprintf(dates->from, sizeof dates->from, "%s", from);
    else if (cooperation) /* the first wave, or the period's end if that is earlier */
        snprintf(dates->from, sizeof dates->from, "%s",
                 strcmp("2017-11-08", dates->to) < 0 ? "2017-11-08" : dates->to);
    else
        s_date_shift(dates->from, dates->to, -90);
    snprintf(dates->granularity, sizeof dates->granularity, "%s",
             granularity == DP__REPORT_GRANULARITY__REPORT_GRANULARITY_MONTH ? "month" : "week");
    if (strcmp(dates->from, dates->to) > 0)
        return s_refuse(dates, "period_from", "period_from must not be after period_to");
    if (!cooperation && s_days_between(dates->from, dates->to) > REPORT_MAX_PERIOD_DAYS)
        return s_refuse(dates, "period_from",
                        "the period must not be longer than ten years (%d days)",
                        REPORT_MAX_PERIOD_DAYS);
    return NULL;
}

char *report_dashboard_page(dp_db_t *db, const char *as_of, const char *from, const char *to,
                            int links)
{
    report_dates_t cooperation_dates, enquiry_dates;
    if (report_dates_resolve(&cooperation_dates, as_of, NULL, to, 0, 1) ||
        report_dates_resolve(&enquiry_dates, as_of, from, to, 0, 0))
        return NULL;
    dp_arena_t *arena = dp_arena_new();
    Dp__Report *overview = NULL, *cooperation = NULL, *enquiries = NULL;
    char *html = NULL;
    if (arena && report_build_overview(db, arena, cooperation_dates.as_of, &overview) == 0 &&
        report_build_cooperation(db, arena, cooperation_dates.as_of, cooperation_dates.from,
                                 cooperation_dates.to, &cooperation) == 0 &&
        report_build_enquiries(db, arena, enquiry_dates.from, enquiry_dates.to, "week",
                               &enquiries) == 0)
        html = report_dashboard_html(overview, cooperation, enquiries, links);
    dp_arena_destroy(&arena);
    return html;
}

static void s_reply_report(dp_reply_t *reply, dp_db_t *db, int outcome, Dp__Report *report)
{
    if (outcome != 0) {
        dp_reply_db_failure(reply, db);
        return;
    }
    Dp__ReportReply answer = DP__REPORT_REPLY__INIT;
    answer.report = report;
    dp_reply_ok(reply, &answer.base);
}

static bool s_dates(dp_reply_t *reply, report_dates_t *dates, const char *as_of, const char *from,
                    const char *to, Dp__ReportGranularity granularity, int cooperation)
{
    const char *bad = report_dates_resolve(dates, as_of, from, to, granularity, cooperation);
    if (!bad)
        return true;
    dp_reply_error(reply, INVALID, bad, "%s", dates->problem);
    return false;
}

static void s_overview(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_db_t *db = ((report_t *)state)->db;
    const Dp__OverviewReportRequest *request = (const Dp__OverviewReportRequest *)message;
    report_dates_t dates;
    if (!s_dates(reply, &dates, request->as_of, NULL, NULL, 0, 1))
        return;
    Dp__Report *report = NULL;
    int outcome = report_build_overview(db, dp_reply_arena(reply), dates.as_of, &report);
    s_reply_report(reply, db, outcome, report);
}

static void s_cooperation(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_db_t *db = ((report_t *)state)->db;
    const Dp__CooperationReportRequest *request = (const Dp__CooperationReportRequest *)message;
    report_dates_t dates;
    if (!s_dates(reply, &dates, request->as_of, request->period_from, request->period_to, 0, 1))
        return;
    Dp__Report *report = NULL;
    int outcome = report_build_cooperation(db, dp_reply_arena(reply), dates.as_of, dates.from,
                                           dates.to, &report);
    s_reply_report(reply, db, outcome, report);
}

static void s_enquiries(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_db_t *db = ((report_t *)state)->db;
    const Dp__EnquiriesReportRequest *request = (const Dp__EnquiriesReportRequest *)message;
    report_dates_t dates;
    if (!s_dates(reply, &dates, NULL, request->period_from, request->period_to,
                 request->granularity, 0))
        return;
    Dp__Report *report = NULL;
    int outcome = report_build_enquiries(db, dp_reply_arena(reply), dates.from, dates.to,
                                         dates.granularity, &report);
    s_reply_report(reply, db, outcome, report);
}

static void s_dashboard(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_db_t *db = ((report_t *)state)->db;
    const Dp__DashboardRequest *request = (const Dp__DashboardRequest *)message;
    report_dates_t dates;
    if (!s_dates(reply, &dates, request->as_of, request->period_from, request->period_to, 0, 0))
        return;
    char *html =
        report_dashboard_page(db, request->as_of, request->period_from, request->period_to, 0);
    if (!html) {
        dp_reply_db_failure(reply, db);
        return;
    }
    Dp__DashboardReply answer = DP__DASHBOARD_REPLY__INIT;
    answer.html = html;
    dp_reply_ok(reply, &answer.base);
    free(html);
}

const dp_route_t report_routes[] = {
    {&dp__overview_report_request__descriptor, s_overview, NULL},
    {&dp__cooperation_report_request__descriptor, s_cooperation, NULL},
    {&dp__enquiries_report_request__descriptor, s_enquiries, NULL},
    {&dp__dashboard_request__descriptor, s_dashboard, NULL},
};
const size_t report_route_count = sizeof report_routes / sizeof report_routes[0];
