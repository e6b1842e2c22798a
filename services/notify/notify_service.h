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

typedef struct {
    dp_db_t *db;                /* requests: replay, consumers, webhooks */
    dp_db_t *relay_db;          /* the relay's own session: advisory lock and LISTEN */
    zsock_t *pub;               /* live events and heartbeats */
    bool active;                /* this process holds the relay lock */
    unsigned long listened_at;  /* relay_db reconnect count when LISTEN was issued */
    bool listening;             /* LISTEN is in force on relay_db */
    int relay_batch;            /* outbox rows moved per outbox per transaction */
    int64_t next_heartbeat;     /* zclock_mono time of the next heartbeat */
    int64_t next_poll;          /* zclock_mono time of the next relay poll */
    int poll_ms;                /* relay poll interval (LISTEN wakes it sooner) */
    uint64_t latest_seq;        /* newest seq this process knows of */
    uint64_t relayed;           /* events relayed by this process */
    int default_ack_timeout_ms; /* for consumers created without one */
    int default_max_attempts;   /* for consumers created without one */
    const char *webhook_allow_hosts; /* DP_WEBHOOK_ALLOW_HOSTS: hosts a webhook may target
                                        whatever their addresses, and over http */
    zactor_t *webhooks;         /* the webhook worker */
    dp_metrics_t *metrics;      /* outbox lag, consumer lag, parked events */
    int64_t next_gauges;        /* zclock_mono time of the next gauge reading */
} notify_t;

/* notify_relay.c */
void notify_relay_tick(void *state);
int notify_relay_fd(void *state);
void notify_relay_wake(void *state);

/* notify_handlers.c */
extern const dp_route_t notify_routes[];
extern const size_t notify_route_count;

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
