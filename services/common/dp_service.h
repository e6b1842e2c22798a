/* The whole of a service's main(): configuration, logging, the actor, and
   a clean stop on SIGINT or SIGTERM. */
#ifndef DP_SERVICE_H
#define DP_SERVICE_H

#include <czmq.h>

#include "dp_config.h"

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

#endif
