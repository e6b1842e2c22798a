/* dpctl status: the registry's health. */
#include <inttypes.h>
#include <stdio.h>

#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_output.h"

static const dpctl_spec_t s_spec = {
    "status",
    "",
    "Ask the registry for its health; exit 0 only if it answered and its database is well.",
    0,
    0,
    NULL};

static void s_print_health(const Dp__HealthReply *health)
{
    char uptime[64], served[32];
    int64_t seconds = health->uptime_seconds;
    snprintf(uptime, sizeof uptime, "%" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02" PRId64,
             seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    snprintf(served, sizeof served, "%" PRIu64, health->requests_served);
    dpctl_print_field("service:", health->service);
    dpctl_print_field("version:", health->version);
    dpctl_print_field("uptime:", uptime);
    printf("%-13s %s%s%s\n", "database:", health->database_ok ? "ok" : "NOT OK",
           *health->database_message ? ": " : "", health->database_message);
    dpctl_print_field("requests:", served);
}

int dpctl_status_run(dpctl_t *self, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_spec, argc, argv, &outcome);
    if (!args) return outcome;
    dpctl_args_destroy(&args);
    Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
    Dp__HealthReply *health = NULL;
    outcome = dpctl_call(self, &request.base, &dp__health_reply__descriptor,
                         (ProtobufCMessage **)&health);
    if (outcome != DPCTL_EXIT_OK) return outcome;
    if (self->json)
        outcome = dpctl_json_print_message(&health->base);
    else
        s_print_health(health);
    if (outcome == DPCTL_EXIT_OK && !health->database_ok) outcome = DPCTL_EXIT_FAILURE;
    dp_message_free((ProtobufCMessage **)&health);
    return outcome;
}
