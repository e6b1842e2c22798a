/* dpctl enquiry import FILE|-: one JSON submission per line, sent through a
   pipeline with many requests in flight, then a summary of what became of
   the lines. The intake is idempotent per (source, idempotency_key), so a
   request whose reply is late is sent again as it was, and importing a file
   twice stores nothing twice. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dp_pipeline.h"
#include "dpctl_enquiry.h"
#include "dpctl_output.h"
#include "dpctl_progress.h"
#include "dpctl_proto.h"

enum {
    S_FIRST_LINES = 5,        /* line numbers kept for each reason */
    S_DEFAULT_IN_FLIGHT = 64, /* requests outstanding at once, by default */
    S_MAX_IN_FLIGHT = 1000,   /* the most --in-flight accepts */
    S_STATUSES = DP__ENQUIRY_STATUS__ENQUIRY_STATUS_QUARANTINED + 1
};

static const dpctl_option_t s_options[] = {
    {"in-flight", DPCTL_NUMBER, "N", "requests outstanding at once, 1..1000 (default 64)"}, {NULL}};

static const dpctl_spec_t s_spec = {
    "enquiry import",
    "FILE|-",
    "Submit every line of FILE (JSON Lines; - reads standard input): one JSON object per line "
    "with the fields of 'enquiry submit --json', received_at included (a line must read the "
    "same every time it is sent). Prints what was accepted, what was there already, and why "
    "lines were rejected. Importing again is safe. Exit 0 only when no line was rejected.",
    1,
    1,
    s_options};

/* Lines that met the same fate: refused for one code and field, or not JSON. */
typedef struct {
    Dp__Code code;                 /* the verdict's code */
    char field[64];                /* the field at fault, or "" */
    char example[512];             /* what was said of the first such line */
    size_t count;                  /* lines of this reason */
    uint64_t lines[S_FIRST_LINES]; /* the first of them, by number */
} s_reason_t;

typedef struct {
    size_t lines;                 /* lines read, blank ones included */
    size_t blank;                 /* blank lines, skipped */
    size_t accepted;              /* submissions stored now */
    size_t by_status[S_STATUSES]; /* accepted ones, by the status they got */
    size_t duplicates;            /* submissions stored before (already_submitted) */
    size_t resent_duplicates;     /* of which answered only to a resend: maybe our own */
    size_t rejected;              /* lines refused, by the service or here */
    size_t not_sent;              /* lines left unsent once the service stopped answering */
    uint64_t first_not_sent;      /* the first of them */
    s_reason_t *reasons;          /* why, grouped by code and field */
    size_t reason_count;          /* entries in reasons */
    s_reason_t not_json;          /* lines that are not a JSON object */
    bool failed;                  /* out of memory, or the input could not be read */
} s_tally_t;

static void s_note(s_reason_t *reason, uint64_t line, const char *example)
{
    if (reason->count < S_FIRST_LINES)
        reason->lines[reason->count] = line;
    if (reason->count++ == 0)
        snprintf(reason->example, sizeof reason->example, "%s", example);
}

/* Counts a refused line under its (code, field). */
static void s_reject(s_tally_t *tally, uint64_t line, const dp_status_t *status)
{
    tally->rejected++;
    for (size_t i = 0; i < tally->reason_count; i++) {
        s_reason_t *reason = &tally->reasons[i];
        if (reason->code == status->code && strcmp(reason->field, status->field) == 0) {
            s_note(reason, line, status->message);
            return;
        }
    }
    s_reason_t *grown = realloc(tally->reasons, (tally->reason_count + 1) * sizeof *grown);
    if (!grown) {
        fprintf(stderr, "\ndpctl: out of memory at line %llu\n", (unsigned long long)line);
        tally->failed = true;
        return;
    }
    tally->reasons = grown;
    s_reason_t *reason = memset(&grown[tally->reason_count++], 0, sizeof *grown);
    reason->code = status->code;
    snprintf(reason->field, sizeof reason->field, "%s", status->field);
    s_note(reason, line, status->message);
}

