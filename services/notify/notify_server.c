#include "notify_server.h"

#include <stdlib.h>
#include <string.h>

#include "dp_log.h"
#include "dp_security.h"
#include "dp_service.h"
#include "notify_db.h"
#include "notify_service.h"

const dp_setting_t notify_settings[] = {
    {"DP_DATABASE_URL", "", "libpq connection string or URI (empty: libpq's PG* variables)"},
    {"DP_NOTIFY_ENDPOINT", "tcp://127.0.0.1:7103",
     "ZeroMQ endpoint to bind (ROUTER: replay, "
     "consumers, webhooks)"},
    {"DP_NOTIFY_PUB_ENDPOINT", "tcp://127.0.0.1:7104",
     "ZeroMQ endpoint to bind (PUB: live events)"},
    DP_SERVICE_SETTINGS("1000"),
    {"DP_NOTIFY_POLL_MS", "500", "relay poll interval (LISTEN/NOTIFY wakes it sooner)", true, 10,
     60000},
    {"DP_NOTIFY_RELAY_BATCH", "1000", "outbox rows moved per outbox per transaction", true, 1,
     100000},
    {"DP_NOTIFY_PUB_HWM", "100000", "events queued per subscriber before PUB drops", true, 100,
     10000000},
    {"DP_CONSUMER_ACK_TIMEOUT_MS", "30000", "default redelivery timeout of a consumer", true, 10,
     86400000},
    {"DP_CONSUMER_MAX_ATTEMPTS", "5", "default deliveries before an event is parked", true, 1,
     1000},
    {"DP_WEBHOOK_TIMEOUT_MS", "5000", "per webhook POST", true, 100, 120000},
    {"DP_WEBHOOK_BACKOFF_MS", "1000", "first retry delay; doubles on each failure", true, 10,
     3600000},
    {"DP_WEBHOOK_MAX_ATTEMPTS", "8", "POSTs before a delivery is parked", true, 1, 100},
    {"DP_WEBHOOK_ALLOW_HOSTS", "",
     "hosts (host or host:port, comma-separated) webhooks may "
     "target although they resolve to loopback, private or "
     "link-local addresses, and over http (docs/webhooks.md)"},
    DP_SECURITY_SETTINGS,
    DP_METRICS_SETTINGS("9103"),
};
const size_t notify_setting_count = sizeof notify_settings / sizeof notify_settings[0];

static const char *s_pipe_query(void *state, const char *command)
{
    notify_t *self = state;
    return strcmp(command, "PUB_ENDPOINT") == 0 ? self->pub_endpoint : NULL;
}

/* Subscribers only send subscriptions: a flag byte and the topic, or the
   ZMTP 3.1 SUBSCRIBE command ("\x09SUBSCRIBE" + topic). libzmq refuses a
   message over ZMQ_MAXMSGSIZE by dropping that connection before anything
   of it is stored, and subscriptions are what a subscriber makes the PUB
   hold (libzmq keeps each in a trie of about 40 bytes per topic byte: 5,000
   of 2 KB made notify hold 64 MB). Without CURVE the bound is a topic of
   MAX_TOPIC_BYTES (no event type is longer; proto/events.proto). With
   CURVE the same limit also applies to the handshake, whose INITIATE is
   about 280 bytes, so it is CURVE_MAX_FRAME_BYTES (a topic of about 360
   bytes in its encrypted frame). A count per peer cannot be bounded with
   libzmq's PUB or XPUB (no handle on the peer, and in manual mode libzmq
   keeps every subscription a second time whatever the application
   decides), so only the roles that read events pass the handshake, and
   freed memory is given back (notify_relay.c). */
enum {
    MAX_TOPIC_BYTES = 64,
    PLAIN_MAX_FRAME_BYTES = 1 + 9 + MAX_TOPIC_BYTES,
    CURVE_MAX_FRAME_BYTES = 400
};

zsock_t *notify_pub_new(notify_t *notify)
{
    zsock_t *pub = zsock_new(ZMQ_PUB);
    if (!pub)
        return NULL;
    zsock_set_sndhwm(pub, notify->pub_hwm);
    zsock_set_maxmsgsize(pub, *notify->curve_dir ? CURVE_MAX_FRAME_BYTES : PLAIN_MAX_FRAME_BYTES);
    zsock_set_linger(pub, 0);
    if (dp_security_server_roles(pub, notify->curve_dir, "notify", "dp-events",
                                 DP_ROLE_CONSUMER | DP_ROLE_STAFF | DP_ROLE_SERVICE |
                                     DP_ROLE_FRONTEND) != 0) {
        zsock_destroy(&pub);
        return NULL;
    }
    /* Read once the handler holds the store, and before the socket is
       bound: no peer can have passed an older store's handshake. */
    notify->pub_generation = dp_security_key_generation(notify->curve_dir);
    return pub;
}

