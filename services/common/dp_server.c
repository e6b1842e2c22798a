#include "dp_server.h"

#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dp_log.h"
#include "dp_security.h"
#include "dp_validate.h"

enum {
    MAX_REQUEST_ID_BYTES = 128,
    MAX_TYPE_BYTES = 128,
    S_LARGE_REQUEST_BYTES = 256 * 1024, /* see s_malloc_setup */
    S_IDLE_TRIM_MS = 1000               /* quiet time before memory is trimmed */
};

struct _dp_reply_t {
    Dp__Code code;          /* status of the reply */
    char message[512];      /* status message */
    char field[64];         /* offending field */
    const char *type;       /* full name of the body's message */
    unsigned char *body;    /* packed body, malloc'd */
    size_t body_size;       /* bytes in body */
    bool answered;          /* ok or error was set */
    dp_arena_t *arena;      /* freed after sending */
    char caller[101];       /* the client certificate's name, or "" */
    unsigned role;          /* the caller's dp_role_t bit */
    bool authenticated;     /* CURVE proved who the caller is */
    char on_behalf_of[101]; /* the person a front end acts for, or "" */
    char actor[220];        /* dp_reply_actor's answer */
    char sources[256];      /* the certificate's "sources" metadata, or "" */
};

void dp_reply_ok(dp_reply_t *reply, const ProtobufCMessage *body)
{
    free(reply->body);
    reply->body = dp_message_pack(body, &reply->body_size);
    if (!reply->body) {
        dp_reply_error(reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
        return;
    }
    reply->type = body->descriptor->name;
    reply->code = DP__CODE__CODE_OK;
    reply->answered = true;
}

void dp_reply_error(dp_reply_t *reply, Dp__Code code, const char *field, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(reply->message, sizeof reply->message, format, args);
    va_end(args);
    snprintf(reply->field, sizeof reply->field, "%s", field ? field : "");
    reply->code = code;
    reply->type = "";
    free(reply->body);
    reply->body = NULL;
    reply->body_size = 0;
    reply->answered = true;
}

void dp_reply_db_failure(dp_reply_t *reply, dp_db_t *db)
{
    Dp__Code code = dp_db_failure_code(db);
    /* The connection error names hosts and users: staff read it, others
       learn only that the database is unavailable (the log has it all). */
    if (code == DP__CODE__CODE_UNAVAILABLE && (reply->role & (DP_ROLE_STAFF | DP_ROLE_FRONTEND)))
        dp_reply_error(reply, code, NULL, "database unavailable: %s", dp_db_failure_message(db));
    else if (code == DP__CODE__CODE_UNAVAILABLE) {
        dp_warning("database unavailable: %s", dp_db_failure_message(db));
        dp_reply_error(reply, code, NULL, "database unavailable");
    } else if (code == DP__CODE__CODE_ABORTED)
        dp_reply_error(reply, code, NULL, "conflicting concurrent change; try again");
    else {
        dp_error("database failure %s: %s", dp_db_failure_sqlstate(db), dp_db_failure_message(db));
        dp_reply_error(reply, code, NULL, "database error %s", dp_db_failure_sqlstate(db));
    }
}

dp_arena_t *dp_reply_arena(dp_reply_t *reply)
{
    return reply->arena;
}

const char *dp_reply_caller(const dp_reply_t *reply)
{
    return reply->caller;
}

unsigned dp_reply_role(const dp_reply_t *reply)
{
    return reply->role;
}

const char *dp_reply_sources(const dp_reply_t *reply)
{
    return reply->sources;
}

bool dp_reply_authenticated(const dp_reply_t *reply)
{
    return reply->authenticated;
}

const char *dp_reply_actor(dp_reply_t *reply, const char *claimed)
{
    if (reply->authenticated && reply->role == DP_ROLE_FRONTEND && *reply->on_behalf_of)
        snprintf(reply->actor, sizeof reply->actor, "%s via %s", reply->on_behalf_of,
                 reply->caller);
    else if (reply->authenticated)
        snprintf(reply->actor, sizeof reply->actor, "%s", reply->caller);
    else if (*reply->on_behalf_of)
        snprintf(reply->actor, sizeof reply->actor, "%s (unauthenticated)", reply->on_behalf_of);
    else if (claimed && *claimed && dp_valid_text(claimed, 100))
        snprintf(reply->actor, sizeof reply->actor, "%s (unauthenticated)", claimed);
    else
        snprintf(reply->actor, sizeof reply->actor, "unauthenticated");
    return reply->actor;
}

bool dp_reply_failed(const dp_reply_t *reply)
{
    return reply->answered && reply->code != DP__CODE__CODE_OK;
}

typedef struct {
    const dp_server_config_t *config; /* the service's description */
    int64_t started_at;               /* zclock_mono at start, for uptime */
    uint64_t requests_served;         /* requests answered, errors included */
    bool trim_due;                    /* a large request came: give memory back when idle */
} server_t;

static void s_handle_health(void *state, const ProtobufCMessage *request, dp_reply_t *reply)
{
    server_t *server = state;
    Dp__HealthReply health = DP__HEALTH_REPLY__INIT;
    health.service = (char *)server->config->service_name;
    health.version = DP_VERSION;
    health.uptime_seconds = (zclock_mono() - server->started_at) / 1000;
    health.requests_served = server->requests_served;
    dp_db_t *db = server->config->db;
    if (db) {
        health.database_ok = dp_db_check(db);
        /* The database's error text names hosts, users and sometimes more:
           only those who run the system read it. */
        bool detail = reply->role & (DP_ROLE_STAFF | DP_ROLE_FRONTEND);
        health.database_message = health.database_ok ? "connected"
                                  : detail           ? (char *)dp_db_failure_message(db)
                                                     : "unavailable";
    } else
        health.database_message = "not used";
    dp_reply_ok(reply, &health.base);
}

/* Finds the handler for a type, or NULL. */
static const dp_route_t *s_find_route(const dp_server_config_t *config, const char *type)
{
    for (size_t i = 0; i < config->route_count; i++)
        if (strcmp(config->routes[i].request_type->name, type) == 0)
            return &config->routes[i];
    return NULL;
}

/* One request taken off the socket, from arrival to reply. */
typedef struct {
    zframe_t *identity;      /* the peer's routing id */
    char *request_id;        /* from the envelope, or NULL */
    const dp_route_t *route; /* the handler, once the envelope decoded */
    ProtobufCMessage *body;  /* the decoded request, for a batch handler */
    dp_reply_t reply;        /* what goes back */
    int64_t taken_at;        /* zclock_usecs when it came off the socket */
} pending_t;

/* The type as logs and replies show it: at most size - 1 characters of
   [A-Za-z0-9._], anything else as '?', so that no request can put a line
   break or a terminal escape into a log line or echo one back. */
static const char *s_type_shown(const char *type, char *shown, size_t size)
{
    size_t used = 0;
    for (const char *p = type; *p && used + 1 < size; p++) {
        unsigned char c = (unsigned char)*p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '_';
        shown[used++] = plain ? (char)c : '?';
    }
    shown[used] = '\0';
    return shown;
}

/* Finds the caller's key (the "User-Id" libzmq attaches to every frame of
   a CURVE connection) in the current key store. False, with
   UNAUTHENTICATED in the reply and an audit line, when it is no longer
   allowed. */
static bool s_key_allowed(server_t *server, zframe_t *frame, dp_key_info_t *key, dp_reply_t *reply)
{
    const char *user = zframe_meta(frame, "User-Id");
    if (user && dp_security_key_lookup(server->config->curve_dir, user, key))
        return true;
    dp_warning("audit: refused a request from the key %s: no longer in clients/",
               user ? user : "?");
    dp_reply_error(reply, DP__CODE__CODE_UNAUTHENTICATED, NULL, "the key %s is no longer allowed",
                   user ? user : "?");
    return false;
}

/* Decodes the envelope and the body. Returns the body, or NULL with an
   error in the reply. */
static ProtobufCMessage *s_decode(server_t *server, zmsg_t *request, pending_t *pending)
{
    const dp_server_config_t *config = server->config;
    dp_reply_t *reply = &pending->reply;
    size_t budget = config->max_message_bytes * 4 + 65536;
    if (zmsg_size(request) != 2 || zframe_size(zmsg_first(request)) != 0) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, NULL,
                       "malformed message: expected 2 frames (an empty delimiter, then the "
                       "envelope), got %zu",
                       zmsg_size(request));
        return NULL;
    }
    if (zmsg_content_size(request) > config->max_message_bytes) {
        dp_reply_error(reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL,
                       "request of %zu bytes exceeds the limit of %zu bytes",
                       zmsg_content_size(request), config->max_message_bytes);
        return NULL;
    }
    zframe_t *frame = zmsg_next(request);
    dp_decode_problem_t problem;
    Dp__Request *envelope = (Dp__Request *)dp_message_decode_checked(
        &dp__request__descriptor, zframe_data(frame), zframe_size(frame), budget, &problem);
    if (!envelope) {
        if (*problem.field)
            dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, problem.field, "%s",
                           problem.message);
        else
            dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, NULL,
                           "malformed envelope: the frame does not decode as dp.Request");
        return NULL;
    }
    ProtobufCMessage *body = NULL;
    static const dp_route_t health_route = {&dp__health_request__descriptor, s_handle_health, NULL,
                                            DP_ROLE_ANY};
    if (!dp_valid_text(envelope->request_id, MAX_REQUEST_ID_BYTES)) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "request_id",
                       "request_id must be printable text of at most %d bytes",
                       MAX_REQUEST_ID_BYTES);
        goto done;
    }
    pending->request_id = strdup(envelope->request_id);
    /* With CURVE, who the caller is comes from the key store as it is now,
       at every request: the handshake's metadata could be stale (a key
       revoked while its connection stays open). Without CURVE everyone is
       staff. */
    const char *curve_dir = config->curve_dir;
    bool curve = curve_dir && *curve_dir;
    dp_key_info_t key;
    memset(&key, 0, sizeof key);
    if (curve && !s_key_allowed(server, frame, &key, reply))
        goto done;
    const char *type = envelope->type;
    pending->route = s_find_route(config, type);
    if (!pending->route && strcmp(type, dp__health_request__descriptor.name) == 0)
        pending->route = &health_route;
    if (!pending->route) {
        if (!*type)
            dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "type",
                           "type is required: the full name of the request message");
        else {
            char shown[MAX_TYPE_BYTES + 1];
            dp_reply_error(reply, DP__CODE__CODE_UNIMPLEMENTED, "type",
                           "unknown request type '%s' for the %s service",
                           s_type_shown(type, shown, sizeof shown), config->service_name);
        }
        goto done;
    }
    dp_role_t role = curve ? (dp_role_t)key.role : DP_ROLE_STAFF;
    const char *role_name = curve ? key.role_name : "staff";
    const char *name = curve ? key.name : NULL;
    unsigned allowed = pending->route->roles ? pending->route->roles : DP_ROLE_STAFF;
    /* A trusted front end acts for staff members: it may do what staff may. */
    if (allowed & DP_ROLE_STAFF)
        allowed |= DP_ROLE_FRONTEND;
    /* A health key asks for health and nothing else, whatever a table says. */
    if (pending->route->handle != s_handle_health)
        allowed &= ~(unsigned)DP_ROLE_HEALTH;
    snprintf(reply->caller, sizeof reply->caller, "%s", name ? name : "");
    reply->role = role;
    reply->authenticated = curve;
    snprintf(reply->sources, sizeof reply->sources, "%s", curve ? key.sources : "");
    if (*envelope->on_behalf_of) {
        if (!dp_valid_text(envelope->on_behalf_of, 100)) {
            dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "on_behalf_of",
                           "on_behalf_of must be printable text of at most 100 bytes");
            goto done;
        }
        if (reply->authenticated && role != DP_ROLE_FRONTEND) {
            dp_warning("audit: denied on_behalf_of to client '%s' with role '%s'",
                       name ? name : "?", role_name ? role_name : "none");
            dp_reply_error(reply, DP__CODE__CODE_PERMISSION_DENIED, "on_behalf_of",
                           "only the role 'frontend' may act on behalf of a person");
            goto done;
        }
        snprintf(reply->on_behalf_of, sizeof reply->on_behalf_of, "%s", envelope->on_behalf_of);
    }
    if (!(allowed & role)) {
        dp_warning("audit: denied %s to client '%s' with role '%s'",
                   pending->route->request_type->name, name ? name : "?",
                   role_name ? role_name : "none");
        dp_reply_error(reply, DP__CODE__CODE_PERMISSION_DENIED, "type",
                       "the role '%s' may not send %s", role_name ? role_name : "none",
                       pending->route->request_type->name);
        goto done;
    }
    /* Text that is not UTF-8 is refused here, naming the field, for every
       request of every service (dp_message_decode_checked). */
    body = dp_message_decode_checked(pending->route->request_type, envelope->body.data,
                                     envelope->body.len, budget, &problem);
    if (!body && *problem.field)
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, problem.field, "%s",
                       problem.message);
    else if (!body)
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "body",
                       "malformed body: it does not decode as %s",
                       pending->route->request_type->name);