/* The pipeline's verdict on one line (its tag is the line's number). */
static int s_done(void *sink, const dp_pipeline_result_t *result)
{
    s_tally_t *tally = sink;
    if (result->status->code != DP__CODE__CODE_OK) {
        s_reject(tally, result->tag, result->status);
        return 0;
    }
    const Dp__SubmitEnquiryReply *answer = (const Dp__SubmitEnquiryReply *)result->reply;
    if (answer->already_submitted) {
        tally->duplicates++;
        tally->resent_duplicates += result->attempts > 1;
    } else {
        tally->accepted++;
        if ((unsigned)answer->status < S_STATUSES)
            tally->by_status[answer->status]++;
    }
    return 0;
}

static bool s_blank(const char *line)
{
    return line[strspn(line, " \t\r\n")] == '\0';
}

/* Parses one line and sends it; a line that cannot be sent is counted here. */
static void s_import_line(dp_pipeline_t *pipeline, s_tally_t *tally, const char *line,
                          size_t length, uint64_t number)
{
    if (s_blank(line)) {
        tally->blank++;
        return;
    }
    json_error_t error;
    json_t *object = json_loadb(line, length, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object(object)) {
        char example[300];
        snprintf(example, sizeof example, "line %llu: %s", (unsigned long long)number,
                 object ? "a JSON value, but not an object" : error.text);
        s_note(&tally->not_json, number, example);
        json_decref(object);
        return;
    }
    Dp__EnquirySubmission *submission = NULL;
    dp_status_t status;
    if (dpctl_submission_from_json(object, &submission, &status) != 0)
        s_reject(tally, number, &status);
    else {
        Dp__SubmitEnquiryRequest request = DP__SUBMIT_ENQUIRY_REQUEST__INIT;
        request.enquiry = submission;
        if (dp_pipeline_send(pipeline, &request.base, number) != 0) {
            fprintf(stderr, "\ndpctl: out of memory at line %llu\n", (unsigned long long)number);
            tally->failed = true;
        }
    }
    dpctl_message_release((ProtobufCMessage **)&submission);
    json_decref(object);
}

/* Reads every line into the pipeline and waits for the last verdict. */
static void s_import(dp_pipeline_t *pipeline, s_tally_t *tally, FILE *input, const char *path,
                     dpctl_progress_t *progress)
{
    char *line = NULL;
    size_t room = 0;
    uint64_t bytes = 0;
    ssize_t length;
    while (!tally->failed && (length = getline(&line, &room, input)) >= 0) {
        bytes += (uint64_t)length;
        ++tally->lines;
        if (dp_pipeline_unresponsive(pipeline) && !s_blank(line)) {
            /* Read on, so the summary can say how much is left to send. */
            if (tally->not_sent++ == 0)
                tally->first_not_sent = tally->lines;
            continue;
        }
        s_import_line(pipeline, tally, line, (size_t)length, tally->lines);
        dpctl_progress_update(progress, tally->lines - dp_pipeline_outstanding(pipeline), bytes);
    }
    if (ferror(input)) {
        fprintf(stderr, "\ndpctl: cannot read %s: %s\n", path, strerror(errno));
        tally->failed = true;
    }
    free(line);
    while (dp_pipeline_poll(pipeline, 100) > 0)
        dpctl_progress_update(progress, tally->lines - dp_pipeline_outstanding(pipeline), bytes);
    dpctl_progress_finish(progress, tally->lines);
}

static int s_by_count(const void *a, const void *b)
{
    size_t left = ((const s_reason_t *)a)->count, right = ((const s_reason_t *)b)->count;
    return left < right ? 1 : left > right ? -1 : 0;
}

/* "3, 17, 99" and "..." when there were more. */
static const char *s_lines(const s_reason_t *reason, char *buffer, size_t size)
{
    size_t used = 0, shown = reason->count < S_FIRST_LINES ? reason->count : S_FIRST_LINES;
    buffer[0] = '\0';
    for (size_t i = 0; i < shown && used < size; i++)
        used += (size_t)snprintf(buffer + used, size - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)reason->lines[i]);
    if (reason->count > shown && used < size)
        snprintf(buffer + used, size - used, ", ...");
    return buffer;
}

