/* dpctl enquiry due | merge | reply | admitted | counts, and the queue's
   filters of dpctl enquiry list: what the staff console does, from the
   command line (the intake service keeps every rule). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl_enquiry.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

/* The longest reply body the intake takes, and one byte to notice more. */
enum { MAX_BODY_BYTES = 20000 };

/* Prints the enquiry a change left: "enquiry 12: answered, due 2026-12-14". */
static int s_print_changed(dpctl_t *self, const Dp__Enquiry *enquiry, const char *what)
{
    if (!enquiry) {
        fprintf(stderr, "dpctl: the intake's reply holds no enquiry\n");
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(&enquiry->base);
    char status[32];
    printf("enquiry %" PRId64 ": %s%s%s", enquiry->id,
           dpctl_enquiry_status(enquiry->status, status, sizeof status), *what ? ", " : "", what);
    if (*enquiry->outcome)
        printf(" (%s)", enquiry->outcome);
    printf("\n");
    return DPCTL_EXIT_OK;
}

/* Sends a request whose reply holds `enquiry` and prints it. */
static int s_change(dpctl_t *self, const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *reply_type, const char *field_to_show)
{
    ProtobufCMessage *reply = NULL;
    int outcome = dpctl_call(self, DPCTL_INTAKE, request, reply_type, &reply);
    if (outcome == DPCTL_EXIT_OK) {
        const Dp__Enquiry *enquiry = (const Dp__Enquiry *)dpctl_field_message(reply, "enquiry");
        char what[64] = "";
        if (enquiry && strcmp(field_to_show, "due") == 0)
            snprintf(what, sizeof what, "due %s", enquiry->due_on);
        outcome = s_print_changed(self, enquiry, what);
    }
    dp_message_free(&reply);
    return outcome;
}

/* ---- due ------------------------------------------------------------------------------ */

static const dpctl_option_t s_due_options[] = {
    {"reason", DPCTL_TEXT, "TEXT", "why the date changes (kept in the history)", .required = true},
    DPCTL_ACTOR_OPTION,
    {NULL}};

static const dpctl_spec_t s_due_spec = {
    "enquiry due",
    "ID DATE",
    "Change the date by which an enquiry should have its first answer; the reason is kept in "
    "its history.",
    2,
    2,
    s_due_options};

static int s_due(dpctl_t *self, dpctl_args_t *args)
{
    Dp__ChangeDueDateRequest request = DP__CHANGE_DUE_DATE_REQUEST__INIT;
    int outcome = dpctl_enquiry_id(args, 0, &request.id);
    request.due_on = (char *)dpctl_args_operand(args, 1);
    request.reason = (char *)dpctl_args_text(args, "reason", "");
    request.actor = (char *)dpctl_actor(self, args);
    return outcome == DPCTL_EXIT_OK
               ? s_change(self, &request.base, &dp__change_due_date_reply__descriptor, "due")
               : outcome;
}

int dpctl_enquiry_due_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_due_spec, argc, argv, s_due);
}

/* ---- merge ---------------------------------------------------------------------------- */

static const dpctl_option_t s_merge_options[] = {
    {"note", DPCTL_TEXT, "TEXT", "a word for the history of both"}, DPCTL_ACTOR_OPTION, {NULL}};

static const dpctl_spec_t s_merge_spec = {
    "enquiry merge",
    "ID INTO",
    "Close the enquiry ID, flagged as a possible duplicate of INTO, as merged into it; INTO "
    "gets a note naming it.",
    2,
    2,
    s_merge_options};

static int s_merge(dpctl_t *self, dpctl_args_t *args)
{
    Dp__MergeEnquiryRequest request = DP__MERGE_ENQUIRY_REQUEST__INIT;
    int outcome = dpctl_enquiry_id(args, 0, &request.id);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_enquiry_id(args, 1, &request.into_id);
    request.note = (char *)dpctl_args_text(args, "note", "");
    request.actor = (char *)dpctl_actor(self, args);
    return outcome == DPCTL_EXIT_OK
               ? s_change(self, &request.base, &dp__merge_enquiry_reply__descriptor, "")
               : outcome;
}

