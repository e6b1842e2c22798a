/* The enquiry intake service, the one header other code includes. A class
   in czmq's style: intake_new makes everything the service serves with
   (its database connection, triage state, metrics, and the partner and
   privacy actors), intake_destroy stops and frees it, and intake_actor
   runs one in a thread:

       intake_t *self = intake_new(config);
       dp_service_serve(pipe, self ? intake_server_config(self) : NULL);
       intake_destroy(&self);

   Start it with dp_server_start(intake_actor, config, &endpoint), where
   config is a dp_config_t made from intake_settings (borrowed while the
   actor runs). On the actor's pipe, "PARTNERS" is answered "yes" once a
   partner map is installed, else "no". */
#ifndef INTAKE_SERVER_H
#define INTAKE_SERVER_H

#include <czmq.h>

#include "dp_config.h"
#include "dp_server.h"

typedef struct _intake_t intake_t;

/* The settings table (dp_config_new) and the route table (one handler per
   request type, with the roles allowed to send it). */
extern const dp_setting_t intake_settings[];
extern const size_t intake_setting_count;
extern const dp_route_t intake_routes[];
extern const size_t intake_route_count;

/* Makes the intake from its settings, which it and its actors borrow for
   its life; NULL (logged) when it must not or cannot start: the default
   privacy key with CURVE on, bad client keys or endpoints, or out of
   memory. Neither PostgreSQL nor the registry need be there yet. */
intake_t *intake_new(const dp_config_t *config);
/* Stops the partner and privacy actors (at once, whatever they are doing)
   and frees the rest. */
void intake_destroy(intake_t **self_p);
/* What dp_server_run and dp_server_handle_frames take: the routes, the
   intake as the handlers' state, its limits, batch size, database,
   metrics, and the partner actor's socket. */
const dp_server_config_t *intake_server_config(const intake_t *self);

/* intake_new, dp_server_run, intake_destroy; config is the dp_config_t. */
void intake_actor(zsock_t *pipe, void *config);

#endif
