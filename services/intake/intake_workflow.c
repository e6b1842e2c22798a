/* The staff workflow: received -> triaged -> assigned -> answered -> closed,
   plus rejected, quarantined and reopening. The allowed moves are one table. */
#include <inttypes.h>
#include <string.h>

#include "dp_handler.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "intake_db.h"
#include "intake_service.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT
#define S(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

enum { MAX_ACTOR_BYTES = 100, MAX_NOTE_BYTES = 5000 };

/* Every move a staff member may make. Assigning (from triaged or assigned)
   goes through AssignEnquiryRequest; reopening is closed or rejected -> triaged. */
static const struct {
    Dp__EnquiryStatus from; /* status before */
    Dp__EnquiryStatus to;   /* status after */
} s_moves[] = {
    {S(RECEIVED), S(TRIAGED)},     {S(RECEIVED), S(REJECTED)},   {S(RECEIVED), S(QUARANTINED)},
    {S(TRIAGED), S(REJECTED)},     {S(TRIAGED), S(QUARANTINED)}, {S(QUARANTINED), S(TRIAGED)},
    {S(QUARANTINED), S(REJECTED)}, {S(ASSIGNED), S(TRIAGED)},    {S(ASSIGNED), S(ANSWERED)},
    {S(ASSIGNED), S(REJECTED)},    {S(ANSWERED), S(ASSIGNED)},   {S(ANSWERED), S(CLOSED)},
    {S(CLOSED), S(TRIAGED)},       {S(REJECTED), S(TRIAGED)},
};

static bool s_allowed(Dp__EnquiryStatus from, Dp__EnquiryStatus to)
{
    for (size_t i = 0; i < sizeof s_moves / sizeof *s_moves; i++)
        if (s_moves[i].from == from && s_moves[i].to == to)
            return true;
    return false;
}

bool intake_check_actor(dp_reply_t *reply, const char *actor)
{
    if (dp_reply_authenticated(reply) || dp_valid_required_text(actor, MAX_ACTOR_BYTES))
        return true;
    dp_reply_error(reply, INVALID, "actor", "actor must name the staff member (at most %d bytes)",
                   MAX_ACTOR_BYTES);
    return false;
}

static bool s_check_note(dp_reply_t *reply, const char *field, const char *note, bool required)
{
    return dp_check_text(reply, field, note, MAX_NOTE_BYTES, required);
}

static bool s_check_id(dp_reply_t *reply, int64_t id)
{
    return dp_check_id(reply, "id", id, "an enquiry id");
}

bool intake_fill_allowed_moves(dp_arena_t *arena, Dp__Enquiry *enquiry)
{
    size_t count = 0;
    enquiry->allowed_moves =
        dp_arena_alloc(arena, sizeof s_moves / sizeof *s_moves * sizeof *enquiry->allowed_moves);
    if (!enquiry->allowed_moves)
        return false;
    for (size_t i = 0; i < sizeof s_moves / sizeof *s_moves; i++)
        if (s_moves[i].from == enquiry->status)
            enquiry->allowed_moves[count++] = s_moves[i].to;
    enquiry->n_allowed_moves = count;
    return true;
}

/* ---- reading ---------------------------------------------------------------------- */

void intake_get(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    intake_t *intake = state;
    const Dp__GetEnquiryRequest *request = (const Dp__GetEnquiryRequest *)message;
    if (!s_check_id(reply, request->id))
        return;
    Dp__GetEnquiryReply answer = DP__GET_ENQUIRY_REPLY__INIT;
    int found = intake_db_load_enquiry(intake->db, dp_reply_arena(reply), request->id, true,
                                       &answer.enquiry);
    /* The sender's name, address and words are personal data: the read is recorded. */
    char key[65] = "";
    if (found == 1 && (intake_db_subject_key_of(intake->db, request->id, key) < 0 ||
                       intake_audit(intake, intake_who(reply, ""), "read enquiry", key,
                                    "enquiry %" PRId64, request->id) < 0))
        found = -1;
    dp_reply_found(reply, intake->db, found, &answer.base, "id", "no enquiry %" PRId64,
                   request->id);
}