int dpctl_enquiry_merge_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_merge_spec, argc, argv, s_merge);
}

/* ---- reply ---------------------------------------------------------------------------- */

static const dpctl_option_t s_reply_options[] = {
    {"subject", DPCTL_TEXT, "TEXT", "the reply's subject", .required = true},
    {"body", DPCTL_TEXT, "TEXT", "the reply's text"},
    {"body-file", DPCTL_TEXT, "FILE", "read the reply's text from FILE (-: standard input)"},
    DPCTL_ACTOR_OPTION,
    {NULL}};

static const dpctl_spec_t s_reply_spec = {
    "enquiry reply",
    "ID",
    "Write a reply to the enquirer of an assigned or answered enquiry: it is queued for the "
    "mailer and the enquiry is answered. Give the text with --body or --body-file.",
    1,
    1,
    s_reply_options};

/* Reads at most MAX_BODY_BYTES + 1 bytes (so that the intake can refuse a
   longer text by name). NULL after printing why. Free it. */
static char *s_read_body(const dpctl_args_t *args, const char *path)
{
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!file) {
        dpctl_args_error(args, "cannot read '%s'", path);
        return NULL;
    }
    char *body = malloc(MAX_BODY_BYTES + 2);
    size_t length = body ? fread(body, 1, MAX_BODY_BYTES + 1, file) : 0;
    bool failed = !body || ferror(file);
    if (file != stdin)
        fclose(file);
    if (failed) {
        free(body);
        dpctl_args_error(args, "cannot read '%s'", path);
        return NULL;
    }
    body[length] = 0;
    return body;
}

static int s_print_reply(dpctl_t *self, const Dp__ReplyToEnquiryReply *reply)
{
    if (!reply->enquiry || !reply->message) {
        fprintf(stderr, "dpctl: the intake's reply holds no enquiry or message\n");
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(&reply->base);
    printf("enquiry %" PRId64 ": reply #%" PRId64 " %s, the enquiry answered\n", reply->enquiry->id,
           reply->message->id, reply->message->status);
    return DPCTL_EXIT_OK;
}

static int s_reply(dpctl_t *self, dpctl_args_t *args)
{
    Dp__ReplyToEnquiryRequest request = DP__REPLY_TO_ENQUIRY_REQUEST__INIT;
    int outcome = dpctl_enquiry_id(args, 0, &request.id);
    bool has_body = dpctl_args_has(args, "body"), has_file = dpctl_args_has(args, "body-file");
    if (outcome == DPCTL_EXIT_OK && has_body == has_file)
        outcome = dpctl_args_error(args, "give the text with either --body or --body-file");
    char *read = NULL;
    if (outcome == DPCTL_EXIT_OK && has_file &&
        !(read = s_read_body(args, dpctl_args_text(args, "body-file", ""))))
        outcome = DPCTL_EXIT_USAGE;
    request.subject = (char *)dpctl_args_text(args, "subject", "");
    request.body = read ? read : (char *)dpctl_args_text(args, "body", "");
    request.actor = (char *)dpctl_actor(self, args);
    Dp__ReplyToEnquiryReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_INTAKE, &request.base,
                             &dp__reply_to_enquiry_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_reply(self, reply);
    dp_message_free((ProtobufCMessage **)&reply);
    free(read);
    return outcome;
}

int dpctl_enquiry_reply_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_reply_spec, argc, argv, s_reply);
}

/* ---- admitted --------------------------------------------------------------------------- */

static const dpctl_option_t s_admitted_options[] = {DPCTL_ACTOR_OPTION, {NULL}};

static const dpctl_spec_t s_admitted_spec = {
    "enquiry admitted",
    "ID PARTNER_ID PARTNER_SLUG",
    "Record that the membership application ID made the partner PARTNER_ID (already created "
    "in the registry): the enquiry is linked to it and closed. Asked again, nothing changes.",
    3,
    3,
    s_admitted_options};

