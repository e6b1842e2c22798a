#include "fault_load.h"

#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "dp_codec.h"
#include "fault_common.h"

enum { RECENT_ACKS = 64, MAX_REPLY_BYTES = 1 << 20 };

/* One submission in flight, or none. */
typedef struct {
    uint64_t number;       /* the submission's number; 0 when the slot is idle */
    unsigned char *packed; /* the serialised dp.Request, resent as it is */
    size_t size;           /* bytes in packed */
    char request_id[96];   /* kept on every resend */
    int64_t first_sent_us; /* first send, for the acknowledgement's latency */
    int64_t deadline_us;   /* reply due by this; 0 while waiting to resend */
    int64_t resend_at_us;  /* after a transient refusal: send again then; 0 otherwise */
    bool resent;           /* sent more than once */
} slot_t;

typedef struct {
    zsock_t *socket; /* DEALER; replaced after a timeout */
    slot_t *slots;   /* inflight entries */
} connection_t;

struct _fault_load_t {
    fault_load_options_t options; /* as given (strings borrowed) */
    connection_t *connections;    /* options.connections entries */
    uint64_t next_number;         /* the next submission to start */
    uint64_t end_number;          /* one past the last */
    int64_t started_us;           /* first step, for pacing */
    char received_at[32];         /* every submission's received_at */
    uint64_t recent[RECENT_ACKS]; /* numbers acknowledged lately (ring) */
    size_t recent_count;          /* entries written to recent */
    fault_load_counts_t counts;   /* what happened */
    int64_t *latencies_us;        /* every acknowledgement's latency, for percentiles */
    size_t latency_count;         /* entries used */
    size_t latency_capacity;      /* entries allocated */
};

static int s_connect(fault_load_t *self, connection_t *connection)
{
    zsock_destroy(&connection->socket);
    connection->socket = zsock_new(ZMQ_DEALER);
    if (!connection->socket) return -1;
    zsock_set_linger(connection->socket, 0);
    zsock_set_sndtimeo(connection->socket, 0);
    zsock_set_sndhwm(connection->socket, self->options.inflight * 4 + 16);
    zsock_set_rcvhwm(connection->socket, self->options.inflight * 4 + 16);
    zsock_set_maxmsgsize(connection->socket, MAX_REPLY_BYTES);
    return zsock_connect(connection->socket, "%s", self->options.endpoint);
}

