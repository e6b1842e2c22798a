/* Pages for admins: staff accounts (the same functions as dpctl staff),
   and the event stream's operations (parked events and webhook deliveries
   with replay, consumers), asked of notify. */
#include <inttypes.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "console_html.h"
#include "notify.pb-c.h"

static void s_account_row(console_page_t *page, const Dp__StaffAccount *account)
{
    console_put(page, "<tr><td>");
    console_esc(page, account->login);
    console_put(page, "</td><td>");
    console_esc(page, account->name);
    console_put(page, "</td><td>%s</td><td>%s</td><td>",
                account->role == DP__STAFF_ROLE__STAFF_ROLE_ADMIN ? TXT->role_admin
                                                                  : TXT->role_agent,
                account->disabled ? TXT->disabled : TXT->enabled);
    console_time(page, account->last_login_at);
    console_put(page, "</td><td>");
    if (*account->locked_until)
        console_time(page, account->locked_until);
    else
        console_put(page, "-");
    console_put(page, "</td><td>%u</td></tr>\n", account->active_sessions);
}

console_result_t console_page_admin_staff(console_request_t *request)
{
    dp_arena_t *arena = dp_arena_new();
    Dp__StaffAccount **accounts = NULL;
    size_t count = 0;
    if (!arena || console_db_list_staff(request->worker->db, arena, "", &request->console->policy,
                                        &accounts, &count) < 0) {
        dp_arena_destroy(&arena);
        return console_page_failure(request, NULL);
    }
    console_page_t page;
    console_result_t result = MHD_NO;
    if (console_page_begin(&page, request, TXT->staff_title, "admin")) {
        const char *columns[] = {TXT->login_name, TXT->person_name,  TXT->role,     TXT->state,
                                 TXT->last_login, TXT->locked_until, TXT->sessions, NULL};
        console_table_begin(&page, "staff", count, TXT->accounts, columns);
        for (size_t i = 0; i < count; i++)
            s_account_row(&page, accounts[i]);
        console_table_end(&page);
        console_put(&page, "<h2>%s</h2>\n", TXT->add_account);
        console_form_begin(&page, "/admin/staff", "staff-add-form");
        console_put(&page, "<input type=\"hidden\" name=\"action\" value=\"add\">\n");
        console_input(&page, "login", TXT->login_name, "text", "", true);
        console_input(&page, "name", TXT->person_name, "text", "", true);
        static const char *const roles[] = {"agent", "admin"};
        const char *role_labels[] = {TXT->role_agent, TXT->role_admin};
        console_select(&page, "role", TXT->role, roles, role_labels, 2, "agent");
        console_input(&page, "password", TXT->new_password, "password", "", true);
        console_form_end(&page, TXT->add_account);

        console_put(&page, "<h2>%s</h2>\n", TXT->change_account);
        console_form_begin(&page, "/admin/staff", "staff-change-form");
        console_input(&page, "login", TXT->login_name, "text", "", true);
        static const char *const actions[] = {"disable", "enable", "reset"};
        const char *action_labels[] = {TXT->disable_account, TXT->enable_account,
                                       TXT->reset_password};
        console_select(&page, "action", TXT->action, actions, action_labels, 3, "disable");
        console_input(&page, "password", TXT->new_password_reset, "password", "", false);
        console_form_end(&page, TXT->apply);

        result = console_page_end(&page, MHD_HTTP_OK);
    }
    dp_arena_destroy(&arena);
    return result;
}

console_result_t console_post_admin_staff(console_request_t *request)
{
    const char *action = console_field(request, "action");
    const char *login = console_field(request, "login");
    dp_db_t *db = request->worker->db;
    dp_status_t status = {.code = DP__CODE__CODE_OK};
    int outcome;
    if (strcmp(action, "add") == 0) {
        Dp__StaffRole role = strcmp(console_field(request, "role"), "admin") == 0
                                 ? DP__STAFF_ROLE__STAFF_ROLE_ADMIN
                                 : DP__STAFF_ROLE__STAFF_ROLE_AGENT;
        outcome =
            console_staff_add(db, request->account.name, login, console_field(request, "name"),
                              role, console_field(request, "password"), &status);
    } else if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0)
        outcome = console_staff_disable(db, request->account.name, login,
                                        strcmp(action, "enable") == 0, &status);
    else if (strcmp(action, "reset") == 0)
        outcome = console_staff_reset(db, request->account.name, login,
                                      console_field(request, "password"), &status);
    else
        outcome =
            dp_status_set(&status, DP__CODE__CODE_INVALID_ARGUMENT, "action", TXT->unknown_action);
    if (outcome < 0)
        return console_page_failure(request, &status);
    return console_redirect(request, "/admin/staff?done=saved");
}

/* ---- the event stream ------------------------------------------------------------------ */

