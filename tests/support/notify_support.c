#include "notify_support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_client.h"
#include "dp_config.h"
#include "dp_server.h"

enum { CALL_TIMEOUT_MS = 15000, POLL_STEP_MS = 20, SUBSCRIBE_WAIT_MS = 5000 };

/* ---- The notify actor ------------------------------------------------------ */

tn_notify_t *tn_notify_start(const char *database_url, const char *const *settings)
{
    tn_notify_t *self = tf_service_start(TF_NOTIFY, database_url, settings);
    if (!self)
        return NULL;
    const char *pub = tf_service_pub_endpoint(self);
    if (!pub || strncmp(pub, "tcp://", 6) != 0) {
        fprintf(stderr, "the notify actor gave no PUB endpoint ('%s')\n", pub ? pub : "(none)");
        tn_notify_stop(&self);
        return NULL;
    }
    return self;
}

void tn_notify_stop(tn_notify_t **self_p)
{
    tf_service_stop(self_p);
}

const char *tn_notify_endpoint(const tn_notify_t *self)
{
    return tf_service_endpoint(self);
}

const char *tn_notify_pub_endpoint(const tn_notify_t *self)
{
    return tf_service_pub_endpoint(self);
}

ProtobufCMessage *tn_call(tn_notify_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status)
{
    return tf_call(self, request, reply_type, status);
}

#define TN_DEFINE_CALL(Camel, snake) TF_DEFINE_CALL(tn_, Camel, snake)
TN_NOTIFY_CALLS(TN_DEFINE_CALL)
#undef TN_DEFINE_CALL

/* ---- Outbox rows and the sequence ------------------------------------------ */

PGconn *tn_connect(const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", PQerrorMessage(conn));
        PQfinish(conn);
        fail_msg("cannot connect to the test database: %s", message);
    }
    PQsetNoticeProcessor(conn, NULL, NULL);
    return conn;
}

void tn_exec(PGconn *conn, const char *sql)
{
    PGresult *result = ts_query(conn, sql, 0, NULL);
    PQclear(result);
}

void tn_open(const char *label, ts_database_t **database, PGconn **admin, PGconn **writer)
{
    *database = ts_database_new(label);
    *admin = ts_connect_or_exit(ts_database_url(*database, TS_ROLE_ADMIN));
    if (writer)
        *writer = ts_connect_or_exit(ts_database_url(*database, TS_ROLE_REGISTRY));
}

void tn_close(ts_database_t **database, PGconn **admin, PGconn **writer)
{
    if (writer && *writer)
        PQfinish(*writer);
    if (writer)
        *writer = NULL;
    if (*admin)
        PQfinish(*admin);
    *admin = NULL;
    ts_database_destroy(database);
}

void tn_require_relaying(const tn_notify_t *notify, PGconn *admin, int wait_ms)
{
    if (!notify || !tn_wait_relay_active(admin, wait_ms)) {
        fprintf(stderr, "FATAL: the notify service did not start relaying\n");
        exit(1);
    }
}

uint64_t tn_emit_one(PGconn *writer, PGconn *admin, const char *event_type, const char *tag,
                     const char *payload, int wait_ms)
{
    tn_outbox_insert(writer, "registry", event_type, tag, 1, 1, payload, strlen(payload));
    char aggregate_id[80];
    snprintf(aggregate_id, sizeof aggregate_id, "%s-1", tag);
    long long seq = tn_wait_seq_of(admin, event_type, aggregate_id, wait_ms);
    assert_true(seq > 0);
    return (uint64_t)seq;
}

