/* dp-bench-registry: a load generator for the registry's read requests,
   and their yardstick. One run measures one request kind against one
   target:

   ours       DP_BENCH_CONNECTIONS DEALER sockets to dp-registry, each with
              DP_BENCH_INFLIGHT requests in flight (the project's envelope,
              protobuf requests); a slot sends its next request as soon as
              its previous one is answered, and the client decodes and checks
              every reply, as a client would.
   yardstick  the same number of libpq connections straight to PostgreSQL,
              as the registry's own role, in pipeline mode with the same
              number of requests in flight on each: every request runs the
              very statements the registry runs for it (taken from the
              registry's statement table, prepared under the same names),
              one pipeline sync per step, so what a client would get by
              asking PostgreSQL itself with no service in between.

   After a warm-up it counts, over a fixed time, the requests answered
   correctly and the time from send to answer, then stops sending and waits
   for what is still in flight, so that the next run starts on an idle
   server. Partner keys (ids and slugs) are chosen at random over the
   registry's partners, as-of dates at random between 2016 and today.
   Output: a human summary on stderr and one line of key=value pairs on
   stdout for scripts (bench/run-registry). A program that measures: it
   reports, it never judges. */
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "bench_load.h"
#include "dp_client.h"
#include "dp_codec.h"
#include "dp_config.h"
#include "registry.pb-c.h"
#include "registry_db.h"

