/* The staff console, the one header other code includes. A class in czmq's
   style: console_new makes everything the console serves with (its own
   database connection for staff accounts and sessions, the web server, the
   clients of the other services, its metrics), console_destroy stops and
   frees it, and console_actor runs one in a thread:

       console_t *self = console_new(config);
       dp_service_serve(pipe, self ? console_server_config(self) : NULL);
       console_destroy(&self);

   Start it with dp_server_start(console_actor, config, &endpoint), where
   config is a dp_config_t made from console_settings (borrowed while the
   actor runs). Its ZeroMQ endpoint answers the staff-account requests of
   proto/console.proto (dpctl staff ...); on the actor's pipe, "HTTP_PORT"
   is answered with the web server's port. docs/console.md describes the
   pages. */
#ifndef CONSOLE_SERVER_H
#define CONSOLE_SERVER_H

#include <czmq.h>

#include "dp_config.h"
#include "dp_server.h"

typedef struct _console_t console_t;

/* The settings table (dp_config_new) and the route table. */
extern const dp_setting_t console_settings[];
extern const size_t console_setting_count;
extern const dp_route_t console_routes[];
extern const size_t console_route_count;

/* Makes the console from its settings, which it borrows for its life, and
   starts the web server; NULL (logged) when the web address cannot be
   bound, a service's keys cannot be loaded, or out of memory. PostgreSQL
   and the other services need not be there yet. */
console_t *console_new(const dp_config_t *config);
/* Stops the web server and frees the rest. */
void console_destroy(console_t **self_p);
/* What dp_server_run takes: the routes, the console as the handlers'
   state, its limits, database and metrics. */
const dp_server_config_t *console_server_config(const console_t *self);

/* console_new, dp_server_run, console_destroy; config is the dp_config_t. */
void console_actor(zsock_t *pipe, void *config);

#endif
