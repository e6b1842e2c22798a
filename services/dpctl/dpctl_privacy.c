/* dpctl privacy: the group's table, and a person's data: the access export
   (one JSON document for the person), erasure in both services, and the
   intake's retention run. */
#include "dpctl_privacy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dp_validate.h"
#include "dpctl_enquiry.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"
#include "privacy.pb-c.h"

static int s_export_run(dpctl_t *self, int argc, char **argv);
static int s_erase_run(dpctl_t *self, int argc, char **argv);
static int s_retention_run(dpctl_t *self, int argc, char **argv);

static const dpctl_command_t s_commands[] = {
    {"export", "everything held on a person, as one JSON document (an access request)",
     s_export_run},
    {"erase", "erase a person's data in the registry and the intake", s_erase_run},
    {"retention", "pseudonymise enquiries resolved longer ago than the retention period",
     s_retention_run},
    {"audit", "who read, exported or erased personal data, newest first", dpctl_privacy_audit_run},
};

static const dpctl_group_t s_group = {
    "privacy",
    "Data protection. A person is named by an e-mail address; the registry "
    "($DP_REGISTRY_ENDPOINT) holds contact persons, the intake ($DP_INTAKE_ENDPOINT) "
    "enquiries.",
    s_commands, sizeof s_commands / sizeof s_commands[0]};

/* Asked, and printed, in this order: contact persons, then enquiries. */
const dpctl_service_t dpctl_privacy_services[DPCTL_PRIVACY_SERVICES] = {DPCTL_REGISTRY,
                                                                        DPCTL_INTAKE};

int dpctl_privacy_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}

int dpctl_privacy_email(const dpctl_args_t *args, const char *what, const char *email)
{
    if (email && dp_valid_email(email))
        return 0;
    return dpctl_args_error(args, "%s must be an e-mail address such as name@example.org, not '%s'",
                            what, email ? email : "");
}

int dpctl_privacy_call(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply)
{
    dp_status_t status;
    if (dpctl_call_status(self, service, request, reply_type, reply, &status) == 0)
        return DPCTL_EXIT_OK;
    dpctl_report_service_status(service, &status);
    return DPCTL_EXIT_FAILURE;
}

/* Each service hashes the address with its own DP_PRIVACY_KEY; when the
   keys differ the trails of one person cannot be matched across services. */
static void s_check_keys(const char *registry_key, const char *intake_key)
{
    if (*registry_key && *intake_key && strcmp(registry_key, intake_key) != 0)
        fprintf(stderr, "dpctl: warning: the registry and the intake give this address different "
                        "subject keys: their DP_PRIVACY_KEY settings differ\n");
}

static const char *s_plural(unsigned count, const char *one, const char *many)
{
    return count == 1 ? one : many;
}

/* ---- export ----------------------------------------------------------------------- */

static const dpctl_option_t s_export_options[] = {DPCTL_PRIVACY_ACTOR_OPTION, {NULL}};

static const dpctl_spec_t s_export_spec = {
    "privacy export",
    "EMAIL",
    "Print everything the registry and the intake hold on the person with this address, as "
    "one JSON document: email, subject_key, erased, generated_at, enquiries (each with its "
    "history and notes) and contacts (each with its partner). Always JSON: it is for the "
    "person who asked. Both services record the export in their audit trails.",
    1,
    1,
    s_export_options};

/* A JSON array of the messages; NULL when out of memory. */
static json_t *s_json_messages(ProtobufCMessage *const *items, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < count; i++)
        if (json_array_append_new(array, dpctl_json_message(items[i])) != 0) {
            json_decref(array);
            array = NULL;
        }
    return array;
}

static const char *s_utc_now(char *buffer, size_t size)
{
    time_t seconds = time(NULL);
    struct tm utc;
    strftime(buffer, size, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&seconds, &utc));
    return buffer;
}

/* The document from the registry's and the intake's answers; NULL when out of memory. */
static json_t *s_export_document(const char *email, const Dp__ExportPersonalDataReply *registry,
                                 const Dp__ExportPersonalDataReply *intake)
{
    s_check_keys(registry->subject_key, intake->subject_key);
    char now[32];
    json_t *enquiries =
        s_json_messages((ProtobufCMessage *const *)intake->enquiries, intake->n_enquiries);
    json_t *contacts =
        s_json_messages((ProtobufCMessage *const *)registry->contacts, registry->n_contacts);
    json_t *document = NULL;
    if (enquiries && contacts)
        document =
            json_pack("{s:s, s:s, s:b, s:s, s:O, s:O}", "email", email, "subject_key",
                      *intake->subject_key ? intake->subject_key : registry->subject_key, "erased",
                      registry->erased || intake->erased, "generated_at",
                      s_utc_now(now, sizeof now), "enquiries", enquiries, "contacts", contacts);
    json_decref(enquiries);
    json_decref(contacts);
    return document;
}

