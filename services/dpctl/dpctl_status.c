/* dpctl status: the health of every service dpctl knows, or of one. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

static const dpctl_option_t s_options[] = {{"service", DPCTL_TEXT, "registry|intake|notify|report",
                                            "ask only this service (to wait for one)"},
                                           {NULL}};

static const dpctl_spec_t s_spec = {
    "status",
    "",
    "Ask each service for its health; exit 0 only if every one asked answered and its "
    "database is well.",
    0,
    0,
    s_options};

/* One service's answer. */
typedef struct {
    dpctl_service_t service; /* which */
    Dp__HealthReply *health; /* its answer, or NULL */
    dp_status_t status;      /* why there is none */
} s_answer_t;

static const char *s_uptime(int64_t seconds, char *buffer, size_t size)
{
    snprintf(buffer, size, "%" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02" PRId64, seconds / 86400,
             seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    return buffer;
}

static int s_add_row(const dpctl_t *self, dpctl_table_t *table, const s_answer_t *answer)
{
    const Dp__HealthReply *health = answer->health;
    char uptime[64], served[32], database[600];
    if (health) {
        snprintf(served, sizeof served, "%" PRIu64, health->requests_served);
        snprintf(database, sizeof database, "%s%s%s", health->database_ok ? "ok" : "NOT OK",
                 *health->database_message && !health->database_ok ? ": " : "",
                 health->database_ok ? "" : health->database_message);
    }
    const char *cells[] = {dpctl_service_name(answer->service),
                           dpctl_service_endpoints(self, answer->service),
                           health ? health->version : "-",
                           health ? s_uptime(health->uptime_seconds, uptime, sizeof uptime) : "-",
                           health ? database : "no answer",
                           health ? served : "-"};
    return dpctl_table_add(table, cells);
}

static int s_print_table(const dpctl_t *self, const s_answer_t *answers, size_t count)
{
    static const char *headers[] = {"SERVICE", "ENDPOINT", "VERSION",
                                    "UPTIME",  "DATABASE", "REQUESTS"};
    dpctl_table_t *table = dpctl_table_new(headers, 6);
    int outcome = table ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < count; i++)
        if (s_add_row(self, table, &answers[i]) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK)
        dpctl_table_print(table, stdout);
    dpctl_table_destroy(&table);
    return outcome;
}

/* [{service, endpoint, ok, health: {...} | null, error: {code, message, field} | null}] */
static int s_print_json(const dpctl_t *self, const s_answer_t *answers, size_t count)
{
    json_t *document = json_array();
    for (size_t i = 0; document && i < count; i++) {
        const s_answer_t *answer = &answers[i];
        json_t *error =
            answer->health
                ? json_null()
                : json_pack("{s:s, s:s, s:s}", "code", dp_code_name(answer->status.code), "message",
                            answer->status.message, "field", answer->status.field);
        json_array_append_new(
            document,
            json_pack("{s:s, s:s, s:b, s:o, s:o}", "service", dpctl_service_name(answer->service),
                      "endpoint", dpctl_service_endpoints(self, answer->service), "ok",
                      answer->health && answer->health->database_ok, "health",
                      answer->health ? dpctl_json_message(&answer->health->base) : json_null(),
                      "error", error));
    }
    return dpctl_json_print(&document);
}

/* Asks the services from first to last; returns an exit code. */
static int s_status(dpctl_t *self, dpctl_service_t first, dpctl_service_t last)
{
    s_answer_t answers[DPCTL_SERVICE_COUNT] = {0};
    size_t count = 0;
    int outcome = DPCTL_EXIT_OK;
    for (int service = first; service <= (int)last; service++) {
        s_answer_t *answer = &answers[count++];
        answer->service = (dpctl_service_t)service;
        Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
        if (dpctl_call_status(self, answer->service, &request.base, &dp__health_reply__descriptor,
                              (ProtobufCMessage **)&answer->health, &answer->status) != 0) {
            dpctl_report_status(&answer->status);
            outcome = DPCTL_EXIT_FAILURE;
        } else if (!answer->health->database_ok)
            outcome = DPCTL_EXIT_FAILURE;
    }
    int printed =
        self->json ? s_print_json(self, answers, count) : s_print_table(self, answers, count);
    for (size_t i = 0; i < count; i++)
        dp_message_free((ProtobufCMessage **)&answers[i].health);
    return printed != DPCTL_EXIT_OK ? printed : outcome;
}

static int s_status_command(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *name = dpctl_args_text(args, "service", NULL);
    dpctl_service_t service = DPCTL_REGISTRY;
    if (name && dpctl_service_find(name, &service) != 0) {
        char names[256];
        outcome = dpctl_args_error(args, "--service must be one of %s, not '%s'",
                                   dpctl_service_names(names, sizeof names), name);
    } else if (name)
        outcome = s_status(self, service, service);
    else
        outcome = s_status(self, 0, DPCTL_REPORT);
    return outcome;
}

int dpctl_status_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_spec, argc, argv, s_status_command);
}
