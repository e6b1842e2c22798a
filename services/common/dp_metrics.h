/* Prometheus text metrics over HTTP (libmicrohttpd): requests and errors by
   type, latency histograms, batch sizes and the gauges a service sets
   (database state, outbox lag, consumer lag, parked events). Safe to update
   from the service thread while the HTTP thread reads. */
#ifndef DP_METRICS_H
#define DP_METRICS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _dp_metrics_t dp_metrics_t;

dp_metrics_t *dp_metrics_new(const char *service);
void dp_metrics_destroy(dp_metrics_t **self_p);

/* Serves GET /metrics on address:port (port 0: any free one). Returns the
   bound port, or -1. */
int dp_metrics_serve(dp_metrics_t *self, const char *address, int port);

/* One request of `type` answered with status `code` after `seconds`. */
void dp_metrics_observe_request(dp_metrics_t *self, const char *type, int code, double seconds);
/* One batch of `size` requests handled together. */
void dp_metrics_observe_batch(dp_metrics_t *self, size_t size);
/* Sets a gauge (created on first use); name is a Prometheus metric name. */
void dp_metrics_set_gauge(dp_metrics_t *self, const char *name, const char *help, double value);

/* Makes the metrics of a service and serves them when port >= 0 (a log
   line says where); port < 0, or a port that cannot be bound (logged as an
   error), keeps them unserved. NULL only when out of memory. */
dp_metrics_t *dp_metrics_start(const char *service, const char *address, long port);

/* Rows every service adds to its settings table; the default port differs. */
#define DP_METRICS_SETTINGS(default_port)                                                          \
    {"DP_METRICS_ADDRESS", "127.0.0.1", "IPv4 address of the Prometheus metrics endpoint"},        \
    {                                                                                              \
        "DP_METRICS_PORT", default_port, "port of GET /metrics (-1: off, 0: any free port)", true, \
            -1, 65535                                                                              \
    }

/* The exposition text (malloc'd). */
char *dp_metrics_render(dp_metrics_t *self);

/* ---- The doors of the HTTP servers (metrics and dashboard) ----------------

   Both servers run libmicrohttpd with one internal polling thread (epoll),
   so an idle or slow client holds a socket, never the thread; the limits
   keep one client address from taking every socket, and a client that
   sends nothing is closed after the timeout. */
typedef struct {
    unsigned timeout_s;   /* an idle or unfinished connection is closed after this */
    unsigned connections; /* connections at once, all clients together */
    unsigned per_address; /* connections at once from one client address */
    unsigned threads;     /* polling threads (0 or 1: one) */
} dp_http_limits_t;

/* The metrics server's own: Prometheus scrapes with one connection. */
#define DP_METRICS_HTTP_LIMITS ((dp_http_limits_t){10, 64, 4})

/* Starts a daemon on address:port (IPv4; port 0: any free one) with these
   limits. Returns NULL when it cannot listen; *bound_port is the port. */
struct MHD_Daemon *dp_http_start(const char *address, int port, dp_http_limits_t limits,
                                 MHD_AccessHandlerCallback handler, void *cls, int *bound_port);

/* The same, with a pool of limits.threads polling threads and `completed`
   told when each request ends (to free what the handler kept in its
   request state). */
struct MHD_Daemon *dp_http_start_completed(const char *address, int port, dp_http_limits_t limits,
                                           MHD_AccessHandlerCallback handler, void *cls,
                                           MHD_RequestCompletedCallback completed,
                                           void *completed_cls, int *bound_port);

/* The door, called first by a handler of a daemon from dp_http_start. The
   raw request target must percent-decode to UTF-8 text without NUL or
   control characters (libmicrohttpd hands the handler the decoded path, cut
   at the first NUL: "/x.csv%00.html" would look like "/x.csv"), and an
   HTTP/1.1 request must carry Host. When the request fails, queues a 400
   with a one-line reason, sets *result to what the handler must return and
   returns true. */
bool dp_http_refused(struct MHD_Connection *connection, const char *version,
                     void *const *request_state, enum MHD_Result *result);
/* Whether a request state is the door's mark of a bad target (a handler
   that keeps state of its own frees only what is not). */
bool dp_http_marked_bad(const void *request_state);

#endif