Dp__ListParkedReply *tn_parked(tn_notify_t *notify, const char *owner)
{
    Dp__ListParkedRequest request = DP__LIST_PARKED_REQUEST__INIT;
    request.consumer = (char *)owner;
    dp_status_t status;
    Dp__ListParkedReply *reply = tn_list_parked(notify, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    return reply;
}

void tn_outbox_insert(PGconn *conn, const char *origin, const char *event_type, const char *tag,
                      int first, int count, const void *payload, size_t payload_size)
{
    static const char *registry_sql =
        "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, payload)"
        " SELECT $1::text, 'test', $2::text || '-' || g::text, $3::bytea"
        " FROM generate_series($4::int, $4::int + $5::int - 1) g";
    static const char *intake_sql =
        "INSERT INTO intake.outbox (event_type, aggregate_type, aggregate_id, payload)"
        " SELECT $1::text, 'test', $2::text || '-' || g::text, $3::bytea"
        " FROM generate_series($4::int, $4::int + $5::int - 1) g";
    bool intake = strcmp(origin, "intake") == 0;
    if (!intake && strcmp(origin, "registry") != 0)
        fail_msg("unknown origin %s", origin);
    char first_text[24], count_text[24];
    snprintf(first_text, sizeof first_text, "%d", first);
    snprintf(count_text, sizeof count_text, "%d", count);
    const char *values[] = {event_type, tag, payload_size ? payload : "", first_text, count_text};
    int lengths[] = {0, 0, (int)payload_size, 0, 0};
    int formats[] = {0, 0, 1, 0, 0};
    PGresult *result = PQexecParams(conn, intake ? intake_sql : registry_sql, 5, NULL, values,
                                    lengths, formats, 0);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", PQresultErrorMessage(result));
        PQclear(result);
        fail_msg("writing %d %s outbox rows failed: %s", count, origin, message);
    }
    PQclear(result);
}

long long tn_event_count(PGconn *admin)
{
    return ts_query_long(admin, "SELECT count(*) FROM notify.event", 0, NULL);
}

long long tn_latest_seq(PGconn *admin)
{
    return ts_query_long(admin, "SELECT coalesce(max(seq), 0) FROM notify.event", 0, NULL);
}

long long tn_seq_of(PGconn *admin, const char *event_type, const char *aggregate_id)
{
    const char *params[] = {event_type, aggregate_id};
    return ts_query_long(admin,
                         "SELECT coalesce(max(seq), 0) FROM notify.event"
                         " WHERE event_type = $1 AND aggregate_id = $2",
                         2, params);
}

long long tn_wait_event_count(PGconn *admin, long long count, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    long long seen = tn_event_count(admin);
    while (seen < count && zclock_mono() < deadline) {
        zclock_sleep(POLL_STEP_MS);
        seen = tn_event_count(admin);
    }
    return seen;
}

long long tn_wait_seq_of(PGconn *admin, const char *event_type, const char *aggregate_id,
                         int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    long long seq = tn_seq_of(admin, event_type, aggregate_id);
    while (!seq && zclock_mono() < deadline) {
        zclock_sleep(POLL_STEP_MS);
        seq = tn_seq_of(admin, event_type, aggregate_id);
    }
    return seq;
}

bool tn_wait_value(PGconn *admin, const char *sql, int param_count, const char *const *params,
                   long long expected, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (ts_query_long(admin, sql, param_count, params) != expected) {
        if (zclock_mono() >= deadline)
            return false;
        zclock_sleep(POLL_STEP_MS);
    }
    return true;
}

void tn_assert_sequence_at(PGconn *admin, long long count, const char *file, int line)
{
    PGresult *result = ts_query(admin,
                                "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0),"
                                " count(DISTINCT (origin, origin_id)),"
                                " (SELECT count(*) FROM registry.outbox),"
                                " (SELECT count(*) FROM intake.outbox)"
                                " FROM notify.event",
                                0, NULL);
    long long rows = atoll(PQgetvalue(result, 0, 0));
    long long low = atoll(PQgetvalue(result, 0, 1));
    long long high = atoll(PQgetvalue(result, 0, 2));
    long long origins = atoll(PQgetvalue(result, 0, 3));
    long long registry_left = atoll(PQgetvalue(result, 0, 4));
    long long intake_left = atoll(PQgetvalue(result, 0, 5));
    PQclear(result);
    bool intact = rows == count && origins == count && (count == 0 || (low == 1 && high == count));
    if (intact && registry_left == 0 && intake_left == 0)
        return;
    /* seq is the primary key: count rows with min 1 and max count is 1..count. */
    print_error("expected notify.event to be seq 1..%lld with each origin row once and empty "
                "outboxes; found %lld rows, seq %lld..%lld, %lld distinct origin rows, "
                "%lld registry and %lld intake rows left in the outboxes\n",
                count, rows, low, high, origins, registry_left, intake_left);
    result = ts_query(admin,
                      "SELECT s FROM generate_series(1, (SELECT coalesce(max(seq), 0)"
                      " FROM notify.event)) s WHERE s NOT IN (SELECT seq FROM notify.event)"
                      " ORDER BY s LIMIT 10",
                      0, NULL);
    for (int row = 0; row < PQntuples(result); row++)
        print_error("  missing seq %s\n", PQgetvalue(result, row, 0));
    PQclear(result);
    _fail(file, line);
}

