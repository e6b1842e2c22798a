/* dpctl webhooks: URLs to which the notifications service POSTs each
   matching event as JSON, signed with a shared secret and a timestamp
   (DP-Signature, docs/webhooks.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_events.h"
#include "dpctl_output.h"
#include "notify.pb-c.h"

/* Longer than any secret the service accepts, so that a long file is refused there. */
enum { S_MAX_SECRET_FILE_BYTES = 4096 };

static const char *s_prefix(const char *prefix)
{
    return *prefix ? prefix : "(all)";
}

/* ---- add ---------------------------------------------------------------------- */

static const dpctl_option_t s_add_options[] = {
    {"topic", DPCTL_TEXT, "PREFIX", "only events whose type starts with PREFIX (default: all)"},
    {"secret", DPCTL_TEXT, "S", "the shared secret, 16 to 200 bytes (others can see it in ps)"},
    {"secret-file", DPCTL_TEXT, "FILE", "read the secret from the first line of FILE"},
    {NULL}};

static const dpctl_spec_t s_add_spec = {
    "webhooks add",
    "URL",
    "Add a webhook: every matching event is POSTed to URL as its proto3 JSON with the header "
    "DP-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the secret> "
    "(docs/webhooks.md shows how to verify it). URL must be https:// and its host must not "
    "resolve to a loopback, private or link-local address, unless the service's "
    "DP_WEBHOOK_ALLOW_HOSTS names the host. Give the secret with --secret or --secret-file; "
    "it is never shown again.",
    1,
    1,
    s_add_options};

/* Reads the first line of path into secret; 0, or -1 after saying why. */
static int s_read_secret(const char *path, char *secret, size_t size)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "dpctl: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    bool read = fgets(secret, (int)size, file) != NULL;
    fclose(file);
    if (!read)
        secret[0] = '\0';
    secret[strcspn(secret, "\r\n")] = '\0';
    return 0;
}

static void s_print_webhook(const Dp__Webhook *webhook)
{
    dpctl_print_fieldf("id:", "%" PRId64, webhook->id);
    dpctl_print_field("url:", webhook->url);
    dpctl_print_field("topic:", s_prefix(webhook->topic_prefix));
    dpctl_print_field("created:", webhook->created_at);
    dpctl_print_fieldf("pending:", "%" PRIu32, webhook->pending);
    dpctl_print_fieldf("parked:", "%" PRIu32, webhook->parked);
    if (webhook->delivered_seq)
        dpctl_print_fieldf("delivered:", "up to seq %" PRIu64, webhook->delivered_seq);
    else
        dpctl_print_field("delivered:", "nothing yet");
}

static int s_add(dpctl_t *self, Dp__AddWebhookRequest *request)
{
    Dp__AddWebhookReply *reply = NULL;
    int outcome = dpctl_call(self, DPCTL_NOTIFY, &request->base, &dp__add_webhook_reply__descriptor,
                             (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK && !reply->webhook)
        outcome = dpctl_events_missing("webhook");
    else if (outcome == DPCTL_EXIT_OK && self->json)
        outcome = dpctl_json_print_message(&reply->webhook->base);
    else if (outcome == DPCTL_EXIT_OK)
        s_print_webhook(reply->webhook);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

static int s_add_command(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    char secret[S_MAX_SECRET_FILE_BYTES];
    const char *file = dpctl_args_text(args, "secret-file", NULL);
    Dp__AddWebhookRequest request = DP__ADD_WEBHOOK_REQUEST__INIT;
    request.url = (char *)dpctl_args_operand(args, 0);
    request.topic_prefix = (char *)dpctl_args_text(args, "topic", "");
    request.secret = (char *)dpctl_args_text(args, "secret", NULL);
    if (request.secret && file)
        outcome = dpctl_args_error(args, "give --secret or --secret-file, not both");
    else if (!request.secret && !file)
        outcome = dpctl_args_error(args, "a secret is required: --secret S or --secret-file FILE");
    else if (file && s_read_secret(file, secret, sizeof secret) != 0)
        outcome = DPCTL_EXIT_FAILURE;
    else {
        if (file)
            request.secret = secret;
        outcome = s_add(self, &request);
    }
    memset(secret, 0, sizeof secret);
    return outcome;
}

static int s_add_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_add_spec, argc, argv, s_add_command);
}

/* ---- list --------------------------------------------------------------------- */

static const dpctl_spec_t s_list_spec = {
    "webhooks list", "", "List the webhooks, with what each has pending and parked.", 0, 0, NULL};

static int s_add_row(dpctl_listing_t *listing, const ProtobufCMessage *item)
{
    const Dp__Webhook *webhook = (const Dp__Webhook *)item;
    char id[32], pending[32], parked[32], delivered[32];
    snprintf(id, sizeof id, "%" PRId64, webhook->id);
    snprintf(pending, sizeof pending, "%" PRIu32, webhook->pending);
    snprintf(parked, sizeof parked, "%" PRIu32, webhook->parked);
    snprintf(delivered, sizeof delivered, "%" PRIu64, webhook->delivered_seq);
    const char *cells[] = {
        id,        webhook->url,       s_prefix(webhook->topic_prefix), pending, parked,
        delivered, webhook->created_at};
    return dpctl_listing_add(listing, &webhook->base, cells);
}

static int s_list(dpctl_t *self, dpctl_args_t *args)
{
    static const char *const headers[] = {"ID",     "URL",       "TOPIC",  "PENDING",
                                          "PARKED", "DELIVERED", "CREATED"};
    static const dpctl_list_view_t view = {headers, 7, s_add_row, true, "webhook"};
    Dp__ListWebhooksRequest request = DP__LIST_WEBHOOKS_REQUEST__INIT;
    return dpctl_call_list(self, DPCTL_NOTIFY, &request.base, &dp__list_webhooks_reply__descriptor,
                           &view);
}

static int s_list_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_list_spec, argc, argv, s_list);
}

/* ---- remove ------------------------------------------------------------------- */

static const dpctl_spec_t s_remove_spec = {
    "webhooks remove", "ID", "Remove a webhook: no event is POSTed to it any more.", 1, 1, NULL};

static int s_remove(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    uint64_t id = 0;
    outcome = dpctl_events_number(args, 0, "ID", &id);
    Dp__RemoveWebhookRequest request = DP__REMOVE_WEBHOOK_REQUEST__INIT;
    request.id = (int64_t)id;
    ProtobufCMessage *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_NOTIFY, &request.base,
                             &dp__remove_webhook_reply__descriptor, &reply);
    dp_message_free(&reply);
    if (outcome == DPCTL_EXIT_OK && self->json) {
        json_t *document = json_pack("{s:I, s:b}", "id", (json_int_t)request.id, "removed", 1);
        outcome = dpctl_json_print(&document);
    } else if (outcome == DPCTL_EXIT_OK)
        printf("removed webhook #%" PRId64 "\n", request.id);
    return outcome;
}

static int s_remove_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_remove_spec, argc, argv, s_remove);
}

static const dpctl_command_t s_commands[] = {
    {"add", "add a webhook: URL, with a secret", s_add_run},
    {"list", "list the webhooks", s_list_run},
    {"remove", "remove a webhook: ID", s_remove_run},
};

static const dpctl_group_t s_group = {
    "webhooks",
    "Webhooks of the notifications service ($DP_NOTIFY_ENDPOINT): each matching event is POSTed "
    "to a URL, signed with the webhook's secret. Failed deliveries are retried, then parked "
    "(see 'dpctl events parked --consumer webhook:ID').",
    s_commands, sizeof s_commands / sizeof s_commands[0], "list"};

int dpctl_webhooks_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}
