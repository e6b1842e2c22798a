/* The partner registry service, the one header other code includes. A
   class in czmq's style: registry_new makes everything the service serves
   with (its database connection, its metrics), registry_destroy frees it,
   and registry_actor runs one in a thread:

       registry_t *self = registry_new(config);
       dp_service_serve(pipe, self ? registry_server_config(self) : NULL);
       registry_destroy(&self);

   Start it with dp_server_start(registry_actor, config, &endpoint), where
   config is a dp_config_t made from registry_settings (borrowed while the
   actor runs). */
#ifndef REGISTRY_SERVER_H
#define REGISTRY_SERVER_H

#include <czmq.h>

#include "dp_config.h"
#include "dp_server.h"

typedef struct _registry_t registry_t;

/* The settings table (dp_config_new) and the route table (one handler per
   request type, with the roles allowed to send it). */
extern const dp_setting_t registry_settings[];
extern const size_t registry_setting_count;
extern const dp_route_t registry_routes[];
extern const size_t registry_route_count;

/* Makes the registry from its settings, which it borrows for its life;
   NULL (logged) when it must not or cannot start: the default privacy key
   with CURVE on, or out of memory. PostgreSQL need not be there yet. */
registry_t *registry_new(const dp_config_t *config);
void registry_destroy(registry_t **self_p);
/* What dp_server_run and dp_server_handle_frames take: the routes, the
   registry as the handlers' state, its limits, database and metrics. */
const dp_server_config_t *registry_server_config(const registry_t *self);

/* registry_new, dp_server_run, registry_destroy; config is the dp_config_t. */
void registry_actor(zsock_t *pipe, void *config);

#endif
