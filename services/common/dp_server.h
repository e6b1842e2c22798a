/* The request/reply server every service runs: a ROUTER socket, the
   envelope of proto/envelope.proto, one handler per request type found by
   the request message's full name, a maximum message size and a bounded
   queue. It runs inside an actor, so a test can start it in its own process. */
#ifndef DP_SERVER_H
#define DP_SERVER_H

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>

#include "dp_arena.h"
#include "dp_codec.h"
#include "dp_db.h"
#include "dp_metrics.h"

typedef struct _dp_reply_t dp_reply_t;

/* Handles one decoded request; must call dp_reply_ok or dp_reply_error
   (otherwise the client gets INTERNAL). `state` is the service's own. */
typedef void(dp_handler_fn)(void *state, const ProtobufCMessage *request, dp_reply_t *reply);

/* Handles several requests of one type that arrived together, e.g. in one
   transaction (group commit); must answer every reply. */
typedef void(dp_batch_handler_fn)(void *state, const ProtobufCMessage **requests,
                                  dp_reply_t **replies, size_t count);

typedef struct {
    const ProtobufCMessageDescriptor *request_type; /* its full name is the envelope's type */
    dp_handler_fn *handle;                          /* called with one decoded request */
    dp_batch_handler_fn *handle_batch;              /* if set, used instead of handle */
    unsigned roles; /* dp_role_t bits allowed to send it; 0 means staff only */
} dp_route_t;

typedef struct {
    const char *service_name; /* e.g. "registry", for logs and health */
    const char *endpoint; /* where to bind, e.g. "tcp://127.0.0.1:7101" or "tcp://127.0.0.1:*" */
    size_t max_message_bytes; /* larger requests get RESOURCE_EXHAUSTED */
    int queue_limit;          /* messages queued per peer before ZeroMQ stops reading (HWM) */
    const dp_route_t *routes; /* the service's handlers */
    size_t route_count;       /* rows in routes */
    void *state;              /* passed to every handler */
    dp_db_t *db;              /* reported by the health request; may be NULL */
    const char *curve_dir;    /* the key folder (see dp_security.h); "" or NULL: no CURVE */
    dp_metrics_t *metrics;    /* requests, latencies and batches are counted here; may be NULL */
    size_t max_batch;         /* requests taken off the socket at once; 0 means 1 */
    int db_wait_ms;           /* if > 0 and db is set, how long to wait for PostgreSQL
                                 after start, obeying $TERM meanwhile */
    int tick_ms;              /* if > 0, on_tick runs about this often */
    void (*on_tick)(void *state);          /* periodic work between requests */
    zsock_t *(*extra_socket)(void *state); /* another socket to watch, or NULL */
    void (*on_extra_socket)(void *state);  /* called when it is readable */
    int (*extra_fd)(void *state);          /* a file descriptor to watch, or -1 */
    void (*on_extra_fd)(void *state);      /* called when it is readable */
    /* Answers other questions on the pipe (e.g. "PUB_ENDPOINT"); NULL: "". */
    const char *(*pipe_query)(void *state, const char *command);
    /* Bytes of requests ZeroMQ may hold for one connection before it stops
       reading from it; 0 means DP_SERVER_CONNECTION_BYTES. The receive
       queue per connection is this divided by the largest message ZeroMQ
       accepts (twice max_message_bytes), at least 4 and at most
       queue_limit. */
    size_t connection_bytes;
} dp_server_config_t;

/* The default of connection_bytes: 64 MiB. */
#define DP_SERVER_CONNECTION_BYTES ((size_t)64 << 20)

/* The receive queue (ZMQ_RCVHWM, in messages) and the largest message
   (ZMQ_MAXMSGSIZE, in bytes) dp_server_run sets for this configuration. */
int dp_server_receive_queue(const dp_server_config_t *config, int64_t *max_message_out);

/* Binds, signals the pipe (0 on success, -1 when binding failed) and serves
   until the pipe says $TERM. On the pipe, "ENDPOINT" is answered with the
   bound endpoint (useful after binding port *); other commands go to
   pipe_query. */
void dp_server_run(const dp_server_config_t *config, zsock_t *pipe);

/* Answers one request as the server loop does, without a socket: `request`
   is its frames after the peer's routing id, [empty delimiter, dp.Request]
   (borrowed). Returns the reply as [empty delimiter, dp.Reply], the
   caller's to destroy, or NULL when out of memory. A batch route gets a
   batch of one; a health request reports no uptime and no requests served.
   The fuzz targets drive every route through it. */
zmsg_t *dp_server_handle_frames(const dp_server_config_t *config, zmsg_t *request);

/* Packs `body` as the successful reply. */
void dp_reply_ok(dp_reply_t *reply, const ProtobufCMessage *body);
/* Sets an error status; `field` may be NULL. */
void dp_reply_error(dp_reply_t *reply, Dp__Code code, const char *field, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets the status that a database failure deserves. UNAVAILABLE carries
   the connection's error text only for staff and front ends (and without
   CURVE, where everyone counts as staff); other roles get "database
   unavailable" and the text goes to the log. */
void dp_reply_db_failure(dp_reply_t *reply, dp_db_t *db);
/* Memory freed after the reply is sent: build reply messages from it. */
dp_arena_t *dp_reply_arena(dp_reply_t *reply);
/* Who sent the request: the "name" of the client's certificate when CURVE
   is on, else "". */
const char *dp_reply_caller(const dp_reply_t *reply);
/* The caller's role (DP_ROLE_* bit from dp_security.h); DP_ROLE_STAFF
   without CURVE. */
unsigned dp_reply_role(const dp_reply_t *reply);
/* The "sources" metadata of the caller's certificate (comma-separated
   source names a feeder may submit under), or "" when it has none. */
const char *dp_reply_sources(const dp_reply_t *reply);
/* True when the caller proved its identity (CURVE on). */
bool dp_reply_authenticated(const dp_reply_t *reply);
/* Who did it, for histories, notes and audit lines; never a request field
   when CURVE is on:
     CURVE on             the certificate's name, e.g. "dpctl-ann";
     role frontend        "<person> via <front end>" when the envelope names
                          the person (Request.on_behalf_of), else its name;
     CURVE off            "<claimed> (unauthenticated)", or "unauthenticated"
                          when claimed is NULL or empty.
   `claimed` is the request's own actor field, used only without CURVE.
   The text lives as long as the reply. */
const char *dp_reply_actor(dp_reply_t *reply, const char *claimed);
/* True once an error status has been set. */
bool dp_reply_failed(const dp_reply_t *reply);

/* Starts a service actor and asks for its endpoint. Returns NULL (after
   destroying the actor) when it could not start. The endpoint is the
   caller's to free. */
zactor_t *dp_server_start(zactor_fn *actor, void *args, char **endpoint_out);
/* For an actor that refuses to start before it serves: signals failure,
   answers dp_server_start's ENDPOINT with "" (so that it returns NULL and
   the program exits) and returns at $TERM. A bare zsock_signal(pipe, 1)
   and return is not enough: the actor's exit signal would then be taken
   for the endpoint, and zactor_destroy would wait forever. */
void dp_server_refuse(zsock_t *pipe);

#endif