static json_t *s_json_reason(const s_reason_t *reason, bool with_code)
{
    json_t *lines = json_array();
    size_t shown = reason->count < S_FIRST_LINES ? reason->count : S_FIRST_LINES;
    for (size_t i = 0; lines && i < shown; i++)
        json_array_append_new(lines, json_integer((json_int_t)reason->lines[i]));
    json_t *object = json_pack("{s:I, s:o, s:s}", "count", (json_int_t)reason->count, "first_lines",
                               lines, "example", reason->example);
    if (object && with_code) {
        json_object_set_new(object, "code", json_string(dp_code_name(reason->code)));
        json_object_set_new(object, "field", json_string(reason->field));
    }
    return object;
}

static int s_print_json(const s_tally_t *tally, size_t resent)
{
    char label[32];
    json_t *by_status = json_object(), *reasons = json_array();
    for (int i = 1; by_status && i < S_STATUSES; i++)
        if (tally->by_status[i])
            json_object_set_new(by_status, dpctl_enquiry_status(i, label, sizeof label),
                                json_integer((json_int_t)tally->by_status[i]));
    for (size_t i = 0; reasons && i < tally->reason_count; i++)
        json_array_append_new(reasons, s_json_reason(&tally->reasons[i], true));
    json_t *document = json_pack(
        "{s:I, s:I, s:I, s:o, s:I, s:I, s:o, s:o, s:I}", "lines", (json_int_t)tally->lines, "blank",
        (json_int_t)tally->blank, "accepted", (json_int_t)tally->accepted, "accepted_by_status",
        by_status, "duplicates", (json_int_t)tally->duplicates, "rejected",
        (json_int_t)tally->rejected, "reasons", reasons, "not_json",
        s_json_reason(&tally->not_json, false), "resent", (json_int_t)resent);
    if (document) {
        json_object_set_new(document, "not_sent", json_integer((json_int_t)tally->not_sent));
        json_object_set_new(document, "duplicates_after_resend",
                            json_integer((json_int_t)tally->resent_duplicates));
    }
    return dpctl_json_print(&document);
}

static void s_print_reasons(const s_tally_t *tally)
{
    static const char *headers[] = {"CODE", "FIELD", "LINES", "FIRST LINES", "EXAMPLE"};
    dpctl_table_t *table = dpctl_table_new(headers, 5);
    bool retryable = false;
    for (size_t i = 0; table && i < tally->reason_count; i++) {
        const s_reason_t *reason = &tally->reasons[i];
        char count[32], lines[128];
        snprintf(count, sizeof count, "%zu", reason->count);
        const char *cells[] = {dp_code_name(reason->code), *reason->field ? reason->field : "-",
                               count, s_lines(reason, lines, sizeof lines), reason->example};
        dpctl_table_add(table, cells);
        retryable = retryable || reason->code == DP__CODE__CODE_UNAVAILABLE ||
                    reason->code == DP__CODE__CODE_ABORTED;
    }
    printf("\nRejected, by reason:\n");
    if (table) {
        dpctl_table_fit(table, 4, dpctl_output_width(), 30);
        dpctl_table_print(table, stdout);
    }
    dpctl_table_destroy(&table);
    if (retryable)
        printf("\nSome lines got no answer or met a conflict: importing the file again is safe "
               "(what was stored comes back as a duplicate).\n");
}