static const dp_setting_t s_settings[] = {
    {"DP_BENCH_TARGET", "ours", "ours (dp-registry over ZeroMQ) or yardstick (libpq pipeline)"},
    {"DP_BENCH_REQUEST", "get-slug",
     "get-slug, get-id, get-as-of, list, list-as-of or domains (see the top of the source)"},
    {"DP_BENCH_ENDPOINT", "tcp://127.0.0.1:7101", "ours: the registry to load"},
    {"DP_BENCH_DATABASE_URL", "",
     "yardstick: libpq URL of the registry's database, as the registry's role"},
    {"DP_BENCH_LABEL", "", "a name for this run in the output (default: the target)"},
    {"DP_BENCH_CONNECTIONS", "4", "client connections (DEALER sockets or libpq connections)", true,
     1, 256},
    {"DP_BENCH_INFLIGHT", "16", "requests in flight on each connection", true, 1, 4096},
    {"DP_BENCH_WARMUP_MS", "1000", "load before measuring", true, 0, 3600000},
    {"DP_BENCH_DURATION_MS", "5000", "time measured", true, 100, 3600000},
    {"DP_BENCH_TIMEOUT_MS", "5000", "ours: a request unanswered this long counts as a timeout",
     true, 100, 600000},
    {"DP_BENCH_SEED", "0", "seed of the random keys and dates (0: from the clock)", true, 0,
     2147483647},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

/* ---- the requests ------------------------------------------------------------------------ */

typedef enum {
    REQUEST_GET_SLUG,   /* GetPartner by slug */
    REQUEST_GET_ID,     /* GetPartner by id */
    REQUEST_GET_AS_OF,  /* GetPartner by slug as of a date: name in force, membership */
    REQUEST_LIST,       /* ListPartners, no filter: the whole list in one page */
    REQUEST_LIST_AS_OF, /* ListPartners as of a date: who was a partner then */
    REQUEST_DOMAINS     /* ListPartnerDomains */
} request_kind_t;

static const char *s_request_names[] = {"get-slug", "get-id",     "get-as-of",
                                        "list",     "list-as-of", "domains"};
enum { REQUEST_KINDS = sizeof s_request_names / sizeof *s_request_names };

/* The registry statements a read runs, found by name in its statement table. */
typedef enum {
    STATEMENT_GET,      /* get_partner: by id or slug, as of a date or now; has it contacts? */
    STATEMENT_CONTACTS, /* select_contacts: GetPartner returns the contacts too, when any */
    STATEMENT_LIST,     /* list_partners: one page */
    STATEMENT_DOMAINS,  /* list_domains */
    STATEMENTS
} statement_t;

static const char *s_statement_names[STATEMENTS] = {"get_partner", "select_contacts",
                                                    "list_partners", "list_domains"};

/* The page size a client gets without asking (the registry's default of 50):
   the 28 partners fit in one page. */
#define LIST_LIMIT "50"

/* A partner as the requests name it. */
typedef struct {
    int64_t id;
    char id_text[24];
    char slug[64];
} partner_key_t;

/* One request in flight, or none. */
typedef struct {
    uint64_t number;    /* the request's sequence number; 0 when the slot is idle */
    int64_t sent_us;    /* when it was sent, monotonic microseconds */
    size_t key;         /* the partner asked for (get-*) */
    char as_of[11];     /* the date asked for (*-as-of), YYYY-MM-DD */
    int step;           /* yardstick: the pipeline step awaited */
    char found_id[24];  /* yardstick: the id get_partner returned */
    bool need_contacts; /* yardstick: get_partner said the partner has contacts */
    bool failed;        /* yardstick: a statement of this request failed */
    bool wrong;         /* yardstick: a statement answered what it should not have */
} slot_t;

/* Yardstick: what the next result of a pipeline belongs to. */
typedef struct {
    int slot;      /* the slot whose request sent it */
    int statement; /* a statement_t, or -1 for the pipeline sync */
    bool answered; /* a result came; the NULL that ends it is next */
} expected_t;

typedef struct {
    PGconn *pg;         /* yardstick: libpq connection in pipeline mode */
    slot_t *slots;      /* inflight entries */
    size_t busy;        /* slots with a request in flight */
    expected_t *queue;  /* yardstick: results due, in the order they will come */
    size_t queue_size;  /* its capacity */
    size_t queue_head;  /* index of the next result due */
    size_t queue_count; /* results due */
    bool flush_pending; /* yardstick: output still to send (PQflush returned 1) */
} connection_t;

typedef struct {
    bool yardstick;                  /* the target: false for ours */
    request_kind_t kind;             /* what is asked */
    char endpoint[256];              /* ours: the registry */
    char database_url[1024];         /* yardstick: PostgreSQL */
    char label[64];                  /* shown in the output */
    int connection_count;            /* connections */
    int inflight;                    /* requests in flight per connection */
    int64_t warmup_us;               /* load before measuring */
    int64_t duration_us;             /* time measured */
    int64_t timeout_us;              /* ours: unanswered this long, a timeout */
    uint64_t random;                 /* xorshift64 state */
    int64_t first_day;               /* as-of dates: days since the epoch, inclusive */
    int64_t day_count;               /* and how many */
    partner_key_t *keys;             /* the registry's partners, by id */
    size_t key_count;                /* how many */
    int statement_index[STATEMENTS]; /* rows of registry_statements */
    connection_t *connections;       /* connection_count entries */
    uint64_t next_number;            /* sequence of the next request, from 1 */
    int64_t window_start_us;         /* measuring starts */
    int64_t window_end_us;           /* measuring ends; no new sends after it */
    uint64_t sent;                   /* requests sent, all phases */
    uint64_t statements;             /* yardstick: statements sent, all phases */
    uint64_t reply_bytes;            /* ours: serialised dp.Reply sizes of the reads counted */
    uint64_t reads;                  /* requests answered correctly in the window */
    uint64_t errors;                 /* error replies or failed statements in the window */
    uint64_t wrong;                  /* OK answers that do not hold what was asked */
    uint64_t timeouts;               /* ours: unanswered requests in the window */
    uint64_t stale;                  /* ours: replies for no request in flight */
    uint64_t unanswered;             /* still in flight when the drain gave up */
    char first_error[600];           /* the first error, to say what went wrong */
    bench_samples_t samples;         /* latencies of the reads counted, in microseconds */
} bench_t;

static uint64_t s_random(bench_t *self)
{
    uint64_t x = self->random;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    self->random = x;
    return x;
}

static bool s_by_key(const bench_t *self)
{
    return self->kind == REQUEST_GET_SLUG || self->kind == REQUEST_GET_ID ||
           self->kind == REQUEST_GET_AS_OF;
}

static bool s_as_of(const bench_t *self)
{
    return self->kind == REQUEST_GET_AS_OF || self->kind == REQUEST_LIST_AS_OF;
}

/* Chooses what the slot's next request asks for. */
static void s_choose(bench_t *self, slot_t *slot)
{
    slot->key = self->key_count ? (size_t)(s_random(self) % self->key_count) : 0;
    slot->as_of[0] = '\0';
    if (s_as_of(self)) {
        int64_t day = self->first_day + (int64_t)(s_random(self) % (uint64_t)self->day_count);
        time_t at = (time_t)(day * 86400);
        struct tm utc;
        gmtime_r(&at, &utc);
        strftime(slot->as_of, sizeof slot->as_of, "%Y-%m-%d", &utc);
    }
    slot->step = 0;
    slot->found_id[0] = '\0';
    slot->need_contacts = false;
    slot->failed = false;
    slot->wrong = false;
}

static bool s_in_window(const bench_t *self, int64_t at_us)
{
    return at_us >= self->window_start_us && at_us < self->window_end_us;
}

/* Keeps the first error of the window, "what: detail", to say what went wrong. */
static void s_note_error(bench_t *self, const char *what, const char *detail)
{
    if (self->first_error[0])
        return;
    snprintf(self->first_error, sizeof self->first_error, "%s: %s", what, detail);
    size_t length = strlen(self->first_error);
    while (length && self->first_error[length - 1] == '\n') /* libpq's messages end with one */
        self->first_error[--length] = '\0';
}

/* Counts a request that finished inside the window. */
static void s_count(bench_t *self, bool ok, bool wrong, size_t reply_size, int64_t latency_us)
{
    if (ok) {
        self->reads++;
        self->reply_bytes += reply_size;
        bench_samples_add(&self->samples, latency_us);
    } else if (wrong) {
        self->wrong++;
    } else {
        self->errors++;
    }
}

/* ---- ours: the registry over ZeroMQ ------------------------------------------------------ */

/* Packs the body of the slot's next request (bench_load_handler_t.pack_body). */
static int s_zmq_pack_body(void *arg, int connection, int index, const char **type,
                           unsigned char *out, size_t capacity, size_t *size)
{
    bench_t *self = arg;
    slot_t *slot = &self->connections[connection].slots[index];
    s_choose(self, slot);
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__GetPartnerRequest get = DP__GET_PARTNER_REQUEST__INIT;
    Dp__ListPartnersRequest list = DP__LIST_PARTNERS_REQUEST__INIT;
    Dp__ListPartnerDomainsRequest domains = DP__LIST_PARTNER_DOMAINS_REQUEST__INIT;
    const ProtobufCMessage *body_message = &get.base;
    if (s_by_key(self)) {
        const partner_key_t *key = &self->keys[slot->key];
        if (self->kind == REQUEST_GET_ID)
            ref.id = key->id;
        else
            ref.slug = (char *)key->slug;
        get.partner = &ref;
        if (self->kind == REQUEST_GET_AS_OF)
            get.as_of = (char *)slot->as_of;
    } else if (self->kind == REQUEST_LIST || self->kind == REQUEST_LIST_AS_OF) {
        if (self->kind == REQUEST_LIST_AS_OF)
            list.as_of = (char *)slot->as_of;
        body_message = &list.base;
    } else {
        body_message = &domains.base;
    }
    if (protobuf_c_message_get_packed_size(body_message) > capacity)
        return -1;
    *type = body_message->descriptor->name;
    *size = protobuf_c_message_pack(body_message, out);
    return 0;
}

/* True when an OK reply's body holds what the request asked for. */
static bool s_reply_right(bench_t *self, const slot_t *slot, const Dp__Reply *reply)
{
    bool right = false;
    if (s_by_key(self)) {
        Dp__GetPartnerReply *answer = (Dp__GetPartnerReply *)dp_message_decode(
            &dp__get_partner_reply__descriptor, reply->body.data, reply->body.len, 1 << 20);
        const partner_key_t *key = &self->keys[slot->key];
        right = answer && answer->partner &&
                (self->kind == REQUEST_GET_ID ? answer->partner->id == key->id
                                              : strcmp(answer->partner->slug, key->slug) == 0) &&
                (self->kind != REQUEST_GET_AS_OF ||
                 answer->partner->membership != DP__MEMBERSHIP__MEMBERSHIP_UNSPECIFIED);
        dp_message_free((ProtobufCMessage **)&answer);
    } else if (self->kind == REQUEST_LIST || self->kind == REQUEST_LIST_AS_OF) {
        Dp__ListPartnersReply *answer = (Dp__ListPartnersReply *)dp_message_decode(
            &dp__list_partners_reply__descriptor, reply->body.data, reply->body.len, 16 << 20);
        right = answer && (self->kind == REQUEST_LIST ? answer->n_partners == self->key_count
                                                      : answer->n_partners <= self->key_count);
        dp_message_free((ProtobufCMessage **)&answer);
    } else {
        Dp__ListPartnerDomainsReply *answer = (Dp__ListPartnerDomainsReply *)dp_message_decode(
            &dp__list_partner_domains_reply__descriptor, reply->body.data, reply->body.len,
            16 << 20);
        right = answer && answer->n_domains > 0;
        dp_message_free((ProtobufCMessage **)&answer);
    }
    return right;
}

/* Counts one reply (bench_load_handler_t.on_reply). */
static void s_zmq_on_reply(void *arg, int connection, int index, const Dp__Reply *reply,
                           size_t reply_size, int64_t latency_us, bool in_window)
{
    bench_t *self = arg;
    if (!in_window)
        return;
    const slot_t *slot = &self->connections[connection].slots[index];
    Dp__Code code = reply->status ? reply->status->code : DP__CODE__CODE_UNKNOWN;
    bool ok = code == DP__CODE__CODE_OK && s_reply_right(self, slot, reply);
    bool wrong = code == DP__CODE__CODE_OK && !ok;
    if (wrong)
        s_note_error(self, "an OK reply without what was asked for", s_request_names[self->kind]);
    else if (!ok)
        s_note_error(self, dp_code_name(code),
                     reply->status ? reply->status->message : "no status");
    s_count(self, ok, wrong, reply_size, latency_us);
}

/* Ours: the closed loop of bench_load.h against the registry. */
static int s_zmq_run(bench_t *self)
{
    bench_load_t load = {.connection_count = self->connection_count,
                         .inflight = self->inflight,
                         .warmup_us = self->warmup_us,
                         .duration_us = self->duration_us,
                         .timeout_us = self->timeout_us,
                         .max_reply = 16 << 20};
    bench_load_handler_t handler = {s_zmq_pack_body, s_zmq_on_reply, self};
    int outcome = bench_load_run(&load, "dp-bench-registry", self->endpoint, &handler);
    self->sent = load.sent;
    self->timeouts = load.timeouts;
    self->stale = load.stale;
    self->unanswered = load.unanswered;
    return outcome;
}

/* The registry's partners, by id, through the common client (as dpctl asks). */
static int s_zmq_keys(bench_t *self)
{
    dp_client_t *client = dp_client_new(self->endpoint, 5000, 3);
    if (!client)
        return -1;
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.page_size = 500;
    ProtobufCMessage *reply = NULL;
    dp_status_t status;
    int outcome = dp_client_call(client, &request.base, &dp__list_partners_reply__descriptor,
                                 &reply, &status);
    dp_client_destroy(&client);
    if (outcome != 0 || status.code != DP__CODE__CODE_OK || !reply) {
        fprintf(stderr, "dp-bench-registry: cannot list the partners at %s: %s %s\n",
                self->endpoint, dp_code_name(status.code), status.message);
        dp_message_free(&reply);
        return -1;
    }
    Dp__ListPartnersReply *list = (Dp__ListPartnersReply *)reply;
    self->keys = calloc(list->n_partners ? list->n_partners : 1, sizeof *self->keys);
    for (size_t i = 0; self->keys && i < list->n_partners; i++) {
        partner_key_t *key = &self->keys[self->key_count++];
        key->id = list->partners[i]->id;
        snprintf(key->id_text, sizeof key->id_text, "%" PRId64, key->id);
        snprintf(key->slug, sizeof key->slug, "%s", list->partners[i]->slug);
    }
    dp_message_free(&reply);
    return self->keys ? 0 : -1;
}

/* ---- the yardstick: the same statements through libpq's pipeline ------------------------ */

static const dp_statement_t *s_statement(const bench_t *self, statement_t statement)
{
    return &registry_statements[self->statement_index[statement]];
}

static int s_queue_push(connection_t *connection, int slot, int statement)
{
    if (connection->queue_count == connection->queue_size)
        return -1;
    size_t at = (connection->queue_head + connection->queue_count) % connection->queue_size;
    connection->queue[at] = (expected_t){.slot = slot, .statement = statement};
    connection->queue_count++;
    return 0;
}

static int s_pg_send_statement(bench_t *self, connection_t *connection, int index,
                               statement_t statement, const char *const *params)
{
    const dp_statement_t *prepared = s_statement(self, statement);
    if (!PQsendQueryPrepared(connection->pg, prepared->name, prepared->param_count, params, NULL,
                             NULL, 0) ||
        s_queue_push(connection, index, (int)statement) != 0)
        return -1;
    self->statements++;
    return 0;
}

/* Sends the statements of the slot's current step, then a pipeline sync:
   statements that need an earlier one's answer wait for its step. */
static int s_pg_send_step(bench_t *self, connection_t *connection, int index)
{
    slot_t *slot = &connection->slots[index];
    const partner_key_t *key = &self->keys[slot->key];
    const char *as_of = slot->as_of[0] ? slot->as_of : NULL;
    int outcome = 0;
    switch (self->kind) {
    case REQUEST_GET_SLUG:
    case REQUEST_GET_AS_OF:
    case REQUEST_GET_ID:
        /* As the registry does: the partner in one statement, its contacts
           in a second one only when it has any. */
        if (slot->step == 0) {
            bool by_id = self->kind == REQUEST_GET_ID;
            const char *get[] = {as_of, by_id ? key->id_text : "0", by_id ? "" : key->slug};
            outcome = s_pg_send_statement(self, connection, index, STATEMENT_GET, get);
        } else {
            const char *contacts[] = {slot->found_id};
            outcome = s_pg_send_statement(self, connection, index, STATEMENT_CONTACTS, contacts);
        }
        break;
    case REQUEST_LIST:
    case REQUEST_LIST_AS_OF: {
        const char *list[] = {as_of, "0", "", "", "", NULL, NULL, "", LIST_LIMIT};
        outcome = s_pg_send_statement(self, connection, index, STATEMENT_LIST, list);
        break;
    }
    case REQUEST_DOMAINS:
        outcome = s_pg_send_statement(self, connection, index, STATEMENT_DOMAINS, NULL);
        break;
    }
    if (outcome == 0 &&
        (!PQpipelineSync(connection->pg) || s_queue_push(connection, index, -1) != 0))
        outcome = -1;
    if (outcome == 0)
        connection->flush_pending = true;
    return outcome;
}

static int s_pg_start(bench_t *self, connection_t *connection, int index)
{
    slot_t *slot = &connection->slots[index];
    s_choose(self, slot);
    slot->number = self->next_number++;
    slot->sent_us = bench_now_us();
    connection->busy++;
    self->sent++;
    return s_pg_send_step(self, connection, index);
}

/* The steps of a request: a partner's contacts, when it has any, come second. */
static int s_steps(const slot_t *slot)
{
    return slot->need_contacts ? 2 : 1;
}

/* Checks one statement's result against what the registry would make of it. */
static void s_pg_result(bench_t *self, slot_t *slot, int statement, const PGresult *result)
{
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK) {
        slot->failed = true;
        if (s_in_window(self, bench_now_us()))
            s_note_error(self, s_statement_names[statement],
                         status == PGRES_PIPELINE_ABORTED ? "pipeline aborted"
                                                          : PQresultErrorMessage(result));
        return;
    }
    int rows = PQntuples(result);
    switch ((statement_t)statement) {
    case STATEMENT_GET:
        if (rows == 1 && PQnfields(result) > 1) {
            snprintf(slot->found_id, sizeof slot->found_id, "%s", PQgetvalue(result, 0, 0));
            slot->need_contacts = strcmp(PQgetvalue(result, 0, PQnfields(result) - 1), "t") == 0;
        } else {
            slot->wrong = true;
        }
        break;
    case STATEMENT_CONTACTS:
        break;
    case STATEMENT_LIST:
        if (slot->as_of[0] ? (size_t)rows > self->key_count : (size_t)rows != self->key_count)
            slot->wrong = true;
        break;
    case STATEMENT_DOMAINS:
        if (rows == 0)
            slot->wrong = true;
        break;
    case STATEMENTS:
        break;
    }
}

