/* Every SQL statement of the intake service and the mapping of its rows to
   protobuf messages. Functions return 1 (found / done), 0 (not found /
   nothing to do) or -1 (database failure, see dp_db_failure). */
#ifndef INTAKE_DB_H
#define INTAKE_DB_H

#include <stdint.h>

#include "dp_arena.h"
#include "dp_db.h"
#include "intake.pb-c.h"

extern const dp_statement_t intake_statements[];
extern const size_t intake_statement_count;

/* What the batch insert says of one submission, in submission order. */
typedef struct {
    int64_t id;                    /* the enquiry's id (new or original) */
    char status[16];               /* its status */
    bool inserted;                 /* stored by this batch */
    char content_hash[65];         /* hash of what is stored under the key */
    int64_t possible_duplicate_of; /* for a new enquiry: the earlier one, or 0 */
    char **suggested_areas;        /* for a new enquiry: from the rules (arena) */
    size_t n_suggested_areas;      /* entries in suggested_areas */
} intake_stored_t;

/* Inserts the submissions described by `rows_json` (a JSON array built by
   intake_submit.c) in one statement; rows whose (source, key) exists are
   skipped and looked up instead. `stored` has one entry per row. */
int intake_db_store_batch(dp_db_t *db, dp_arena_t *arena, const char *rows_json,
                          int duplicate_window_hours, int response_days, intake_stored_t *stored,
                          size_t count);
/* Sets possible_duplicate_of on the new enquiries `ids` that have an
   earlier one from the same sender and subject; links[i] gets the link or 0. */
int intake_db_link_duplicates(dp_db_t *db, const int64_t *ids, int64_t *links, size_t count,
                              int window_hours);
/* Writes the events described by `events_json`: [{type, id, payload(hex)}]. */
int intake_db_append_events(dp_db_t *db, const char *events_json);
/* Writes one event about something else than one enquiry. */
int intake_db_append_aggregate_event(dp_db_t *db, const char *event_type,
                                     const char *aggregate_type, const char *aggregate_id,
                                     const ProtobufCMessage *payload);
/* Writes one event. */
int intake_db_append_event(dp_db_t *db, const char *event_type, int64_t enquiry_id,
                           const ProtobufCMessage *payload);

/* The full enquiry with history and notes, or without them for lists. */
int intake_db_load_enquiry(dp_db_t *db, dp_arena_t *arena, int64_t id, bool full,
                           Dp__Enquiry **enquiry);
int intake_db_list_enquiries(dp_db_t *db, dp_arena_t *arena, const Dp__ListEnquiriesRequest *filter,
                             const char *status, int64_t after_id, int limit,
                             Dp__Enquiry ***enquiries, size_t *count);

/* Locks an enquiry for a workflow change; status and assignee are copied out. */
int intake_db_lock_enquiry(dp_db_t *db, int64_t id, char status[16], char assignee[201]);
/* Sets the status (and the assignee with its staff id when assignee is not
   NULL; "" clears both), the response and resolution times, and appends the
   transition. */
int intake_db_move(dp_db_t *db, int64_t id, const char *from, const char *to, const char *assignee,
                   int64_t assignee_id, const char *actor, const char *note);
int intake_db_add_note(dp_db_t *db, dp_arena_t *arena, int64_t id, const char *actor,
                       const char *text, Dp__EnquiryNote **note);

int intake_db_list_rules(dp_db_t *db, dp_arena_t *arena, Dp__TriageRule ***rules, size_t *count);
/* 1 with the new id, 0 when the same keyword and area exist. */
int intake_db_add_rule(dp_db_t *db, const char *keyword, const char *area, int64_t *id);
int intake_db_remove_rule(dp_db_t *db, int64_t id);
int intake_db_list_kinds(dp_db_t *db, dp_arena_t *arena, Dp__EnquiryKind ***kinds, size_t *count);
int intake_db_add_kind(dp_db_t *db, const char *slug, const char *label);

/* ---- data protection (intake_privacy.c) ---- */

/* Pseudonymises every enquiry of a person (by keyed hash); returns how many. */
int intake_db_erase_subject(dp_db_t *db, const char *subject_key);
/* Pseudonymises enquiries of tombstoned people (after a restore); returns how many. */
int intake_db_apply_tombstones(dp_db_t *db);
/* Counts or pseudonymises enquiries resolved more than `months` ago; cutoff is RFC 3339. */
int intake_db_retention(dp_db_t *db, int months, bool dry_run, char cutoff[32]);
int intake_db_add_tombstone(dp_db_t *db, const char *subject_key);
int intake_db_is_tombstoned(dp_db_t *db, const char *subject_key);
/* Ids of a person's enquiries (arena array). */
int intake_db_subject_enquiries(dp_db_t *db, dp_arena_t *arena, const char *subject_key,
                                int64_t **ids, size_t *count);
int intake_db_audit(dp_db_t *db, const char *actor, const char *action, const char *subject_key,
                    const char *detail);
int intake_db_list_audit(dp_db_t *db, dp_arena_t *arena, const char *subject_key, int limit,
                         void ***entries, size_t *count);
/* Gives keyed hashes to rows stored before they existed. */
int intake_db_backfill(dp_db_t *db, const char *secret);
/* The keyed hash of an enquiry's sender ("" when not known). */
int intake_db_subject_key_of(dp_db_t *db, int64_t id, char key[65]);

/* ---- partner matching after the fact, staff ids ---- */

/* Locks up to `limit` enquiries stored without a partner map (ids and
   addresses in the arena, oldest first). */
int intake_db_pending_partners(dp_db_t *db, dp_arena_t *arena, int limit, int64_t **ids,
                               char ***emails, size_t *count);
/* Sets the partner of each [{id, partner_id, partner_slug}] (partner_id
   null: no match) and clears their pending flag; returns rows changed. */
int intake_db_resolve_partners(dp_db_t *db, const char *matches_json);
/* The opaque id of a staff member (made on first use). */
int intake_db_staff_id(dp_db_t *db, const char *name, int64_t *id);
/* The staff id of an enquiry's assignee (0: none). */
int intake_db_assignee_id_of(dp_db_t *db, int64_t enquiry_id, int64_t *id);

/* Text of a status, and back (UNSPECIFIED when unknown). */
const char *intake_status_text(Dp__EnquiryStatus status);
Dp__EnquiryStatus intake_status_value(const char *text);

#endif
