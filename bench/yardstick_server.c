/* dp-bench-yardstick: the floor that dp-intake's submissions are measured
   against. It takes the same envelopes (dp.SubmitEnquiryRequest over
   DEALER/ROUTER) and, for every batch (whatever queued while the previous
   commit ran), stores the batch with one multi-row INSERT into its own
   table, commits it with synchronous_commit on, and only then acknowledges
   each submission. No validation, no idempotency, no triage, no events:
   what any intake pipeline on this machine and this PostgreSQL can reach at
   best. A benchmark tool, not a service: never deploy it. */
#include <arpa/inet.h>
#include <czmq.h>
#include <string.h>

#include "dp_codec.h"
#include "dp_db.h"
#include "dp_log.h"
#include "dp_service.h"
#include "intake.pb-c.h"

/* The bench owns this schema; the admin role creates it on start. */
static const char *s_schema = "CREATE SCHEMA IF NOT EXISTS bench_yardstick;"
                              "CREATE TABLE IF NOT EXISTS bench_yardstick.enquiry ("
                              "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                              "  source text NOT NULL,"
                              "  idempotency_key text NOT NULL,"
                              "  sender_name text NOT NULL,"
                              "  email text NOT NULL,"
                              "  organisation text NOT NULL,"
                              "  country text NOT NULL,"
                              "  kind text NOT NULL,"
                              "  subject text NOT NULL,"
                              "  body text NOT NULL,"
                              "  language text NOT NULL,"
                              "  areas text[] NOT NULL,"
                              "  received_at timestamptz NOT NULL,"
                              "  stored_at timestamptz NOT NULL DEFAULT now())";

enum { STORE, STATEMENT_COUNT };
enum { COLUMN_COUNT = 12 };

/* One statement for any batch size: each column travels as one text[]
   parameter (binary), so the SQL text stays constant. An INSERT outside
   BEGIN is its own transaction: one round trip per batch, COMMIT included.
   RETURNING gives the ids in the order of the arrays. */
static const dp_statement_t s_statements[] = {
    [STORE] = {"store",
               "INSERT INTO bench_yardstick.enquiry (source, idempotency_key, sender_name, email, "
               "  organisation, country, kind, subject, body, language, areas, received_at) "
               "SELECT t.source, t.idempotency_key, t.sender_name, t.email, t.organisation, "
               "  t.country, t.kind, t.subject, t.body, t.language, string_to_array(t.areas, ','), "
               "  t.received_at::timestamptz "
               "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
               "  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "
               "  $12::text[]) AS t(source, idempotency_key, sender_name, email, organisation, "
               "  country, kind, subject, body, language, areas, received_at) "
               "RETURNING id",
               COLUMN_COUNT},
};

static const dp_setting_t s_settings[] = {
    {"DP_DATABASE_URL", "", "libpq URL of a role that may create schema bench_yardstick"},
    {"DP_YARDSTICK_ENDPOINT", "tcp://127.0.0.1:7199", "ZeroMQ endpoint to bind (ROUTER)"},
    {"DP_LOG_LEVEL", "info", "debug, info, warning or error"},
    {"DP_MAX_MESSAGE_BYTES", "1048576", "largest request accepted", true, 1024, 67108864},
    {"DP_QUEUE_LIMIT", "10000", "requests queued per client before ZeroMQ pushes back", true, 1,
     1000000},
    {"DP_DB_WAIT_MS", "30000", "how long to wait for PostgreSQL at start", true, 0, 3600000},
    {"DP_YARDSTICK_MAX_BATCH", "256", "submissions stored in one INSERT at most (as dp-intake)",
     true, 1, 10000},
};

/* PostgreSQL's OID of type text, the element type of the array parameters. */
enum { TEXT_OID = 25, ARRAY_HEADER_BYTES = 20 };

/* One text[] parameter in PostgreSQL's binary array format, reused from
   batch to batch (it only grows). */
typedef struct {
    unsigned char *data; /* header, then length-prefixed elements */
    size_t size;         /* bytes used */
    size_t capacity;     /* bytes allocated */
    uint32_t count;      /* elements added */
} column_t;

/* One request taken off the socket and waiting for its batch's commit. */
typedef struct {
    zframe_t *identity;                /* the peer's routing id */
    char *request_id;                  /* echoed in the reply */
    Dp__SubmitEnquiryRequest *request; /* the decoded body */
} pending_t;

/* Batch sizes by power of two: [0] = 1, [1] = 2-3, [2] = 4-7 ... */
enum { SIZE_BUCKETS = 16 };

