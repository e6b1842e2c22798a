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

/* The moves s_moves (intake_workflow.c) allows from the enquiry's status,
   into its allowed_moves, so a front end offers only those; false when the
   arena is full. */
bool intake_fill_allowed_moves(dp_arena_t *arena, Dp__Enquiry *enquiry);
/* The full enquiry with history, notes, replies and allowed moves, or
   without them. */
int intake_db_load_enquiry(dp_db_t *db, dp_arena_t *arena, int64_t id, bool full,
                           Dp__Enquiry **enquiry);

/* One page of the staff console's queue: the request's filters as checked
   by the handler, and where the page starts. */
typedef struct {
    const Dp__ListEnquiriesRequest *filter; /* kind, source, ..., search ("" unset) */
    const char *status;                     /* the single status, "" for any */
    const char *statuses;                   /* an array literal "{a,b}", or NULL for any */
    Dp__EnquirySort sort;                   /* the order (UNSPECIFIED: newest first) */
    const char *after_received;             /* the cursor's received_at, NULL on page one */
    const char *after_due;                  /* the cursor's due_on (due order), else NULL */
    int64_t after_id;                       /* the cursor's id */
    int limit;                              /* rows at most */
} intake_queue_t;

/* A page of enquiries (no body, history, notes or replies) in the queue's
   order; *last_cursor is the cursor of the last row (NULL when none), in
   the arena. Runs two statements: call it inside a transaction. */
int intake_db_list_queue(dp_db_t *db, dp_arena_t *arena, const intake_queue_t *queue,
                         Dp__Enquiry ***enquiries, size_t *count, char **last_cursor);
/* The enquiries the queue's filters match (the cursor is ignored), counted
   up to INTAKE_TOTAL_CAP + 1 (which means "more than INTAKE_TOTAL_CAP"). */
enum { INTAKE_TOTAL_CAP = 10000 };
int intake_db_count_matches(dp_db_t *db, const intake_queue_t *queue, uint64_t *total);
/* The console's counts; assignee "" counts no "mine". */
int intake_db_count_queue(dp_db_t *db, const char *assignee, Dp__CountEnquiriesReply *counts);

/* Locks an enquiry for a workflow change; status and assignee are copied out. */
int intake_db_lock_enquiry(dp_db_t *db, int64_t id, char status[16], char assignee[201]);
/* Sets the status (and the assignee with its staff id when assignee is not
   NULL; "" clears both), the response and resolution times, and appends the
   transition. */
int intake_db_move(dp_db_t *db, int64_t id, const char *from, const char *to, const char *assignee,
                   int64_t assignee_id, const char *actor, const char *note);
int intake_db_add_note(dp_db_t *db, dp_arena_t *arena, int64_t id, const char *actor,
                       const char *text, Dp__EnquiryNote **note);

/* What the console's changes check of an enquiry, read under a row lock. */
typedef struct {
    char status[16];               /* e.g. "assigned" */
    char kind[64];                 /* its kind's slug */
    char due_on[11];               /* first-response date */
    char partner_slug[64];         /* "" when none */
    char outcome[301];             /* how it ended, "" while it has not */
    int64_t possible_duplicate_of; /* 0: not flagged */
    int64_t merged_into;           /* 0: not merged */
    int64_t partner_id;            /* 0: none */
    bool erased;                   /* its personal data was erased */
} intake_locked_t;

/* Locks an enquiry (FOR UPDATE) and copies what the console checks. */
int intake_db_lock_state(dp_db_t *db, int64_t id, intake_locked_t *state);
int intake_db_set_due(dp_db_t *db, int64_t id, const char *due_on);
/* Appends a history entry (from = to for a change that keeps the status). */
int intake_db_add_step(dp_db_t *db, int64_t id, const char *from, const char *to, const char *actor,
                       const char *note);
/* Closes an enquiry with an outcome, as merged into merged_into (> 0) or
   as the application of partner_id (> 0, with its slug). */
int intake_db_close_as(dp_db_t *db, int64_t id, int64_t merged_into, int64_t partner_id,
                       const char *partner_slug, const char *outcome);
/* Stores a reply to the enquirer (queued); *message in the arena. */
int intake_db_add_message(dp_db_t *db, dp_arena_t *arena, int64_t enquiry_id, const char *author,
                          const char *subject, const char *body, Dp__OutgoingMessage **message);

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