/* A step's sync came back: sends the next step, or finishes the request
   and starts the next one in its slot. */
static int s_pg_step_done(bench_t *self, connection_t *connection, int index)
{
    slot_t *slot = &connection->slots[index];
    int64_t now = bench_now_us();
    if (!slot->failed && !slot->wrong && ++slot->step < s_steps(slot))
        return s_pg_send_step(self, connection, index);
    if (slot->wrong && s_in_window(self, now))
        s_note_error(self, "a statement answered without what was asked for",
                     s_request_names[self->kind]);
    if (s_in_window(self, now))
        s_count(self, !slot->failed && !slot->wrong, slot->wrong && !slot->failed, 0,
                now - slot->sent_us);
    slot->number = 0;
    connection->busy--;
    if (now < self->window_end_us)
        return s_pg_start(self, connection, index);
    return 0;
}

/* Takes every result libpq has parsed. Returns -1 when the connection failed. */
static int s_pg_drain(bench_t *self, connection_t *connection)
{
    if (!PQconsumeInput(connection->pg))
        return -1;
    int nulls = 0;
    while (connection->queue_count && !PQisBusy(connection->pg)) {
        expected_t *head = &connection->queue[connection->queue_head];
        PGresult *result = PQgetResult(connection->pg);
        if (!result) {
            /* A NULL ends each statement's results; one may also follow a
               sync. Two in a row mean nothing more is ready. */
            if (head->statement >= 0 && head->answered) {
                connection->queue_head = (connection->queue_head + 1) % connection->queue_size;
                connection->queue_count--;
                nulls = 0;
            } else if (++nulls > 1) {
                break;
            }
            continue;
        }
        nulls = 0;
        ExecStatusType status = PQresultStatus(result);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(result);
            if (head->statement >= 0)
                return -1; /* out of step with libpq: give up */
            int slot = head->slot;
            connection->queue_head = (connection->queue_head + 1) % connection->queue_size;
            connection->queue_count--;
            if (s_pg_step_done(self, connection, slot) != 0)
                return -1;
            continue;
        }
        if (head->statement < 0 || head->answered) {
            PQclear(result);
            return -1;
        }
        s_pg_result(self, &connection->slots[head->slot], head->statement, result);
        head->answered = true;
        PQclear(result);
    }
    return 0;
}