static void s_print_text(const s_tally_t *tally, size_t resent)
{
    char label[32], lines[128];
    printf("lines:       %7zu read", tally->lines);
    if (tally->blank)
        printf(" (%zu blank, skipped)", tally->blank);
    printf("\naccepted:    %7zu new", tally->accepted);
    for (int i = 1, shown = 0; i < S_STATUSES; i++)
        if (tally->by_status[i])
            printf("%s%zu %s", shown++ ? ", " : " (", tally->by_status[i],
                   dpctl_enquiry_status(i, label, sizeof label));
    printf("%s\n", tally->accepted ? ")" : "");
    printf("duplicates:  %7zu already submitted", tally->duplicates);
    if (tally->resent_duplicates)
        printf(" (%zu answered only to a resend: an earlier attempt of this import may have "
               "stored them)",
               tally->resent_duplicates);
    printf("\n");
    printf("rejected:    %7zu\n", tally->rejected);
    printf("not JSON:    %7zu", tally->not_json.count);
    if (tally->not_json.count)
        printf(" (lines %s; first: %s)", s_lines(&tally->not_json, lines, sizeof lines),
               tally->not_json.example);
    printf("\n");
    if (resent)
        printf("resent:      %7zu requests whose reply was late\n", resent);
    if (tally->not_sent)
        printf("not sent:    %7zu from line %llu on: the intake stopped answering; import the "
               "file again once it is back\n",
               tally->not_sent, (unsigned long long)tally->first_not_sent);
    if (tally->reason_count)
        s_print_reasons(tally);
}

/* Opens FILE or standard input; *size is the file's, or 0 when not known. */
static FILE *s_open(const char *path, uint64_t *size)
{
    FILE *input = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    struct stat info;
    *size = input && fstat(fileno(input), &info) == 0 && S_ISREG(info.st_mode)
                ? (uint64_t)info.st_size
                : 0;
    if (!input)
        fprintf(stderr, "dpctl: cannot open %s: %s\n", path, strerror(errno));
    return input;
}

static int s_run(dpctl_t *self, const char *path, size_t in_flight)
{
    uint64_t size = 0;
    FILE *input = s_open(path, &size);
    if (!input)
        return DPCTL_EXIT_FAILURE;
    s_tally_t tally = {0};
    dp_client_keys_t keys;
    dp_status_t status;
    int curve = dpctl_service_keys(self, DPCTL_INTAKE, &keys, &status);
    dp_pipeline_options_t options = {
        .endpoints = dpctl_service_endpoints(self, DPCTL_INTAKE),
        .keys = curve == 1 ? &keys : NULL,
        .window = in_flight,
        .timeout_ms = (int)dp_config_get_int(self->config, "DP_TIMEOUT_MS"),
        .attempts = (int)dp_config_get_int(self->config, "DP_ATTEMPTS"),
        .reply_type = &dp__submit_enquiry_reply__descriptor,
        .done = s_done,
        .sink = &tally};
    dp_pipeline_t *pipeline = curve < 0 ? NULL : dp_pipeline_new(&options);
    dp_client_keys_free(&keys);
    dpctl_progress_t *progress = dpctl_progress_new("lines", size);
    int outcome = DPCTL_EXIT_FAILURE;
    if (curve < 0)
        dpctl_report_status(&status);
    else if (!pipeline)
        fprintf(stderr, "dpctl: cannot connect to DP_INTAKE_ENDPOINT '%s'\n",
                dpctl_service_endpoints(self, DPCTL_INTAKE));
    else if (progress) {
        s_import(pipeline, &tally, input, path, progress);
        qsort(tally.reasons, tally.reason_count, sizeof *tally.reasons, s_by_count);
        size_t resent = (size_t)dp_pipeline_stats(pipeline)->resent;
        if (self->json)
            outcome = s_print_json(&tally, resent);
        else {
            s_print_text(&tally, resent);
            outcome = DPCTL_EXIT_OK;
        }
        if (tally.failed || tally.rejected || tally.not_json.count || tally.not_sent)
            outcome = DPCTL_EXIT_FAILURE;
    }
    dpctl_progress_destroy(&progress);
    dp_pipeline_destroy(&pipeline);
    free(tally.reasons);
    if (input != stdin)
        fclose(input);
    return outcome;
}

static int s_enquiry_import(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    long long in_flight = dpctl_args_number(args, "in-flight", S_DEFAULT_IN_FLIGHT);
    if (in_flight < 1 || in_flight > S_MAX_IN_FLIGHT)
        outcome = dpctl_args_error(args, "--in-flight must be between 1 and %d, not %lld",
                                   S_MAX_IN_FLIGHT, in_flight);
    else
        outcome = s_run(self, dpctl_args_operand(args, 0), (size_t)in_flight);
    return outcome;
}

int dpctl_enquiry_import_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_spec, argc, argv, s_enquiry_import);
}
