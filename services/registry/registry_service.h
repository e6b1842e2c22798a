/* The registry's state (registry_new in registry_server.c), shared by
   every handler as the `state` they get. */
#ifndef REGISTRY_SERVICE_H
#define REGISTRY_SERVICE_H

#include "dp_db.h"
#include "dp_metrics.h"
#include "dp_server.h"
#include "registry_server.h"

struct _registry_t {
    dp_db_t *db;               /* the registry's connection, as role dp_registry */
    const char *privacy_key;   /* secret of the keyed hashes of addresses */
    dp_metrics_t *metrics;     /* requests and latencies, served on DP_METRICS_PORT */
    dp_server_config_t server; /* what dp_server_run takes; its state is this */
};

#endif