/* Yardstick: requests in flight on every connection. */
static size_t s_busy(const bench_t *self)
{
    size_t busy = 0;
    for (int c = 0; c < self->connection_count; c++)
        busy += self->connections[c].busy;
    return busy;
}

static int s_pg_run(bench_t *self)
{
    struct pollfd *fds = calloc((size_t)self->connection_count, sizeof *fds);
    if (!fds)
        return -1;
    int64_t start = bench_now_us();
    self->window_start_us = start + self->warmup_us;
    self->window_end_us = self->window_start_us + self->duration_us;
    int outcome = 0;
    for (int c = 0; outcome == 0 && c < self->connection_count; c++)
        for (int index = 0; outcome == 0 && index < self->inflight; index++)
            outcome = s_pg_start(self, &self->connections[c], index);
    int64_t drain_end = self->window_end_us + self->timeout_us;
    while (outcome == 0) {
        int64_t now = bench_now_us();
        bool sending = now < self->window_end_us;
        if (!sending && (s_busy(self) == 0 || now >= drain_end))
            break;
        for (int c = 0; outcome == 0 && c < self->connection_count; c++) {
            connection_t *connection = &self->connections[c];
            if (connection->flush_pending) {
                int flushed = PQflush(connection->pg);
                if (flushed < 0)
                    outcome = -1;
                connection->flush_pending = flushed == 1;
            }
            fds[c] = (struct pollfd){.fd = PQsocket(connection->pg),
                                     .events = POLLIN | (connection->flush_pending ? POLLOUT : 0)};
        }
        if (outcome != 0)
            break;
        int64_t wake = sending ? self->window_end_us : drain_end;
        int wait_ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        if (wait_ms > 100)
            wait_ms = 100;
        int ready = poll(fds, (nfds_t)self->connection_count, wait_ms);
        if (ready < 0 && errno != EINTR)
            outcome = -1;
        for (int c = 0; outcome == 0 && ready > 0 && c < self->connection_count; c++)
            if (fds[c].revents & (POLLIN | POLLERR | POLLHUP))
                outcome = s_pg_drain(self, &self->connections[c]);
    }
    if (outcome != 0) {
        for (int c = 0; c < self->connection_count; c++)
            if (PQstatus(self->connections[c].pg) != CONNECTION_OK ||
                *PQerrorMessage(self->connections[c].pg)) {
                fprintf(stderr, "dp-bench-registry: connection %d: %s", c,
                        PQerrorMessage(self->connections[c].pg));
                break;
            }
    }
    self->unanswered = s_busy(self);
    free(fds);
    return outcome;
}

