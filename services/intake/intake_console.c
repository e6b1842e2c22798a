/* The staff console's changes to one enquiry: a new due date (with the
   reason, kept in the history), a flagged duplicate merged into its
   original, a reply to the enquirer (queued for the mailer), and a
   membership application recorded as admitted. Each is one transaction:
   the enquiry locked, checked, changed, its history and event written. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dp_handler.h"
#include "dp_validate.h"
#include "intake_db.h"
#include "intake_service.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT
#define PRECONDITION DP__CODE__CODE_FAILED_PRECONDITION

enum {
    MAX_REASON_BYTES = 5000,
    MAX_SUBJECT_BYTES = 300,
    MAX_REPLY_BYTES = 20000,
    MAX_OUTCOME_BYTES = 300,
    MAX_STEP_BYTES = 6000
};

/* The kind of enquiry whose acceptance makes a partner. */
static const char s_application_kind[] = "membership-application";

/* Waiting for staff: received, triaged, assigned or quarantined. */
static bool s_open(const char *status)
{
    return strcmp(status, "received") == 0 || strcmp(status, "triaged") == 0 ||
           strcmp(status, "assigned") == 0 || strcmp(status, "quarantined") == 0;
}

static bool s_resolved(const char *status)
{
    return strcmp(status, "closed") == 0 || strcmp(status, "rejected") == 0;
}

/* ---- one change, in one transaction --------------------------------------------- */

typedef struct change change_t;

/* Checks and makes the change on the locked enquiry. Sets change->event
   when an event is due; leaves it NULL when nothing changed (a repeat). */
typedef dp_txn_outcome_t(change_fn)(dp_db_t *db, change_t *change, const intake_locked_t *state);

struct change {
    intake_t *intake;             /* the service */
    dp_reply_t *reply;            /* where a refusal goes */
    int64_t id;                   /* the enquiry changed */
    const char *actor;            /* who does it (dp_reply_actor) */
    const void *request;          /* the request, for apply */
    change_fn *apply;             /* the change itself */
    const char *event;            /* the event's type, or NULL for none */
    char previous_status[16];     /* the status before */
    Dp__Enquiry *enquiry;         /* after the change, in full */
    Dp__OutgoingMessage *message; /* the reply stored, if any */
};