long long tn_relay_lock_holders(PGconn *admin)
{
    /* The key of notify_db.c's relay lock, as pg_locks shows a bigint key. */
    return ts_query_long(admin,
                         "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                         " AND granted AND classid = 0 AND objid = 7101004 AND objsubid = 1"
                         " AND database = (SELECT oid FROM pg_database"
                         "                 WHERE datname = current_database())",
                         0, NULL);
}

bool tn_wait_relay_active(PGconn *admin, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (tn_relay_lock_holders(admin) != 1) {
        if (zclock_mono() >= deadline)
            return false;
        zclock_sleep(POLL_STEP_MS);
    }
    return true;
}

/* ---- Live events ------------------------------------------------------------- */

zsock_t *tn_subscribe(const char *pub_endpoint, const char *const *topics)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    assert_non_null(sub);
    zsock_set_linger(sub, 0);
    zsock_set_rcvhwm(sub, 1000000);
    for (const char *const *topic = topics; topic && *topic; topic++)
        zsock_set_subscribe(sub, *topic);
    zsock_set_subscribe(sub, "heartbeat");
    assert_int_equal(zsock_connect(sub, "%s", pub_endpoint), 0);
    /* Heartbeats come every second: one arriving proves the subscription. */
    int64_t deadline = zclock_mono() + SUBSCRIBE_WAIT_MS;
    while (zclock_mono() < deadline) {
        tn_live_t live;
        if (!tn_receive_live(sub, (int)(deadline - zclock_mono()), &live))
            break;
        bool heartbeat = live.heartbeat != NULL;
        tn_live_free(&live);
        if (heartbeat)
            return sub;
    }
    zsock_destroy(&sub);
    fail_msg("no heartbeat on %s within %d ms", pub_endpoint, SUBSCRIBE_WAIT_MS);
    return NULL;
}

bool tn_receive_live(zsock_t *sub, int timeout_ms, tn_live_t *live)
{
    memset(live, 0, sizeof *live);
    zmq_pollitem_t item = {zsock_resolve(sub), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms > 0 ? timeout_ms : 0) <= 0)
        return false;
    zmsg_t *message = zmsg_recv(sub);
    assert_non_null(message);
    if (zmsg_size(message) != 2) {
        size_t frames = zmsg_size(message);
        zmsg_destroy(&message);
        fail_msg("a live message has %zu frames, not 2 (topic, message)", frames);
    }
    live->topic = zmsg_popstr(message);
    zframe_t *frame = zmsg_first(message);
    if (strcmp(live->topic, "heartbeat") == 0) {
        live->heartbeat = (Dp__Heartbeat *)dp_message_decode(
            &dp__heartbeat__descriptor, zframe_data(frame), zframe_size(frame), 1 << 16);
        zmsg_destroy(&message);
        if (!live->heartbeat)
            fail_msg("a heartbeat does not decode as dp.Heartbeat");
        return true;
    }
    live->event = (Dp__Event *)dp_message_decode(&dp__event__descriptor, zframe_data(frame),
                                                 zframe_size(frame), 1 << 28);
    zmsg_destroy(&message);
    if (!live->event)
        fail_msg("a live message on topic %s does not decode as dp.Event", live->topic);
    if (strcmp(live->topic, live->event->type) != 0)
        fail_msg("a live event of type %s came on the topic %s", live->event->type, live->topic);
    return true;
}

void tn_live_free(tn_live_t *live)
{
    zstr_free(&live->topic);
    dp_message_free((ProtobufCMessage **)&live->event);
    dp_message_free((ProtobufCMessage **)&live->heartbeat);
}