/* ---- moving ------------------------------------------------------------------------- */

int intake_enquiry_event(dp_db_t *db, const char *type, const Dp__Enquiry *enquiry,
                         const char *previous_status)
{
    /* Events name the assignee by an opaque staff id, never by name. */
    int64_t staff_id = 0;
    if (intake_db_assignee_id_of(db, enquiry->id, &staff_id) < 0)
        return -1;
    Dp__EnquiryEvent event = DP__ENQUIRY_EVENT__INIT;
    event.enquiry_id = enquiry->id;
    event.source = enquiry->source;
    event.kind = enquiry->kind;
    event.status = (char *)intake_status_text(enquiry->status);
    event.previous_status = (char *)previous_status;
    event.partner_id = enquiry->partner_id;
    event.received_at = enquiry->received_at;
    event.assignee_id = staff_id;
    event.possible_duplicate = enquiry->possible_duplicate_of != 0;
    return intake_db_append_event(db, type, enquiry->id, &event.base);
}

/* One workflow change: the same body serves assign and transition. */
typedef struct {
    intake_t *intake;     /* the service */
    dp_reply_t *reply;    /* where a refusal goes */
    int64_t id;           /* the enquiry */
    Dp__EnquiryStatus to; /* the status it moves to */
    const char *assignee; /* new assignee, or NULL to keep */
    const char *actor;    /* who does it (dp_reply_actor) */
    const char *note;     /* why */
    Dp__Enquiry *enquiry; /* after the change */
} move_t;

static dp_txn_outcome_t s_move_body(dp_db_t *db, void *arg)
{
    move_t *move = arg;
    char status_text[16], assignee[201];
    int found = intake_db_lock_enquiry(db, move->id, status_text, assignee);
    if (found < 0)
        return DP_TXN_FAILED;
    if (!found) {
        dp_reply_error(move->reply, DP__CODE__CODE_NOT_FOUND, "id", "no enquiry %" PRId64,
                       move->id);
        return DP_TXN_ROLLBACK;
    }
    Dp__EnquiryStatus from = intake_status_value(status_text);
    bool assigning = move->assignee != NULL;
    bool allowed = assigning ? (from == S(TRIAGED) || from == S(ASSIGNED) || from == S(ANSWERED))
                             : s_allowed(from, move->to);
    if (!allowed) {
        dp_reply_error(move->reply, DP__CODE__CODE_FAILED_PRECONDITION,
                       assigning ? "id" : "to_status", "an enquiry cannot go from %s to %s",
                       status_text, intake_status_text(move->to));
        return DP_TXN_ROLLBACK;
    }
    if (!assigning && move->to == S(ASSIGNED) && !*assignee) {
        dp_reply_error(move->reply, DP__CODE__CODE_FAILED_PRECONDITION, "to_status",
                       "the enquiry has no assignee: assign it instead");
        return DP_TXN_ROLLBACK;
    }
    const char *clear = move->to == S(TRIAGED) ? "" : NULL; /* back to triage: nobody's */
    /* The assignee's opaque staff id, made on first use (events carry it). */
    int64_t staff_id = 0;
    if (assigning && intake_db_staff_id(db, move->assignee, &staff_id) < 0)
        return DP_TXN_FAILED;
    if (intake_db_move(db, move->id, status_text, intake_status_text(move->to),
                       assigning ? move->assignee : clear, staff_id, move->actor, move->note) < 0)
        return DP_TXN_FAILED;
    if (intake_db_load_enquiry(db, dp_reply_arena(move->reply), move->id, true, &move->enquiry) !=
        1)
        return DP_TXN_FAILED;
    return intake_enquiry_event(db, assigning ? "enquiry.assigned" : "enquiry.status_changed",
                                move->enquiry, status_text) < 0
               ? DP_TXN_FAILED
               : DP_TXN_COMMIT;
}