static int s_admitted(dpctl_t *self, dpctl_args_t *args)
{
    Dp__RecordAdmissionRequest request = DP__RECORD_ADMISSION_REQUEST__INIT;
    int outcome = dpctl_enquiry_id(args, 0, &request.id);
    const char *partner_id = dpctl_args_operand(args, 1);
    if (outcome == DPCTL_EXIT_OK &&
        (!dpctl_is_number(partner_id) || (request.partner_id = strtoll(partner_id, NULL, 10)) <= 0))
        outcome = dpctl_args_error(args, "PARTNER_ID must be a positive whole number, not '%s'",
                                   partner_id);
    request.partner_slug = (char *)dpctl_args_operand(args, 2);
    request.actor = (char *)dpctl_actor(self, args);
    return outcome == DPCTL_EXIT_OK
               ? s_change(self, &request.base, &dp__record_admission_reply__descriptor, "")
               : outcome;
}

int dpctl_enquiry_admitted_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_admitted_spec, argc, argv, s_admitted);
}

/* ---- counts ----------------------------------------------------------------------------- */

static const dpctl_option_t s_counts_options[] = {
    {"assignee", DPCTL_TEXT, "NAME", "count NAME's open enquiries as \"mine\""}, {NULL}};

static const dpctl_spec_t s_counts_spec = {
    "enquiry counts",
    "",
    "Count the open enquiries: mine (with --assignee), unassigned, overdue, due today (in "
    "Europe/Paris) and all open ones.",
    0,
    0,
    s_counts_options};

static int s_counts(dpctl_t *self, dpctl_args_t *args)
{
    Dp__CountEnquiriesRequest request = DP__COUNT_ENQUIRIES_REQUEST__INIT;
    request.assignee = (char *)dpctl_args_text(args, "assignee", "");
    Dp__CountEnquiriesReply *reply = NULL;
    int outcome = dpctl_call(self, DPCTL_INTAKE, &request.base,
                             &dp__count_enquiries_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK && self->json)
        outcome = dpctl_json_print_message(&reply->base);
    else if (outcome == DPCTL_EXIT_OK) {
        if (*request.assignee)
            dpctl_print_fieldf("mine:", "%" PRIu64, reply->mine);
        dpctl_print_fieldf("unassigned:", "%" PRIu64, reply->unassigned);
        dpctl_print_fieldf("overdue:", "%" PRIu64, reply->overdue);
        dpctl_print_fieldf("due today:", "%" PRIu64, reply->due_today);
        dpctl_print_fieldf("open:", "%" PRIu64, reply->open);
    }
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

int dpctl_enquiry_counts_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_counts_spec, argc, argv, s_counts);
}

/* ---- the queue's filters of enquiry list ----------------------------------------------- */

/* The orders of --sort, by Dp__EnquirySort. */
static const char *const s_sorts[] = {"newest", "oldest", "due"};

int dpctl_enquiry_queue_filters(const dpctl_args_t *args, Dp__ListEnquiriesRequest *request,
                                Dp__EnquiryStatus *statuses, size_t max_statuses)
{
    /* --status a,b: any of these. */
    const char *text = dpctl_args_text(args, "status", "");
    request->statuses = statuses;
    request->n_statuses = 0;
    while (*text) {
        size_t length = strcspn(text, ",");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(length < sizeof name ? length : 0), text);
        int value = 0;
        if (request->n_statuses == max_statuses ||
            dpctl_enum_parse(&dp__enquiry_status__descriptor, name, &value) != 0 || value == 0)
            return dpctl_args_error(args, "--status takes statuses separated by commas (received, "
                                          "triaged, assigned, answered, closed, rejected, "
                                          "quarantined)");
        statuses[request->n_statuses++] = value;
        text += length + (text[length] == ',');
    }
    request->unassigned = dpctl_args_has(args, "unassigned");
    request->overdue = dpctl_args_has(args, "overdue");
    request->due_today = dpctl_args_has(args, "due-today");
    request->search = (char *)dpctl_args_text(args, "search", "");
    const char *sort = dpctl_args_text(args, "sort", "newest");
    for (size_t i = 0; i < sizeof s_sorts / sizeof *s_sorts; i++)
        if (strcmp(sort, s_sorts[i]) == 0) {
            request->sort = (Dp__EnquirySort)i;
            return DPCTL_EXIT_OK;
        }
    return dpctl_args_error(args, "--sort must be newest, oldest or due, not '%s'", sort);
}