done:
    dp_message_free((ProtobufCMessage **)&envelope);
    return body;
}

static void s_log_outcome(const pending_t *pending)
{
    const dp_reply_t *reply = &pending->reply;
    if (!reply->answered) {
        dp_error("the handler gave no reply");
        return;
    }
    if (reply->code != DP__CODE__CODE_OK)
        dp_info("%s -> %s%s%s: %s",
                pending->route ? pending->route->request_type->name : "(undecoded)",
                dp_code_name(reply->code), *reply->field ? " " : "", reply->field, reply->message);
}

/* Starts on one request, given as [empty delimiter, dp.Request]: decodes
   it and either answers it at once or, for a batch route, keeps its body
   for the batch. The request is borrowed. */
static void s_open(server_t *server, zmsg_t *request, pending_t *pending)
{
    pending->reply.code = DP__CODE__CODE_OK;
    pending->reply.type = "";
    pending->reply.arena = dp_arena_new();
    if (!pending->reply.arena) {
        dp_reply_error(&pending->reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
        return;
    }
    ProtobufCMessage *body = s_decode(server, request, pending);
    if (body && pending->route->handle_batch)
        pending->body = body; /* handled with the rest of its batch */
    else if (body) {
        void *state =
            pending->route->handle == s_handle_health ? (void *)server : server->config->state;
        pending->route->handle(state, body, &pending->reply);
        dp_message_free(&body);
    }
}

/* Finishes a request: logs and counts it, frees what it held and returns
   its reply as [empty delimiter, dp.Reply], or NULL when out of memory.
   The peer's routing id stays in pending->identity. */
static zmsg_t *s_close(server_t *server, pending_t *pending)
{
    dp_reply_t *reply = &pending->reply;
    if (!reply->answered)
        dp_reply_error(reply, DP__CODE__CODE_INTERNAL, NULL, "the handler gave no reply");
    s_log_outcome(pending);
    server->requests_served++;
    dp_metrics_observe_request(server->config->metrics,
                               pending->route ? pending->route->request_type->name : "(undecoded)",
                               reply->code, (double)(zclock_usecs() - pending->taken_at) / 1e6);
    Dp__Status status = DP__STATUS__INIT;
    status.code = reply->code;
    status.message = reply->message;
    status.field = reply->field;
    Dp__Reply envelope = DP__REPLY__INIT;
    envelope.request_id = pending->request_id ? pending->request_id : "";
    envelope.status = &status;
    envelope.type = (char *)reply->type;
    envelope.body.data = reply->body;
    envelope.body.len = reply->body_size;
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&envelope.base, &size);
    zmsg_t *answer = packed ? zmsg_new() : NULL;
    if (answer) {
        zmsg_addmem(answer, NULL, 0);
        zmsg_addmem(answer, packed, size);
    } else
        dp_error("cannot pack a reply: out of memory");
    free(packed);
    free(pending->request_id);
    free(reply->body);
    dp_message_free(&pending->body);
    dp_arena_destroy(&reply->arena);
    return answer;
}

