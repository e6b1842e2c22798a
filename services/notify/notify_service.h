/* The notifications service's state and its parts: the relay (outboxes ->
   sequence -> PUB), the request handlers (replay, consumers, webhooks) and
   the webhook worker (a thread of its own: HTTP must not stall the relay). */
#ifndef NOTIFY_SERVICE_H
#define NOTIFY_SERVICE_H

#include <czmq.h>
#include <jansson.h>
#include <stdint.h>

#include "dp_config.h"
#include "dp_db.h"
#include "dp_metrics.h"
#include "dp_server.h"
#include "notify.pb-c.h"
#include "notify_server.h"

/* The service (notify_new in notify_server.c), the `state` every handler
   and the relay get. */
struct _notify_t {
    dp_db_t *db;                     /* requests: replay, consumers, webhooks */
    dp_db_t *relay_db;               /* the relay's own session: advisory lock and LISTEN */
    zsock_t *pub;                    /* live events and heartbeats; NULL while being made again */
    const char *curve_dir;           /* DP_CURVE_DIR: "" without CURVE */
    char *pub_endpoint;              /* as first bound (a port chosen by the system included) */
    int pub_hwm;                     /* DP_NOTIFY_PUB_HWM */
    bool pub_bound;                  /* pub is bound to pub_endpoint */
    uint64_t pub_generation;         /* the key store's generation when pub was made */
    int64_t next_trim;               /* zclock_mono time to give freed memory back */
    bool active;                     /* this process holds the relay lock */
    unsigned long listened_at;       /* relay_db reconnect count when LISTEN was issued */
    bool listening;                  /* LISTEN is in force on relay_db */
    int relay_batch;                 /* outbox rows moved per outbox per transaction */
    int64_t next_heartbeat;          /* zclock_mono time of the next heartbeat */
    int64_t next_poll;               /* zclock_mono time of the next relay poll */
    int poll_ms;                     /* relay poll interval (LISTEN wakes it sooner) */
    uint64_t latest_seq;             /* newest seq this process knows of */
    uint64_t relayed;                /* events relayed by this process */
    int default_ack_timeout_ms;      /* for consumers created without one */
    int default_max_attempts;        /* for consumers created without one */
    const char *webhook_allow_hosts; /* DP_WEBHOOK_ALLOW_HOSTS: hosts a webhook may target
                                        whatever their addresses, and over http */
    zactor_t *webhooks;              /* the webhook worker */
    dp_metrics_t *metrics;           /* outbox lag, consumer lag, parked events */
    int64_t next_gauges;             /* zclock_mono time of the next gauge reading */
    dp_server_config_t server;       /* what dp_server_run takes; its state is this */
};

/* notify_server.c: the PUB socket. Only consumer, staff, service and
   front-end keys pass its handshake; when a key leaves the key store the
   socket is made again, which drops every subscriber (a revoked one
   included) and lets the others back in through a new handshake. */
zsock_t *notify_pub_new(notify_t *notify);
/* Called every tick: remakes the socket after a key left the store, and
   binds it when it is not bound yet. */
void notify_pub_check(notify_t *notify);

/* notify_relay.c */
void notify_relay_tick(void *state);
int notify_relay_fd(void *state);
void notify_relay_wake(void *state);

/* notify_handlers.c: notify_routes (notify_server.h). */

/* notify_webhooks.c: the worker actor; args is the dp_config_t. It answers
   $TERM within a fraction of a second whatever it is sending. */
void notify_webhook_actor(zsock_t *pipe, void *args);
/* The value of the DP-Signature header: "t=<timestamp>,v1=<hex>" where hex
   is the HMAC-SHA256 with secret of "<timestamp>.<body>" (as Stripe signs). */
void notify_webhook_signature(const char *secret, long long timestamp, const char *body,
                              size_t length, char *header, size_t size);

/* notify_json.c: proto3 canonical JSON. */
json_t *notify_message_json(const ProtobufCMessage *message);
/* The event as one line of JSON (the webhook body); the caller frees. */
char *notify_event_json(const Dp__Event *event);

#endif
