/* The whole of a service's main(): configuration, logging, the actor, and
   a clean stop on SIGINT or SIGTERM; and the whole of its actor. */
#ifndef DP_SERVICE_H
#define DP_SERVICE_H

#include <czmq.h>

#include "dp_config.h"
#include "dp_server.h"

typedef struct {
    const char *program;           /* e.g. "dp-registry" */
    const char *summary;           /* one line for --help */
    const char *log_ident;         /* e.g. "registry" */
    const dp_setting_t *settings;  /* the service's configuration table */
    size_t setting_count;          /* rows in settings */
    zactor_fn *actor;              /* the service; gets the loaded dp_config_t */
} dp_service_t;

/* Returns the process exit status: 0 after a clean stop, 2 for bad
   configuration, 1 when the service could not start. */
int dp_service_main(const dp_service_t *service, int argc, char **argv);

/* The body of a service's actor, after its x_new: serves with `server`
   until $TERM, or, when it is NULL (x_new failed), refuses to start
   (dp_server_refuse). Every service's actor is

       x_t *self = x_new(config);
       dp_service_serve(pipe, self ? x_server_config(self) : NULL);
       x_destroy(&self);
*/
void dp_service_serve(zsock_t *pipe, const dp_server_config_t *server);

#endif