Dp__Event *tn_next_event(zsock_t *sub, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (true) {
        int64_t left = deadline - zclock_mono();
        tn_live_t live;
        if (left <= 0 || !tn_receive_live(sub, (int)left, &live))
            return NULL;
        if (live.event) {
            Dp__Event *event = live.event;
            live.event = NULL;
            tn_live_free(&live);
            return event;
        }
        tn_live_free(&live);
    }
}

/* ---- Child processes --------------------------------------------------------- */

pid_t tn_spawn(const char *const *argv, const char *const *env, int *stdout_fd)
{
    int out_pipe[2] = {-1, -1};
    if (stdout_fd && pipe(out_pipe) != 0)
        fail_msg("pipe: %s", strerror(errno));
    char **envp = ts_child_environment(env);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(envp);
        fail_msg("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        if (stdout_fd) {
            dup2(out_pipe[1], STDOUT_FILENO);
            close(out_pipe[0]);
            close(out_pipe[1]);
        }
        ts_child_exec(argv, envp, "tn_spawn");
    }
    free(envp);
    if (stdout_fd) {
        close(out_pipe[1]);
        *stdout_fd = out_pipe[0];
    }
    return pid;
}

int tn_wait_pid(pid_t pid, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (true) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (done < 0 && errno != EINTR)
            return -1;
        if (zclock_mono() >= deadline)
            return -1;
        zclock_sleep(10);
    }
}

char *tn_read_line(int fd, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    size_t length = 0, size = 128;
    char *line = malloc(size);
    assert_non_null(line);
    while (true) {
        int64_t left = deadline - zclock_mono();
        struct pollfd item = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&item, 1, (int)left) <= 0)
            break;
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (c == '\n') {
            line[length] = 0;
            return line;
        }
        if (length + 2 > size) {
            size *= 2;
            line = realloc(line, size);
            assert_non_null(line);
        }
        line[length++] = c;
    }
    free(line);
    return NULL;
}

int tn_free_port(void)
{
    return ts_free_port();
}

/* ---- A minimal HTTP receiver -------------------------------------------------- */

enum { MAX_HEAD_BYTES = 65536, MAX_BODY_BYTES = 16 << 20, CONNECTION_TIMEOUT_S = 5 };

struct _ns_http_receiver_t {
    int listener;                 /* listening socket */
    char url[64];                 /* http://127.0.0.1:<port>/hook */
    pthread_t thread;             /* serves one connection at a time */
    bool thread_started;          /* thread must be joined */
    pthread_mutex_t lock;         /* guards what follows */
    pthread_cond_t arrived;       /* signalled on each request */
    bool stop;                    /* the thread should end */
    int *statuses;                /* scripted answers, in order */
    size_t status_count;          /* how many */
    int then_status;              /* the answer after the scripted ones */
    tn_http_request_t **requests; /* as received */
    size_t request_count;         /* how many */
};

static void s_request_free(tn_http_request_t *request)
{
    if (!request)
        return;
    free(request->method);
    free(request->target);
    free(request->head);
    free(request->body);
    free(request);
}

/* Writes all of data; false when the peer went away. */
static bool s_write_all(int fd, const char *data, size_t size)
{
    while (size) {
        ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return false;
        data += sent;
        size -= (size_t)sent;
    }
    return true;
}