/* The registry's partners, by id, with one constant query. */
static int s_pg_keys(bench_t *self, PGconn *conn)
{
    PGresult *result = bench_pg_query("dp-bench-registry", conn,
                                      "SELECT id, slug FROM registry.partner ORDER BY id", 0, NULL);
    if (!result)
        return -1;
    int rows = PQntuples(result);
    self->keys = calloc(rows > 0 ? (size_t)rows : 1, sizeof *self->keys);
    for (int row = 0; self->keys && row < rows; row++) {
        partner_key_t *key = &self->keys[self->key_count++];
        key->id = strtoll(PQgetvalue(result, row, 0), NULL, 10);
        snprintf(key->id_text, sizeof key->id_text, "%" PRId64, key->id);
        snprintf(key->slug, sizeof key->slug, "%s", PQgetvalue(result, row, 1));
    }
    PQclear(result);
    return self->keys ? 0 : -1;
}

/* Connects, prepares the registry's statements under their own names (as
   the registry does on its connections), reads the partners' keys on the
   first connection (before pipeline mode, which refuses PQexecParams) and
   enters pipeline mode. */
static int s_pg_connect(bench_t *self, connection_t *connection, bool read_keys)
{
    connection->pg = bench_pg_connect("dp-bench-registry", self->database_url);
    if (!connection->pg)
        return -1;
    for (int s = 0; s < STATEMENTS; s++) {
        const dp_statement_t *statement = s_statement(self, (statement_t)s);
        PGresult *result = PQprepare(connection->pg, statement->name, statement->sql,
                                     statement->param_count, NULL);
        bool prepared = PQresultStatus(result) == PGRES_COMMAND_OK;
        if (!prepared)
            fprintf(stderr, "dp-bench-registry: cannot prepare %s: %s", statement->name,
                    PQresultErrorMessage(result));
        PQclear(result);
        if (!prepared)
            return -1;
    }
    if (read_keys && s_pg_keys(self, connection->pg) != 0)
        return -1;
    if (PQsetnonblocking(connection->pg, 1) != 0 || !PQenterPipelineMode(connection->pg)) {
        fprintf(stderr, "dp-bench-registry: cannot enter pipeline mode: %s",
                PQerrorMessage(connection->pg));
        return -1;
    }
    /* At most three statements and a sync per request in flight. */
    connection->queue_size = (size_t)self->inflight * 4 + 4;
    connection->queue = calloc(connection->queue_size, sizeof *connection->queue);
    return connection->queue ? 0 : -1;
}

