/* The dashboard and the CSV/JSON exports over HTTP (libmicrohttpd). The
   daemon's one polling thread serves one request at a time with its own
   database session; idle and slow clients hold only sockets, within the
   limits of dp_http_start (dp_metrics.h). Only GET and HEAD; nothing here
   writes. Without authentication: figures only, never a person's name. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_log.h"
#include "dp_metrics.h"
#include "dp_report_format.h"
#include "report_build.h"
#include "report_db.h"
#include "report_service.h"

struct _report_http_t {
    struct MHD_Daemon *daemon; /* libmicrohttpd's server */
    dp_db_t *db;               /* used only from the daemon's thread */
    int port;                  /* as bound */
};

/* A larger answer is refused: the dates are bounded (report_dates_resolve),
   so only an unforeseen growth could reach it, and then a clear 400 is
   better than a server building tens of megabytes for anyone who asks. */
enum { MAX_RESPONSE_BYTES = 4 << 20 };

static enum MHD_Result s_text(struct MHD_Connection *connection, unsigned int status,
                              const char *text);

static enum MHD_Result s_send(struct MHD_Connection *connection, unsigned int status,
                              const char *content_type, char *body, size_t size)
{
    if (size > MAX_RESPONSE_BYTES) {
        free(body);
        char message[160];
        snprintf(message, sizeof message,
                 "the answer would exceed %d MiB: ask for a shorter period or one table\n",
                 MAX_RESPONSE_BYTES >> 20);
        return s_text(connection, MHD_HTTP_BAD_REQUEST, message);
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer(size, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(response, "Content-Type", content_type);
    MHD_add_response_header(response, "Cache-Control", "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    enum MHD_Result outcome = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return outcome;
}

static enum MHD_Result s_text(struct MHD_Connection *connection, unsigned int status,
                              const char *text)
{
    char *body = strdup(text);
    return body ? s_send(connection, status, "text/plain; charset=utf-8", body, strlen(body))
                : MHD_NO;
}

static const char *s_arg(struct MHD_Connection *connection, const char *name)
{
    const char *value = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, name);
    return value ? value : "";
}

/* /reports/NAME.csv or /reports/NAME.json, with the dates as query arguments. */
static enum MHD_Result s_export(report_http_t *self, struct MHD_Connection *connection,
                                const char *path)
{
    char name[32], format[8];
    int consumed = 0;
    if (sscanf(path, "/reports/%31[a-z].%7[a-z]%n", name, format, &consumed) != 2 ||
        path[consumed] != '\0' || (strcmp(format, "csv") && strcmp(format, "json")))
        return s_text(connection, MHD_HTTP_NOT_FOUND, "not found\n");
    bool cooperation = strcmp(name, "cooperation") == 0;
    report_dates_t dates;
    const char *granularity = s_arg(connection, "granularity");
    if (*granularity && strcmp(granularity, "week") && strcmp(granularity, "month"))
        return s_text(connection, MHD_HTTP_BAD_REQUEST, "bad granularity: week or month\n");
    const char *bad = report_dates_resolve(
        &dates, s_arg(connection, "as_of"), s_arg(connection, "period_from"),
        s_arg(connection, "period_to"),
        strcmp(granularity, "month") == 0 ? DP__REPORT_GRANULARITY__REPORT_GRANULARITY_MONTH
                                          : DP__REPORT_GRANULARITY__REPORT_GRANULARITY_WEEK,
        cooperation);
    if (bad) {
        char message[200];
        snprintf(message, sizeof message, "bad %s: %s\n", bad, dates.problem);
        return s_text(connection, MHD_HTTP_BAD_REQUEST, message);
    }
    dp_arena_t *arena = dp_arena_new();
    Dp__Report *report = NULL;
    int outcome = -1;
    if (!arena)
        return s_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    if (strcmp(name, "overview") == 0)
        outcome = report_build_overview(self->db, arena, dates.as_of, &report);
    else if (cooperation)
        outcome =
            report_build_cooperation(self->db, arena, dates.as_of, dates.from, dates.to, &report);
    else if (strcmp(name, "enquiries") == 0)
        outcome = report_build_enquiries(self->db, arena, dates.from, dates.to, dates.granularity,
                                         &report);
    else {
        dp_arena_destroy(&arena);
        return s_text(connection, MHD_HTTP_NOT_FOUND, "no such report\n");
    }
    if (outcome != 0) {
        dp_arena_destroy(&arena);
        return s_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "database unavailable\n");
    }
    char *body = NULL;
    size_t size = 0;
    enum MHD_Result sent;
    if (strcmp(format, "json") == 0) {
        json_t *json = dp_report_json(report);
        body = json ? json_dumps(json, JSON_INDENT(1)) : NULL;
        json_decref(json);
        sent =
            body ? s_send(connection, MHD_HTTP_OK, "application/json", body, strlen(body)) : MHD_NO;
    } else {
        FILE *out = open_memstream(&body, &size);
        const char *table = s_arg(connection, "table");
        int known = out ? dp_report_csv(out, report, *table ? table : NULL) : -1;
        if (out)
            fclose(out);
        if (known < 0) {
            free(body);
            sent = s_text(connection, MHD_HTTP_NOT_FOUND, "no such table\n");
        } else
            sent = s_send(connection, MHD_HTTP_OK, "text/csv; charset=utf-8", body, size);
    }
    dp_arena_destroy(&arena);
    return sent;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *connection, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **request_state)
{
    report_http_t *self = cls;
    enum MHD_Result refusal;
    if (dp_http_refused(connection, version, request_state, &refusal))
        return refusal;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return s_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/health") == 0)
        return s_text(connection,
                      dp_db_check(self->db) ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                      dp_db_is_connected(self->db) ? "ok\n" : "database unavailable\n");
    if (strncmp(url, "/reports/", 9) == 0)
        return s_export(self, connection, url);
    if (strcmp(url, "/") != 0 && strcmp(url, "/index.html") != 0)
        return s_text(connection, MHD_HTTP_NOT_FOUND, "not found\n");
    const char *as_of = s_arg(connection, "as_of"), *from = s_arg(connection, "period_from"),
               *to = s_arg(connection, "period_to");
    report_dates_t dates;
    const char *bad = report_dates_resolve(&dates, as_of, from, to, 0, 0);
    if (bad) {
        char message[200];
        snprintf(message, sizeof message, "bad %s: %s\n", bad, dates.problem);
        return s_text(connection, MHD_HTTP_BAD_REQUEST, message);
    }
    char *html = report_dashboard_page(self->db, as_of, from, to, 1);
    if (!html)
        return s_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "database unavailable\n");
    return s_send(connection, MHD_HTTP_OK, "text/html; charset=utf-8", html, strlen(html));
}

report_http_t *report_http_start(const char *conninfo, const char *address, int port,
                                 const dp_http_limits_t *limits)
{
    report_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = dp_db_new(conninfo, "dp-report-http", report_statements, report_statement_count);
    if (!self->db) {
        report_http_stop(&self);
        return NULL;
    }
    self->daemon = dp_http_start(address, port, *limits, s_handle, self, &self->port);
    if (!self->daemon) {
        dp_error("HTTP: cannot listen on %s:%d", address, port);
        report_http_stop(&self);
        return NULL;
    }
    dp_info("dashboard on http://%s:%d/", address, self->port);
    return self;
}

void report_http_stop(report_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_http_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    dp_db_destroy(&self->db);
    free(self);
    *self_p = NULL;
}

int report_http_port(const report_http_t *self)
{
    return self->port;
}
