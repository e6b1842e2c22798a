/* What the enquiry commands share: naming an enquiry and the staff member
   on the command line, and reading a submission from JSON. The commands
   talk to the intake service (DPCTL_INTAKE). */
#ifndef DPCTL_ENQUIRY_H
#define DPCTL_ENQUIRY_H

#include <jansson.h>
#include <stdint.h>

#include "dpctl.h"
#include "dpctl_args.h"
#include "intake.pb-c.h"

/* The option row of commands that change an enquiry on a staff member's behalf. */
#define DPCTL_ACTOR_OPTION                                                                         \
    {                                                                                              \
        "actor", DPCTL_TEXT, "NAME",                                                               \
            "record the change as made by NAME (default: $DP_ACTOR, else the login name)"          \
    }

/* Reads the index-th operand as an enquiry id. Returns 0, or a usage
   error's exit code. */
int dpctl_enquiry_id(const dpctl_args_t *args, size_t index, int64_t *id);

/* Who a staff request is made by: --actor, else $DP_ACTOR, else the login
   name ($USER, else the password database). Borrowed; "" when none is known
   (the service then refuses the request, naming the actor field). */
const char *dpctl_actor(const dpctl_t *self, const dpctl_args_t *args);

/* The status's short name, e.g. "triaged". */
const char *dpctl_enquiry_status(Dp__EnquiryStatus status, char *buffer, size_t size);

/* Makes a submission from a JSON object with the proto's field names
   (source, idempotency_key, sender_name, ...). Strings are borrowed from
   object. Returns 0; or -1 with *status saying which field is wrong, as the
   service would. Either way release *submission with dpctl_message_release. */
int dpctl_submission_from_json(const json_t *object, Dp__EnquirySubmission **submission,
                               dp_status_t *status);

/* The commands of the group, by file. */
int dpctl_enquiry_show_run(dpctl_t *self, int argc, char **argv); /* dpctl_enquiry.c */
int dpctl_enquiry_list_run(dpctl_t *self, int argc, char **argv);
int dpctl_enquiry_assign_run(dpctl_t *self, int argc, char **argv); /* dpctl_enquiry_workflow.c */
int dpctl_enquiry_move_run(dpctl_t *self, int argc, char **argv);
int dpctl_enquiry_note_run(dpctl_t *self, int argc, char **argv);
int dpctl_enquiry_submit_run(dpctl_t *self, int argc, char **argv); /* dpctl_enquiry_submit.c */
int dpctl_enquiry_import_run(dpctl_t *self, int argc, char **argv); /* dpctl_import.c */
int dpctl_enquiry_rules_run(dpctl_t *self, int argc, char **argv);  /* dpctl_rules.c */
int dpctl_enquiry_kinds_run(dpctl_t *self, int argc, char **argv);  /* dpctl_reference.c */
int dpctl_enquiry_due_run(dpctl_t *self, int argc, char **argv);    /* dpctl_enquiry_console.c */
int dpctl_enquiry_merge_run(dpctl_t *self, int argc, char **argv);
int dpctl_enquiry_reply_run(dpctl_t *self, int argc, char **argv);
int dpctl_enquiry_admitted_run(dpctl_t *self, int argc, char **argv);
int dpctl_enquiry_counts_run(dpctl_t *self, int argc, char **argv);

/* The staff console's queue filters of enquiry list (--status a,b,
   --unassigned, --overdue, --due-today, --search, --sort) into the
   request; statuses is where the statuses go (max_statuses at most).
   Returns 0, or a usage error's exit code. */
int dpctl_enquiry_queue_filters(const dpctl_args_t *args, Dp__ListEnquiriesRequest *request,
                                Dp__EnquiryStatus *statuses, size_t max_statuses);

#endif