/* ---- results ------------------------------------------------------------------------------ */

static void s_report(bench_t *self)
{
    bench_samples_sort(&self->samples);
    double seconds = (double)self->duration_us / 1e6;
    double rate = (double)self->reads / seconds;
    bench_latency_t figures = bench_latency(&self->samples);
    const char *target = self->yardstick ? "yardstick" : "ours";
    /* Each target knows one of these: the yardstick what it sent to
       PostgreSQL, ours what the registry sent back. */
    char statements_per_read[32] = "-", reply_bytes[32] = "-";
    if (self->yardstick && self->sent)
        snprintf(statements_per_read, sizeof statements_per_read, "%.2f",
                 (double)self->statements / (double)self->sent);
    if (!self->yardstick && self->reads)
        snprintf(reply_bytes, sizeof reply_bytes, "%.0f",
                 (double)self->reply_bytes / (double)self->reads);
    const char *where = self->yardstick ? "libpq pipeline" : self->endpoint;
    fprintf(stderr,
            "dp-bench-registry %s %s %s %dx%d: %" PRIu64 " reads in %.1f s = %.0f reads/s; "
            "latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; errors %" PRIu64
            ", wrong %" PRIu64 ", timeouts %" PRIu64 "\n",
            s_request_names[self->kind], target, where, self->connection_count, self->inflight,
            self->reads, seconds, rate, figures.p50, figures.p90, figures.p99, figures.max,
            self->errors, self->wrong, self->timeouts);
    if (self->first_error[0])
        fprintf(stderr, "dp-bench-registry: first error: %s\n", self->first_error);
    if (self->stale || self->unanswered)
        fprintf(stderr,
                "dp-bench-registry: stale replies %" PRIu64 ", unanswered at the end %" PRIu64 "\n",
                self->stale, self->unanswered);
    printf("label=%s target=%s request=%s shape=%dx%d connections=%d inflight=%d partners=%zu "
           "seconds=%.3f reads=%" PRIu64 " reads_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f errors=%" PRIu64 " wrong=%" PRIu64 " timeouts=%" PRIu64 " stale=%" PRIu64
           " unanswered=%" PRIu64 " sent=%" PRIu64 " statements_per_read=%s reply_bytes=%s\n",
           *self->label ? self->label : target, target, s_request_names[self->kind],
           self->connection_count, self->inflight, self->connection_count, self->inflight,
           self->key_count, seconds, self->reads, rate, figures.p50, figures.p90, figures.p99,
           figures.max, self->errors, self->wrong, self->timeouts, self->stale, self->unanswered,
           self->sent, statements_per_read, reply_bytes);
    fflush(stdout);
}

