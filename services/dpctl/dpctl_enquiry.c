/* dpctl enquiry: the group's table, naming enquiries and staff, showing
   and listing enquiries. */
#include "dpctl_enquiry.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpctl_output.h"
#include "dpctl_proto.h"

static const dpctl_command_t s_commands[] = {
    {"submit", "submit one enquiry, as a feeding system does", dpctl_enquiry_submit_run},
    {"import", "submit every enquiry of a JSON Lines file, many at a time",
     dpctl_enquiry_import_run},
    {"list", "list enquiries, with filters", dpctl_enquiry_list_run},
    {"show", "show one enquiry in full, with its history and notes", dpctl_enquiry_show_run},
    {"assign", "assign an enquiry to a staff member", dpctl_enquiry_assign_run},
    {"move", "move an enquiry to another status", dpctl_enquiry_move_run},
    {"note", "add a note to an enquiry", dpctl_enquiry_note_run},
    {"due", "change an enquiry's due date, with the reason", dpctl_enquiry_due_run},
    {"merge", "merge a flagged duplicate into its original", dpctl_enquiry_merge_run},
    {"reply", "write a reply to the enquirer (queued for the mailer)", dpctl_enquiry_reply_run},
    {"admitted", "record the partner a membership application made", dpctl_enquiry_admitted_run},
    {"counts", "count the open, unassigned, overdue and due enquiries", dpctl_enquiry_counts_run},
    {"rules", "list, add or remove triage rules (keyword -> area)", dpctl_enquiry_rules_run},
    {"kinds", "list or add the kinds of enquiry", dpctl_enquiry_kinds_run},
};

static const dpctl_group_t s_group = {
    "enquiry",
    "Enquiries that feeding systems submit to the intake service ($DP_INTAKE_ENDPOINT), and "
    "their handling by staff. An enquiry is named by its id.",
    s_commands, sizeof s_commands / sizeof s_commands[0]};

int dpctl_enquiry_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}

int dpctl_enquiry_id(const dpctl_args_t *args, size_t index, int64_t *id)
{
    const char *text = dpctl_args_operand(args, index);
    if (!text || !dpctl_is_number(text) || (*id = strtoll(text, NULL, 10)) <= 0)
        return dpctl_args_error(args, "an enquiry id must be a positive whole number, not '%s'",
                                text ? text : "");
    return 0;
}

const char *dpctl_actor(const dpctl_t *self, const dpctl_args_t *args)
{
    const char *actor = dpctl_args_text(args, "actor", NULL);
    if (!actor || !*actor)
        actor = dp_config_get(self->config, "DP_ACTOR");
    if (!*actor)
        actor = getenv("USER");
    if (!actor || !*actor) {
        const struct passwd *user = getpwuid(getuid());
        actor = user && user->pw_name ? user->pw_name : "";
    }
    return actor;
}

const char *dpctl_enquiry_status(Dp__EnquiryStatus status, char *buffer, size_t size)
{
    return dpctl_enum_label(&dp__enquiry_status__descriptor, (int)status, buffer, size);
}

/* ---- show ----------------------------------------------------------------------- */

static const dpctl_spec_t s_show_spec = {
    "enquiry show", "ID", "Show an enquiry: every field, its history and its notes.", 1, 1, NULL};

/* Prints text with every line indented, for the body and notes. */
static void s_print_indented(const char *text, const char *indent)
{
    while (*text) {
        size_t length = strcspn(text, "\n");
        printf("%s%.*s\n", length ? indent : "", (int)length, text);
        text += length + (text[length] == '\n');
    }
}

static void s_print_history(const Dp__Enquiry *enquiry)
{
    static const char *headers[] = {"AT", "FROM", "TO", "ACTOR", "NOTE"};
    dpctl_table_t *table = dpctl_table_new(headers, 5);
    for (size_t i = 0; table && i < enquiry->n_history; i++) {
        const Dp__EnquiryTransition *move = enquiry->history[i];
        char from[32], to[32];
        const char *cells[] = {
            move->at,
            move->from_status ? dpctl_enquiry_status(move->from_status, from, sizeof from) : "-",
            dpctl_enquiry_status(move->to_status, to, sizeof to), move->actor, move->note};
        dpctl_table_add(table, cells);
    }
    printf("\nHistory:\n");
    if (table)
        dpctl_table_print(table, stdout);
    dpctl_table_destroy(&table);
}