/* Takes one message off the socket and starts on it. Returns -1 when
   nothing came. */
static int s_take(server_t *server, zsock_t *router, pending_t *pending)
{
    memset(pending, 0, sizeof *pending);
    pending->taken_at = zclock_usecs();
    zmsg_t *request = zmsg_recv(router);
    if (!request)
        return -1;
    pending->identity = zmsg_pop(request);
    if (zmsg_content_size(request) >= S_LARGE_REQUEST_BYTES)
        server->trim_due = true;
    s_open(server, request, pending);
    zmsg_destroy(&request);
    return 0;
}

static void s_answer(server_t *server, zsock_t *router, pending_t *pending)
{
    zmsg_t *answer = s_close(server, pending);
    if (answer && pending->identity) {
        zmsg_prepend(answer, &pending->identity);
        /* A peer that has gone away loses its reply; the server keeps serving. */
        zmsg_send(&answer, router);
    }
    zmsg_destroy(&answer);
    zframe_destroy(&pending->identity);
}

/* Runs each batch route once over the requests of its type that arrived
   together: the batch is whatever queued while the previous one ran. */
static void s_run_batches(server_t *server, pending_t *pending, size_t count)
{
    const ProtobufCMessage **bodies = calloc(count, sizeof *bodies);
    dp_reply_t **replies = calloc(count, sizeof *replies);
    bool *done = calloc(count, sizeof *done);
    for (size_t first = 0; bodies && replies && done && first < count; first++) {
        if (done[first] || !pending[first].body)
            continue;
        const dp_route_t *route = pending[first].route;
        size_t size = 0;
        for (size_t i = first; i < count; i++)
            if (!done[i] && pending[i].body && pending[i].route == route) {
                bodies[size] = pending[i].body;
                replies[size++] = &pending[i].reply;
                done[i] = true;
            }
        route->handle_batch(server->config->state, bodies, replies, size);
        dp_metrics_observe_batch(server->config->metrics, size);
    }
    free(bodies);
    free(replies);
    free(done);
}

