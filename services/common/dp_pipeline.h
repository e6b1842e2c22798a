/* dp_pipeline: many requests in flight on one or a few DEALER sockets, for
   bulk work (dpctl enquiry import), load generators (bench) and retrying
   submitters (faults). dp_client waits for each reply before it sends the
   next request; a pipeline keeps up to `window` requests outstanding on
   each socket, matches replies to requests by request_id
   (proto/README.md), and resends a request whose reply is late with the
   same request id and the same bytes, up to a bounded number of attempts
   (the ZeroMQ guide's Lazy Pirate, for a window of requests). A late
   request also replaces its socket, so that what was queued for a peer
   that went away is dropped: either when nothing at all has come back on
   that socket for a whole timeout (DP_PIPELINE_FRESH_WHEN_SILENT, the
   default), or at once (DP_PIPELINE_FRESH_ON_TIMEOUT); every request still
   in flight on it then goes again on the new one (a load generator that
   must not disturb what it measures keeps its sockets:
   DP_PIPELINE_FRESH_NEVER). Only requests that are
   safe to repeat belong here.

   Each request ends once: its reply came, or its attempts ran out, and the
   caller's done function hears of it. done may ask for the same request to
   be sent again after a delay (a transient refusal); a reply that arrives
   meanwhile answers an earlier send and is counted stale. */
#ifndef DP_PIPELINE_H
#define DP_PIPELINE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_codec.h"
#include "dp_security.h"
#include "envelope.pb-c.h"

typedef struct _dp_pipeline_t dp_pipeline_t;

/* What became of one request, as done hears of it; everything is borrowed
   for the call. */
typedef struct {
    uint64_t tag;                  /* the caller's number given at send */
    size_t socket;                 /* index of the socket it last went on */
    int attempts;                  /* sends counted against the bound */
    int sends;                     /* times it went out, resends on a new socket included */
    const dp_status_t *status;     /* the reply's verdict, or UNAVAILABLE when attempts ran out */
    const Dp__Reply *envelope;     /* the reply, or NULL when none came */
    size_t reply_size;             /* bytes of that reply */
    const ProtobufCMessage *reply; /* an OK reply's body decoded as reply_type, or NULL */
    int64_t latency_us;            /* from the first send to now */
} dp_pipeline_result_t;

/* Told once per request when it ends. Returns 0 (the request is done) or a
   delay in ms after which the same request goes again, with the same id
   (not after a timeout: result->envelope is then NULL and the request is
   done). done may not send nor destroy the pipeline. */
typedef int(dp_pipeline_done_fn)(void *sink, const dp_pipeline_result_t *result);

typedef enum {
    DP_PIPELINE_FRESH_WHEN_SILENT = 0, /* new socket when nothing came for a timeout */
    DP_PIPELINE_FRESH_ON_TIMEOUT,      /* new socket for every late request */
    DP_PIPELINE_FRESH_NEVER            /* one socket for good (a load generator's) */
} dp_pipeline_fresh_t;

typedef struct {
    const char *endpoints;        /* one or more, comma-separated */
    const dp_client_keys_t *keys; /* CURVE keys for every socket (copied), or NULL */
    size_t sockets;               /* DEALER sockets (0: 1) */
    size_t window;                /* requests outstanding per socket (0: 1) */
    int timeout_ms;               /* wait per attempt (0: 5000) */
    int attempts;                 /* sends per request; 0: no bound */
    dp_pipeline_fresh_t fresh;    /* when a late request replaces its socket */
    size_t max_reply;             /* largest reply taken, bytes (0: 64 MiB) */
    const char *id_prefix;        /* request ids are prefix + number (NULL: random + "-") */
    const ProtobufCMessageDescriptor *reply_type; /* OK bodies decoded as this, or NULL */
    dp_pipeline_done_fn *done;                    /* told of every request that ends */
    void *sink;                                   /* done's first argument */
} dp_pipeline_options_t;

/* Counts since the pipeline was made. */
typedef struct {
    uint64_t requests;   /* requests taken by a send */
    uint64_t bytes;      /* their serialised dp.Request sizes, summed (each once) */
    uint64_t sends;      /* messages sent, resends included */
    uint64_t resent;     /* sends after a request's first */
    uint64_t timeouts;   /* attempts whose reply was late */
    uint64_t reconnects; /* sockets replaced */
    uint64_t stale;      /* replies to nothing outstanding (an earlier send's), or no reply */
} dp_pipeline_stats_t;

/* Makes and connects the sockets (options copied, strings included). NULL
   when a socket cannot be made or no endpoint connects. */
dp_pipeline_t *dp_pipeline_new(const dp_pipeline_options_t *options);
/* Forgets the requests still outstanding (done is not told of them). */
void dp_pipeline_destroy(dp_pipeline_t **self_p);

/* Sends request on the socket with the most room (packed at once: the
   caller keeps it). While every window is full it first handles replies,
   so it may call done. Returns 0, or -1 when out of memory. */
int dp_pipeline_send(dp_pipeline_t *self, const ProtobufCMessage *request, uint64_t tag);
/* The same with the body already packed: type is its full message name. */
int dp_pipeline_send_body(dp_pipeline_t *self, const char *type, const void *body, size_t size,
                          uint64_t tag);

/* Handles replies, late requests and due resends for up to wait_ms (0:
   only what is due now); returns early once a reply came or a request
   ended. Returns the number of requests still outstanding. */
size_t dp_pipeline_poll(dp_pipeline_t *self, int wait_ms);

/* Handles replies until every request has ended. */
void dp_pipeline_drain(dp_pipeline_t *self);

/* Requests sent and not yet ended. */
size_t dp_pipeline_outstanding(const dp_pipeline_t *self);

/* Requests that can be sent now without waiting, over all sockets. */
size_t dp_pipeline_room(const dp_pipeline_t *self);

const dp_pipeline_stats_t *dp_pipeline_stats(const dp_pipeline_t *self);

/* True when a request ran out of attempts and no reply at all has come
   since it was first sent: the service is down or unreachable, and sending
   more is pointless. False again once any reply arrives. */
bool dp_pipeline_unresponsive(const dp_pipeline_t *self);

#endif
