/* The intake service's state (intake_new in intake_server.c), shared by
   its handlers as the `state` they get. */
#ifndef INTAKE_SERVICE_H
#define INTAKE_SERVICE_H

#include "dp_db.h"
#include "dp_events.h"
#include "dp_metrics.h"
#include "dp_server.h"
#include "intake.pb-c.h"
#include "intake_server.h"
#include "intake_triage.h"

struct _intake_t {
    dp_db_t *db;                /* the intake's connection, as role dp_intake */
    intake_triage_t *triage;    /* partner map, areas, sender and source rate limits */
    size_t max_body_bytes;      /* longest enquiry body accepted */
    int duplicate_window_hours; /* same sender and subject within this: possible duplicate */
    int response_days;          /* first-response target, for the due date */
    int refresh_ms;             /* how often partner domains are reloaded (partner actor) */
    const char *privacy_key;    /* secret of the keyed hashes of addresses */
    int retention_months;       /* closed enquiries keep personal data this long */
    int privacy_job_ms;         /* how often retention and tombstones run (privacy actor) */
    zactor_t *partners;         /* brings partner maps; never waited on (intake_partners.h) */
    zactor_t *privacy;          /* the scheduled privacy job, on its own connection */
    dp_metrics_t *metrics;      /* requests, latencies and batches, on DP_METRICS_PORT */
    dp_server_config_t server;  /* what dp_server_run takes; its state is this */
};

/* Submissions: validated one by one, stored together (group commit). */
void intake_submit_batch(void *state, const ProtobufCMessage **requests, dp_reply_t **replies,
                         size_t count);

/* Staff requests (intake_workflow.c). */
void intake_get(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_assign(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_transition(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_add_note(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
/* The request's actor field is only used without CURVE (development),
   where it must name someone; with CURVE the certificate says who. False
   after refusing the request (INVALID_ARGUMENT on actor). */
bool intake_check_actor(dp_reply_t *reply, const char *actor);
/* Appends the dp.EnquiryEvent of a workflow change of `enquiry` (as it is
   after the change), in the current transaction. */
int intake_enquiry_event(dp_db_t *db, const char *type, const Dp__Enquiry *enquiry,
                         const char *previous_status);

/* The staff console's queue: lists and counts (intake_queue.c). */
void intake_list(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_count(void *state, const ProtobufCMessage *request, dp_reply_t *reply);

/* The staff console's changes: due dates, merges, replies, admissions
   (intake_console.c). */
void intake_change_due(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_merge(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_reply(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_record_admission(void *state, const ProtobufCMessage *request, dp_reply_t *reply);

/* Data protection (intake_privacy.c). */
void intake_erase(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_export(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_retention(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_list_audit(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
/* The caller's certificate name, else the request's actor, else "unknown". */
const char *intake_who(dp_reply_t *reply, const char *given);
/* Appends an audit row (in the current transaction, if one is open). */
int intake_audit(intake_t *intake, const char *actor, const char *action, const char *subject_key,
                 const char *format, ...) __attribute__((format(printf, 5, 6)));

/* Triage rules and enquiry kinds (intake_reference.c). */
void intake_list_rules(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_add_rule(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_remove_rule(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_list_kinds(void *state, const ProtobufCMessage *request, dp_reply_t *reply);
void intake_add_kind(void *state, const ProtobufCMessage *request, dp_reply_t *reply);

#endif