static void s_print_notes(const Dp__Enquiry *enquiry)
{
    printf("\nNotes:%s\n", enquiry->n_notes ? "" : " (none)");
    for (size_t i = 0; i < enquiry->n_notes; i++) {
        const Dp__EnquiryNote *note = enquiry->notes[i];
        printf("#%" PRId64 "  %s  %s\n", note->id, note->at, note->actor);
        s_print_indented(note->text, "    ");
    }
}

static void s_print_triage(const Dp__Enquiry *enquiry)
{
    char text[256];
    if (enquiry->partner_id)
        snprintf(text, sizeof text, "%s (#%" PRId64 ")", enquiry->partner_slug,
                 enquiry->partner_id);
    else
        snprintf(text, sizeof text, "(none)");
    dpctl_print_field("partner:", text);
    dpctl_print_list("areas:", enquiry->areas, enquiry->n_areas);
    dpctl_print_list("suggested:", enquiry->suggested_areas, enquiry->n_suggested_areas);
    if (enquiry->possible_duplicate_of) {
        snprintf(text, sizeof text, "#%" PRId64 " (same sender and subject)",
                 enquiry->possible_duplicate_of);
        dpctl_print_field("duplicate of:", text);
    }
    if (*enquiry->quarantine_reason)
        dpctl_print_field("quarantined:", enquiry->quarantine_reason);
}

static void s_print_enquiry(const Dp__Enquiry *enquiry)
{
    char text[512];
    snprintf(text, sizeof text, "%" PRId64, enquiry->id);
    dpctl_print_field("id:", text);
    dpctl_print_field("status:", dpctl_enquiry_status(enquiry->status, text, sizeof text));
    dpctl_print_field("kind:", enquiry->kind);
    snprintf(text, sizeof text, "%s (key %s)", enquiry->source, enquiry->idempotency_key);
    dpctl_print_field("source:", text);
    dpctl_print_field("received:", enquiry->received_at);
    dpctl_print_field("stored:", enquiry->stored_at);
    snprintf(text, sizeof text, "%s <%s>", enquiry->sender_name, enquiry->email);
    dpctl_print_field("sender:", text);
    dpctl_print_field("organisation:", enquiry->organisation);
    dpctl_print_field("country:", enquiry->country);
    dpctl_print_field("language:", enquiry->language);
    s_print_triage(enquiry);
    dpctl_print_field("assignee:", enquiry->assignee);
    dpctl_print_field("due:", enquiry->due_on);
    dpctl_print_field("first reply:", enquiry->first_response_at);
    dpctl_print_field("resolved:", enquiry->resolved_at);
    dpctl_print_field("subject:", enquiry->subject);
    printf("body:\n");
    s_print_indented(enquiry->body, "    ");
    s_print_history(enquiry);
    s_print_notes(enquiry);
}

