#include "dp_metrics.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_codec.h"
#include "dp_log.h"
#include "dp_validate.h"

/* Latency buckets in seconds, as Prometheus histograms count them. */
static const double s_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                          0.025,  0.05,  0.1,    0.25,  1.0};
enum { LATENCY_BUCKETS = sizeof s_latency_bounds / sizeof s_latency_bounds[0] };
static const double s_batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
enum {
    BATCH_BUCKETS = sizeof s_batch_bounds / sizeof s_batch_bounds[0],
    MAX_TYPES = 64,
    MAX_GAUGES = 32,
    CODES = 17
};

typedef struct {
    char type[96];                               /* request message name */
    unsigned long long by_code[CODES];           /* answers by status code */
    unsigned long long buckets[LATENCY_BUCKETS]; /* cumulative counts per bound */
    unsigned long long count;                    /* answers */
    double sum;                                  /* seconds in all */
} request_stats_t;

typedef struct {
    char name[64];  /* metric name */
    char help[128]; /* one line */
    double value;   /* last value set */
} gauge_t;

struct _dp_metrics_t {
    pthread_mutex_t lock;                            /* guards everything below */
    char service[32];                                /* label on every metric */
    request_stats_t types[MAX_TYPES];                /* one per request type seen */
    size_t type_count;                               /* entries used in types */
    unsigned long long batch_buckets[BATCH_BUCKETS]; /* cumulative per bound */
    unsigned long long batch_count;                  /* batches */
    double batch_sum;                                /* requests in all batches */
    gauge_t gauges[MAX_GAUGES];                      /* set by the service */
    size_t gauge_count;                              /* entries used in gauges */
    struct MHD_Daemon *daemon;                       /* the HTTP side, if serving */
};

dp_metrics_t *dp_metrics_new(const char *service)
{
    dp_metrics_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    snprintf(self->service, sizeof self->service, "%s", service);
    return self;
}

void dp_metrics_destroy(dp_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dp_metrics_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void dp_metrics_observe_request(dp_metrics_t *self, const char *type, int code, double seconds)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    request_stats_t *stats = NULL;
    for (size_t i = 0; i < self->type_count && !stats; i++)
        if (strcmp(self->types[i].type, type) == 0)
            stats = &self->types[i];
    if (!stats && self->type_count < MAX_TYPES) {
        stats = &self->types[self->type_count++];
        snprintf(stats->type, sizeof stats->type, "%s", type);
    }
    if (stats) {
        stats->by_code[code >= 0 && code < CODES ? code : 2]++;
        for (size_t b = 0; b < LATENCY_BUCKETS; b++)
            if (seconds <= s_latency_bounds[b])
                stats->buckets[b]++;
        stats->count++;
        stats->sum += seconds;
    }
    pthread_mutex_unlock(&self->lock);
}

void dp_metrics_observe_batch(dp_metrics_t *self, size_t size)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    for (size_t b = 0; b < BATCH_BUCKETS; b++)
        if ((double)size <= s_batch_bounds[b])
            self->batch_buckets[b]++;
    self->batch_count++;
    self->batch_sum += (double)size;
    pthread_mutex_unlock(&self->lock);
}

void dp_metrics_set_gauge(dp_metrics_t *self, const char *name, const char *help, double value)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    gauge_t *gauge = NULL;
    for (size_t i = 0; i < self->gauge_count && !gauge; i++)
        if (strcmp(self->gauges[i].name, name) == 0)
            gauge = &self->gauges[i];
    if (!gauge && self->gauge_count < MAX_GAUGES) {
        gauge = &self->gauges[self->gauge_count++];
        snprintf(gauge->name, sizeof gauge->name, "%s", name);
        snprintf(gauge->help, sizeof gauge->help, "%s", help);
    }
    if (gauge)
        gauge->value = value;
    pthread_mutex_unlock(&self->lock);
}