static int s_export(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *email = dpctl_args_operand(args, 0);
    outcome = dpctl_privacy_email(args, "EMAIL", email);
    Dp__ExportPersonalDataRequest request = DP__EXPORT_PERSONAL_DATA_REQUEST__INIT;
    request.email = (char *)email;
    request.actor = (char *)dpctl_actor(self, args);
    /* A part of the export is no export: stop at the first service that fails. */
    ProtobufCMessage *replies[DPCTL_PRIVACY_SERVICES] = {NULL};
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < DPCTL_PRIVACY_SERVICES; i++)
        outcome = dpctl_privacy_call(self, dpctl_privacy_services[i], &request.base,
                                     &dp__export_personal_data_reply__descriptor, &replies[i]);
    if (outcome == DPCTL_EXIT_OK) {
        json_t *document = s_export_document(email, (const Dp__ExportPersonalDataReply *)replies[0],
                                             (const Dp__ExportPersonalDataReply *)replies[1]);
        outcome = dpctl_json_print(&document);
    }
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++)
        dp_message_free(&replies[i]);
    return outcome;
}

static int s_export_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_export_spec, argc, argv, s_export);
}

/* ---- erase ------------------------------------------------------------------------ */

static const dpctl_option_t s_erase_options[] = {
    {"reason", DPCTL_TEXT, "TEXT", "why, e.g. the request's reference (kept in the audit trails)"},
    DPCTL_PRIVACY_ACTOR_OPTION,
    {"yes", DPCTL_FLAG, NULL,
     "erase without asking (needed when standard input is not a terminal)"},
    {NULL}};

static const dpctl_spec_t s_erase_spec = {
    "privacy erase",
    "EMAIL",
    "Erase the person with this address: the registry pseudonymises their contact entries, "
    "then the intake their enquiries (names, addresses, subjects, messages and notes are "
    "replaced; rows and counts stay). Both keep a tombstone, so that the address is stored "
    "erased when it comes again. Asks for confirmation unless --yes. Prints what each erased "
    "and the subject key; exits 1 when either failed, naming it. Safe to repeat.",
    1,
    1,
    s_erase_options};

/* One service's part of an erasure. */
typedef struct {
    dpctl_service_t service;           /* who was asked */
    Dp__ErasePersonalDataReply *reply; /* its answer, or NULL */
    dp_status_t status;                /* why there is none */
} s_erasure_t;

/* Returns 0 when the operator said yes (or gave --yes), else an exit code. */
static int s_confirm(const dpctl_args_t *args, const char *email)
{
    if (dpctl_args_has(args, "yes"))
        return 0;
    if (!isatty(STDIN_FILENO))
        return dpctl_args_error(args, "standard input is not a terminal, so nobody can confirm; "
                                      "give --yes to erase without being asked");
    fprintf(stderr,
            "Erase the personal data of %s in the registry and the intake?\n"
            "This cannot be undone. Type yes to erase: ",
            email);
    fflush(stderr);
    char answer[16] = "";
    if (!fgets(answer, sizeof answer, stdin))
        answer[0] = '\0';
    answer[strcspn(answer, "\r\n")] = '\0';
    if (strcasecmp(answer, "yes") == 0 || strcasecmp(answer, "y") == 0)
        return 0;
    fprintf(stderr, "dpctl: not confirmed; nothing was erased\n");
    return DPCTL_EXIT_FAILURE;
}

static const char *s_erased_what(dpctl_service_t service, unsigned count)
{
    if (service == DPCTL_REGISTRY)
        return s_plural(count, "contact", "contacts");
    return s_plural(count, "enquiry", "enquiries");
}

/* The subject key of the first service that answered, or "". */
static const char *s_erasure_key(const s_erasure_t *parts)
{
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++)
        if (parts[i].reply)
            return parts[i].reply->subject_key;
    return "";
}

static void s_print_erasure_text(const s_erasure_t *parts)
{
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++) {
        char label[32];
        snprintf(label, sizeof label, "%s:", dpctl_service_name(parts[i].service));
        if (parts[i].reply)
            printf("%-12s %u %s erased\n", label, parts[i].reply->erased,
                   s_erased_what(parts[i].service, parts[i].reply->erased));
        else
            printf("%-12s FAILED (%s, see above)\n", label, dp_code_name(parts[i].status.code));
    }
    if (*s_erasure_key(parts))
        printf("%-12s %s\n", "subject key:", s_erasure_key(parts));
}