/* Runs a move and answers with the enquiry; false when it was refused. */
static bool s_move(move_t *move)
{
    int outcome = dp_db_transaction(move->intake->db, s_move_body, move);
    if (outcome < 0)
        dp_reply_db_failure(move->reply, move->intake->db);
    return outcome == 0;
}

void intake_assign(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AssignEnquiryRequest *request = (const Dp__AssignEnquiryRequest *)message;
    if (!s_check_id(reply, request->id) || !intake_check_actor(reply, request->actor) ||
        !s_check_note(reply, "note", request->note, false))
        return;
    if (!dp_valid_required_text(request->assignee, MAX_ACTOR_BYTES)) {
        dp_reply_error(reply, INVALID, "assignee", "assignee must name a staff member");
        return;
    }
    move_t move = {state,
                   reply,
                   request->id,
                   S(ASSIGNED),
                   request->assignee,
                   dp_reply_actor(reply, request->actor),
                   request->note,
                   NULL};
    if (!s_move(&move))
        return;
    Dp__AssignEnquiryReply answer = DP__ASSIGN_ENQUIRY_REPLY__INIT;
    answer.enquiry = move.enquiry;
    dp_reply_ok(reply, &answer.base);
}

void intake_transition(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__TransitionEnquiryRequest *request = (const Dp__TransitionEnquiryRequest *)message;
    if (!s_check_id(reply, request->id) || !intake_check_actor(reply, request->actor) ||
        !s_check_note(reply, "note", request->note, false))
        return;
    if (!intake_status_text(request->to_status) || request->to_status == S(RECEIVED)) {
        dp_reply_error(reply, INVALID, "to_status",
                       "to_status must be triaged, assigned, answered, closed, rejected or "
                       "quarantined");
        return;
    }
    move_t move = {state,         reply,
                   request->id,   request->to_status,
                   NULL,          dp_reply_actor(reply, request->actor),
                   request->note, NULL};
    if (!s_move(&move))
        return;
    Dp__TransitionEnquiryReply answer = DP__TRANSITION_ENQUIRY_REPLY__INIT;
    answer.enquiry = move.enquiry;
    dp_reply_ok(reply, &answer.base);
}

/* ---- notes ------------------------------------------------------------------------------ */

typedef struct {
    intake_t *intake;                       /* the service */
    dp_reply_t *reply;                      /* where a refusal goes */
    const Dp__AddEnquiryNoteRequest *input; /* the request */
    const char *actor;                      /* who writes it (dp_reply_actor) */
    Dp__EnquiryNote *note;                  /* the stored note */
} note_t;

static dp_txn_outcome_t s_note_body(dp_db_t *db, void *arg)
{
    note_t *note = arg;
    char status[16], assignee[201];
    int found = intake_db_lock_enquiry(db, note->input->id, status, assignee);
    if (found < 0)
        return DP_TXN_FAILED;
    if (!found) {
        dp_reply_error(note->reply, DP__CODE__CODE_NOT_FOUND, "id", "no enquiry %" PRId64,
                       note->input->id);
        return DP_TXN_ROLLBACK;
    }
    return intake_db_add_note(db, dp_reply_arena(note->reply), note->input->id, note->actor,
                              note->input->text, &note->note) < 0
               ? DP_TXN_FAILED
               : DP_TXN_COMMIT;
}

void intake_add_note(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AddEnquiryNoteRequest *request = (const Dp__AddEnquiryNoteRequest *)message;
    if (!s_check_id(reply, request->id) || !intake_check_actor(reply, request->actor) ||
        !s_check_note(reply, "text", request->text, true))
        return;
    note_t note = {state, reply, request, dp_reply_actor(reply, request->actor), NULL};
    int outcome = dp_db_transaction(((intake_t *)state)->db, s_note_body, &note);
    if (outcome < 0)
        dp_reply_db_failure(reply, ((intake_t *)state)->db);
    if (outcome != 0)
        return;
    Dp__AddEnquiryNoteReply answer = DP__ADD_ENQUIRY_NOTE_REPLY__INIT;
    answer.note = note.note;
    dp_reply_ok(reply, &answer.base);
}
