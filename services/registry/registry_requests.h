/* What the registry's request handlers share, and the handlers, one file
   per concern: partners (registry_partners.c), names (registry_names.c),
   contacts (registry_contacts.c), engagements (registry_engagements.c),
   areas, forms and domains (registry_reference.c), data protection
   (registry_privacy.c). The checks and the write transaction they share
   are in registry_write.c; generic checks in dp_handler.h. */
#ifndef REGISTRY_REQUESTS_H
#define REGISTRY_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_handler.h"
#include "registry_db.h"
#include "registry_handlers.h"

enum {
    REGISTRY_MAX_NAME_BYTES = 200,
    REGISTRY_MAX_LABEL_BYTES = 300,
    REGISTRY_MAX_TITLE_BYTES = 300,
    REGISTRY_MAX_NOTE_BYTES = 2000,
    REGISTRY_MAX_INSTRUMENT_BYTES = 200,
    REGISTRY_MAX_SEARCH_BYTES = 200,
    REGISTRY_MAX_DOMAINS = 20,
    REGISTRY_MAX_AREAS = 50
};

/* ---- checks (each refuses with INVALID_ARGUMENT naming the field) ---------- */

/* A date the client writes into the record, from 1990-01-01 to the end of
   `years_ahead` years after this one. */
bool registry_check_record_date(dp_reply_t *reply, const char *field, const char *value,
                                bool required, int years_ahead);
/* A partner reference: an id or a slug, not both. */
bool registry_check_ref(dp_reply_t *reply, const Dp__PartnerRef *ref);
bool registry_check_domains(dp_reply_t *reply, char **domains, size_t count);
bool registry_check_area_slugs(dp_reply_t *reply, char **areas, size_t count);
/* A joining date known to the month or the year is given as its first day. */
bool registry_check_precision(dp_reply_t *reply, const char *date, Dp__DatePrecision precision);
const char *registry_precision_or_day(Dp__DatePrecision precision);
/* Today in UTC, YYYY-MM-DD. */
void registry_today(char buffer[11]);

/* ---- the write transaction ---------------------------------------------------- */

/* What a write transaction works with; reset at the start of each attempt. */
typedef struct {
    registry_t *registry;          /* the service */
    const ProtobufCMessage *input; /* the decoded request */
    dp_reply_t *reply;             /* where a refusal is written */
    Dp__Partner *partner;          /* the partner after the change */
    int64_t child_id;              /* contact or engagement id made by the change */
    void *extra;                   /* a handler's own result */
    registry_partner_key_t key;    /* with registry_write_partner: the partner, locked */
    dp_txn_body_fn *locked_body;   /* with registry_write_partner: the body proper */
} registry_write_t;

/* Runs body in a transaction; a failure is answered (ALREADY_EXISTS for a
   taken slug or domain). Returns dp_db_transaction's outcome. */
int registry_write_run(registry_write_t *write, dp_txn_body_fn *body);
/* registry_write_run for a change to one partner, the one the request's
   field `partner` names: the body runs once that partner is locked (its key
   in write->key); a partner that does not exist is refused with NOT_FOUND. */
int registry_write_partner(registry_write_t *write, dp_txn_body_fn *body);
/* Locks the partner named by ref, or refuses with NOT_FOUND. */
dp_txn_outcome_t registry_write_lock(registry_write_t *write, const Dp__PartnerRef *ref,
                                     registry_partner_key_t *key);
/* Refuses domains owned by another partner and areas that do not exist. */
dp_txn_outcome_t registry_check_links(registry_write_t *write, int64_t id, char **domains,
                                      size_t domain_count, char **areas, size_t area_count);
/* Reloads the changed partner and writes its event. */
dp_txn_outcome_t registry_partner_event(registry_write_t *write, int64_t id, const char *event_type,
                                        const char *effective_on, char **changed, size_t n_changed);
/* Writes an event about something of a partner's, and bumps the partner's version. */
dp_txn_outcome_t registry_child_event(registry_write_t *write, int64_t partner_id,
                                      const char *event_type, const ProtobufCMessage *payload);
/* Answers with the changed partner when the transaction committed. */
void registry_reply_partner(registry_write_t *write, int outcome, ProtobufCMessage *reply_message,
                            Dp__Partner **slot);

/* ---- the handlers ------------------------------------------------------------- */

void registry_create(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_get(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_list(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_update(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_withdraw(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_rename(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_add_contact(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_remove_contact(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_engage(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_list_engagements(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_add_area(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_add_form(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_list_areas(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_list_forms(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void registry_list_domains(void *state, const ProtobufCMessage *request, dp_reply_t *reply);

#endif
