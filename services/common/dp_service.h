/* The whole of a service's main(): configuration, logging, the actor, and
   a clean stop on SIGINT or SIGTERM; and the whole of its actor. */
#ifndef DP_SERVICE_H
#define DP_SERVICE_H

#include <czmq.h>

#include "dp_config.h"
#include "dp_server.h"

/* Rows every service has in its settings table, after its endpoints; the
   default of DP_QUEUE_LIMIT is the service's own (text). */
#define DP_SERVICE_SETTINGS(queue_limit)                                                           \
    {"DP_LOG_LEVEL", "info", "debug, info, warning or error"},                                     \
        {"DP_MAX_MESSAGE_BYTES", "1048576", "largest request accepted", true, 1024, 67108864},     \
        {"DP_QUEUE_LIMIT",                                                                         \
         queue_limit,                                                                              \
         "requests queued per client before ZeroMQ pushes back",                                   \
         true,                                                                                     \
         1,                                                                                        \
         1000000},                                                                                 \
    {                                                                                              \
        "DP_DB_WAIT_MS", "30000", "how long to wait for PostgreSQL at start", true, 0, 3600000     \
    }

typedef struct {
    const char *program;          /* e.g. "dp-registry" */
    const char *summary;          /* one line for --help */
    const char *log_ident;        /* e.g. "registry" */
    const dp_setting_t *settings; /* the service's configuration table */
    size_t setting_count;         /* rows in settings */
    zactor_fn *actor;             /* the service; gets the loaded dp_config_t */
} dp_service_t;

/* Returns the process exit status: 0 after a clean stop, 2 for bad
   configuration, 1 when the service could not start. */
int dp_service_main(const dp_service_t *service, int argc, char **argv);

/* The server configuration a service's x_new starts from: its name, the
   endpoint of the setting `endpoint_setting`, and what DP_SERVICE_SETTINGS
   and DP_SECURITY_SETTINGS set (max_message_bytes, queue_limit,
   db_wait_ms, curve_dir). The service adds its routes, state, database,
   metrics and periodic work. */
dp_server_config_t dp_service_server_config(const dp_config_t *config, const char *service_name,
                                            const char *endpoint_setting);
/* What every x_new sets next in it: the route table, the state passed to
   every handler, the connection (for health and the wait at start; may be
   NULL) and the metrics (may be NULL). */
void dp_service_server_handlers(dp_server_config_t *server, const dp_route_t *routes,
                                size_t route_count, void *state, dp_db_t *db,
                                dp_metrics_t *metrics);

/* The body of a service's actor, after its x_new: serves with `server`
   until $TERM, or, when it is NULL (x_new failed), refuses to start
   (dp_server_refuse). Every service's actor is

       x_t *self = x_new(config);
       dp_service_serve(pipe, self ? x_server_config(self) : NULL);
       x_destroy(&self);
*/
void dp_service_serve(zsock_t *pipe, const dp_server_config_t *server);

#endif
