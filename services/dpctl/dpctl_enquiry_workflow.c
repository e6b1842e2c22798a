/* dpctl enquiry assign | move | note: staff moving an enquiry along
   (received -> triaged -> assigned -> answered -> closed, or rejected or
   quarantined; the intake service keeps the table of allowed moves). */
#include <inttypes.h>
#include <stdio.h>

#include "dpctl_enquiry.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

static const dpctl_option_t s_assign_options[] = {
    {"note", DPCTL_TEXT, "TEXT", "why, or what to do"}, DPCTL_ACTOR_OPTION, {NULL}};

static const dpctl_spec_t s_assign_spec = {
    "enquiry assign",
    "ID NAME",
    "Assign a triaged, assigned or answered enquiry to the staff member NAME.",
    2,
    2,
    s_assign_options};

static const dpctl_option_t s_move_options[] = {
    {"note", DPCTL_TEXT, "TEXT", "why"}, DPCTL_ACTOR_OPTION, {NULL}};

static const dpctl_spec_t s_move_spec = {
    "enquiry move",
    "ID STATUS",
    "Move an enquiry to STATUS: triaged, assigned, answered, closed, rejected or quarantined. "
    "To reopen a closed or rejected enquiry, move it to triaged.",
    2,
    2,
    s_move_options};

static const dpctl_option_t s_note_options[] = {DPCTL_ACTOR_OPTION, {NULL}};

static const dpctl_spec_t s_note_spec = {
    "enquiry note", "ID TEXT", "Add a note for staff to an enquiry.", 2, 2, s_note_options};

/* Prints the enquiry as a move left it: "enquiry 12: triaged -> assigned (alice)". */
static int s_print_moved(dpctl_t *self, const Dp__Enquiry *enquiry)
{
    if (!enquiry) {
        fprintf(stderr, "dpctl: the intake's reply holds no enquiry\n");
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(&enquiry->base);
    char from[32] = "?", to[32];
    if (enquiry->n_history > 0)
        dpctl_enquiry_status(enquiry->history[enquiry->n_history - 1]->from_status, from,
                             sizeof from);
    printf("enquiry %" PRId64 ": %s -> %s", enquiry->id, from,
           dpctl_enquiry_status(enquiry->status, to, sizeof to));
    if (*enquiry->assignee)
        printf(", assigned to %s", enquiry->assignee);
    if (*enquiry->due_on && !*enquiry->first_response_at)
        printf(", due %s", enquiry->due_on);
    printf("\n");
    return DPCTL_EXIT_OK;
}

/* Sends a request whose reply holds the `enquiry` and prints it. */
static int s_move(dpctl_t *self, const ProtobufCMessage *request,
                  const ProtobufCMessageDescriptor *reply_type)
{
    ProtobufCMessage *reply = NULL;
    int outcome = dpctl_call(self, DPCTL_INTAKE, request, reply_type, &reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_moved(self, (const Dp__Enquiry *)dpctl_field_message(reply, "enquiry"));
    dp_message_free(&reply);
    return outcome;
}

static int s_enquiry_assign(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__AssignEnquiryRequest request = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    outcome = dpctl_enquiry_id(args, 0, &request.id);
    request.assignee = (char *)dpctl_args_operand(args, 1);
    request.actor = (char *)dpctl_actor(self, args);
    request.note = (char *)dpctl_args_text(args, "note", "");
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_move(self, &request.base, &dp__assign_enquiry_reply__descriptor);
    return outcome;
}

int dpctl_enquiry_assign_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_assign_spec, argc, argv, s_enquiry_assign);
}

static int s_enquiry_move(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__TransitionEnquiryRequest request = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    outcome = dpctl_enquiry_id(args, 0, &request.id);
    const char *status = dpctl_args_operand(args, 1);
    int to = 0;
    if (outcome == DPCTL_EXIT_OK &&
        (dpctl_enum_parse(&dp__enquiry_status__descriptor, status, &to) != 0 ||
         to == DP__ENQUIRY_STATUS__ENQUIRY_STATUS_RECEIVED))
        outcome = dpctl_args_error(
            args,
            "STATUS must be triaged, assigned, answered, closed, rejected or quarantined, not '%s'",
            status);
    request.to_status = to;
    request.actor = (char *)dpctl_actor(self, args);
    request.note = (char *)dpctl_args_text(args, "note", "");
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_move(self, &request.base, &dp__transition_enquiry_reply__descriptor);
    return outcome;
}

int dpctl_enquiry_move_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_move_spec, argc, argv, s_enquiry_move);
}

static int s_print_note(dpctl_t *self, int64_t enquiry_id, const Dp__EnquiryNote *note)
{
    if (!note) {
        fprintf(stderr, "dpctl: the intake's reply holds no note\n");
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(&note->base);
    printf("added note #%" PRId64 " to enquiry %" PRId64 "\n", note->id, enquiry_id);
    return DPCTL_EXIT_OK;
}

static int s_enquiry_note(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__AddEnquiryNoteRequest request = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
    outcome = dpctl_enquiry_id(args, 0, &request.id);
    request.text = (char *)dpctl_args_operand(args, 1);
    request.actor = (char *)dpctl_actor(self, args);
    Dp__AddEnquiryNoteReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_INTAKE, &request.base,
                             &dp__add_enquiry_note_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_note(self, request.id, reply->note);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

int dpctl_enquiry_note_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_note_spec, argc, argv, s_enquiry_note);
}
