/* One handler per registry request type; each validates its request, runs
   one transaction and writes one outbox event per change. */
#ifndef REGISTRY_HANDLERS_H
#define REGISTRY_HANDLERS_H

#include "dp_db.h"
#include "dp_server.h"
#include "registry_service.h"

/* Data protection (registry_privacy.c). */
void registry_erase(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_export(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_list_audit(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
/* Gives keyed hashes to contacts stored before they existed. */
void registry_privacy_backfill(registry_t *registry);
/* Records the read of a partner's contacts: one audit row per person. */
int registry_audit_contacts(registry_t *registry, dp_reply_t *reply, int64_t partner_id);
/* Erases again what tombstones name (after a restore), with an audit row and an event. */
void registry_privacy_job(registry_t *registry);

extern const dp_route_t registry_routes[];
extern const size_t registry_route_count;

#endif