/* {subject_key, complete, registry: {erased, error}, intake: {erased, error}} */
static int s_print_erasure_json(const s_erasure_t *parts, bool complete)
{
    json_t *document =
        json_pack("{s:s, s:b}", "subject_key", s_erasure_key(parts), "complete", complete);
    for (size_t i = 0; document && i < DPCTL_PRIVACY_SERVICES; i++) {
        const s_erasure_t *part = &parts[i];
        json_t *error =
            part->reply ? json_null()
                        : json_pack("{s:s, s:s, s:s}", "code", dp_code_name(part->status.code),
                                    "message", part->status.message, "field", part->status.field);
        json_t *erased = part->reply ? json_integer(part->reply->erased) : json_null();
        if (json_object_set_new(document, dpctl_service_name(part->service),
                                json_pack("{s:o, s:o}", "erased", erased, "error", error)) != 0) {
            json_decref(document);
            document = NULL;
        }
    }
    return dpctl_json_print(&document);
}

/* Asks every service, also after one failed (erasure is safe to repeat, so
   whatever can be erased now should be), then prints the outcome. */
static int s_erase(dpctl_t *self, const Dp__ErasePersonalDataRequest *request)
{
    s_erasure_t parts[DPCTL_PRIVACY_SERVICES];
    bool complete = true;
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++) {
        parts[i] = (s_erasure_t){.service = dpctl_privacy_services[i]};
        if (dpctl_call_status(self, parts[i].service, &request->base,
                              &dp__erase_personal_data_reply__descriptor,
                              (ProtobufCMessage **)&parts[i].reply, &parts[i].status) != 0) {
            dpctl_report_service_status(parts[i].service, &parts[i].status);
            complete = false;
        }
    }
    if (parts[0].reply && parts[1].reply)
        s_check_keys(parts[0].reply->subject_key, parts[1].reply->subject_key);
    int outcome = self->json ? s_print_erasure_json(parts, complete) : DPCTL_EXIT_OK;
    if (!self->json)
        s_print_erasure_text(parts);
    if (!complete) {
        fprintf(stderr,
                "dpctl: the erasure is incomplete: the %s failed; run the same command "
                "again (erasing twice is safe)\n",
                parts[0].reply   ? dpctl_service_name(parts[1].service)
                : parts[1].reply ? dpctl_service_name(parts[0].service)
                                 : "registry and the intake");
        outcome = DPCTL_EXIT_FAILURE;
    }
    for (size_t i = 0; i < DPCTL_PRIVACY_SERVICES; i++)
        dp_message_free((ProtobufCMessage **)&parts[i].reply);
    return outcome;
}

static int s_erase_command(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *email = dpctl_args_operand(args, 0);
    outcome = dpctl_privacy_email(args, "EMAIL", email);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_confirm(args, email);
    Dp__ErasePersonalDataRequest request = DP__ERASE_PERSONAL_DATA_REQUEST__INIT;
    request.email = (char *)email;
    request.actor = (char *)dpctl_actor(self, args);
    request.reason = (char *)dpctl_args_text(args, "reason", "");
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_erase(self, &request);
    return outcome;
}

static int s_erase_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_erase_spec, argc, argv, s_erase_command);
}

/* ---- retention -------------------------------------------------------------------- */

static const dpctl_option_t s_retention_options[] = {
    {"dry-run", DPCTL_FLAG, NULL, "only count the enquiries that would be pseudonymised"},
    {"run", DPCTL_FLAG, NULL, "pseudonymise them now (recorded in the audit trail)"},
    DPCTL_PRIVACY_ACTOR_OPTION,
    {NULL}};

static const dpctl_spec_t s_retention_spec = {
    "privacy retention",
    "",
    "Pseudonymise the enquiries closed or rejected longer ago than the intake's retention "
    "period (DP_INTAKE_RETENTION_MONTHS), as its scheduled job does. Give exactly one of "
    "--dry-run and --run. Prints how many and the cutoff.",
    0,
    0,
    s_retention_options};

static int s_print_retention(dpctl_t *self, bool dry_run, const Dp__RunRetentionReply *reply)
{
    if (self->json) {
        json_t *document = json_pack("{s:b, s:I, s:s}", "dry_run", dry_run, "enquiries",
                                     (json_int_t)reply->enquiries, "cutoff", reply->cutoff);
        return dpctl_json_print(&document);
    }
    printf("%s %u %s resolved before %s\n", dry_run ? "would pseudonymise" : "pseudonymised",
           reply->enquiries, s_plural(reply->enquiries, "enquiry", "enquiries"), reply->cutoff);
    return DPCTL_EXIT_OK;
}

static int s_retention(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    bool dry_run = dpctl_args_has(args, "dry-run");
    if (dry_run == dpctl_args_has(args, "run"))
        outcome = dpctl_args_error(args, "give exactly one of --dry-run and --run");
    Dp__RunRetentionRequest request = DP__RUN_RETENTION_REQUEST__INIT;
    request.dry_run = dry_run;
    request.actor = (char *)dpctl_actor(self, args);
    Dp__RunRetentionReply *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_INTAKE, &request.base,
                             &dp__run_retention_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_retention(self, dry_run, reply);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

static int s_retention_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_retention_spec, argc, argv, s_retention);
}
