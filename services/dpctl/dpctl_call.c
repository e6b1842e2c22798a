/* The one path by which commands reach a service, and the one place that
   turns a refusal into a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl.h"
#include "dpctl_proto.h"

/* Which setting names each service's endpoints. */
static const struct {
    const char *name;    /* as `dpctl status` prints it and --service takes it */
    const char *setting; /* the configuration that holds its endpoints */
} s_services[DPCTL_SERVICE_COUNT] = {
    [DPCTL_REGISTRY] = {"registry", "DP_REGISTRY_ENDPOINT"},
    [DPCTL_INTAKE] = {"intake", "DP_INTAKE_ENDPOINT"},
    [DPCTL_NOTIFY] = {"notify", "DP_NOTIFY_ENDPOINT"},
    [DPCTL_REPORT] = {"report", "DP_REPORT_ENDPOINT"},
    [DPCTL_CONSOLE] = {"console", "DP_CONSOLE_ENDPOINT"},
};

const char *dpctl_service_name(dpctl_service_t service)
{
    return s_services[service].name;
}

const char *dpctl_service_endpoints(const dpctl_t *self, dpctl_service_t service)
{
    return dp_config_get(self->config, s_services[service].setting);
}

int dpctl_service_find(const char *name, dpctl_service_t *service)
{
    for (int i = 0; i < DPCTL_SERVICE_COUNT; i++)
        if (strcmp(s_services[i].name, name) == 0) {
            *service = (dpctl_service_t)i;
            return 0;
        }
    return -1;
}

const char *dpctl_service_names(char *buffer, size_t size)
{
    buffer[0] = '\0';
    for (size_t i = 0, used = 0; i < DPCTL_SERVICE_COUNT && used < size; i++) {
        int written =
            snprintf(buffer + used, size - used, "%s%s", i ? "|" : "", s_services[i].name);
        used += written > 0 ? (size_t)written : 0;
    }
    return buffer;
}

int dpctl_service_keys(const dpctl_t *self, dpctl_service_t service, dp_client_keys_t *keys,
                       dp_status_t *status)
{
    const char *curve_dir = dp_config_get(self->config, "DP_CURVE_DIR");
    const char *cert = dp_config_get(self->config, "DP_CURVE_CLIENT_CERT");
    /* dp_client_keys_load logs the file it could not read; this says what for. */
    int loaded = dp_client_keys_load(keys, curve_dir, cert, s_services[service].name);
    if (loaded < 0) {
        dp_client_keys_free(keys);
        status->code = DP__CODE__CODE_FAILED_PRECONDITION;
        snprintf(status->message, sizeof status->message,
                 "no CURVE keys for %s: DP_CURVE_DIR '%s' must hold services/%s.key and "
                 "DP_CURVE_CLIENT_CERT '%s' must be a secret certificate",
                 s_services[service].name, curve_dir, s_services[service].name, cert);
        status->field[0] = '\0';
    }
    return loaded;
}

/* The service's client, made on first use so that a command needs only the
   services it calls (and their keys). */
static dp_client_t *s_client(dpctl_t *self, dpctl_service_t service, dp_status_t *status)
{
    if (self->clients[service])
        return self->clients[service];
    dp_client_keys_t keys;
    int curve = dpctl_service_keys(self, service, &keys, status);
    if (curve < 0)
        return NULL;
    const char *endpoints = dpctl_service_endpoints(self, service);
    self->clients[service] =
        dp_client_new(endpoints, (int)dp_config_get_int(self->config, "DP_TIMEOUT_MS"),
                      (int)dp_config_get_int(self->config, "DP_ATTEMPTS"));
    if (self->clients[service] && curve == 1)
        dp_client_set_keys(self->clients[service], &keys);
    dp_client_keys_free(&keys);
    if (!self->clients[service]) {
        status->code = DP__CODE__CODE_UNAVAILABLE;
        snprintf(status->message, sizeof status->message, "cannot connect to %s '%s'",
                 s_services[service].setting, endpoints);
        status->field[0] = '\0';
    }
    return self->clients[service];
}

int dpctl_call_status(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply,
                      dp_status_t *status)
{
    *reply = NULL;
    dp_client_t *client = s_client(self, service, status);
    if (!client || dp_client_call(client, request, reply_type, reply, status) != 0)
        return -1;
    if (status->code == DP__CODE__CODE_OK)
        return 0;
    dp_message_free(reply);
    return -1;
}

/* "dpctl: [SERVICE: ]CODE: message (field: x)" on stderr. */
static void s_report(const char *service, const dp_status_t *status)
{
    fprintf(stderr, "dpctl: %s%s%s: %s", service ? service : "", service ? ": " : "",
            dp_code_name(status->code), status->message);
    if (*status->field)
        fprintf(stderr, " (field: %s)", status->field);
    fputc('\n', stderr);
}

void dpctl_report_status(const dp_status_t *status)
{
    s_report(NULL, status);
}

void dpctl_report_service_status(dpctl_service_t service, const dp_status_t *status)
{
    s_report(s_services[service].name, status);
}

int dpctl_call(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
               const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply)
{
    dp_status_t status;
    if (dpctl_call_status(self, service, request, reply_type, reply, &status) == 0)
        return DPCTL_EXIT_OK;
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
        if (each(sink, items[i]) != 0)
            *outcome = DPCTL_EXIT_FAILURE;
    char *token = strdup(dpctl_field_string(reply, "next_page_token"));
    if (!token)
        *outcome = DPCTL_EXIT_FAILURE;
    return token;
}

int dpctl_call_pages(dpctl_t *self, dpctl_service_t service, ProtobufCMessage *request,
                     const ProtobufCMessageDescriptor *reply_type, bool all, dpctl_item_fn *each,
                     void *sink)
{
    char *token = strdup(dpctl_field_string(request, "page_token"));
    int outcome = token ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    bool more = true;
    while (outcome == DPCTL_EXIT_OK && more) {
        dpctl_field_set_string(request, "page_token", token);
        ProtobufCMessage *reply = NULL;
        outcome = dpctl_call(self, service, request, reply_type, &reply);
        if (outcome != DPCTL_EXIT_OK)
            break;
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
