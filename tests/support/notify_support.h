/* Test support for the notifications service: the notify actor started
   inside the test process, a typed call per request type, outbox rows
   written directly (as a producer role, to control what commits when),
   checks of the event sequence, live subscriptions, raw DEALER exchanges,
   child processes, and a minimal HTTP receiver for webhooks.

   Like test_support, every helper that cannot do its job fails the current
   test (or exits 1 during setup); nothing is skipped. Names start with tn_
   (test notify). */
#ifndef NOTIFY_SUPPORT_H
#define NOTIFY_SUPPORT_H

#include <czmq.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dp_codec.h"
#include "notify.pb-c.h"
#include "test_support.h"
#include "test_wire.h"

/* ---- The notify actor ------------------------------------------------------ */

/* notify as the generic fixture starts it (service_support.h). */
typedef tf_service_t tn_notify_t;

/* Starts notify_actor with its ROUTER and PUB on tcp://127.0.0.1:* against
   database_url (as dp_notify), with extra settings as "NAME", "value" pairs
   ending in NULL. Returns NULL after printing why when it cannot start. */
tn_notify_t *tn_notify_start(const char *database_url, const char *const *settings);
/* Stops the actor ($TERM) and frees; safe to call twice. */
void tn_notify_stop(tn_notify_t **self_p);
/* The bound ROUTER and PUB endpoints (borrowed). */
const char *tn_notify_endpoint(const tn_notify_t *self);
const char *tn_notify_pub_endpoint(const tn_notify_t *self);

/* Sends any request and waits for the reply (15 s). Returns the decoded
   reply when the status is OK, else NULL; *status holds the verdict either
   way. Fails the test when no reply comes. */
ProtobufCMessage *tn_call(tn_notify_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status);

/* A typed call per request type: Dp__XReply *tn_x (notify, request, status). */
#define TN_NOTIFY_CALLS(X)                                                                         \
    X(ReplayEvents, replay_events)                                                                 \
    X(CreateConsumer, create_consumer)                                                             \
    X(FetchEvents, fetch_events)                                                                   \
    X(AckEvents, ack_events)                                                                       \
    X(ListConsumers, list_consumers)                                                               \
    X(DeleteConsumer, delete_consumer)                                                             \
    X(ListParked, list_parked)                                                                     \
    X(ReplayParked, replay_parked)                                                                 \
    X(AddWebhook, add_webhook)                                                                     \
    X(ListWebhooks, list_webhooks)                                                                 \
    X(RemoveWebhook, remove_webhook)                                                               \
    X(Health, health)

#define TN_DECLARE_CALL(Camel, snake) TF_DECLARE_CALL(tn_, Camel, snake)
TN_NOTIFY_CALLS(TN_DECLARE_CALL)
#undef TN_DECLARE_CALL

/* ---- Outbox rows and the sequence ------------------------------------------ */

/* What the notify programs start from: a database of their own (labelled
   label), a superuser session, and (writer not NULL) a session as
   dp_registry that writes outbox rows. Exits 1 when one cannot be made. */
void tn_open(const char *label, ts_database_t **database, PGconn **admin, PGconn **writer);
/* Closes what tn_open made; safe on what it did not make. */
void tn_close(ts_database_t **database, PGconn **admin, PGconn **writer);
/* Exits 1 unless notify started and its relay is active within wait_ms. */
void tn_require_relaying(const tn_notify_t *notify, PGconn *admin, int wait_ms);

/* Writes one registry outbox row through writer (event_type, aggregate
   "<tag>-1", payload) and waits up to wait_ms until it is relayed; fails
   the test when it is not. Returns its seq. */
uint64_t tn_emit_one(PGconn *writer, PGconn *admin, const char *event_type, const char *tag,
                     const char *payload, int wait_ms);

/* ListParked for an owner (a consumer's name, or a webhook's id as text);
   fails the test unless it answers OK. Free with ts_free. */
Dp__ListParkedReply *tn_parked(tn_notify_t *notify, const char *owner);

/* Writes `count` rows into the outbox of `origin` ("registry" or "intake")
   with one INSERT on conn (its own transaction unless one is open): type
   event_type, aggregate type "test", aggregate ids "<tag>-<first>" ..
   "<tag>-<first + count - 1>", and the payload bytes. Fails the test on error. */
void tn_outbox_insert(PGconn *conn, const char *origin, const char *event_type, const char *tag,
                      int first, int count, const void *payload, size_t payload_size);
/* Runs constant SQL without parameters ("BEGIN", "COMMIT", "ROLLBACK");
   fails the test unless it succeeds. */
void tn_exec(PGconn *conn, const char *sql);
/* Connects as the given URL; fails the test when it cannot. */
PGconn *tn_connect(const char *url);

/* Rows in notify.event, and its newest seq (0 when empty). */
long long tn_event_count(PGconn *admin);
long long tn_latest_seq(PGconn *admin);
/* The seq of the event made from the outbox row with this aggregate id and
   type, or 0 when it has not been relayed. */
long long tn_seq_of(PGconn *admin, const char *event_type, const char *aggregate_id);
/* Polls (every 20 ms, up to timeout_ms) until notify.event holds at least
   `count` rows; returns the last count seen. */
long long tn_wait_event_count(PGconn *admin, long long count, int timeout_ms);
/* Polls until the event with this type and aggregate id is relayed; returns
   its seq, or 0 on timeout. */
