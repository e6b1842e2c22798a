/* Every SQL statement of the registry service, and the mapping between
   rows and protobuf messages. Functions return 1 (found / done), 0 (not
   found / nothing to do) or -1 (database failure, see dp_db_failure). */
#ifndef REGISTRY_DB_H
#define REGISTRY_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_arena.h"
#include "dp_db.h"
#include "registry.pb-c.h"

extern const dp_statement_t registry_statements[];
extern const size_t registry_statement_count;

/* The few columns a write needs after locking a partner. */
typedef struct {
    int64_t id;         /* partner id */
    int64_t version;    /* version before the change */
    char status[16];    /* "active" or "withdrawn" */
    char joined_on[11]; /* YYYY-MM-DD */
} registry_partner_key_t;

/* Fields of a partner that a create or update writes; NULL keeps a value. */
typedef struct {
    const char *kind;       /* "company" | "association" */
    const char *website;    /* URL or "" */
    const char *joined_on;  /* YYYY-MM-DD */
    const char *precision;  /* "day" | "month" | "year" */
    const char *instrument; /* e.g. "exchange of letters" */
    const char *note;       /* free text */
    int64_t from_enquiry;   /* insert only: the enquiry admitted from, or 0 */
} registry_partner_fields_t;

/* Text forms of the enums, and back; NULL / UNSPECIFIED when unknown. */
const char *registry_kind_text(Dp__PartnerKind kind);
const char *registry_precision_text(Dp__DatePrecision precision);
const char *registry_status_text(Dp__PartnerStatus status);

/* Locks the partner row (FOR UPDATE) found by id or slug. */
int registry_db_lock_partner(dp_db_t *db, const Dp__PartnerRef *ref, registry_partner_key_t *key);
/* Finds a partner id by id or slug without locking. */
int registry_db_find_partner(dp_db_t *db, const Dp__PartnerRef *ref, int64_t *id);
/* Finds the partner admitted from this intake enquiry (at most one). */
int registry_db_find_admitted(dp_db_t *db, int64_t enquiry_id, int64_t *id);
/* Loads a partner as it is now, without its contacts (after a change). */
int registry_db_load_partner(dp_db_t *db, dp_arena_t *arena, int64_t id, Dp__Partner **partner);
/* Reads a partner by id or slug as of a date (NULL or "": now), with its
   contacts when with_contacts: 1, 0 when there is no such partner, -1 on
   failure. */
int registry_db_get_partner(dp_db_t *db, dp_arena_t *arena, const Dp__PartnerRef *ref,
                            const char *as_of, bool with_contacts, Dp__Partner **partner);
/* One page of partners with id > after_id; at most limit rows. */
int registry_db_list_partners(dp_db_t *db, dp_arena_t *arena, const Dp__ListPartnersRequest *filter,
                              int64_t after_id, int limit, Dp__Partner ***partners, size_t *count);

/* Creates the partner row; returns 1 with its id, 0 when a partner was
   admitted from fields->from_enquiry meanwhile, or -1 (a taken slug is a
   unique violation). */
int registry_db_insert_partner(dp_db_t *db, const char *slug,
                               const registry_partner_fields_t *fields, int64_t *id);
/* Writes the given fields and increments the version. */
int registry_db_update_partner(dp_db_t *db, int64_t id, const registry_partner_fields_t *fields);
int registry_db_withdraw_partner(dp_db_t *db, int64_t id, const char *withdrawn_on,
                                 const char *note);
/* Increments the version (after a change to names, contacts or engagements). */
int registry_db_touch_partner(dp_db_t *db, int64_t id);

/* Appends a name; valid_from NULL when the date of the change is not known. */
int registry_db_add_name(dp_db_t *db, int64_t id, const char *name, const char *valid_from);
/* The current name and the latest known start date of any name ("" if none). */
int registry_db_current_name(dp_db_t *db, dp_arena_t *arena, int64_t id, char **name,
                             char **latest_valid_from);