typedef struct {
    dp_db_t *db;                    /* the admin connection */
    zsock_t *router;                /* where requests come in */
    size_t max_batch;               /* requests per INSERT at most */
    size_t budget;                  /* decoding memory per message */
    size_t max_message_bytes;       /* larger requests are refused */
    pending_t *pending;             /* max_batch slots */
    column_t columns[COLUMN_COUNT]; /* the parameters of STORE */
    uint64_t batches;               /* INSERTs committed */
    uint64_t stored;                /* rows committed */
    uint64_t failed;                /* requests answered with an error */
    uint64_t sizes[SIZE_BUCKETS];   /* batch size histogram */
} yardstick_t;

/* ---- binary text[] parameters ------------------------------------------------------ */

static int s_column_reserve(column_t *column, size_t more)
{
    if (column->size + more <= column->capacity)
        return 0;
    size_t capacity = column->capacity ? column->capacity : 4096;
    while (capacity < column->size + more)
        capacity *= 2;
    unsigned char *data = realloc(column->data, capacity);
    if (!data)
        return -1;
    column->data = data;
    column->capacity = capacity;
    return 0;
}

static void s_put_u32(unsigned char *at, uint32_t value)
{
    value = htonl(value);
    memcpy(at, &value, 4);
}

static int s_column_start(column_t *column)
{
    column->size = 0;
    column->count = 0;
    if (s_column_reserve(column, ARRAY_HEADER_BYTES) != 0)
        return -1;
    column->size = ARRAY_HEADER_BYTES; /* filled by s_column_finish */
    return 0;
}

static int s_column_add(column_t *column, const char *text)
{
    size_t length = strlen(text);
    if (length > INT32_MAX || s_column_reserve(column, 4 + length) != 0)
        return -1;
    s_put_u32(column->data + column->size, (uint32_t)length);
    memcpy(column->data + column->size + 4, text, length);
    column->size += 4 + length;
    column->count++;
    return 0;
}

/* One dimension, no NULLs, element type text, lower bound 1. */
static void s_column_finish(column_t *column)
{
    s_put_u32(column->data, 1);
    s_put_u32(column->data + 4, 0);
    s_put_u32(column->data + 8, TEXT_OID);
    s_put_u32(column->data + 12, column->count);
    s_put_u32(column->data + 16, 1);
}

/* ---- requests and replies ------------------------------------------------------------ */

static void s_send_reply(yardstick_t *self, zframe_t **identity_p, const char *request_id,
                         Dp__Code code, const char *message, const ProtobufCMessage *body)
{
    unsigned char *packed_body = NULL;
    size_t body_size = 0;
    if (body && !(packed_body = dp_message_pack(body, &body_size))) {
        code = DP__CODE__CODE_RESOURCE_EXHAUSTED;
        message = "out of memory";
    }
    Dp__Status status = DP__STATUS__INIT;
    status.code = code;
    status.message = (char *)message;
    Dp__Reply reply = DP__REPLY__INIT;
    reply.request_id = (char *)(request_id ? request_id : "");
    reply.status = &status;
    reply.type = code == DP__CODE__CODE_OK && body ? (char *)body->descriptor->name : "";
    reply.body.data = packed_body;
    reply.body.len = body_size;
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&reply.base, &size);
    if (packed) {
        zmsg_t *answer = zmsg_new();
        zmsg_append(answer, identity_p);
        zmsg_addmem(answer, NULL, 0);
        zmsg_addmem(answer, packed, size);
        /* A peer that has gone away loses its reply. */
        zmsg_send(&answer, self->router);
        zmsg_destroy(&answer);
    }
    if (code != DP__CODE__CODE_OK)
        self->failed++;
    free(packed);
    free(packed_body);
    zframe_destroy(identity_p);
}

/* Takes one message off the socket. Returns 1 when it joined the batch,
   0 when it was answered at once (malformed), -1 when nothing came. */
