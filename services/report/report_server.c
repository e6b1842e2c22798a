#include "report_server.h"

#include <stdlib.h>
#include <string.h>

#include "dp_security.h"
#include "dp_service.h"
#include "report_db.h"
#include "report_service.h"

const dp_setting_t report_settings[] = {
    {"DP_DATABASE_URL", "", "libpq connection string or URI, as the read-only role dp_report"},
    {"DP_REPORT_ENDPOINT", "tcp://127.0.0.1:7105", "ZeroMQ endpoint to bind (ROUTER)"},
    {"DP_REPORT_HTTP_ADDRESS", "127.0.0.1", "IPv4 address the dashboard listens on"},
    {"DP_REPORT_HTTP_PORT", "8080", "dashboard port (0: any free port)", true, 0, 65535},
    {"DP_REPORT_HTTP_TIMEOUT", "10", "seconds a dashboard connection may stay idle or unfinished",
     true, 1, 600},
    {"DP_REPORT_HTTP_CONNECTIONS", "256", "dashboard connections at once, all clients", true, 1,
     10000},
    {"DP_REPORT_HTTP_PER_ADDRESS", "16", "dashboard connections at once from one client address",
     true, 1, 10000},
    DP_SERVICE_SETTINGS("1000"),
    DP_SECURITY_SETTINGS,
    DP_METRICS_SETTINGS("9105"),
};
const size_t report_setting_count = sizeof report_settings / sizeof report_settings[0];

static const char *s_pipe_query(void *state, const char *command)
{
    report_t *self = state;
    return strcmp(command, "HTTP_PORT") == 0 ? self->port : NULL;
}

report_t *report_new(const dp_config_t *config)
{
    report_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    const char *url = dp_config_get(config, "DP_DATABASE_URL");
    self->db = dp_db_new(url, "dp-report", report_statements, report_statement_count);
    dp_http_limits_t limits = {(unsigned)dp_config_get_int(config, "DP_REPORT_HTTP_TIMEOUT"),
                               (unsigned)dp_config_get_int(config, "DP_REPORT_HTTP_CONNECTIONS"),
                               (unsigned)dp_config_get_int(config, "DP_REPORT_HTTP_PER_ADDRESS")};
    self->http =
        self->db ? report_http_start(url, dp_config_get(config, "DP_REPORT_HTTP_ADDRESS"),
                                     (int)dp_config_get_int(config, "DP_REPORT_HTTP_PORT"), &limits)
                 : NULL;
    self->metrics = dp_metrics_start("report", dp_config_get(config, "DP_METRICS_ADDRESS"),
                                     dp_config_get_int(config, "DP_METRICS_PORT"));
    if (!self->http || !self->metrics) {
        report_destroy(&self);
        return NULL;
    }
    snprintf(self->port, sizeof self->port, "%d", report_http_port(self->http));
    dp_server_config_t *server = &self->server;
    *server = dp_service_server_config(config, "report", "DP_REPORT_ENDPOINT");
    dp_service_server_handlers(server, report_routes, report_route_count, self, self->db,
                               self->metrics);
    server->pipe_query = s_pipe_query;
    return self;
}

void report_destroy(report_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_t *self = *self_p;
    dp_metrics_destroy(&self->metrics);
    report_http_stop(&self->http);
    dp_db_destroy(&self->db);
    free(self);
    *self_p = NULL;
}

const dp_server_config_t *report_server_config(const report_t *self)
{
    return &self->server;
}

void report_actor(zsock_t *pipe, void *config)
{
    report_t *self = report_new(config);
    dp_service_serve(pipe, self ? report_server_config(self) : NULL);
    report_destroy(&self);
}
