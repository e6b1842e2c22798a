/* dpctl privacy audit: the audit trails of the registry and the intake,
   merged into one list, newest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl_output.h"
#include "dpctl_privacy.h"
#include "dpctl_proto.h"
#include "privacy.pb-c.h"

enum {
    S_DEFAULT_LIMIT = 100, /* entries shown when --limit is not given */
    S_MAX_LIMIT = 1000,    /* the most a service answers with */
    S_KEY_DIGITS = 12,     /* hex digits of the subject key in the table */
    S_DETAIL_COLUMN = 5,   /* the column cut to fit the terminal */
    S_DETAIL_MIN_WIDTH = 20
};

static const dpctl_option_t s_options[] = {
    {"subject", DPCTL_TEXT, "EMAIL", "only entries about the person with this address"},
    {"limit", DPCTL_NUMBER, "N", "the N newest entries (1..1000; default 100)"},
    {NULL}};

static const dpctl_spec_t s_spec = {
    "privacy audit",
    "",
    "List who read, exported, erased or pseudonymised personal data: the audit trails of the "
    "registry and the intake merged, newest first, as a table (or a JSON array with --json). "
    "SUBJECT is the start of the person's keyed hash; trails never hold an address.",
    0,
    0,
    s_options};

/* One entry and the trail it is from. */
typedef struct {
    const Dp__AuditEntry *entry; /* borrowed from its service's reply */
    dpctl_service_t service;     /* whose trail holds it */
} s_row_t;

/* Newest first. Times have whole seconds; within one second the intake's
   entries come first, since the commands that write both trails ask the
   registry first; within one trail the later id. */
static int s_newest_first(const void *a, const void *b)
{
    const s_row_t *left = a, *right = b;
    int order = strcmp(right->entry->at, left->entry->at);
    if (order == 0)
        order = (int)right->service - (int)left->service;
    if (order == 0)
        order = (right->entry->id > left->entry->id) - (right->entry->id < left->entry->id);
    return order;
}

/* "2026-11-28T16:30:05Z" as "2026-11-28 16:30:05". */
static const char *s_seconds(const char *timestamp, char *buffer, size_t size)
{
    snprintf(buffer, size, "%.19s", timestamp);
    if (strlen(buffer) > 10 && buffer[10] == 'T')
        buffer[10] = ' ';
    return buffer;
}

/* The entry as a JSON object with its service named, as the table names it. */
static json_t *s_json_row(const s_row_t *row)
{
    json_t *object = dpctl_json_message(&row->entry->base);
    if (object && json_object_set_new(object, "service",
                                      json_string(dpctl_service_name(row->service))) != 0) {
        json_decref(object);
        object = NULL;
    }
    return object;
}

static int s_add(dpctl_listing_t *listing, bool json, const s_row_t *row)
{
    const Dp__AuditEntry *entry = row->entry;
    char at[32], subject[S_KEY_DIGITS + 1];
    snprintf(subject, sizeof subject, "%s", *entry->subject_key ? entry->subject_key : "-");
    const char *cells[] = {s_seconds(entry->at, at, sizeof at),
                           dpctl_service_name(row->service),
                           entry->actor,
                           entry->action,
                           subject,
                           entry->detail};
    return dpctl_listing_add_object(listing, json ? s_json_row(row) : NULL, cells);
}

/* Merges the answers, newest first, keeps the limit's newest and prints them. */
static int s_print(dpctl_t *self, Dp__ListAuditReply *const *replies, size_t limit)
{
    static const char *headers[] = {"TIME", "SERVICE", "ACTOR", "ACTION", "SUBJECT", "DETAIL"};
    size_t total = 0, count = 0;
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++)
        total += replies[i] ? replies[i]->n_entries : 0;
    s_row_t *rows = calloc(total + 1, sizeof *rows);
    dpctl_listing_t *listing = dpctl_listing_new(self->json, headers, 6);
    int outcome = rows && listing ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < DPCTL_PRIVACY_SERVICES; i++)
        for (size_t j = 0; replies[i] && j < replies[i]->n_entries; j++)
            rows[count++] = (s_row_t){replies[i]->entries[j], dpctl_privacy_services[i]};
    if (outcome == DPCTL_EXIT_OK)
        qsort(rows, count, sizeof *rows, s_newest_first);
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < count && i < limit; i++)
        if (s_add(listing, self->json, &rows[i]) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK) {
        dpctl_listing_fit(listing, S_DETAIL_COLUMN, dpctl_output_width(), S_DETAIL_MIN_WIDTH);
        outcome = dpctl_listing_print(listing);
    }
    size_t shown = listing ? dpctl_listing_count(listing) : 0;
    if (outcome == DPCTL_EXIT_OK && !self->json)
        printf("\n%zu entr%s\n", shown, shown == 1 ? "y" : "ies");
    if (outcome != DPCTL_EXIT_OK && (!rows || !listing))
        fprintf(stderr, "dpctl: out of memory\n");
    dpctl_listing_destroy(&listing);
    free(rows);
    return outcome;
}

/* Asks both services, also after one failed: what one trail holds is worth
   seeing, and the exit code still says that the list is not whole. */
static int s_audit(dpctl_t *self, const Dp__ListAuditRequest *request, size_t limit)
{
    Dp__ListAuditReply *replies[DPCTL_PRIVACY_SERVICES] = {NULL};
    int outcome = DPCTL_EXIT_OK;
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++)
        if (dpctl_privacy_call(self, dpctl_privacy_services[i], &request->base,
                               &dp__list_audit_reply__descriptor,
                               (ProtobufCMessage **)&replies[i]) != DPCTL_EXIT_OK)
            outcome = DPCTL_EXIT_FAILURE;
    int printed = s_print(self, replies, limit);
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++)
        dp_message_free((ProtobufCMessage **)&replies[i]);
    return printed != DPCTL_EXIT_OK ? printed : outcome;
}

static int s_privacy_audit(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *subject = dpctl_args_text(args, "subject", NULL);
    long long limit = dpctl_args_number(args, "limit", S_DEFAULT_LIMIT);
    if (subject)
        outcome = dpctl_privacy_email(args, "--subject", subject);
    if (outcome == DPCTL_EXIT_OK && (limit < 1 || limit > S_MAX_LIMIT))
        outcome = dpctl_args_error(args, "--limit must be between 1 and %d, not %lld", S_MAX_LIMIT,
                                   limit);
    Dp__ListAuditRequest request = DP__LIST_AUDIT_REQUEST__INIT;
    request.email = (char *)(subject ? subject : "");
    request.limit = (uint32_t)limit;
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_audit(self, &request, (size_t)limit);
    return outcome;
}

int dpctl_privacy_audit_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_spec, argc, argv, s_privacy_audit);
}