int dpctl_enquiry_show_run(dpctl_t *self, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_show_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    Dp__GetEnquiryRequest request = DP__GET_ENQUIRY_REQUEST__INIT;
    outcome = dpctl_enquiry_id(args, 0, &request.id);
    dpctl_args_destroy(&args);
    Dp__GetEnquiryReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_INTAKE, &request.base, &dp__get_enquiry_reply__descriptor,
                             (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK && !reply->enquiry) {
        fprintf(stderr, "dpctl: the intake's reply holds no enquiry\n");
        outcome = DPCTL_EXIT_FAILURE;
    }
    if (outcome == DPCTL_EXIT_OK && self->json)
        outcome = dpctl_json_print_message(&reply->enquiry->base);
    else if (outcome == DPCTL_EXIT_OK)
        s_print_enquiry(reply->enquiry);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

/* ---- list ----------------------------------------------------------------------- */

enum { S_SUBJECT_COLUMN = 6, S_SUBJECT_MIN_WIDTH = 20 };

static const dpctl_option_t s_list_options[] = {
    {"status", DPCTL_TEXT, "STATUS[,STATUS...]", "only enquiries with one of these statuses"},
    {"unassigned", DPCTL_FLAG, NULL, "only enquiries assigned to no one"},
    {"overdue", DPCTL_FLAG, NULL, "only open enquiries due before today (Europe/Paris)"},
    {"due-today", DPCTL_FLAG, NULL, "only open enquiries due today (Europe/Paris)"},
    {"search", DPCTL_TEXT, "WORDS", "only enquiries with these words in subject or body"},
    {"sort", DPCTL_TEXT, "newest|oldest|due", "the order (default: newest received first)"},
    {"kind", DPCTL_TEXT, "SLUG", "only enquiries of this kind"},
    {"source", DPCTL_TEXT, "SOURCE", "only enquiries from this feeding system"},
    {"partner", DPCTL_TEXT, "SLUG|-", "only enquiries from this partner (-: from no partner)"},
    {"area", DPCTL_TEXT, "SLUG", "only enquiries that name or were suggested this area"},
    {"assignee", DPCTL_TEXT, "NAME", "only enquiries assigned to NAME"},
    {"received-from", DPCTL_DATE, "DATE", "only enquiries received on or after DATE"},
    {"received-to", DPCTL_DATE, "DATE", "only enquiries received on or before DATE"},
    {"page-size", DPCTL_NUMBER, "N", "ask for N enquiries a page (1..500); alone, print one page"},
    {"page-token", DPCTL_TEXT, "TOKEN", "start at the page a previous listing named"},
    {"all", DPCTL_FLAG, NULL, "follow every page (the default without --page-size/--page-token)"},
    {NULL}};

static const dpctl_spec_t s_list_spec = {
    "enquiry list",
    "",
    "List enquiries, newest received first (see --sort), as a table (or a JSON array with "
    "--json). The subject is cut to fit the terminal.",
    0,
    0,
    s_list_options};

/* "2026-11-28T16:30:00Z" as "2026-11-28 16:30". */
static const char *s_minutes(const char *timestamp, char *buffer, size_t size)
{
    snprintf(buffer, size, "%.16s", timestamp);
    if (strlen(buffer) > 10 && buffer[10] == 'T')
        buffer[10] = ' ';
    return buffer;
}

static int s_list_item(void *sink, const ProtobufCMessage *item)
{
    const Dp__Enquiry *enquiry = (const Dp__Enquiry *)item;
    char id[32], received[32], status[32];
    snprintf(id, sizeof id, "%" PRId64, enquiry->id);
    const char *cells[] = {id,
                           s_minutes(enquiry->received_at, received, sizeof received),
                           dpctl_enquiry_status(enquiry->status, status, sizeof status),
                           enquiry->kind,
                           enquiry->source,
                           *enquiry->partner_slug ? enquiry->partner_slug : "-",
                           enquiry->subject,
                           enquiry->assignee,
                           enquiry->due_on};
    return dpctl_listing_add(sink, item, cells);
}

static void s_list_request(const dpctl_args_t *args, Dp__ListEnquiriesRequest *request)
{
    request->kind = (char *)dpctl_args_text(args, "kind", "");
    request->source = (char *)dpctl_args_text(args, "source", "");
    request->partner_slug = (char *)dpctl_args_text(args, "partner", "");
    request->area = (char *)dpctl_args_text(args, "area", "");
    request->assignee = (char *)dpctl_args_text(args, "assignee", "");
    request->received_from = (char *)dpctl_args_text(args, "received-from", "");
    request->received_to = (char *)dpctl_args_text(args, "received-to", "");
    request->page_size = (uint32_t)dpctl_args_number(args, "page-size", 0);
    request->page_token = (char *)dpctl_args_text(args, "page-token", "");
}

static int s_list(dpctl_t *self, const dpctl_args_t *args, dpctl_listing_t *listing)
{
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    s_list_request(args, &request);
    Dp__EnquiryStatus statuses[8];
    int filtered = dpctl_enquiry_queue_filters(args, &request, statuses, 8);
    if (filtered != DPCTL_EXIT_OK)
        return filtered;
    bool all = dpctl_args_has(args, "all") ||
               !(dpctl_args_has(args, "page-size") || dpctl_args_has(args, "page-token"));
    int outcome =
        dpctl_call_pages(self, DPCTL_INTAKE, &request.base, &dp__list_enquiries_reply__descriptor,
                         all, s_list_item, listing);
    if (outcome != DPCTL_EXIT_OK)
        return outcome;
    dpctl_listing_fit(listing, S_SUBJECT_COLUMN, dpctl_output_width(), S_SUBJECT_MIN_WIDTH);
    outcome = dpctl_listing_print(listing);
    size_t count = dpctl_listing_count(listing);
    if (outcome == DPCTL_EXIT_OK && !self->json)
        printf("\n%zu enquir%s\n", count, count == 1 ? "y" : "ies");
    return outcome;
}

int dpctl_enquiry_list_run(dpctl_t *self, int argc, char **argv)
{
    static const char *headers[] = {"ID",      "RECEIVED", "STATUS",   "KIND", "SOURCE",
                                    "PARTNER", "SUBJECT",  "ASSIGNEE", "DUE"};
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_list_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    dpctl_listing_t *listing = dpctl_listing_new(self->json, headers, 9);
    outcome = listing ? s_list(self, args, listing) : DPCTL_EXIT_FAILURE;
    dpctl_listing_destroy(&listing);
    dpctl_args_destroy(&args);
    return outcome;
}