static void s_serve_ready(server_t *server, zsock_t *router, pending_t *pending)
{
    size_t count = 0;
    size_t limit = server->config->max_batch ? server->config->max_batch : 1;
    while (count < limit) {
        if (s_take(server, router, &pending[count]) != 0)
            break;
        count++;
        if (!(zsock_events(router) & ZMQ_POLLIN))
            break;
    }
    s_run_batches(server, pending, count);
    for (size_t i = 0; i < count; i++)
        s_answer(server, router, &pending[i]);
}

zmsg_t *dp_server_handle_frames(const dp_server_config_t *config, zmsg_t *request)
{
    server_t server = {.config = config, .started_at = zclock_mono()};
    pending_t pending;
    memset(&pending, 0, sizeof pending);
    pending.taken_at = zclock_usecs();
    s_open(&server, request, &pending);
    s_run_batches(&server, &pending, 1);
    return s_close(&server, &pending);
}

int dp_server_receive_queue(const dp_server_config_t *config, int64_t *max_message_out)
{
    size_t max_message = config->max_message_bytes * 2 + 4096;
    size_t budget =
        config->connection_bytes ? config->connection_bytes : DP_SERVER_CONNECTION_BYTES;
    size_t queue = budget / max_message;
    if (queue < 4)
        queue = 4;
    if (config->queue_limit > 0 && queue > (size_t)config->queue_limit)
        queue = (size_t)config->queue_limit;
    if (max_message_out)
        *max_message_out = (int64_t)max_message;
    return queue > INT_MAX ? INT_MAX : (int)queue;
}

