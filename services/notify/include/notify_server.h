/* The notifications service, the one header other code includes. A class
   in czmq's style: notify_new makes everything the service serves with
   (its two database sessions, the bound PUB socket of live events, its
   metrics and the webhook worker), notify_destroy stops and frees it, and
   notify_actor runs one in a thread:

       notify_t *self = notify_new(config);
       dp_service_serve(pipe, self ? notify_server_config(self) : NULL);
       notify_destroy(&self);

   Start it with dp_server_start(notify_actor, config, &endpoint), where
   config is a dp_config_t made from notify_settings (borrowed while the
   actor runs). On the actor's pipe, "PUB_ENDPOINT" is answered with the
   bound PUB endpoint. */
#ifndef NOTIFY_SERVER_H
#define NOTIFY_SERVER_H

#include <czmq.h>

#include "dp_config.h"
#include "dp_server.h"

typedef struct _notify_t notify_t;

/* The settings table (dp_config_new) and the route table (one handler per
   request type, with the roles allowed to send it). */
extern const dp_setting_t notify_settings[];
extern const size_t notify_setting_count;
extern const dp_route_t notify_routes[];
extern const size_t notify_route_count;

/* Makes the service from its settings, which it and its webhook worker
   borrow for its life, and binds its PUB socket; NULL (logged) when that
   endpoint cannot be bound, the key folder is unusable, or out of memory.
   PostgreSQL need not be there yet. */
notify_t *notify_new(const dp_config_t *config);
/* Stops the webhook worker (at once, whatever it is sending), closes the
   PUB socket and frees the rest. */
void notify_destroy(notify_t **self_p);
/* What dp_server_run and dp_server_handle_frames take: the routes, the
   service as the handlers' state, its limits, database and metrics, and
   the relay's tick and LISTEN descriptor. */
const dp_server_config_t *notify_server_config(const notify_t *self);

/* notify_new, dp_server_run, notify_destroy; config is the dp_config_t. */
void notify_actor(zsock_t *pipe, void *config);

#endif