static void s_pub_destroy(notify_t *notify)
{
    if (!notify->pub)
        return;
    zsock_destroy(&notify->pub);
    notify->pub_bound = false;
    if (*notify->curve_dir)
        dp_security_server_done(notify->curve_dir);
}

void notify_pub_check(notify_t *notify)
{
    if (*notify->curve_dir && notify->pub &&
        dp_security_key_generation(notify->curve_dir) != notify->pub_generation) {
        dp_warning("audit: a key left the key store: every event subscriber is dropped and "
                   "must pass the handshake again (they repair any gap by replay)");
        s_pub_destroy(notify);
    }
    if (!notify->pub)
        notify->pub = notify_pub_new(notify);
    /* The old socket's port is released by libzmq's I/O thread a moment
       after it is closed: until then binding fails, and is tried again. */
    if (notify->pub && !notify->pub_bound && notify->pub_endpoint)
        notify->pub_bound = zsock_bind(notify->pub, "%s", notify->pub_endpoint) >= 0;
}

notify_t *notify_new(const dp_config_t *config)
{
    notify_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->poll_ms = (int)dp_config_get_int(config, "DP_NOTIFY_POLL_MS");
    self->relay_batch = (int)dp_config_get_int(config, "DP_NOTIFY_RELAY_BATCH");
    self->default_ack_timeout_ms = (int)dp_config_get_int(config, "DP_CONSUMER_ACK_TIMEOUT_MS");
    self->default_max_attempts = (int)dp_config_get_int(config, "DP_CONSUMER_MAX_ATTEMPTS");
    self->webhook_allow_hosts = dp_config_get(config, "DP_WEBHOOK_ALLOW_HOSTS");
    self->pub_hwm = (int)dp_config_get_int(config, "DP_NOTIFY_PUB_HWM");
    const char *url = dp_config_get(config, "DP_DATABASE_URL");
    self->db = dp_db_new(url, "dp-notify", notify_statements, notify_statement_count);
    self->relay_db = dp_db_new(url, "dp-notify-relay", notify_statements, notify_statement_count);
    const char *pub_endpoint = dp_config_get(config, "DP_NOTIFY_PUB_ENDPOINT");
    const char *curve_dir = dp_config_get(config, "DP_CURVE_DIR");
    self->curve_dir = curve_dir ? curve_dir : "";
    self->pub = notify_pub_new(self);
    self->metrics = dp_metrics_start("notify", dp_config_get(config, "DP_METRICS_ADDRESS"),
                                     dp_config_get_int(config, "DP_METRICS_PORT"));
    if (self->pub)
        self->pub_bound = zsock_bind(self->pub, "%s", pub_endpoint) >= 0;
    if (!self->db || !self->relay_db || !self->pub || !self->metrics || !self->pub_bound) {
        dp_error("cannot start: cannot bind %s or out of memory", pub_endpoint);
        notify_destroy(&self);
        return NULL;
    }
    self->pub_endpoint = zsock_last_endpoint(self->pub);
    dp_info("publishing live events on %s", self->pub_endpoint ? self->pub_endpoint : "?");
    self->webhooks = zactor_new(notify_webhook_actor, (void *)config);
    dp_server_config_t *server = &self->server;
    *server = dp_service_server_config(config, "notify", "DP_NOTIFY_ENDPOINT");
    dp_service_server_handlers(server, notify_routes, notify_route_count, self, self->db,
                               self->metrics);
    server->tick_ms = 50;
    server->on_tick = notify_relay_tick;
    server->extra_fd = notify_relay_fd;
    server->on_extra_fd = notify_relay_wake;
    server->pipe_query = s_pipe_query;
    return self;
}

void notify_destroy(notify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    notify_t *self = *self_p;
    zactor_destroy(&self->webhooks);
    dp_metrics_destroy(&self->metrics);
    free(self->pub_endpoint);
    s_pub_destroy(self);
    dp_db_destroy(&self->relay_db);
    dp_db_destroy(&self->db);
    free(self);
    *self_p = NULL;
}

const dp_server_config_t *notify_server_config(const notify_t *self)
{
    return &self->server;
}

void notify_actor(zsock_t *pipe, void *config)
{
    notify_t *self = notify_new(config);
    dp_service_serve(pipe, self ? notify_server_config(self) : NULL);
    notify_destroy(&self);
}