static void s_parked(console_page_t *page, const Dp__ListParkedReply *parked)
{
    const char *columns[] = {TXT->consumer,   TXT->event,  TXT->attempts, TXT->parked_at,
                             TXT->last_error, TXT->action, NULL};
    console_put(page, "<h2>%s</h2>\n", TXT->parked_title);
    console_table_begin(page, "parked", parked->n_parked, TXT->parked_events, columns);
    for (size_t i = 0; i < parked->n_parked; i++) {
        const Dp__ParkedEvent *one = parked->parked[i];
        char form_id[32];
        snprintf(form_id, sizeof form_id, "replay-%zu", i);
        console_put(page, "<tr><td>");
        console_esc(page, one->consumer);
        console_put(page, "</td><td>%" PRIu64 " ", one->event ? one->event->seq : 0);
        console_esc(page, one->event ? one->event->type : "");
        console_put(page, "</td><td>%u</td><td>", one->attempts);
        console_time(page, one->parked_at);
        console_put(page, "</td><td>");
        console_esc(page, one->last_error);
        console_put(page, "</td><td>");
        console_form_begin(page, "/admin/events", form_id);
        console_put(page, "<input type=\"hidden\" name=\"consumer\" value=\"");
        console_esc(page, one->consumer);
        console_put(page, "\"><input type=\"hidden\" name=\"seq\" value=\"%" PRIu64 "\">\n",
                    one->event ? one->event->seq : 0);
        console_form_end(page, TXT->replay);
        console_put(page, "</td></tr>\n");
    }
    console_table_end(page);
}

static void s_consumers(console_page_t *page, const Dp__ListConsumersReply *consumers)
{
    const char *columns[] = {TXT->consumer,  TXT->topic,         TXT->lag,
                             TXT->in_flight, TXT->parked_events, NULL};
    console_put(page, "<h2>%s</h2>\n", TXT->consumers_title);
    console_table_begin(page, "consumers", 0, NULL, columns);
    for (size_t i = 0; i < consumers->n_consumers; i++) {
        const Dp__Consumer *consumer = consumers->consumers[i];
        console_put(page, "<tr><td>");
        console_esc(page, consumer->name);
        console_put(page, "</td><td>");
        console_esc(page, consumer->topic_prefix);
        console_put(page, "</td><td>%" PRIu64 "</td><td>%u</td><td>%u</td></tr>\n", consumer->lag,
                    consumer->in_flight, consumer->parked);
    }
    console_table_end(page);
}

static void s_webhooks(console_page_t *page, const Dp__ListWebhooksReply *webhooks)
{
    const char *columns[] = {
        "#", TXT->url, TXT->topic, TXT->pending, TXT->parked_events, TXT->delivered_up_to, NULL};
    console_put(page, "<h2>%s</h2>\n", TXT->webhooks_title);
    console_table_begin(page, "webhooks", 0, NULL, columns);
    for (size_t i = 0; i < webhooks->n_webhooks; i++) {
        const Dp__Webhook *webhook = webhooks->webhooks[i];
        console_put(page, "<tr><td>%" PRId64 "</td><td>", webhook->id);
        console_esc(page, webhook->url);
        console_put(page, "</td><td>");
        console_esc(page, webhook->topic_prefix);
        console_put(page, "</td><td>%u</td><td>%u</td><td>%" PRIu64 "</td></tr>\n",
                    webhook->pending, webhook->parked, webhook->delivered_seq);
    }
    console_table_end(page);
}

console_result_t console_page_admin_events(console_request_t *request)
{
    Dp__ListParkedRequest ask_parked = DP__LIST_PARKED_REQUEST__INIT;
    Dp__ListConsumersRequest ask_consumers = DP__LIST_CONSUMERS_REQUEST__INIT;
    Dp__ListWebhooksRequest ask_webhooks = DP__LIST_WEBHOOKS_REQUEST__INIT;
    Dp__ListParkedReply *parked = NULL;
    Dp__ListConsumersReply *consumers = NULL;
    Dp__ListWebhooksReply *webhooks = NULL;
    dp_status_t status;
    if (console_call(request, CONSOLE_NOTIFY, &ask_parked.base, &dp__list_parked_reply__descriptor,
                     (ProtobufCMessage **)&parked, &status) < 0 ||
        console_call(request, CONSOLE_NOTIFY, &ask_consumers.base,
                     &dp__list_consumers_reply__descriptor, (ProtobufCMessage **)&consumers,
                     &status) < 0 ||
        console_call(request, CONSOLE_NOTIFY, &ask_webhooks.base,
                     &dp__list_webhooks_reply__descriptor, (ProtobufCMessage **)&webhooks,
                     &status) < 0) {
        dp_message_free((ProtobufCMessage **)&parked);
        dp_message_free((ProtobufCMessage **)&consumers);
        return console_page_failure(request, &status);
    }
    console_page_t page;
    console_result_t result = MHD_NO;
    if (console_page_begin(&page, request, TXT->events_title, "admin")) {
        s_parked(&page, parked);
        s_consumers(&page, consumers);
        s_webhooks(&page, webhooks);
        result = console_page_end(&page, MHD_HTTP_OK);
    }
    dp_message_free((ProtobufCMessage **)&parked);
    dp_message_free((ProtobufCMessage **)&consumers);
    dp_message_free((ProtobufCMessage **)&webhooks);
    return result;
}

console_result_t console_post_admin_events(console_request_t *request)
{
    Dp__ReplayParkedRequest replay = DP__REPLAY_PARKED_REQUEST__INIT;
    replay.consumer = (char *)console_field(request, "consumer");
    replay.seq = strtoull(console_field(request, "seq"), NULL, 10);
    Dp__ReplayParkedReply *reply = NULL;
    dp_status_t status;
    if (console_call(request, CONSOLE_NOTIFY, &replay.base, &dp__replay_parked_reply__descriptor,
                     (ProtobufCMessage **)&reply, &status) < 0)
        return console_page_failure(request, &status);
    dp_message_free((ProtobufCMessage **)&reply);
    return console_redirect(request, "/admin/events?done=replayed");
}