/* glibc raises its mmap threshold after large blocks are freed, so a burst
   of large requests would leave the heap (and the resident set) grown for
   good. A fixed threshold gives every block of 256 KiB and more back to
   the system when it is freed. Once per process. */
static void s_malloc_setup_once(void)
{
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

static void s_malloc_setup(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, s_malloc_setup_once);
}

/* Answers one command on the actor's pipe. Returns false on $TERM or when
   the pipe is gone. */
static bool s_obey_pipe(const dp_server_config_t *config, zsock_t *pipe, const char *bound)
{
    char *command = zstr_recv(pipe);
    if (!command)
        return false;
    bool running = strcmp(command, "$TERM") != 0;
    if (strcmp(command, "ENDPOINT") == 0)
        zstr_send(pipe, bound ? bound : "");
    else if (running) {
        const char *answer = config->pipe_query ? config->pipe_query(config->state, command) : NULL;
        zstr_send(pipe, answer ? answer : "");
    }
    zstr_free(&command);
    return running;
}

/* Waits up to db_wait_ms for PostgreSQL after the actor has signalled its
   pipe, so that a start against a database that is not up yet neither
   holds the caller of zactor_new nor hides $TERM: each attempt is one ping
   (dp_db_connect with no wait), and between attempts only the pipe is
   watched. Requests queue on the socket meanwhile and are served once the
   wait ends (UNAVAILABLE if the database is still not there). When the
   database is reached, on_tick runs once (start-up work that needs it).
   Returns false when $TERM came. */