fault_load_t *fault_load_new(const fault_load_options_t *options)
{
    fault_load_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->options = *options;
    if (self->options.connections < 1) self->options.connections = 1;
    if (self->options.inflight < 1) self->options.inflight = 1;
    self->next_number = options->first;
    self->end_number = options->first + options->count;
    fault_now_rfc3339(self->received_at);
    self->connections = calloc((size_t)self->options.connections, sizeof *self->connections);
    if (!self->connections) {
        fault_load_destroy(&self);
        return NULL;
    }
    for (int c = 0; c < self->options.connections; c++) {
        connection_t *connection = &self->connections[c];
        connection->slots = calloc((size_t)self->options.inflight, sizeof *connection->slots);
        if (!connection->slots || s_connect(self, connection) != 0) {
            fault_load_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void fault_load_destroy(fault_load_t **self_p)
{
    if (!self_p || !*self_p) return;
    fault_load_t *self = *self_p;
    for (int c = 0; self->connections && c < self->options.connections; c++) {
        connection_t *connection = &self->connections[c];
        for (int i = 0; connection->slots && i < self->options.inflight; i++)
            free(connection->slots[i].packed);
        free(connection->slots);
        zsock_destroy(&connection->socket);
    }
    free(self->connections);
    free(self->latencies_us);
    free(self);
    *self_p = NULL;
}

/* Sends the slot's request (again); a full or absent peer is no error: the
   attempt then simply times out and is resent. */
static void s_send(fault_load_t *self, connection_t *connection, slot_t *slot, int64_t now)
{
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, slot->packed, slot->size);
    if (!connection->socket || zmsg_send(&message, connection->socket) != 0) zmsg_destroy(&message);
    self->counts.sends++;
    slot->deadline_us = now + (int64_t)self->options.attempt_ms * 1000;
    slot->resend_at_us = 0;
}

/* Keeps one acknowledgement's latency (a lost one only thins the percentiles). */
static void s_record_latency(fault_load_t *self, int64_t latency_us)
{
    if (self->latency_count == self->latency_capacity) {
        size_t capacity = self->latency_capacity ? self->latency_capacity * 2 : 4096;
        int64_t *grown = realloc(self->latencies_us, capacity * sizeof *grown);
        if (!grown) return;
        self->latencies_us = grown;
        self->latency_capacity = capacity;
    }
    self->latencies_us[self->latency_count++] = latency_us;
}

static void s_release(slot_t *slot)
{
    free(slot->packed);
    memset(slot, 0, sizeof *slot);
}

static int s_start(fault_load_t *self, connection_t *connection, slot_t *slot, int64_t now)
{
    uint64_t number = self->next_number++;
    fault_submission_t submission;
    fault_submission_init(&submission, self->options.source, self->options.tag, number,
                          self->received_at);
    snprintf(slot->request_id, sizeof slot->request_id, "%s-%" PRIu64 "-r", self->options.tag,
             number);
    slot->packed = fault_request_pack(slot->request_id, &submission.request.base, &slot->size);
    if (!slot->packed) return -1;
    slot->number = number;
    slot->first_sent_us = now;
    slot->resent = false;
    self->counts.started++;
    s_send(self, connection, slot, now);
    return 0;
}

static bool s_may_start(const fault_load_t *self, int64_t now)
{
    if (self->next_number >= self->end_number) return false;
    if (self->options.rate <= 0) return true;
    double allowed = (double)(now - self->started_us) / 1e6 * (double)self->options.rate;
    return (double)self->counts.started < allowed + 1.0;
}

/* Timeouts, resends and new submissions, for one connection. */
static void s_send_due(fault_load_t *self, connection_t *connection, int64_t now)
{
    bool expired = false;
    for (int i = 0; i < self->options.inflight; i++) {
        slot_t *slot = &connection->slots[i];
        if (slot->number && slot->deadline_us && slot->deadline_us <= now) {
            expired = true;
            self->counts.timeouts++;
        }
    }
    if (expired) {
        /* Lazy Pirate: a fresh socket drops whatever the old one had queued;
           everything in flight on it goes again, unchanged. */
        self->counts.reconnects++;
        s_connect(self, connection);
        for (int i = 0; i < self->options.inflight; i++) {
            slot_t *slot = &connection->slots[i];
            if (slot->number && slot->deadline_us) {
                slot->resent = true;
                s_send(self, connection, slot, now);
            }
        }
    }
    for (int i = 0; i < self->options.inflight; i++) {
        slot_t *slot = &connection->slots[i];
        if (slot->number && slot->resend_at_us && slot->resend_at_us <= now) {
            slot->resent = true;
            s_send(self, connection, slot, now);
        } else if (!slot->number && s_may_start(self, now))
            s_start(self, connection, slot, now);
    }
}

static void s_remember(fault_load_t *self, uint64_t number)
{
    self->recent[self->recent_count++ % RECENT_ACKS] = number;
}

static bool s_transient(Dp__Code code)
{
    return code == DP__CODE__CODE_UNAVAILABLE || code == DP__CODE__CODE_ABORTED ||
           code == DP__CODE__CODE_RESOURCE_EXHAUSTED;
}

static void s_describe(char *out, size_t size, const slot_t *slot, const Dp__Reply *reply)
{
    const Dp__Status *status = reply->status;
    snprintf(out, size, "%s: %s %s: %s", slot->request_id,
             dp_code_name(status ? status->code : DP__CODE__CODE_OK), status ? status->field : "",
             status ? status->message : "");
}

/* Takes one reply off the connection's socket. */
static void s_receive(fault_load_t *self, connection_t *connection, int64_t now)
{
    zmsg_t *message = zmsg_recv(connection->socket);
    if (!message) return;
    zframe_t *frame = zmsg_last(message);
    Dp__Reply *reply =
        zmsg_size(message) == 2
            ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                             zframe_size(frame), MAX_REPLY_BYTES * 4)
            : NULL;
    zmsg_destroy(&message);
    slot_t *slot = NULL;
    for (int i = 0; reply && !slot && i < self->options.inflight; i++) {
        slot_t *candidate = &connection->slots[i];
        if (candidate->number && candidate->deadline_us &&
            strcmp(candidate->request_id, reply->request_id) == 0)
            slot = candidate;
    }
    if (!slot) {
        self->counts.stale++;
        dp_message_free((ProtobufCMessage **)&reply);
        return;
    }
    Dp__Code code = reply->status ? reply->status->code : DP__CODE__CODE_OK;
    if (code == DP__CODE__CODE_OK) {
        Dp__SubmitEnquiryReply *answer = (Dp__SubmitEnquiryReply *)dp_message_decode(
            &dp__submit_enquiry_reply__descriptor, reply->body.data, reply->body.len, 65536);
        if (!answer || answer->enquiry_id <= 0) {
            self->counts.rejected++;
            if (!*self->counts.first_error)
                snprintf(self->counts.first_error, sizeof self->counts.first_error,
                         "%s: OK without an enquiry id", slot->request_id);
        } else {
            self->counts.acked++;
            self->counts.already += answer->already_submitted;
            self->counts.first_attempt += !slot->resent;
            int64_t latency = now - slot->first_sent_us;
            if (latency > self->counts.max_ack_us) self->counts.max_ack_us = latency;
            s_record_latency(self, latency);
            if (self->options.acks)
                fprintf(self->options.acks, "%s-%" PRIu64 "\t%" PRId64 "\t%d\n", self->options.tag,
                        slot->number, answer->enquiry_id, answer->already_submitted ? 1 : 0);
            s_remember(self, slot->number);
        }
        dp_message_free((ProtobufCMessage **)&answer);
        s_release(slot);
    } else if (s_transient(code)) {
        self->counts.transient++;
        if (!*self->counts.first_transient)
            s_describe(self->counts.first_transient, sizeof self->counts.first_transient, slot,
                       reply);
        slot->deadline_us = 0;
        slot->resend_at_us = now + (int64_t)self->options.backoff_ms * 1000;
    } else {
        self->counts.rejected++;
        if (!*self->counts.first_error)
            s_describe(self->counts.first_error, sizeof self->counts.first_error, slot, reply);
        s_release(slot);
    }
    dp_message_free((ProtobufCMessage **)&reply);
}

int fault_load_step(fault_load_t *self, int wait_ms)
{
    int64_t now = fault_now_us();
    if (!self->started_us) self->started_us = now;
    for (int c = 0; c < self->options.connections; c++)
        s_send_due(self, &self->connections[c], now);

    enum { MAX_ITEMS = 256 };
    zmq_pollitem_t items[MAX_ITEMS];
    int count = self->options.connections < MAX_ITEMS ? self->options.connections : MAX_ITEMS;
    for (int c = 0; c < count; c++) {
        zsock_t *socket = self->connections[c].socket;
        items[c] = (zmq_pollitem_t){socket ? zsock_resolve(socket) : NULL, -1, 0, 0};
        if (socket) items[c].events = ZMQ_POLLIN;
    }
    /* Wake in time for pacing and resends: at most 5 ms late. */
    int wait = wait_ms;
    if ((self->options.rate > 0 && self->next_number < self->end_number) || self->counts.transient)
        wait = wait > 5 ? 5 : wait;
    int ready = zmq_poll(items, count, wait);
    if (ready < 0) return zmq_errno() == EINTR ? -1 : 0;
    now = fault_now_us();
    for (int c = 0; c < count; c++) {
        connection_t *connection = &self->connections[c];
        while (connection->socket && (zsock_events(connection->socket) & ZMQ_POLLIN))
            s_receive(self, connection, now);
    }
    return 0;
}

bool fault_load_done(const fault_load_t *self)
{
    return self->next_number >= self->end_number && fault_load_pending(self) == 0;
}

uint64_t fault_load_pending(const fault_load_t *self)
{
    return self->counts.started - self->counts.acked - self->counts.rejected;
}

void fault_load_stop_starting(fault_load_t *self)
{
    self->end_number = self->next_number;
}

const fault_load_counts_t *fault_load_counts(const fault_load_t *self)
{
    return &self->counts;
}

uint64_t fault_load_some_acked(const fault_load_t *self, uint64_t random)
{
    size_t filled = self->recent_count < RECENT_ACKS ? self->recent_count : RECENT_ACKS;
    return filled ? self->recent[random % filled] : 0;
}

static int s_compare_latency(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The latency below which `percent` of the acknowledgements came, in ms
   (nearest rank); 0 before any. */
static double s_percentile_ms(const fault_load_t *self, double percent)
{
    if (!self->latency_count) return 0;
    int64_t *sorted = malloc(self->latency_count * sizeof *sorted);
    if (!sorted) return -1;
    memcpy(sorted, self->latencies_us, self->latency_count * sizeof *sorted);
    qsort(sorted, self->latency_count, sizeof *sorted, s_compare_latency);
    size_t rank = (size_t)(percent / 100.0 * (double)self->latency_count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > self->latency_count) rank = self->latency_count;
    double ms = (double)sorted[rank - 1] / 1000.0;
    free(sorted);
    return ms;
}

void fault_load_print(const fault_load_t *self, FILE *out)
{
    const fault_load_counts_t *c = &self->counts;
    fprintf(out,
            "sent=%" PRIu64 " sends=%" PRIu64 " acked=%" PRIu64 " already=%" PRIu64
            " first_attempt=%" PRIu64 " timeouts=%" PRIu64 " transient=%" PRIu64
            " rejected=%" PRIu64 " unacked=%" PRIu64 " stale=%" PRIu64 " reconnects=%" PRIu64
            " max_ack_ms=%.1f",
            c->started, c->sends, c->acked, c->already, c->first_attempt, c->timeouts, c->transient,
            c->rejected, self->options.count - c->acked - c->rejected, c->stale, c->reconnects,
            (double)c->max_ack_us / 1000.0);
    fprintf(out, " p50_ack_ms=%.1f p99_ack_ms=%.1f", s_percentile_ms(self, 50),
            s_percentile_ms(self, 99));
}