static int s_take(yardstick_t *self, pending_t *pending)
{
    zmsg_t *message = zmsg_recv(self->router);
    if (!message)
        return -1;
    zframe_t *identity = zmsg_pop(message);
    zframe_t *delimiter = zmsg_first(message);
    zframe_t *frame = zmsg_next(message);
    Dp__Request *envelope = NULL;
    const char *refusal = NULL;
    if (!identity || zmsg_size(message) != 2 || zframe_size(delimiter) != 0)
        refusal = "expected 2 frames: an empty delimiter, then the envelope";
    else if (zframe_size(frame) > self->max_message_bytes)
        refusal = "request too large";
    else if (!(envelope = (Dp__Request *)dp_message_decode(
                   &dp__request__descriptor, zframe_data(frame), zframe_size(frame), self->budget)))
        refusal = "malformed envelope";
    else if (strcmp(envelope->type, dp__submit_enquiry_request__descriptor.name) != 0)
        refusal = "the yardstick takes dp.SubmitEnquiryRequest only";
    else {
        pending->request = (Dp__SubmitEnquiryRequest *)dp_message_decode(
            &dp__submit_enquiry_request__descriptor, envelope->body.data, envelope->body.len,
            self->budget);
        if (!pending->request || !pending->request->enquiry) {
            dp_message_free((ProtobufCMessage **)&pending->request);
            refusal = "malformed body";
        }
    }
    zmsg_destroy(&message);
    if (refusal) {
        if (identity)
            s_send_reply(self, &identity, envelope ? envelope->request_id : NULL,
                         DP__CODE__CODE_INVALID_ARGUMENT, refusal, NULL);
        dp_message_free((ProtobufCMessage **)&envelope);
        return 0;
    }
    pending->identity = identity;
    pending->request_id = strdup(envelope->request_id);
    dp_message_free((ProtobufCMessage **)&envelope);
    return 1;
}

/* ---- storing --------------------------------------------------------------------------- */

static int s_add_row(yardstick_t *self, const Dp__EnquirySubmission *s)
{
    /* Areas are slugs (no commas): string_to_array splits them again. */
    char areas[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < s->n_areas && used < sizeof areas; i++)
        used +=
            (size_t)snprintf(areas + used, sizeof areas - used, "%s%s", i ? "," : "", s->areas[i]);
    const char *values[COLUMN_COUNT] = {
        s->source,       s->idempotency_key, s->sender_name, s->email,
        s->organisation, s->country,         s->kind,        s->subject,
        s->body,         s->language,        areas,          s->received_at};
    for (int i = 0; i < COLUMN_COUNT; i++)
        if (s_column_add(&self->columns[i], values[i]) != 0)
            return -1;
    return 0;
}

static void s_count_batch(yardstick_t *self, size_t size)
{
    int bucket = 0;
    while (bucket < SIZE_BUCKETS - 1 && (size >> (bucket + 1)) > 0)
        bucket++;
    self->sizes[bucket]++;
    self->batches++;
    self->stored += size;
}

/* Stores the batch with one INSERT and answers every request in it. */
static void s_store(yardstick_t *self, size_t count)
{
    int ready = 0;
    for (int i = 0; i < COLUMN_COUNT; i++)
        ready |= s_column_start(&self->columns[i]);
    for (size_t i = 0; ready == 0 && i < count; i++)
        ready = s_add_row(self, self->pending[i].request->enquiry);
    const char *params[COLUMN_COUNT];
    int lengths[COLUMN_COUNT], formats[COLUMN_COUNT];
    for (int i = 0; i < COLUMN_COUNT; i++) {
        s_column_finish(&self->columns[i]);
        params[i] = (const char *)self->columns[i].data;
        lengths[i] = (int)self->columns[i].size;
        formats[i] = 1;
    }
    PGresult *result =
        ready == 0 ? dp_db_run_binary(self->db, STORE, params, lengths, formats) : NULL;
    bool stored = result && (size_t)PQntuples(result) == count;
    if (stored)
        s_count_batch(self, count);
    else if (ready != 0)
        dp_error("cannot build a batch of %zu: out of memory", count);
    else
        dp_error("batch of %zu not stored: %s %s", count, dp_db_failure_sqlstate(self->db),
                 dp_db_failure_message(self->db));
    for (size_t i = 0; i < count; i++) {
        pending_t *pending = &self->pending[i];
        if (stored) {
            Dp__SubmitEnquiryReply answer = DP__SUBMIT_ENQUIRY_REPLY__INIT;
            answer.enquiry_id = strtoll(PQgetvalue(result, (int)i, 0), NULL, 10);
            answer.status = DP__ENQUIRY_STATUS__ENQUIRY_STATUS_RECEIVED;
            s_send_reply(self, &pending->identity, pending->request_id, DP__CODE__CODE_OK, "",
                         &answer.base);
        } else
            s_send_reply(self, &pending->identity, pending->request_id,
                         ready != 0 ? DP__CODE__CODE_RESOURCE_EXHAUSTED
                                    : dp_db_failure_code(self->db),
                         "not stored", NULL);
        free(pending->request_id);
        pending->request_id = NULL;
        dp_message_free((ProtobufCMessage **)&pending->request);
    }
    PQclear(result);
}