static bool s_wait_for_database(const dp_server_config_t *config, zsock_t *pipe, const char *bound)
{
    if (!config->db || config->db_wait_ms <= 0)
        return true;
    int64_t deadline = zclock_mono() + config->db_wait_ms;
    int backoff_ms = 50;
    while (!dp_db_is_connected(config->db) && dp_db_connect(config->db, 0) != 0) {
        /* A refused login (dp_db logged it) does not come right by waiting:
           requests are answered, FAILED_PRECONDITION, instead of queued. */
        if (dp_db_failure(config->db) == DP_DB_LOGIN)
            return true;
        long left = (long)(deadline - zclock_mono());
        if (left <= 0) {
            dp_warning("PostgreSQL not reachable yet: %s", dp_db_failure_message(config->db));
            return true;
        }
        zmq_pollitem_t item = {zsock_resolve(pipe), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, backoff_ms < left ? backoff_ms : left) < 0 && zmq_errno() != EINTR)
            return false;
        if ((item.revents & ZMQ_POLLIN) && !s_obey_pipe(config, pipe, bound))
            return false;
        backoff_ms = backoff_ms * 2 > 1000 ? 1000 : backoff_ms * 2;
    }
    if (config->on_tick)
        config->on_tick(config->state);
    return true;
}

void dp_server_run(const dp_server_config_t *config, zsock_t *pipe)
{
    server_t server = {.config = config, .started_at = zclock_mono()};
    size_t batch_limit = config->max_batch ? config->max_batch : 1;
    pending_t *pending = calloc(batch_limit, sizeof *pending);
    zsock_t *router = pending ? zsock_new(ZMQ_ROUTER) : NULL;
    if (!router) {
        free(pending);
        zsock_signal(pipe, 1);
        return;
    }
    /* Past twice the limit, ZeroMQ drops the peer rather than buffer the
       message; between the limit and that, the peer gets RESOURCE_EXHAUSTED.
       The receive queue is counted in bytes (connection_bytes): a client
       that sends large requests faster than they are served is pushed back
       by TCP instead of filling this process's memory. */
    int64_t max_message = 0;
    int receive_queue = dp_server_receive_queue(config, &max_message);
    zmq_setsockopt(zsock_resolve(router), ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
    zsock_set_rcvhwm(router, receive_queue);
    zsock_set_sndhwm(router, config->queue_limit);
    s_malloc_setup();
    zsock_set_linger(router, 0);
    if (dp_security_server(router, config->curve_dir, config->service_name) != 0) {
        zsock_destroy(&router);
        free(pending);
        zsock_signal(pipe, 1);
        return;
    }
    if (zsock_bind(router, "%s", config->endpoint) < 0) {
        dp_error("cannot bind %s: %s", config->endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&router);
        dp_security_server_done(config->curve_dir);
        free(pending);
        zsock_signal(pipe, 1);
        return;
    }
    char *bound = zsock_last_endpoint(router);
    dp_info("%s %s serving on %s", config->service_name, DP_VERSION, bound ? bound : "?");
    zsock_signal(pipe, 0);

    bool running = s_wait_for_database(config, pipe, bound);
    int64_t next_tick = config->tick_ms > 0 ? zclock_mono() + config->tick_ms : -1;
    while (running) {
        long timeout = -1;
        if (next_tick >= 0) {
            int64_t left = next_tick - zclock_mono();
            timeout = left > 0 ? (long)left : 0;
        }
        if (server.trim_due && (timeout < 0 || timeout > S_IDLE_TRIM_MS))
            timeout = S_IDLE_TRIM_MS;
        /* The service may watch one more socket and one file descriptor
           (e.g. a SUB socket, or PostgreSQL's for LISTEN); both may change
           between turns, so they are asked for each time. */
        zsock_t *extra = config->extra_socket ? config->extra_socket(config->state) : NULL;
        int fd = config->extra_fd ? config->extra_fd(config->state) : -1;
        zmq_pollitem_t items[4] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve(router), 0, ZMQ_POLLIN, 0}};
        int count = 2;
        if (extra)
            items[count++] = (zmq_pollitem_t){zsock_resolve(extra), 0, ZMQ_POLLIN, 0};
        int fd_item = fd >= 0 ? count : -1;
        if (fd >= 0)
            items[count++] = (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0};
        int ready = zmq_poll(items, count, timeout);
        if (ready < 0 && zmq_errno() != EINTR)
            break;
        /* After a burst of large requests, a quiet moment: what glibc still
           holds in its heaps (the pieces below the mmap threshold) goes
           back to the system, so the resident set returns once the client
           has gone. */
        if (ready == 0 && server.trim_due) {
            malloc_trim(0);
            server.trim_due = false;
        }
        if (config->metrics && config->db) {
            dp_metrics_set_gauge(config->metrics, "dp_db_up",
                                 "1 when the last use of the database succeeded",
                                 dp_db_is_connected(config->db));
            dp_metrics_set_gauge(config->metrics, "dp_db_reconnects_total",
                                 "Reconnections to PostgreSQL after a lost connection",
                                 (double)dp_db_reconnect_count(config->db));
            dp_metrics_set_gauge(config->metrics, "dp_db_retries_total",
                                 "Transactions run again after a serialization failure, a "
                                 "deadlock or a connection lost before COMMIT",
                                 (double)dp_db_retry_count(config->db));
        }
        if (next_tick >= 0 && zclock_mono() >= next_tick) {
            config->on_tick(config->state);
            next_tick = zclock_mono() + config->tick_ms;
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_serve_ready(&server, router, pending);
        if (extra && (items[2].revents & ZMQ_POLLIN))
            config->on_extra_socket(config->state);
        if (fd_item >= 0 && (items[fd_item].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
            config->on_extra_fd(config->state);
        if (items[0].revents & ZMQ_POLLIN)
            running = s_obey_pipe(config, pipe, bound);
    }
    zsock_destroy(&router);
    dp_security_server_done(config->curve_dir);
    free(bound);
    free(pending);
    dp_info("%s stopped after %llu requests", config->service_name,
            (unsigned long long)server.requests_served);
    /* Handlers hash with OpenSSL in this thread: free its per-thread state. */
    OPENSSL_thread_stop();
}

zactor_t *dp_server_start(zactor_fn *actor, void *args, char **endpoint_out)
{
    zactor_t *handle = zactor_new(actor, args);
    if (!handle)
        return NULL;
    zstr_send(handle, "ENDPOINT");
    zsock_set_rcvtimeo(handle, 10000);
    /* An actor that could not start has signalled failure and returned;
       what comes back is then zactor's own exit signal, not an endpoint. */
    zmsg_t *answer = zmsg_recv(handle);
    char *endpoint = answer && zmsg_signal(answer) < 0 ? zmsg_popstr(answer) : NULL;
    zmsg_destroy(&answer);
    /* The time-out was for the start only: the caller's questions wait. */
    zsock_set_rcvtimeo(handle, -1);
    if (!endpoint || !*endpoint) {
        zstr_free(&endpoint);
        zactor_destroy(&handle);
        return NULL;
    }
    if (endpoint_out)
        *endpoint_out = endpoint;
    else
        zstr_free(&endpoint);
    return handle;
}

void dp_server_refuse(zsock_t *pipe)
{
    zsock_signal(pipe, 1);
    for (;;) {
        char *command = zstr_recv(pipe);
        if (!command)
            return; /* interrupted */
        bool term = strcmp(command, "$TERM") == 0;
        if (!term)
            zstr_send(pipe, "");
        zstr_free(&command);
        if (term)
            return;
    }
}
