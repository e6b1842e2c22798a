#include "console_server.h"

#include <stdlib.h>
#include <string.h>

#include "console_service.h"
#include "dp_log.h"
#include "dp_service.h"

const dp_setting_t console_settings[] = {
    {"DP_DATABASE_URL", "", "libpq connection string or URI, as the role dp_console"},
    {"DP_CONSOLE_ENDPOINT", "tcp://127.0.0.1:7106",
     "ZeroMQ endpoint to bind (ROUTER), for dpctl staff"},
    {"DP_REGISTRY_ENDPOINT", "tcp://127.0.0.1:7101", "the registry"},
    {"DP_INTAKE_ENDPOINT", "tcp://127.0.0.1:7102", "the intake"},
    {"DP_NOTIFY_ENDPOINT", "tcp://127.0.0.1:7103", "notify (events, consumers, webhooks)"},
    {"DP_REPORT_ENDPOINT", "tcp://127.0.0.1:7105", "the reporting service"},
    {"DP_CONSOLE_HTTP_ADDRESS", "127.0.0.1", "IPv4 address the web pages are served on"},
    {"DP_CONSOLE_HTTP_PORT", "8081", "port of the web pages (0: any free port)", true, 0, 65535},
    {"DP_CONSOLE_HTTP_THREADS", "4", "web threads (each may wait for one service reply)", true, 1,
     64},
    {"DP_CONSOLE_HTTP_TIMEOUT", "30", "seconds a web connection may stay idle or unfinished", true,
     1, 600},
    {"DP_CONSOLE_HTTP_CONNECTIONS", "256", "web connections at once, all clients", true, 1, 10000},
    {"DP_CONSOLE_HTTP_PER_ADDRESS", "32", "web connections at once from one client address", true,
     1, 10000},
    {"DP_CONSOLE_SECURE_COOKIES", "0", "1: cookies only over HTTPS (behind a TLS proxy)", true, 0,
     1},
    {"DP_CONSOLE_IDLE_TIMEOUT_S", "1800", "a session unused this long ends", true, 1, 86400},
    {"DP_CONSOLE_ABSOLUTE_TIMEOUT_S", "43200", "a session this old ends, however used", true, 1,
     604800},
    {"DP_CONSOLE_ACCOUNT_FAILURES", "5", "failed logins of one account before it is locked", true,
     1, 1000},
    {"DP_CONSOLE_ADDRESS_FAILURES", "20", "failed logins from one address before it is refused",
     true, 1, 100000},
    {"DP_CONSOLE_LOCKOUT_S", "900", "how long a lockout lasts (and the window failures count in)",
     true, 1, 86400},
    {"DP_CONSOLE_CALL_TIMEOUT_MS", "3000", "wait for another service's reply", true, 100, 60000},
    DP_SERVICE_SETTINGS("100"),
    DP_SECURITY_SETTINGS,
    DP_METRICS_SETTINGS("9106"),
};
const size_t console_setting_count = sizeof console_settings / sizeof console_settings[0];

static const char *s_pipe_query(void *state, const char *command)
{
    console_t *self = state;
    return strcmp(command, "HTTP_PORT") == 0 ? self->port : NULL;
}

static unsigned s_uint(const dp_config_t *config, const char *name)
{
    return (unsigned)dp_config_get_int(config, name);
}

console_t *console_new(const dp_config_t *config)
{
    console_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->returned, NULL);
    self->policy = (console_policy_t){
        .idle_timeout_s = s_uint(config, "DP_CONSOLE_IDLE_TIMEOUT_S"),
        .absolute_timeout_s = s_uint(config, "DP_CONSOLE_ABSOLUTE_TIMEOUT_S"),
        .account_failures = s_uint(config, "DP_CONSOLE_ACCOUNT_FAILURES"),
        .address_failures = s_uint(config, "DP_CONSOLE_ADDRESS_FAILURES"),
        .lockout_s = s_uint(config, "DP_CONSOLE_LOCKOUT_S"),
        .secure_cookies = dp_config_get_int(config, "DP_CONSOLE_SECURE_COOKIES") == 1,
        .call_timeout_ms = (int)dp_config_get_int(config, "DP_CONSOLE_CALL_TIMEOUT_MS"),
    };
    dp_http_limits_t limits = {
        s_uint(config, "DP_CONSOLE_HTTP_TIMEOUT"), s_uint(config, "DP_CONSOLE_HTTP_CONNECTIONS"),
        s_uint(config, "DP_CONSOLE_HTTP_PER_ADDRESS"), s_uint(config, "DP_CONSOLE_HTTP_THREADS")};
    /* One worker per web thread: a thread never waits for another's. */
    self->max_workers = limits.threads;
    self->workers = calloc(self->max_workers, sizeof *self->workers);
    self->idle = calloc(self->max_workers, sizeof *self->idle);
    self->db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-console", console_statements,
                         console_statement_count);
    bool ok = self->workers && self->idle && self->db && console_auth_init() == 0 &&
              console_keys_load(self) == 0;
    self->metrics = ok ? dp_metrics_start("console", dp_config_get(config, "DP_METRICS_ADDRESS"),
                                          dp_config_get_int(config, "DP_METRICS_PORT"))
                       : NULL;
    if (!self->metrics ||
        console_http_start(self, dp_config_get(config, "DP_CONSOLE_HTTP_ADDRESS"),
                           (int)dp_config_get_int(config, "DP_CONSOLE_HTTP_PORT"), &limits) < 0) {
        console_destroy(&self);
        return NULL;
    }
    dp_server_config_t *server = &self->server;
    *server = dp_service_server_config(config, "console", "DP_CONSOLE_ENDPOINT");
    dp_service_server_handlers(server, console_routes, console_route_count, self, self->db,
                               self->metrics);
    server->pipe_query = s_pipe_query;
    return self;
}

void console_destroy(console_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    console_t *self = *self_p;
    console_http_stop(self); /* no web thread runs after this */
    console_workers_destroy(self);
    dp_metrics_destroy(&self->metrics);
    dp_db_destroy(&self->db);
    for (size_t i = 0; i < 4; i++)
        dp_client_keys_free(&self->keys[i]);
    free(self->workers);
    free(self->idle);
    pthread_cond_destroy(&self->returned);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

const dp_server_config_t *console_server_config(const console_t *self)
{
    return &self->server;
}

void console_actor(zsock_t *pipe, void *config)
{
    console_t *self = console_new(config);
    dp_service_serve(pipe, self ? console_server_config(self) : NULL);
    console_destroy(&self);
}
