#include "registry_server.h"

#include <stdlib.h>

#include "dp_log.h"
#include "dp_privacy.h"
#include "dp_security.h"
#include "dp_service.h"
#include "registry_db.h"
#include "registry_handlers.h"
#include "registry_service.h"

const dp_setting_t registry_settings[] = {
    {"DP_DATABASE_URL", "", "libpq connection string or URI (empty: libpq's PG* variables)"},
    {"DP_REGISTRY_ENDPOINT", "tcp://127.0.0.1:7101", "ZeroMQ endpoint to bind (ROUTER)"},
    DP_SERVICE_SETTINGS("1000"),
    DP_SECURITY_SETTINGS,
    DP_METRICS_SETTINGS("9101"),
    DP_PRIVACY_SETTINGS,
    {"DP_REGISTRY_PRIVACY_JOB_MS", "3600000",
     "how often keyed hashes are filled in and tombstones applied again", true, 1000, 86400000},
};
const size_t registry_setting_count = sizeof registry_settings / sizeof registry_settings[0];

static void s_privacy_tick(void *state)
{
    registry_privacy_job(state);
}

registry_t *registry_new(const dp_config_t *config)
{
    /* Refused before anything starts: with CURVE on, the privacy key must be a real secret. */
    if (dp_privacy_key_check(dp_config_get(config, "DP_PRIVACY_KEY"),
                             dp_config_get(config, "DP_CURVE_DIR")) != 0)
        return NULL;
    registry_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->privacy_key = dp_config_get(config, "DP_PRIVACY_KEY");
    self->db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-registry",
                         registry_statements, registry_statement_count);
    if (self->db) {
        dp_privacy_warn_default(self->privacy_key);
        self->metrics = dp_metrics_start("registry", dp_config_get(config, "DP_METRICS_ADDRESS"),
                                         dp_config_get_int(config, "DP_METRICS_PORT"));
    }
    if (!self->db || !self->metrics) {
        dp_error("cannot start: out of memory");
        registry_destroy(&self);
        return NULL;
    }
    /* The service starts even when PostgreSQL is not there yet: it waits up
       to DP_DB_WAIT_MS for it after start (then runs the privacy job once),
       and afterwards requests get UNAVAILABLE until it is back. */
    dp_server_config_t *server = &self->server;
    *server = dp_service_server_config(config, "registry", "DP_REGISTRY_ENDPOINT");
    dp_service_server_handlers(server, registry_routes, registry_route_count, self, self->db,
                               self->metrics);
    server->tick_ms = (int)dp_config_get_int(config, "DP_REGISTRY_PRIVACY_JOB_MS");
    server->on_tick = s_privacy_tick;
    return self;
}

void registry_destroy(registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    registry_t *self = *self_p;
    dp_metrics_destroy(&self->metrics);
    dp_db_destroy(&self->db);
    free(self);
    *self_p = NULL;
}

const dp_server_config_t *registry_server_config(const registry_t *self)
{
    return &self->server;
}

void registry_actor(zsock_t *pipe, void *config)
{
    registry_t *self = registry_new(config);
    dp_service_serve(pipe, self ? registry_server_config(self) : NULL);
    registry_destroy(&self);
}