static dp_txn_outcome_t s_change_body(dp_db_t *db, void *arg)
{
    change_t *change = arg;
    change->event = NULL;
    change->enquiry = NULL;
    change->message = NULL;
    intake_locked_t state;
    int found = intake_db_lock_state(db, change->id, &state);
    if (found < 0)
        return DP_TXN_FAILED;
    if (!found) {
        dp_reply_error(change->reply, DP__CODE__CODE_NOT_FOUND, "id", "no enquiry %" PRId64,
                       change->id);
        return DP_TXN_ROLLBACK;
    }
    snprintf(change->previous_status, sizeof change->previous_status, "%s", state.status);
    dp_txn_outcome_t outcome = change->apply(db, change, &state);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    if (intake_db_load_enquiry(db, dp_reply_arena(change->reply), change->id, true,
                               &change->enquiry) != 1)
        return DP_TXN_FAILED;
    if (change->event &&
        intake_enquiry_event(db, change->event, change->enquiry, change->previous_status) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

static void s_set_field(ProtobufCMessage *message, const char *name, void *value)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(message->descriptor, name);
    if (field)
        *(void **)((char *)message + field->offset) = value;
}

/* Runs `apply` on enquiry `id` in one transaction and answers with a reply
   of `reply_type`, its field "enquiry" (and "message" where the type has
   one) set from the change; or with the refusal or the database failure. */
static void s_run(intake_t *intake, dp_reply_t *reply, int64_t id, const char *claimed_actor,
                  const void *request, change_fn *apply,
                  const ProtobufCMessageDescriptor *reply_type)
{
    change_t change = {.intake = intake,
                       .reply = reply,
                       .id = id,
                       .actor = dp_reply_actor(reply, claimed_actor),
                       .request = request,
                       .apply = apply};
    int outcome = dp_db_transaction(intake->db, s_change_body, &change);
    if (outcome < 0)
        dp_reply_db_failure(reply, intake->db);
    if (outcome != 0)
        return;
    ProtobufCMessage *answer = dp_arena_alloc(dp_reply_arena(reply), reply_type->sizeof_message);
    if (!answer) {
        dp_reply_error(reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
        return;
    }
    protobuf_c_message_init(reply_type, answer);
    s_set_field(answer, "enquiry", change.enquiry);
    s_set_field(answer, "message", change.message);
    dp_reply_ok(reply, answer);
}

static bool s_check_id(dp_reply_t *reply, int64_t id)
{
    return dp_check_id(reply, "id", id, "an enquiry id");
}

/* ---- ChangeDueDate ------------------------------------------------------------------- */

static dp_txn_outcome_t s_apply_due(dp_db_t *db, change_t *change, const intake_locked_t *state)
{
    const Dp__ChangeDueDateRequest *request = change->request;
    if (s_resolved(state->status)) {
        dp_reply_error(change->reply, PRECONDITION, "id",
                       "enquiry %" PRId64 " is %s: reopen it before changing its due date",
                       change->id, state->status);
        return DP_TXN_ROLLBACK;
    }
    if (strcmp(state->due_on, request->due_on) == 0)
        return DP_TXN_COMMIT; /* already due then: a repeat changes nothing */
    char note[MAX_STEP_BYTES];
    snprintf(note, sizeof note, "due date %s -> %s: %s", state->due_on, request->due_on,
             request->reason);
    if (intake_db_set_due(db, change->id, request->due_on) < 0 ||
        intake_db_add_step(db, change->id, state->status, state->status, change->actor, note) < 0 ||
        intake_audit(change->intake, change->actor, "change due date", "",
                     "enquiry %" PRId64 ": %s -> %s", change->id, state->due_on,
                     request->due_on) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

/* Due dates from the first enquiries the Division kept to the end of next year. */
static bool s_check_due(dp_reply_t *reply, const char *due_on)
{
    if (!dp_check_date(reply, "due_on", due_on, true))
        return false;
    time_t now = time(NULL);
    struct tm today;
    gmtime_r(&now, &today);
    char last[24];
    snprintf(last, sizeof last, "%04d-12-31", today.tm_year + 1900 + 1);
    if (strcmp(due_on, "2017-01-01") >= 0 && strcmp(due_on, last) <= 0)
        return true;
    dp_reply_error(reply, INVALID, "due_on", "due_on must be between 2017-01-01 and %s", last);
    return false;
}

void intake_change_due(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__ChangeDueDateRequest *request = (const Dp__ChangeDueDateRequest *)message;
    if (!s_check_id(reply, request->id) || !s_check_due(reply, request->due_on) ||
        !dp_check_text(reply, "reason", request->reason, MAX_REASON_BYTES, true) ||
        !intake_check_actor(reply, request->actor))
        return;
    s_run(state, reply, request->id, request->actor, request, s_apply_due,
          &dp__change_due_date_reply__descriptor);
}

/* ---- MergeEnquiry ------------------------------------------------------------------------ */

static dp_txn_outcome_t s_apply_merge(dp_db_t *db, change_t *change, const intake_locked_t *state)
{
    const Dp__MergeEnquiryRequest *request = change->request;
    if (state->merged_into == request->into_id)
        return DP_TXN_COMMIT; /* merged before: a repeat changes nothing */
    if (state->possible_duplicate_of != request->into_id) {
        dp_reply_error(change->reply, PRECONDITION, "into_id",
                       "enquiry %" PRId64 " is not flagged as a duplicate of %" PRId64, change->id,
                       request->into_id);
        return DP_TXN_ROLLBACK;
    }
    if (!s_open(state->status)) {
        dp_reply_error(change->reply, PRECONDITION, "id",
                       "enquiry %" PRId64 " is %s: only an open duplicate can be merged",
                       change->id, state->status);
        return DP_TXN_ROLLBACK;
    }
    intake_locked_t original;
    int found = intake_db_lock_state(db, request->into_id, &original);
    if (found < 0)
        return DP_TXN_FAILED;
    if (!found || original.merged_into) {
        dp_reply_error(change->reply, found ? PRECONDITION : DP__CODE__CODE_NOT_FOUND, "into_id",
                       found ? "enquiry %" PRId64 " was itself merged into another"
                             : "no enquiry %" PRId64,
                       request->into_id);
        return DP_TXN_ROLLBACK;
    }
    char outcome[64], step[MAX_STEP_BYTES], original_step[64];
    snprintf(outcome, sizeof outcome, "merged into %" PRId64, request->into_id);
    snprintf(step, sizeof step, "%s%s%s", outcome, *request->note ? ": " : "", request->note);
    snprintf(original_step, sizeof original_step, "enquiry %" PRId64 " merged into this one",
             change->id);
    char text[MAX_STEP_BYTES];
    snprintf(text, sizeof text, "%s%s%s", original_step, *request->note ? ": " : "", request->note);
    Dp__EnquiryNote *note = NULL;
    if (intake_db_close_as(db, change->id, request->into_id, 0, NULL, outcome) < 0 ||
        intake_db_add_step(db, change->id, state->status, "closed", change->actor, step) < 0 ||
        intake_db_add_step(db, request->into_id, original.status, original.status, change->actor,
                           original_step) < 0 ||
        intake_db_add_note(db, dp_reply_arena(change->reply), request->into_id, change->actor, text,
                           &note) < 0)
        return DP_TXN_FAILED;
    change->event = "enquiry.merged";
    return DP_TXN_COMMIT;
}

void intake_merge(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__MergeEnquiryRequest *request = (const Dp__MergeEnquiryRequest *)message;
    if (!s_check_id(reply, request->id) ||
        !dp_check_id(reply, "into_id", request->into_id, "an enquiry id") ||
        !dp_check_text(reply, "note", request->note, MAX_REASON_BYTES, false) ||
        !intake_check_actor(reply, request->actor))
        return;
    if (request->into_id == request->id) {
        dp_reply_error(reply, INVALID, "into_id", "an enquiry cannot be merged into itself");
        return;
    }
    s_run(state, reply, request->id, request->actor, request, s_apply_merge,
          &dp__merge_enquiry_reply__descriptor);
}

/* ---- ReplyToEnquiry ---------------------------------------------------------------------- */

static dp_txn_outcome_t s_apply_reply(dp_db_t *db, change_t *change, const intake_locked_t *state)
{
    const Dp__ReplyToEnquiryRequest *request = change->request;
    if (state->erased) {
        dp_reply_error(change->reply, PRECONDITION, "id",
                       "the personal data of enquiry %" PRId64 " was erased: no one to write to",
                       change->id);
        return DP_TXN_ROLLBACK;
    }
    if (strcmp(state->status, "assigned") != 0 && strcmp(state->status, "answered") != 0) {
        dp_reply_error(change->reply, PRECONDITION, "id",
                       "enquiry %" PRId64 " is %s: only an assigned or answered enquiry is "
                       "replied to",
                       change->id, state->status);
        return DP_TXN_ROLLBACK;
    }
    if (intake_db_add_message(db, dp_reply_arena(change->reply), change->id, change->actor,
                              request->subject, request->body, &change->message) < 0)
        return DP_TXN_FAILED;
    char note[64];
    snprintf(note, sizeof note, "reply %" PRId64 " queued", change->message->id);
    /* The first answer sets the first-response time (intake_db_move). */
    if (intake_db_move(db, change->id, state->status, "answered", NULL, 0, change->actor, note) < 0)
        return DP_TXN_FAILED;
    change->event = "enquiry.reply_queued";
    return DP_TXN_COMMIT;
}

void intake_reply(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__ReplyToEnquiryRequest *request = (const Dp__ReplyToEnquiryRequest *)message;
    if (!s_check_id(reply, request->id) ||
        !dp_check_text(reply, "subject", request->subject, MAX_SUBJECT_BYTES, true) ||
        !dp_check_text(reply, "body", request->body, MAX_REPLY_BYTES, true) ||
        !intake_check_actor(reply, request->actor))
        return;
    s_run(state, reply, request->id, request->actor, request, s_apply_reply,
          &dp__reply_to_enquiry_reply__descriptor);
}

/* ---- RecordAdmission --------------------------------------------------------------------- */

static dp_txn_outcome_t s_apply_admission(dp_db_t *db, change_t *change,
                                          const intake_locked_t *state)
{
    const Dp__RecordAdmissionRequest *request = change->request;
    if (strcmp(state->kind, s_application_kind) != 0) {
        dp_reply_error(change->reply, PRECONDITION, "id",
                       "enquiry %" PRId64 " is of kind %s: only a %s admits a partner", change->id,
                       state->kind, s_application_kind);
        return DP_TXN_ROLLBACK;
    }
    char outcome[MAX_OUTCOME_BYTES];
    snprintf(outcome, sizeof outcome, "admitted as partner %s", request->partner_slug);
    if (strcmp(state->status, "closed") == 0 && state->partner_id == request->partner_id &&
        strcmp(state->outcome, outcome) == 0)
        return DP_TXN_COMMIT; /* recorded before: a repeat changes nothing */
    if (!s_open(state->status) && strcmp(state->status, "answered") != 0) {
        dp_reply_error(change->reply, PRECONDITION, "id",
                       "enquiry %" PRId64 " is %s: only an open or answered application is "
                       "admitted",
                       change->id, state->status);
        return DP_TXN_ROLLBACK;
    }
    if (intake_db_close_as(db, change->id, 0, request->partner_id, request->partner_slug, outcome) <
            0 ||
        intake_db_add_step(db, change->id, state->status, "closed", change->actor, outcome) < 0)
        return DP_TXN_FAILED;
    change->event = "enquiry.admitted";
    return DP_TXN_COMMIT;
}

void intake_record_admission(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RecordAdmissionRequest *request = (const Dp__RecordAdmissionRequest *)message;
    if (!s_check_id(reply, request->id) ||
        !dp_check_id(reply, "partner_id", request->partner_id, "a partner id") ||
        !dp_check_slug(reply, "partner_slug", request->partner_slug) ||
        !intake_check_actor(reply, request->actor))
        return;
    s_run(state, reply, request->id, request->actor, request, s_apply_admission,
          &dp__record_admission_reply__descriptor);
}
