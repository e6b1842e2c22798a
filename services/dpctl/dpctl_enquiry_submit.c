/* dpctl enquiry submit: one submission, from options or (with --json and
   no options) from a JSON object on standard input, as a feeding system
   would send it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dpctl_enquiry.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

static const dpctl_option_t s_options[] = {
    {"source", DPCTL_TEXT, "SOURCE", "the feeding system's name, e.g. website (required)"},
    {"key", DPCTL_TEXT, "KEY",
     "idempotency key, unique per source; a retry sends the same "
     "(required)"},
    {"name", DPCTL_TEXT, "NAME", "the sender's name (required)"},
    {"email", DPCTL_TEXT, "EMAIL", "the sender's e-mail address (required)"},
    {"kind", DPCTL_TEXT, "SLUG", "the kind of enquiry, see 'dpctl enquiry kinds' (required)"},
    {"subject", DPCTL_TEXT, "TEXT", "the subject (required)"},
    {"body", DPCTL_TEXT, "TEXT", "the message (required)"},
    {"organisation", DPCTL_TEXT, "NAME", "the sender's organisation"},
    {"country", DPCTL_TEXT, "CC", "the sender's country, ISO 3166-1 alpha-2, e.g. FR"},
    {"language", DPCTL_TEXT, "TAG", "the message's language, e.g. en, fr, de-CH"},
    {"area", DPCTL_TEXT, "SLUG", "an area of cooperation the sender chose", .repeated = true},
    {"received-at", DPCTL_TEXT, "TIME",
     "when the source received it, RFC 3339 (default: now, UTC; give it when you may submit "
     "the same key again)"},
    {NULL}};

static const dpctl_spec_t s_spec = {
    "enquiry submit",
    "",
    "Submit one enquiry and print its id and status. With --json and no options, the "
    "submission is read as one JSON object from standard input, with the field names of "
    "dp.EnquirySubmission (source, idempotency_key, sender_name, email, organisation, country, "
    "kind, subject, body, language, areas, received_at), and the answer is printed as JSON.",
    0,
    0,
    s_options};

/* The options a submission cannot do without. */
static const char *const s_required[] = {"source", "key",     "name", "email",
                                         "kind",   "subject", "body"};

int dpctl_submission_from_json(const json_t *object, Dp__EnquirySubmission **submission,
                               dp_status_t *status)
{
    *submission = (Dp__EnquirySubmission *)dpctl_message_new(&dp__enquiry_submission__descriptor);
    if (*submission)
        return dpctl_message_from_json(&(*submission)->base, object, status);
    status->code = DP__CODE__CODE_RESOURCE_EXHAUSTED;
    status->field[0] = '\0';
    snprintf(status->message, sizeof status->message, "out of memory");
    return -1;
}

static bool s_any_option(const dpctl_args_t *args)
{
    for (const dpctl_option_t *option = s_options; option->name; option++)
        if (dpctl_args_has(args, option->name))
            return true;
    return false;
}

/* Returns 0, or a usage error naming every required option left out. */
static int s_check_required(const dpctl_args_t *args)
{
    char missing[256] = "";
    size_t count = 0;
    for (size_t i = 0; i < sizeof s_required / sizeof *s_required; i++)
        if (!dpctl_args_has(args, s_required[i])) {
            size_t used = strlen(missing);
            snprintf(missing + used, sizeof missing - used, "%s--%s", count++ ? ", " : "",
                     s_required[i]);
        }
    if (count == 0)
        return 0;
    return dpctl_args_error(args,
                            "%s %s required (or give no options and pipe a JSON object "
                            "with --json)",
                            missing, count == 1 ? "is" : "are");
}

static void s_from_options(const dpctl_args_t *args, Dp__EnquirySubmission *submission)
{
    submission->source = (char *)dpctl_args_text(args, "source", "");
    submission->idempotency_key = (char *)dpctl_args_text(args, "key", "");
    submission->sender_name = (char *)dpctl_args_text(args, "name", "");
    submission->email = (char *)dpctl_args_text(args, "email", "");
    submission->organisation = (char *)dpctl_args_text(args, "organisation", "");
    submission->country = (char *)dpctl_args_text(args, "country", "");
    submission->kind = (char *)dpctl_args_text(args, "kind", "");
    submission->subject = (char *)dpctl_args_text(args, "subject", "");
    submission->body = (char *)dpctl_args_text(args, "body", "");
    submission->language = (char *)dpctl_args_text(args, "language", "");
    submission->areas = dpctl_args_list(args, "area", &submission->n_areas);
    submission->received_at = (char *)dpctl_args_text(args, "received-at", "");
}

static int s_print_reply(dpctl_t *self, const Dp__SubmitEnquiryReply *reply)
{
    if (self->json)
        return dpctl_json_print_message(&reply->base);
    char status[32];
    printf("enquiry %" PRId64 ": %s (%s)\n", reply->enquiry_id,
           dpctl_enquiry_status(reply->status, status, sizeof status),
           reply->already_submitted ? "already submitted; nothing new was stored" : "new");
    return DPCTL_EXIT_OK;
}

/* Sends the submission, with received_at now when it has none. */
static int s_submit(dpctl_t *self, Dp__EnquirySubmission *submission)
{
    char now[32];
    if (!submission->received_at || !*submission->received_at) {
        time_t seconds = time(NULL);
        struct tm utc;
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&seconds, &utc));
        submission->received_at = now;
    }
    Dp__SubmitEnquiryRequest request = DP__SUBMIT_ENQUIRY_REQUEST__INIT;
    request.enquiry = submission;
    Dp__SubmitEnquiryReply *reply = NULL;
    int outcome = dpctl_call(self, DPCTL_INTAKE, &request.base,
                             &dp__submit_enquiry_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_reply(self, reply);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

static int s_submit_stdin(dpctl_t *self)
{
    json_error_t error;
    json_t *object = json_loadf(stdin, JSON_REJECT_DUPLICATES, &error);
    if (!object) {
        fprintf(stderr, "dpctl: standard input is not one JSON object: %s (line %d, column %d)\n",
                error.text, error.line, error.column);
        return DPCTL_EXIT_FAILURE;
    }
    Dp__EnquirySubmission *submission = NULL;
    dp_status_t status;
    int outcome = DPCTL_EXIT_FAILURE;
    if (dpctl_submission_from_json(object, &submission, &status) == 0)
        outcome = s_submit(self, submission);
    else
        dpctl_report_status(&status);
    dpctl_message_release((ProtobufCMessage **)&submission);
    json_decref(object);
    return outcome;
}

static int s_enquiry_submit(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    if (self->json && !s_any_option(args))
        outcome = s_submit_stdin(self);
    else if ((outcome = s_check_required(args)) == DPCTL_EXIT_OK) {
        Dp__EnquirySubmission submission = DP__ENQUIRY_SUBMISSION__INIT;
        s_from_options(args, &submission);
        outcome = s_submit(self, &submission);
    }
    return outcome;
}

int dpctl_enquiry_submit_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_spec, argc, argv, s_enquiry_submit);
}