/* Replaces the partner's domains / declared areas with the given lists. */
int registry_db_replace_domains(dp_db_t *db, int64_t id, char **domains, size_t count);
int registry_db_replace_areas(dp_db_t *db, int64_t id, char **areas, size_t count);
/* 1 with the first domain that another partner owns, and that owner's slug. */
int registry_db_find_taken_domain(dp_db_t *db, dp_arena_t *arena, int64_t id, char **domains,
                                  size_t count, char **domain, char **owner_slug);
/* 1 with the first slug that names no area (or no form). */
int registry_db_find_unknown_area(dp_db_t *db, dp_arena_t *arena, char **areas, size_t count,
                                  char **unknown);
int registry_db_area_exists(dp_db_t *db, const char *slug);
int registry_db_form_exists(dp_db_t *db, const char *slug);

/* A contact whose address has a tombstone is stored erased. */
int registry_db_insert_contact(dp_db_t *db, int64_t partner_id, const char *name, const char *role,
                               const char *email, const char *email_key, int64_t *contact_id);
/* 1 when the partner's contact was deleted, 0 when it has no such contact. */
int registry_db_delete_contact(dp_db_t *db, int64_t partner_id, int64_t contact_id);

int registry_db_insert_engagement(dp_db_t *db, int64_t partner_id,
                                  const Dp__RecordEngagementRequest *request, int64_t *id);
int registry_db_load_engagement(dp_db_t *db, dp_arena_t *arena, int64_t id,
                                Dp__Engagement **engagement);
/* One page of engagements with id > after_id; partner_id 0 means every partner. */
int registry_db_list_engagements(dp_db_t *db, dp_arena_t *arena, int64_t partner_id,
                                 const char *form, const char *area, int64_t after_id, int limit,
                                 Dp__Engagement ***engagements, size_t *count);

/* Every area, every form, every partner domain (Dp__Area, Dp__Form,
   Dp__PartnerDomain): dp_list_read_fn, for dp_reply_list. */
int registry_db_list_areas(dp_db_t *db, dp_arena_t *arena, void ***areas, size_t *count);
int registry_db_list_forms(dp_db_t *db, dp_arena_t *arena, void ***forms, size_t *count);
/* 1 when added, 0 when the slug is already there. */
int registry_db_insert_area(dp_db_t *db, const char *slug, const char *label);
int registry_db_insert_form(dp_db_t *db, const char *slug, const char *label);

int registry_db_list_domains(dp_db_t *db, dp_arena_t *arena, void ***domains, size_t *count);

/* Data protection: tombstone and pseudonymise a person's contacts (returns
   how many), their export (Dp__PersonalContact), the audit trail
   (Dp__AuditEntry) and keyed hashes for rows stored before they existed. */
int registry_db_erase_contacts(dp_db_t *db, const char *subject_key);
int registry_db_is_tombstoned(dp_db_t *db, const char *subject_key);
int registry_db_export_contacts(dp_db_t *db, dp_arena_t *arena, const char *subject_key,
                                void ***contacts, size_t *count);
int registry_db_audit(dp_db_t *db, const char *actor, const char *action, const char *subject_key,
                      const char *detail);
int registry_db_list_audit(dp_db_t *db, dp_arena_t *arena, const char *subject_key, int limit,
                           void ***entries, size_t *count);
int registry_db_backfill(dp_db_t *db, const char *secret);
/* Erases again the contacts of tombstoned people (after a restore); returns how many. */
int registry_db_apply_tombstones(dp_db_t *db);
/* The keyed hashes of a partner's contacts. */
int registry_db_contact_keys(dp_db_t *db, dp_arena_t *arena, int64_t partner_id, char ***keys,
                             size_t *count);

/* Writes one outbox row in the current transaction. */
int registry_db_append_event(dp_db_t *db, const char *event_type, const char *aggregate_type,
                             const char *aggregate_id, const ProtobufCMessage *payload);

#endif
