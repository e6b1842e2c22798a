/* The reporting service: reports over ZeroMQ, the dashboard over HTTP. */
#ifndef REPORT_SERVICE_H
#define REPORT_SERVICE_H

#include "dp_arena.h"
#include "dp_db.h"
#include "dp_metrics.h"
#include "dp_server.h"
#include "report.pb-c.h"
#include "report_server.h"

/* The dates a request leaves empty, filled with their defaults. */
typedef struct {
    char as_of[11];      /* default today */
    char from[11];       /* default: 90 days before `to` (enquiries), 2017-11-08 (cooperation) */
    char to[11];         /* default: as_of */
    char granularity[6]; /* "week" or "month" */
    char problem[160];   /* why the dates were refused, for the caller's reply */
} report_dates_t;

/* Every date of a report lies in [REPORT_FIRST_DATE, the end of next year]:
   nothing of the partnership is older, and a period reaching into 2999
   asked the database for a million empty weeks. An enquiry period spans
   at most REPORT_MAX_PERIOD_DAYS (ten years). */
#define REPORT_FIRST_DATE "2017-01-01"
enum { REPORT_MAX_PERIOD_DAYS = 3653 };

/* Fills defaults and checks the given dates; returns the offending field
   name (dates->problem says why), or NULL when all is well. `cooperation`
   picks that report's default start and leaves the span unbounded (its
   tables grow by year, not by week). */
const char *report_dates_resolve(report_dates_t *dates, const char *as_of, const char *from,
                                 const char *to, Dp__ReportGranularity granularity,
                                 int cooperation);

/* The dashboard page for these dates (malloc'd), or NULL on a database failure. */
char *report_dashboard_page(dp_db_t *db, const char *as_of, const char *from, const char *to,
                            int links);

/* The HTTP side (report_http.c): serves the dashboard and CSV/JSON exports. */
typedef struct _report_http_t report_http_t;

/* The service (report_new in report_server.c), given to every handler as
   its `state`. */
struct _report_t {
    dp_db_t *db;               /* requests over ZeroMQ, as dp_report */
    report_http_t *http;       /* the dashboard, with its own session */
    char port[8];              /* the dashboard's port, as text */
    dp_metrics_t *metrics;     /* requests and latencies, on DP_METRICS_PORT */
    dp_server_config_t server; /* what dp_server_run takes; its state is this */
};

/* report_handlers.c: report_routes (report_server.h). */

report_http_t *report_http_start(const char *conninfo, const char *address, int port,
                                 const dp_http_limits_t *limits);
void report_http_stop(report_http_t **self_p);
int report_http_port(const report_http_t *self);

#endif