char *dp_metrics_render(dp_metrics_t *self)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        return NULL;
    pthread_mutex_lock(&self->lock);
    const char *service = self->service;
    fprintf(out, "# HELP dp_requests_total Requests answered, by type and status code.\n"
                 "# TYPE dp_requests_total counter\n");
    for (size_t i = 0; i < self->type_count; i++)
        for (int code = 0; code < CODES; code++)
            if (self->types[i].by_code[code])
                fprintf(out, "dp_requests_total{service=\"%s\",type=\"%s\",code=\"%s\"} %llu\n",
                        service, self->types[i].type, dp_code_name((Dp__Code)code),
                        self->types[i].by_code[code]);
    fprintf(out, "# HELP dp_request_errors_total Requests answered with a status other than OK.\n"
                 "# TYPE dp_request_errors_total counter\n");
    for (size_t i = 0; i < self->type_count; i++)
        fprintf(out, "dp_request_errors_total{service=\"%s\",type=\"%s\"} %llu\n", service,
                self->types[i].type, self->types[i].count - self->types[i].by_code[0]);
    fprintf(out, "# HELP dp_request_seconds Time from taking a request to its reply.\n"
                 "# TYPE dp_request_seconds histogram\n");
    for (size_t i = 0; i < self->type_count; i++) {
        const request_stats_t *stats = &self->types[i];
        for (size_t b = 0; b < LATENCY_BUCKETS; b++)
            fprintf(out, "dp_request_seconds_bucket{service=\"%s\",type=\"%s\",le=\"%g\"} %llu\n",
                    service, stats->type, s_latency_bounds[b], stats->buckets[b]);
        fprintf(out,
                "dp_request_seconds_bucket{service=\"%s\",type=\"%s\",le=\"+Inf\"} %llu\n"
                "dp_request_seconds_sum{service=\"%s\",type=\"%s\"} %.6f\n"
                "dp_request_seconds_count{service=\"%s\",type=\"%s\"} %llu\n",
                service, stats->type, stats->count, service, stats->type, stats->sum, service,
                stats->type, stats->count);
    }
    fprintf(out, "# HELP dp_batch_size Requests handled together (one transaction for "
                 "submissions).\n# TYPE dp_batch_size histogram\n");
    for (size_t b = 0; b < BATCH_BUCKETS; b++)
        fprintf(out, "dp_batch_size_bucket{service=\"%s\",le=\"%g\"} %llu\n", service,
                s_batch_bounds[b], self->batch_buckets[b]);
    fprintf(out,
            "dp_batch_size_bucket{service=\"%s\",le=\"+Inf\"} %llu\n"
            "dp_batch_size_sum{service=\"%s\"} %.0f\ndp_batch_size_count{service=\"%s\"} %llu\n",
            service, self->batch_count, service, self->batch_sum, service, self->batch_count);
    for (size_t i = 0; i < self->gauge_count; i++)
        fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n%s{service=\"%s\"} %g\n", self->gauges[i].name,
                self->gauges[i].help, self->gauges[i].name, self->gauges[i].name, service,
                self->gauges[i].value);
    pthread_mutex_unlock(&self->lock);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- the doors of the HTTP servers ----------------------------------------- */

/* What the URI callback leaves as a request's state when its target fails. */
static char s_bad_target;

enum { MAX_TARGET_BYTES = 4096 };

/* The raw request target, before libmicrohttpd decodes it: every escape
   complete (%XY), nothing that decodes to NUL or a control character, and
   the decoded text valid UTF-8. */
static bool s_target_ok(const char *target)
{
    size_t size = strlen(target);
    if (size > MAX_TARGET_BYTES)
        return false;
    char decoded[MAX_TARGET_BYTES + 1];
    size_t used = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c == '%') {
            if (!isxdigit((unsigned char)target[i + 1]) || !isxdigit((unsigned char)target[i + 2]))
                return false;
            char hex[3] = {target[i + 1], target[i + 2], '\0'};
            c = (unsigned char)strtoul(hex, NULL, 16);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return false;
        decoded[used++] = (char)c;
    }
    decoded[used] = '\0';
    return dp_valid_text(decoded, MAX_TARGET_BYTES);
}

static void *s_log_target(void *cls, const char *target, struct MHD_Connection *connection)
{
    (void)cls;
    (void)connection;
    return target && s_target_ok(target) ? NULL : &s_bad_target;
}