/* A header's value within a header block (case-insensitive name), or NULL. */
static char *s_header_value(const char *head, const char *name)
{
    size_t name_length = strlen(name);
    for (const char *line = head; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t line_length = end ? (size_t)(end - line) : strlen(line);
        if (line_length > name_length && strncasecmp(line, name, name_length) == 0 &&
            line[name_length] == ':') {
            const char *value = line + name_length + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            size_t value_length = (size_t)(line + line_length - value);
            while (value_length && (value[value_length - 1] == ' '))
                value_length--;
            return strndup(value, value_length);
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

/* Reads one request from the connection; NULL when it is not one. */
static tn_http_request_t *s_read_request(int fd)
{
    char *buffer = malloc(MAX_HEAD_BYTES + 1);
    if (!buffer)
        return NULL;
    size_t length = 0;
    char *head_end = NULL;
    while (!head_end && length < MAX_HEAD_BYTES) {
        ssize_t got = recv(fd, buffer + length, MAX_HEAD_BYTES - length, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        length += (size_t)got;
        buffer[length] = 0;
        head_end = strstr(buffer, "\r\n\r\n");
    }
    if (!head_end) {
        free(buffer);
        return NULL;
    }
    tn_http_request_t *request = calloc(1, sizeof *request);
    char *line_end = strstr(buffer, "\r\n");
    char *space = memchr(buffer, ' ', (size_t)(line_end - buffer));
    char *second = space ? memchr(space + 1, ' ', (size_t)(line_end - space - 1)) : NULL;
    if (!request || !space || !second) {
        free(request);
        free(buffer);
        return NULL;
    }
    request->method = strndup(buffer, (size_t)(space - buffer));
    request->target = strndup(space + 1, (size_t)(second - space - 1));
    request->head = strndup(line_end + 2, (size_t)(head_end + 2 - (line_end + 2)));
    char *content_length = s_header_value(request->head, "Content-Length");
    size_t body_size = content_length ? strtoul(content_length, NULL, 10) : 0;
    free(content_length);
    char *expect = s_header_value(request->head, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0) {
        static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
        s_write_all(fd, go_on, sizeof go_on - 1);
    }
    free(expect);
    if (body_size > MAX_BODY_BYTES) {
        s_request_free(request);
        free(buffer);
        return NULL;
    }
    request->body = malloc(body_size + 1);
    size_t have = length - (size_t)(head_end + 4 - buffer);
    if (have > body_size)
        have = body_size;
    if (request->body)
        memcpy(request->body, head_end + 4, have);
    free(buffer);
    while (request->body && have < body_size) {
        ssize_t got = recv(fd, request->body + have, body_size - have, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
    }
    if (!request->body || have < body_size) {
        s_request_free(request);
        return NULL;
    }
    request->body[body_size] = 0;
    request->body_size = body_size;
    return request;
}

static void *s_serve(void *arg)
{
    tn_http_receiver_t *self = arg;
    while (true) {
        pthread_mutex_lock(&self->lock);
        bool stop = self->stop;
        pthread_mutex_unlock(&self->lock);
        if (stop)
            break;
        struct pollfd item = {.fd = self->listener, .events = POLLIN};
        if (poll(&item, 1, 50) <= 0)
            continue;
        int fd = accept(self->listener, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval timeout = {.tv_sec = CONNECTION_TIMEOUT_S};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        tn_http_request_t *request = s_read_request(fd);
        int status = 400;
        if (request) {
            /* Recorded before the answer, so that whoever sees the outcome
               in the database also finds the request here. */
            pthread_mutex_lock(&self->lock);
            status = self->request_count < self->status_count ? self->statuses[self->request_count]
                                                              : self->then_status;
            request->answered = status;
            tn_http_request_t **grown =
                realloc(self->requests, (self->request_count + 1) * sizeof *self->requests);
            if (grown) {
                self->requests = grown;
                self->requests[self->request_count++] = request;
                request = NULL;
            }
            pthread_cond_broadcast(&self->arrived);
            pthread_mutex_unlock(&self->lock);
            s_request_free(request);
        }
        char answer[160];
        int size = snprintf(answer, sizeof answer,
                            "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            status, status < 300 ? "OK" : "Scripted Answer");
        s_write_all(fd, answer, (size_t)size);
        close(fd);
    }
    return NULL;
}

tn_http_receiver_t *tn_http_receiver_new(const int *statuses, size_t count, int then_status)
{
    tn_http_receiver_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->arrived, NULL);
    self->then_status = then_status;
    self->status_count = count;
    self->statuses = calloc(count ? count : 1, sizeof(int));
    assert_non_null(self->statuses);
    if (count)
        memcpy(self->statuses, statuses, count * sizeof(int));
    self->listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(self->listener >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(self->listener, (struct sockaddr *)&address, sizeof address) != 0 ||
        listen(self->listener, 16) != 0 ||
        getsockname(self->listener, (struct sockaddr *)&address, &length) != 0) {
        int error = errno;
        tn_http_receiver_destroy(&self);
        fail_msg("the HTTP receiver cannot listen: %s", strerror(error));
    }
    snprintf(self->url, sizeof self->url, "http://127.0.0.1:%d/hook", ntohs(address.sin_port));
    if (pthread_create(&self->thread, NULL, s_serve, self) != 0) {
        tn_http_receiver_destroy(&self);
        fail_msg("cannot start the HTTP receiver's thread");
    }
    self->thread_started = true;
    return self;
}

void tn_http_receiver_destroy(tn_http_receiver_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tn_http_receiver_t *self = *self_p;
    if (self->thread_started) {
        pthread_mutex_lock(&self->lock);
        self->stop = true;
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->thread, NULL);
    }
    if (self->listener >= 0)
        close(self->listener);
    for (size_t i = 0; i < self->request_count; i++)
        s_request_free(self->requests[i]);
    free(self->requests);
    free(self->statuses);
    pthread_cond_destroy(&self->arrived);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

const char *tn_http_receiver_url(const tn_http_receiver_t *self)
{
    return self->url;
}

void tn_http_receiver_set_status(tn_http_receiver_t *self, int status)
{
    pthread_mutex_lock(&self->lock);
    self->then_status = status;
    self->status_count = 0;
    pthread_mutex_unlock(&self->lock);
}

size_t tn_http_receiver_wait(tn_http_receiver_t *self, size_t count, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->lock);
    while (self->request_count < count)
        if (pthread_cond_timedwait(&self->arrived, &self->lock, &deadline) == ETIMEDOUT)
            break;
    size_t have = self->request_count;
    pthread_mutex_unlock(&self->lock);
    return have;
}

const tn_http_request_t *tn_http_receiver_request(tn_http_receiver_t *self, size_t index)
{
    pthread_mutex_lock(&self->lock);
    const tn_http_request_t *request = index < self->request_count ? self->requests[index] : NULL;
    pthread_mutex_unlock(&self->lock);
    return request;
}

char *tn_http_header(const tn_http_request_t *request, const char *name)
{
    return s_header_value(request->head, name);
}

void tn_start_notify(pid_t *pid, const ts_database_t *database, const char *router_endpoint,
                     const char *pub_endpoint, const char *const *extra, int ready_ms)
{
    char *program = zsys_sprintf("%s/services/notify/dp-notify", ts_require_env("DP_BUILD_DIR"));
    char *settings[3] = {
        zsys_sprintf("DP_DATABASE_URL=%s", ts_database_url(database, TS_ROLE_NOTIFY)),
        zsys_sprintf("DP_NOTIFY_ENDPOINT=%s", router_endpoint),
        zsys_sprintf("DP_NOTIFY_PUB_ENDPOINT=%s", pub_endpoint)};
    const char *env[16] = {settings[0], settings[1], settings[2]};
    size_t count = 3;
    for (const char *const *setting = extra; setting && *setting && count < 15; setting++)
        env[count++] = *setting;
    const char *argv[] = {program, NULL};
    *pid = tn_spawn(argv, env, NULL);
    zstr_free(&program);
    for (size_t i = 0; i < 3; i++)
        zstr_free(&settings[i]);
    tn_wait_ready(pid, router_endpoint, ready_ms);
}

void tn_wait_ready(pid_t *pid, const char *router_endpoint, int ready_ms)
{
    int64_t deadline = zclock_mono() + ready_ms;
    bool ready = false;
    while (!ready && zclock_mono() < deadline) {
        int exited = tn_wait_pid(*pid, 0);
        if (exited >= 0) {
            *pid = -1;
            fail_msg("dp-notify exited with %d at start", exited);
        }
        dp_client_t *client = dp_client_new(router_endpoint, 500, 1);
        assert_non_null(client);
        Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
        Dp__HealthReply *reply = NULL;
        dp_status_t status;
        if (dp_client_call(client, &request.base, &dp__health_reply__descriptor,
                           (ProtobufCMessage **)&reply, &status) == 0 &&
            status.code == DP__CODE__CODE_OK)
            ready = reply->database_ok;
        ts_free(&reply);
        dp_client_destroy(&client);
    }
    if (!ready)
        fail_msg("dp-notify did not answer Health within %d ms", ready_ms);
}
