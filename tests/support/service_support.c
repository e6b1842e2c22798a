#include "service_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dp_config.h"
#include "dp_server.h"
#include "intake_server.h"
#include "notify_server.h"
#include "registry_server.h"
#include "report_server.h"

enum { DEFAULT_TIMEOUT_MS = 15000 };

/* What differs between the four services when they are started in process. */
typedef struct {
    const char *name;             /* log name and certificate name */
    zactor_fn *actor;             /* the service's actor */
    const dp_setting_t *settings; /* its settings table */
    const size_t *setting_count;  /* rows in settings */
    const char *const *base;      /* what every test needs, "NAME", "value", ..., NULL */
} tf_description_t;

static const char *const s_registry_base[] = {"DP_REGISTRY_ENDPOINT", "tcp://127.0.0.1:*", NULL};
static const char *const s_intake_base[] = {"DP_INTAKE_ENDPOINT", "tcp://127.0.0.1:*", NULL};
static const char *const s_notify_base[] = {"DP_NOTIFY_ENDPOINT", "tcp://127.0.0.1:*",
                                            "DP_NOTIFY_PUB_ENDPOINT", "tcp://127.0.0.1:*", NULL};
/* The dashboard on a free port; a test's database is there at once, but a
   busy machine may be slow to answer the first connection. */
static const char *const s_report_base[] = {"DP_REPORT_ENDPOINT",
                                            "tcp://127.0.0.1:*",
                                            "DP_REPORT_HTTP_PORT",
                                            "0",
                                            "DP_DB_WAIT_MS",
                                            "10000",
                                            NULL};

static const tf_description_t s_descriptions[TF_SERVICE_COUNT] = {
    [TF_REGISTRY] = {"registry", registry_actor, registry_settings, &registry_setting_count,
                     s_registry_base},
    [TF_INTAKE] = {"intake", intake_actor, intake_settings, &intake_setting_count, s_intake_base},
    [TF_NOTIFY] = {"notify", notify_actor, notify_settings, &notify_setting_count, s_notify_base},
    [TF_REPORT] = {"report", report_actor, report_settings, &report_setting_count, s_report_base},
};

struct _tf_service_t {
    tf_kind_t kind;      /* which service */
    dp_config_t *config; /* its settings; must outlive the actor */
    zactor_t *actor;     /* the service's actor */
    char *endpoint;      /* where it listens */
    char *pub_endpoint;  /* notify's PUB, else NULL */
    int http_port;       /* report's dashboard, else 0 */
    dp_client_t *client; /* the tests' client, made at its first use */
    int timeout_ms;      /* the client's wait per request */
};

const char *tf_kind_name(tf_kind_t kind)
{
    return kind < TF_SERVICE_COUNT ? s_descriptions[kind].name : "?";
}

/* Sets "NAME", "value" pairs; false (after printing why) when one is refused. */
static bool s_set_all(dp_config_t *config, const char *service, const char *const *pairs)
{
    for (const char *const *pair = pairs; pair && pair[0]; pair += 2)
        if (dp_config_set(config, pair[0], pair[1])) {
            fprintf(stderr, "cannot set %s=%s for the %s\n", pair[0], pair[1], service);
            return false;
        }
    return true;
}

tf_service_t *tf_service_start_with(tf_kind_t kind, const char *database_url,
                                    const char *const *defaults, const char *const *settings)
{
    assert_true(kind < TF_SERVICE_COUNT);
    const tf_description_t *description = &s_descriptions[kind];
    tf_service_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->kind = kind;
    self->timeout_ms = DEFAULT_TIMEOUT_MS;
    self->config = dp_config_new(description->name, "service under test", description->settings,
                                 *description->setting_count);
    if (!self->config || dp_config_set(self->config, "DP_DATABASE_URL", database_url) ||
        !s_set_all(self->config, description->name, description->base) ||
        !s_set_all(self->config, description->name, defaults) ||
        !s_set_all(self->config, description->name, settings)) {
        fprintf(stderr, "cannot configure the %s (see above)\n", description->name);
        tf_service_stop(&self);
        return NULL;
    }
    self->actor = dp_server_start(description->actor, self->config, &self->endpoint);
    if (!self->actor) {
        fprintf(stderr, "the %s actor did not start\n", description->name);
        tf_service_stop(&self);
        return NULL;
    }
    /* Asked once, while nothing else talks to the pipe; the wrappers that
       need them check them. */
    if (kind == TF_NOTIFY)
        self->pub_endpoint = tf_service_ask(self, "PUB_ENDPOINT");
    if (kind == TF_REPORT) {
        char *port = tf_service_ask(self, "HTTP_PORT");
        self->http_port = port ? atoi(port) : 0;
        zstr_free(&port);
    }
    return self;
}

tf_service_t *tf_service_start(tf_kind_t kind, const char *database_url,
                               const char *const *settings)
{
    return tf_service_start_with(kind, database_url, NULL, settings);
}

void tf_service_stop(tf_service_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tf_service_t *self = *self_p;
    dp_client_destroy(&self->client);
    zactor_destroy(&self->actor);
    zstr_free(&self->endpoint);
    zstr_free(&self->pub_endpoint);
    dp_config_destroy(&self->config);
    free(self);
    *self_p = NULL;
}

const char *tf_service_name(const tf_service_t *self)
{
    return tf_kind_name(self->kind);
}

const char *tf_service_endpoint(const tf_service_t *self)
{
    return self->endpoint;
}

const char *tf_service_pub_endpoint(const tf_service_t *self)
{
    return self->pub_endpoint;
}

int tf_service_http_port(const tf_service_t *self)
{
    return self->http_port;
}

char *tf_service_ask(tf_service_t *self, const char *command)
{
    zstr_send(self->actor, command);
    return zstr_recv(self->actor);
}

/* The client is made at its first use, not at the start: a test with CURVE
   on talks through clients of its own, and a connection without keys
   would only add refused handshakes to the log it reads. */
dp_client_t *tf_service_client(tf_service_t *self)
{
    if (!self->client) {
        self->client = dp_client_new(self->endpoint, self->timeout_ms, 1);
        if (!self->client)
            fail_msg("cannot connect a client to %s", self->endpoint);
    }
    return self->client;
}

void tf_service_set_timeout(tf_service_t *self, int timeout_ms)
{
    self->timeout_ms = timeout_ms;
    dp_client_destroy(&self->client);
}

ProtobufCMessage *tf_call(tf_service_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status)
{
    ProtobufCMessage *reply = NULL;
    if (dp_client_call(tf_service_client(self), request, reply_type, &reply, status) != 0)
        fail_msg("%s got no reply from the %s: %s", request->descriptor->name,
                 tf_kind_name(self->kind), status->message);
    if (status->code != DP__CODE__CODE_OK)
        dp_message_free(&reply);
    return reply;
}