bool dp_http_marked_bad(const void *request_state)
{
    return request_state == &s_bad_target;
}

bool dp_http_refused(struct MHD_Connection *connection, const char *version,
                     void *const *request_state, enum MHD_Result *result)
{
    const char *reason = NULL;
    if (request_state && *request_state == &s_bad_target)
        reason = "bad request: the path must be percent-encoded UTF-8 without NUL or control "
                 "characters\n";
    else if (version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
             !MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))
        reason = "bad request: HTTP/1.1 requires a Host header\n";
    if (!reason)
        return false;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(reason), (void *)reason, MHD_RESPMEM_PERSISTENT);
    *result = MHD_NO;
    if (response) {
        MHD_add_response_header(response, "Content-Type", "text/plain; charset=utf-8");
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
        *result = MHD_queue_response(connection, MHD_HTTP_BAD_REQUEST, response);
        MHD_destroy_response(response);
    }
    return true;
}

struct MHD_Daemon *dp_http_start(const char *address, int port, dp_http_limits_t limits,
                                 MHD_AccessHandlerCallback handler, void *cls, int *bound_port)
{
    return dp_http_start_completed(address, port, limits, handler, cls, NULL, NULL, bound_port);
}

struct MHD_Daemon *dp_http_start_completed(const char *address, int port, dp_http_limits_t limits,
                                           MHD_AccessHandlerCallback handler, void *cls,
                                           MHD_RequestCompletedCallback completed,
                                           void *completed_cls, int *bound_port)
{
    struct sockaddr_in bind_address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, address, &bind_address.sin_addr) != 1)
        return NULL;
    /* Polling threads on epoll: a connection that sends nothing costs a
       socket until its timeout, never the thread that serves the others. */
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, handler, cls, MHD_OPTION_SOCK_ADDR,
        &bind_address, MHD_OPTION_CONNECTION_TIMEOUT, limits.timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        limits.connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.per_address,
        MHD_OPTION_THREAD_POOL_SIZE, limits.threads > 1 ? limits.threads : 0,
        MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls, MHD_OPTION_URI_LOG_CALLBACK,
        s_log_target, NULL, MHD_OPTION_END);
    if (!daemon)
        return NULL;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info ? info->port : port;
    return daemon;
}

/* ---- /metrics ------------------------------------------------------------------ */

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *connection, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **request_state)
{
    dp_metrics_t *self = cls;
    enum MHD_Result refusal;
    if (dp_http_refused(connection, version, request_state, &refusal))
        return refusal;
    bool found = strcmp(url, "/metrics") == 0;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    char *body = found && get ? dp_metrics_render(self)
                              : strdup(get ? "not found\n" : "only GET and HEAD\n");
    if (!body)
        return MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(response, "Content-Type",
                            found ? "text/plain; version=0.0.4" : "text/plain");
    enum MHD_Result outcome = MHD_queue_response(connection,
                                                 !get    ? MHD_HTTP_METHOD_NOT_ALLOWED
                                                 : found ? MHD_HTTP_OK
                                                         : MHD_HTTP_NOT_FOUND,
                                                 response);
    MHD_destroy_response(response);
    return outcome;
}

dp_metrics_t *dp_metrics_start(const char *service, const char *address, long port)
{
    dp_metrics_t *self = dp_metrics_new(service);
    if (!self || port < 0)
        return self;
    int bound = dp_metrics_serve(self, address, (int)port);
    if (bound < 0) {
        /* The service still serves its requests; only the metrics are missing. */
        dp_warning("cannot serve metrics on %s:%ld: set DP_METRICS_PORT to a free port", address,
                   port);
        return self;
    }
    dp_info("metrics on http://%s:%d/metrics", address, bound);
    return self;
}

int dp_metrics_serve(dp_metrics_t *self, const char *address, int port)
{
    int bound = -1;
    self->daemon = dp_http_start(address, port, DP_METRICS_HTTP_LIMITS, s_handle, self, &bound);
    return self->daemon ? bound : -1;
}