long long tn_wait_seq_of(PGconn *admin, const char *event_type, const char *aggregate_id,
                         int timeout_ms);
/* Polls until constant `sql` with text parameters returns a first value
   equal to `expected`; returns true when it did within timeout_ms. */
bool tn_wait_value(PGconn *admin, const char *sql, int param_count, const char *const *params,
                   long long expected, int timeout_ms);

/* Fails unless notify.event holds exactly seq 1..count (no gap, no
   duplicate) with each (origin, origin_id) once, and both outboxes are empty. */
void tn_assert_sequence_at(PGconn *admin, long long count, const char *file, int line);
#define tn_assert_sequence(admin, count) tn_assert_sequence_at(admin, count, __FILE__, __LINE__)

/* Backends of this database holding the relay's advisory lock. */
long long tn_relay_lock_holders(PGconn *admin);
/* Polls until exactly one backend holds it; false after timeout_ms. */
bool tn_wait_relay_active(PGconn *admin, int timeout_ms);

/* ---- Live events ------------------------------------------------------------- */

/* A SUB socket on pub_endpoint subscribed to each topic (NULL-terminated)
   and to "heartbeat"; returns once a heartbeat arrived, so that the
   subscription is known to be in force. Fails the test after 5 s. */
zsock_t *tn_subscribe(const char *pub_endpoint, const char *const *topics);

/* One live message. */
typedef struct {
    char *topic;              /* the first frame */
    Dp__Event *event;         /* decoded when the topic is not "heartbeat" */
    Dp__Heartbeat *heartbeat; /* decoded when it is */
} tn_live_t;

/* Receives one live message within timeout_ms; false on timeout. Fails the
   test when it is not [topic, message] or does not decode, or when an
   event's topic differs from its type. */
bool tn_receive_live(zsock_t *sub, int timeout_ms, tn_live_t *live);
void tn_live_free(tn_live_t *live);
/* The next event (heartbeats skipped) within timeout_ms, or NULL. Free with ts_free. */
Dp__Event *tn_next_event(zsock_t *sub, int timeout_ms);

/* Raw request frames: use test_wire.h (ts_dealer_new, ts_exchange, ...). */

/* ---- Child processes --------------------------------------------------------- */

/* Starts argv[0] (a path) with extra "NAME=value" environment strings
   (NULL-terminated, may be NULL). With stdout_fd, the child's stdout is a
   pipe whose read end is returned there; otherwise it is inherited. stderr
   is inherited. Returns the pid; fails the test when it cannot fork. */
pid_t tn_spawn(const char *const *argv, const char *const *env, int *stdout_fd);
/* Waits up to timeout_ms for pid: its exit status, 128 + the signal that
   killed it, or -1 when it is still running. */
int tn_wait_pid(pid_t pid, int timeout_ms);
/* Waits up to ready_ms for the dp-notify process *pid to answer Health on
   router_endpoint with its database up; fails the test when it exits
   (then *pid is -1) or does not get there in time. */
void tn_wait_ready(pid_t *pid, const char *router_endpoint, int ready_ms);
/* Starts the dp-notify executable (DP_BUILD_DIR) on database as dp_notify,
   its ROUTER and PUB on these endpoints, with extra "NAME=value" settings
   (NULL-terminated, may be NULL), and waits up to ready_ms until it
   answers Health (tn_wait_ready); *pid is its pid as soon as it runs, so
   that a failed wait leaves it for the caller to stop. */
void tn_start_notify(pid_t *pid, const ts_database_t *database, const char *router_endpoint,
                     const char *pub_endpoint, const char *const *extra, int ready_ms);
/* Reads one line (without its newline) from fd within timeout_ms; NULL at
   end of file or on timeout. The caller frees. */
char *tn_read_line(int fd, int timeout_ms);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
int tn_free_port(void);

/* ---- A minimal HTTP receiver -------------------------------------------------- */

/* One request as received. */
typedef struct {
    char *method;     /* "POST" */
    char *target;     /* "/hook" */
    char *head;       /* the header lines, as received */
    char *body;       /* the body, NUL-terminated */
    size_t body_size; /* bytes in body */
    int answered;     /* the status it was given */
} tn_http_request_t;

typedef struct _ns_http_receiver_t tn_http_receiver_t;

/* Listens on 127.0.0.1 (a free port) in a thread of its own and answers
   each request (one per connection, read by Content-Length) with the next
   of the `count` statuses, then with then_status. */
tn_http_receiver_t *tn_http_receiver_new(const int *statuses, size_t count, int then_status);
void tn_http_receiver_destroy(tn_http_receiver_t **self_p);
/* "http://127.0.0.1:<port>/hook" (borrowed). */
const char *tn_http_receiver_url(const tn_http_receiver_t *self);
/* Answers later requests (past the scripted statuses) with this status. */
void tn_http_receiver_set_status(tn_http_receiver_t *self, int status);
/* Waits up to timeout_ms until at least `count` requests arrived; returns
   how many have. */
size_t tn_http_receiver_wait(tn_http_receiver_t *self, size_t count, int timeout_ms);
/* The index-th request (borrowed; lives as long as the receiver), or NULL. */
const tn_http_request_t *tn_http_receiver_request(tn_http_receiver_t *self, size_t index);
/* A header's value (case-insensitive name), or NULL. The caller frees. */
char *tn_http_header(const tn_http_request_t *request, const char *name);

#endif
