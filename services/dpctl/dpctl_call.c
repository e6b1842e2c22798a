/* The one path by which commands reach a service, and the one place that
   turns a refusal into a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl.h"
#include "dpctl_proto.h"

static dp_client_t *s_registry(dpctl_t *self, dp_status_t *status)
{
    if (!self->registry) {
        const char *endpoints = dp_config_get(self->config, "DP_REGISTRY_ENDPOINT");
        self->registry =
            dp_client_new(endpoints, (int)dp_config_get_int(self->config, "DP_TIMEOUT_MS"),
                          (int)dp_config_get_int(self->config, "DP_ATTEMPTS"));
        if (!self->registry) {
            status->code = DP__CODE__CODE_UNAVAILABLE;
            snprintf(status->message, sizeof status->message,
                     "cannot connect to DP_REGISTRY_ENDPOINT '%s'", endpoints);
            status->field[0] = '\0';
        }
    }
    return self->registry;
}

int dpctl_call_status(dpctl_t *self, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply,
                      dp_status_t *status)
{
    *reply = NULL;
    dp_client_t *client = s_registry(self, status);
    if (!client || dp_client_call(client, request, reply_type, reply, status) != 0) return -1;
    if (status->code == DP__CODE__CODE_OK) return 0;
    dp_message_free(reply);
    return -1;
}

void dpctl_report_status(const dp_status_t *status)
{
    fprintf(stderr, "dpctl: %s: %s", dp_code_name(status->code), status->message);
    if (*status->field) fprintf(stderr, " (field: %s)", status->field);
    fputc('\n', stderr);
}

int dpctl_call(dpctl_t *self, const ProtobufCMessage *request,
               const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply)
{
    dp_status_t status;
    if (dpctl_call_status(self, request, reply_type, reply, &status) == 0) return DPCTL_EXIT_OK;
    dpctl_report_status(&status);
    return DPCTL_EXIT_FAILURE;
}

/* Hands the page's items to each; returns the next token (caller frees), ""
   duplicated on the last page, or NULL when out of memory. */
static char *s_take_page(const ProtobufCMessage *reply, dpctl_item_fn *each, void *sink,
                         int *outcome)
{
    size_t count = 0;
    ProtobufCMessage **items = dpctl_field_items(reply, &count);
    for (size_t i = 0; i < count && *outcome == DPCTL_EXIT_OK; i++)
        if (each(sink, items[i]) != 0) *outcome = DPCTL_EXIT_FAILURE;
    char *token = strdup(dpctl_field_string(reply, "next_page_token"));
    if (!token) *outcome = DPCTL_EXIT_FAILURE;
    return token;
}

int dpctl_call_pages(dpctl_t *self, ProtobufCMessage *request,
                     const ProtobufCMessageDescriptor *reply_type, bool all, dpctl_item_fn *each,
                     void *sink)
{
    char *token = strdup(dpctl_field_string(request, "page_token"));
    int outcome = token ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    bool more = true;
    while (outcome == DPCTL_EXIT_OK && more) {
        dpctl_field_set_string(request, "page_token", token);
        ProtobufCMessage *reply = NULL;
        outcome = dpctl_call(self, request, reply_type, &reply);
        if (outcome != DPCTL_EXIT_OK) break;
        char *next = s_take_page(reply, each, sink, &outcome);
        dp_message_free(&reply);
        if (next && *next && strcmp(next, token) == 0) {
            fprintf(stderr, "dpctl: the service returned the same page token twice\n");
            outcome = DPCTL_EXIT_FAILURE;
        }
        more = next && *next && all;
        if (next && *next && !all)
            fprintf(stderr, "dpctl: more follow; continue with --page-token %s\n", next);
        free(token);
        token = next;
    }
    dpctl_field_set_string(request, "page_token", "");
    free(token);
    return outcome;
}
