#include "dp_metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_codec.h"
#include "dp_log.h"

/* Latency buckets in seconds, as Prometheus histograms count them. */
static const double s_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                          0.025,  0.05,  0.1,    0.25,  1.0};
enum { LATENCY_BUCKETS = sizeof s_latency_bounds / sizeof s_latency_bounds[0] };
static const double s_batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
enum { BATCH_BUCKETS = sizeof s_batch_bounds / sizeof s_batch_bounds[0], MAX_TYPES = 64,
       MAX_GAUGES = 32, CODES = 17 };

typedef struct {
    char type[96];                          /* request message name */
    unsigned long long by_code[CODES];      /* answers by status code */
    unsigned long long buckets[LATENCY_BUCKETS]; /* cumulative counts per bound */
    unsigned long long count;               /* answers */
    double sum;                             /* seconds in all */
} request_stats_t;

typedef struct {
    char name[64];  /* metric name */
    char help[128]; /* one line */
    double value;   /* last value set */
} gauge_t;

struct _dp_metrics_t {
    pthread_mutex_t lock;             /* guards everything below */
    char service[32];                 /* label on every metric */
    request_stats_t types[MAX_TYPES]; /* one per request type seen */
    size_t type_count;                /* entries used in types */
    unsigned long long batch_buckets[BATCH_BUCKETS]; /* cumulative per bound */
    unsigned long long batch_count;   /* batches */
    double batch_sum;                 /* requests in all batches */
    gauge_t gauges[MAX_GAUGES];       /* set by the service */
    size_t gauge_count;               /* entries used in gauges */
    struct MHD_Daemon *daemon;        /* the HTTP side, if serving */
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
        fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n%s{service=\"%s\"} %g\n",
                self->gauges[i].name, self->gauges[i].help, self->gauges[i].name,
                self->gauges[i].name, service, self->gauges[i].value);
    pthread_mutex_unlock(&self->lock);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *connection, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **request_state)
{
    dp_metrics_t *self = cls;
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
    enum MHD_Result outcome = MHD_queue_response(
        connection, !get ? MHD_HTTP_METHOD_NOT_ALLOWED : found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND,
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
    struct sockaddr_in bind_address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, address, &bind_address.sin_addr) != 1)
        return -1;
    self->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, s_handle, self,
                                    MHD_OPTION_SOCK_ADDR, &bind_address,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16, MHD_OPTION_END);
    if (!self->daemon)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : port;
}
