/* The reporting service, the one header other code includes. A class in
   czmq's style: report_new makes everything the service serves with (its
   database connection, the dashboard's HTTP server with a session of its
   own, its metrics), report_destroy stops and frees it, and report_actor
   runs one in a thread:

       report_t *self = report_new(config);
       dp_service_serve(pipe, self ? report_server_config(self) : NULL);
       report_destroy(&self);

   Start it with dp_server_start(report_actor, config, &endpoint), where
   config is a dp_config_t made from report_settings (borrowed while the
   actor runs). On the actor's pipe, "HTTP_PORT" is answered with the
   dashboard's port. */
#ifndef REPORT_SERVER_H
#define REPORT_SERVER_H

#include <czmq.h>

#include "dp_config.h"
#include "dp_server.h"

typedef struct _report_t report_t;

/* The settings table (dp_config_new) and the route table (one handler per
   request type, with the roles allowed to send it). */
extern const dp_setting_t report_settings[];
extern const size_t report_setting_count;
extern const dp_route_t report_routes[];
extern const size_t report_route_count;

/* Makes the service from its settings, which it borrows for its life, and
   starts the dashboard; NULL (logged) when the dashboard's address cannot
   be bound, or out of memory. PostgreSQL need not be there yet. */
report_t *report_new(const dp_config_t *config);
/* Stops the dashboard and frees the rest. */
void report_destroy(report_t **self_p);
/* What dp_server_run and dp_server_handle_frames take: the routes, the
   service as the handlers' state, its limits, database and metrics. */
const dp_server_config_t *report_server_config(const report_t *self);

/* report_new, dp_server_run, report_destroy; config is the dp_config_t. */
void report_actor(zsock_t *pipe, void *config);

#endif
