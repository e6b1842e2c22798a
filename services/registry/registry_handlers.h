/* One handler per registry request type; each validates its request, runs
   one transaction and writes one outbox event per change. */
#ifndef REGISTRY_HANDLERS_H
#define REGISTRY_HANDLERS_H

#include "dp_db.h"
#include "dp_server.h"

/* The service's state, shared by every handler. */
typedef struct {
    dp_db_t *db; /* the registry's connection, as role dp_registry */
} registry_t;

extern const dp_route_t registry_routes[];
extern const size_t registry_route_count;

#endif