/* Takes what is queued now (at most max_batch) and stores it as one batch. */
static void s_serve_ready(yardstick_t *self)
{
    size_t count = 0;
    while (count < self->max_batch) {
        int taken = s_take(self, &self->pending[count]);
        if (taken < 0)
            break;
        count += (size_t)taken;
        if (!(zsock_events(self->router) & ZMQ_POLLIN))
            break;
    }
    if (count)
        s_store(self, count);
}

static void s_log_histogram(const yardstick_t *self)
{
    char line[512];
    size_t used = 0;
    for (int i = 0; i < SIZE_BUCKETS && used < sizeof line; i++) {
        if (!self->sizes[i])
            continue;
        if (i == 0)
            used += (size_t)snprintf(line + used, sizeof line - used, " 1:%llu",
                                     (unsigned long long)self->sizes[i]);
        else
            used += (size_t)snprintf(line + used, sizeof line - used, " %lu-%lu:%llu", 1UL << i,
                                     (2UL << i) - 1, (unsigned long long)self->sizes[i]);
    }
    dp_info("batches %llu, rows %llu, mean batch %.1f, failed replies %llu; sizes%s",
            (unsigned long long)self->batches, (unsigned long long)self->stored,
            self->batches ? (double)self->stored / (double)self->batches : 0.0,
            (unsigned long long)self->failed, used ? line : " none");
}

/* ---- the actor ---------------------------------------------------------------------------- */

static void s_serve(yardstick_t *self, zsock_t *pipe)
{
    zpoller_t *poller = zpoller_new(pipe, self->router, NULL);
    while (poller) {
        void *which = zpoller_wait(poller, -1);
        if (which == self->router) {
            s_serve_ready(self);
            continue;
        }
        if (which != pipe)
            break; /* interrupted */
        char *command = zstr_recv(pipe);
        bool stop = !command || strcmp(command, "$TERM") == 0;
        if (command && strcmp(command, "ENDPOINT") == 0) {
            char *bound = zsock_last_endpoint(self->router);
            zstr_send(pipe, bound ? bound : "");
            zstr_free(&bound);
        }
        zstr_free(&command);
        if (stop)
            break;
    }
    zpoller_destroy(&poller);
}

static void s_yardstick_actor(zsock_t *pipe, void *args)
{
    const dp_config_t *config = args;
    yardstick_t self = {.max_batch = (size_t)dp_config_get_int(config, "DP_YARDSTICK_MAX_BATCH"),
                        .max_message_bytes =
                            (size_t)dp_config_get_int(config, "DP_MAX_MESSAGE_BYTES")};
    self.budget = self.max_message_bytes * 4 + 65536;
    self.pending = calloc(self.max_batch, sizeof *self.pending);
    self.db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-bench-yardstick",
                        s_statements, STATEMENT_COUNT);
    self.router = zsock_new(ZMQ_ROUTER);
    const char *endpoint = dp_config_get(config, "DP_YARDSTICK_ENDPOINT");
    int ready = self.pending && self.db && self.router ? 0 : -1;
    if (ready != 0)
        dp_error("cannot start: out of memory");
    else if (dp_db_connect(self.db, (int)dp_config_get_int(config, "DP_DB_WAIT_MS")) != 0 ||
             dp_db_run_script(self.db, s_schema) != 0) {
        dp_error("cannot prepare the database: %s", dp_db_failure_message(self.db));
        ready = -1;
    } else {
        zsock_set_maxmsgsize(self.router, (int)(self.max_message_bytes * 4 + 4096));
        zsock_set_rcvhwm(self.router, (int)dp_config_get_int(config, "DP_QUEUE_LIMIT"));
        zsock_set_sndhwm(self.router, (int)dp_config_get_int(config, "DP_QUEUE_LIMIT"));
        zsock_set_linger(self.router, 0);
        if (zsock_bind(self.router, "%s", endpoint) < 0) {
            dp_error("cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
            ready = -1;
        }
    }
    zsock_signal(pipe, ready == 0 ? 0 : 1);
    if (ready == 0) {
        dp_info("yardstick serving on %s (batches of at most %zu)", endpoint, self.max_batch);
        s_serve(&self, pipe);
        s_log_histogram(&self);
    }
    zsock_destroy(&self.router);
    dp_db_destroy(&self.db);
    for (int i = 0; i < COLUMN_COUNT; i++)
        free(self.columns[i].data);
    free(self.pending);
}

int main(int argc, char **argv)
{
    const dp_service_t service = {
        "dp-bench-yardstick",
        "the floor for enquiry intake: one INSERT per batch, nothing else",
        "yardstick",
        s_settings,
        sizeof s_settings / sizeof *s_settings,
        s_yardstick_actor};
    return dp_service_main(&service, argc, argv);
}