/* ---- setup -------------------------------------------------------------------------------- */

static int s_setup(bench_t *self, const dp_config_t *config)
{
    const char *target = dp_config_get(config, "DP_BENCH_TARGET");
    if (strcmp(target, "ours") != 0 && strcmp(target, "yardstick") != 0) {
        fprintf(stderr, "dp-bench-registry: DP_BENCH_TARGET must be ours or yardstick\n");
        return -1;
    }
    self->yardstick = strcmp(target, "yardstick") == 0;
    const char *request = dp_config_get(config, "DP_BENCH_REQUEST");
    int kind = -1;
    for (int k = 0; k < REQUEST_KINDS; k++)
        if (strcmp(request, s_request_names[k]) == 0)
            kind = k;
    if (kind < 0) {
        fprintf(stderr,
                "dp-bench-registry: DP_BENCH_REQUEST '%s' is not one of get-slug, get-id, "
                "get-as-of, list, list-as-of, domains\n",
                request);
        return -1;
    }
    self->kind = (request_kind_t)kind;
    snprintf(self->endpoint, sizeof self->endpoint, "%s",
             dp_config_get(config, "DP_BENCH_ENDPOINT"));
    snprintf(self->database_url, sizeof self->database_url, "%s",
             dp_config_get(config, "DP_BENCH_DATABASE_URL"));
    snprintf(self->label, sizeof self->label, "%s", dp_config_get(config, "DP_BENCH_LABEL"));
    self->connection_count = (int)dp_config_get_int(config, "DP_BENCH_CONNECTIONS");
    self->inflight = (int)dp_config_get_int(config, "DP_BENCH_INFLIGHT");
    self->warmup_us = dp_config_get_int(config, "DP_BENCH_WARMUP_MS") * 1000;
    self->duration_us = dp_config_get_int(config, "DP_BENCH_DURATION_MS") * 1000;
    self->timeout_us = dp_config_get_int(config, "DP_BENCH_TIMEOUT_MS") * 1000;
    long seed = dp_config_get_int(config, "DP_BENCH_SEED");
    self->random = seed ? (uint64_t)seed * 0x9E3779B97F4A7C15ull : (uint64_t)bench_now_ns() | 1;
    self->first_day = 16801; /* 2016-01-01, before the first partners joined */
    int64_t today = (int64_t)(time(NULL) / 86400);
    self->day_count = today >= self->first_day ? today - self->first_day + 1 : 1;
    self->next_number = 1;

    for (int s = 0; s < STATEMENTS; s++) {
        self->statement_index[s] = -1;
        for (size_t i = 0; i < registry_statement_count; i++)
            if (strcmp(registry_statements[i].name, s_statement_names[s]) == 0)
                self->statement_index[s] = (int)i;
        if (self->statement_index[s] < 0) {
            fprintf(stderr, "dp-bench-registry: the registry has no statement %s\n",
                    s_statement_names[s]);
            return -1;
        }
    }

    self->connections = calloc((size_t)self->connection_count, sizeof *self->connections);
    if (!self->connections)
        return -1;
    for (int c = 0; c < self->connection_count; c++) {
        self->connections[c].slots = calloc((size_t)self->inflight, sizeof(slot_t));
        if (!self->connections[c].slots)
            return -1;
    }
    if (self->yardstick) {
        if (!*self->database_url) {
            fprintf(stderr, "dp-bench-registry: the yardstick needs DP_BENCH_DATABASE_URL\n");
            return -1;
        }
        for (int c = 0; c < self->connection_count; c++)
            if (s_pg_connect(self, &self->connections[c], c == 0) != 0)
                return -1;
    } else {
        if (s_zmq_keys(self) != 0)
            return -1;
    }
    if (self->key_count == 0 && s_by_key(self)) {
        fprintf(stderr, "dp-bench-registry: the registry holds no partner (seed it first)\n");
        return -1;
    }
    return 0;
}

static void s_teardown(bench_t *self)
{
    for (int c = 0; self->connections && c < self->connection_count; c++) {
        if (self->connections[c].pg)
            PQfinish(self->connections[c].pg);
        free(self->connections[c].slots);
        free(self->connections[c].queue);
    }
    free(self->connections);
    free(self->keys);
    bench_samples_free(&self->samples);
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config = bench_config_load(
        "dp-bench-registry",
        "load generator for the registry's reads, and their yardstick (reads/s, latency)",
        s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    bench_t self = {0};
    int outcome = s_setup(&self, config);
    dp_config_destroy(&config);
    if (outcome != 0)
        fprintf(stderr, "dp-bench-registry: setup failed\n");
    else if ((outcome = self.yardstick ? s_pg_run(&self) : s_zmq_run(&self)) != 0)
        fprintf(stderr, "dp-bench-registry: a send or the connection failed; no results\n");
    if (outcome == 0)
        s_report(&self);
    s_teardown(&self);
    return outcome == 0 ? 0 : 1;
}
