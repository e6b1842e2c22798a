/* The other services, reached only over ZeroMQ as a `frontend` client: each
   request names the signed-in person (Request.on_behalf_of), so the
   services record "<person> via <console's certificate name>". A web
   thread borrows a worker (a database connection and one client per
   service) for one request and gives it back. */
#include <stdlib.h>
#include <string.h>

#include "console_service.h"
#include "dp_log.h"

static const char *s_peer_names[] = {"registry", "intake", "notify", "report"};
static const char *s_peer_settings[] = {"DP_REGISTRY_ENDPOINT", "DP_INTAKE_ENDPOINT",
                                        "DP_NOTIFY_ENDPOINT", "DP_REPORT_ENDPOINT"};

int console_keys_load(console_t *console)
{
    const char *curve_dir = dp_config_get(console->config, "DP_CURVE_DIR");
    const char *cert = dp_config_get(console->config, "DP_CURVE_CLIENT_CERT");
    for (size_t i = 0; i < 4; i++)
        if (dp_client_keys_load(&console->keys[i], curve_dir, cert, s_peer_names[i]) < 0) {
            dp_error("cannot load the keys to reach the %s", s_peer_names[i]);
            return -1;
        }
    return 0;
}

static void s_worker_destroy(console_worker_t **worker_p)
{
    console_worker_t *worker = *worker_p;
    if (!worker)
        return;
    dp_db_destroy(&worker->db);
    dp_client_destroy(&worker->registry);
    dp_client_destroy(&worker->intake);
    dp_client_destroy(&worker->notify);
    dp_client_destroy(&worker->report);
    free(worker);
    *worker_p = NULL;
}

static dp_client_t **s_client(console_worker_t *worker, console_peer_t peer)
{
    switch (peer) {
    case CONSOLE_REGISTRY:
        return &worker->registry;
    case CONSOLE_INTAKE:
        return &worker->intake;
    case CONSOLE_NOTIFY:
        return &worker->notify;
    default:
        return &worker->report;
    }
}

static console_worker_t *s_worker_new(console_t *console)
{
    console_worker_t *worker = calloc(1, sizeof *worker);
    if (!worker)
        return NULL;
    worker->db = dp_db_new(dp_config_get(console->config, "DP_DATABASE_URL"), "dp-console",
                           console_statements, console_statement_count);
    bool ok = worker->db != NULL;
    for (console_peer_t peer = CONSOLE_REGISTRY; ok && peer <= CONSOLE_REPORT; peer++) {
        /* One attempt: a person waiting at a page is better told at once
           that a service is away than made to wait for retries. */
        dp_client_t *client = dp_client_new(dp_config_get(console->config, s_peer_settings[peer]),
                                            console->policy.call_timeout_ms, 1);
        if (client)
            dp_client_set_keys(client, &console->keys[peer]);
        *s_client(worker, peer) = client;
        ok = client != NULL;
    }
    if (!ok)
        s_worker_destroy(&worker);
    return worker;
}

console_worker_t *console_worker_take(console_t *console)
{
    pthread_mutex_lock(&console->lock);
    console_worker_t *worker = NULL;
    while (!worker) {
        if (console->idle_count > 0)
            worker = console->idle[--console->idle_count];
        else if (console->worker_count < console->max_workers) {
            worker = s_worker_new(console);
            if (!worker)
                break;
            console->workers[console->worker_count++] = worker;
        } else
            pthread_cond_wait(&console->returned, &console->lock);
    }
    pthread_mutex_unlock(&console->lock);
    return worker;
}

void console_worker_give(console_t *console, console_worker_t *worker)
{
    if (!worker)
        return;
    pthread_mutex_lock(&console->lock);
    console->idle[console->idle_count++] = worker;
    pthread_cond_signal(&console->returned);
    pthread_mutex_unlock(&console->lock);
}

void console_workers_destroy(console_t *console)
{
    for (size_t i = 0; i < console->worker_count; i++)
        s_worker_destroy(&console->workers[i]);
    console->worker_count = console->idle_count = 0;
}

int console_call(console_request_t *request, console_peer_t peer, const ProtobufCMessage *message,
                 const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply_out,
                 dp_status_t *status)
{
    dp_client_t *client = *s_client(request->worker, peer);
    dp_client_set_on_behalf_of(client, request->person);
    int outcome = dp_client_call(client, message, reply_type, reply_out, status);
    if (outcome == 0 && status->code != DP__CODE__CODE_OK) {
        dp_message_free(reply_out);
        return -1;
    }
    return outcome;
}
