/* dp-bench-intake: a load generator for enquiry submissions. It opens
   DP_BENCH_CONNECTIONS DEALER sockets to one endpoint (dp-intake or
   dp-bench-yardstick) and keeps DP_BENCH_INFLIGHT submissions in flight on
   each: a slot sends its next submission as soon as its previous one is
   answered. After a warm-up it counts, over a fixed time, the submissions
   acknowledged OK and the time from send to OK reply, then stops sending
   and waits for what is still in flight, so that the next run starts on an
   idle server. A program that measures: it reports, it never judges.

   Every submission is realistic (about 300 bytes: name, organisation,
   country, kind, subject, body, language, sometimes an area) and unique:
   its idempotency key and its sender's address carry the run's tag and a
   sequence number, so that nothing is a retry and no sender reaches the
   intake's rate limit. Output: a human summary on stderr and one line of
   key=value pairs on stdout for scripts (bench/run-intake). */
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "dp_codec.h"
#include "dp_config.h"
#include "intake.pb-c.h"

static const dp_setting_t s_settings[] = {
    {"DP_BENCH_ENDPOINT", "tcp://127.0.0.1:7102",
     "the server to load (dp-intake or the yardstick)"},
    {"DP_BENCH_LABEL", "", "a name for this run in the output, e.g. ours or yardstick"},
    {"DP_BENCH_CONNECTIONS", "4", "client connections (DEALER sockets)", true, 1, 256},
    {"DP_BENCH_INFLIGHT", "16", "submissions in flight on each connection", true, 1, 4096},
    {"DP_BENCH_WARMUP_MS", "1000", "load before measuring", true, 0, 3600000},
    {"DP_BENCH_DURATION_MS", "5000", "time measured", true, 100, 3600000},
    {"DP_BENCH_TIMEOUT_MS", "5000", "a submission unanswered this long counts as a timeout", true,
     100, 600000},
    {"DP_BENCH_TAG", "", "prefix of idempotency keys and sender addresses (default: unique)"},
    {"DP_BENCH_AREAS", "1", "1: some submissions name an area of the seed data; 0: none", true, 0,
     1},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

/* One submission in flight, or none. */
typedef struct {
    uint64_t number; /* the submission's sequence number; 0 when the slot is idle */
    int64_t sent_us; /* when it was sent, monotonic microseconds */
} slot_t;

typedef struct {
    zsock_t *socket; /* DEALER connected to the endpoint */
    slot_t *slots;   /* inflight entries, indexed by the request id's slot */
    size_t busy;     /* slots with a submission in flight */
} connection_t;

typedef struct {
    char endpoint[256];         /* where the load goes */
    char label[64];             /* shown in the output */
    char tag[64];               /* makes keys and addresses unique */
    int connection_count;       /* DEALER sockets */
    int inflight;               /* submissions in flight per socket */
    int64_t warmup_us;          /* load before measuring */
    int64_t duration_us;        /* time measured */
    int64_t timeout_us;         /* unanswered this long: a timeout */
    bool areas;                 /* name seed areas in some submissions */
    connection_t *connections;  /* connection_count entries */
    uint64_t next_number;       /* sequence of the next submission, from 1 */
    int64_t window_start_us;    /* measuring starts */
    int64_t window_end_us;      /* measuring ends; no new sends after it */
    uint64_t sent;              /* submissions sent, all phases */
    uint64_t sent_bytes;        /* their serialised dp.Request sizes, summed */
    uint64_t acks;              /* OK replies in the window */
    uint64_t errors;            /* error replies in the window */
    uint64_t timeouts;          /* unanswered submissions in the window */
    uint64_t quarantined;       /* OK but quarantined (the rate limit hit: a bench defect) */
    uint64_t already_submitted; /* OK but a retry (key reuse: a bench defect) */
    uint64_t stale;             /* replies for no submission in flight */
    uint64_t unanswered;        /* still in flight when the drain gave up */
    char first_error[600];      /* the first error reply, to say what went wrong */
    bench_samples_t samples;    /* latencies of the acks counted, in microseconds */
} bench_t;

/* ---- the submissions ------------------------------------------------------------------ */

/* A small pool of realistic field values; the sequence number picks among them. */
static const char *s_names[] = {"Maria Rossi",  "Jan Kowalski",       "Aoife Byrne",
                                "Lukas Meier",  "Sofia Papadopoulou", "Émilie Laurent",
                                "Mehmet Yılmaz"};
static const char *s_organisations[] = {
    "Università di Bologna",    "Fundacja Cyfrowa", "",
    "Digital Rights Ireland",   "Stadt Zürich",     "Observatoire du numérique",
    "Istanbul Bilgi University"};
static const char *s_countries[] = {"IT", "PL", "IE", "CH", "GR", "FR", "TR"};
static const char *s_languages[] = {"it", "pl", "en", "de-CH", "el", "fr", "tr"};
static const char *s_domains[] = {"unibo.it",   "fundacja.pl",   "example.org", "zuerich.ch",
                                  "example.gr", "microsoft.com", "bilgi.edu.tr"};
static const char *s_kinds[] = {"information-request", "cooperation-proposal",
                                "event-participation", "membership-application", "media"};
static const char *s_subjects[] = {
    "Question about the data protection training for municipalities",
    "Proposal: joint workshop on digital literacy in schools",
    "Participation in the conference on artificial intelligence and human rights",
    "Request for materials on online child protection",
    "Interview request about the fight against cybercrime"};
static const char *s_bodies[] = {
    "Dear Sir or Madam, does your programme offer training for local authorities? "
    "Kind regards.",
    "Hello, we work with teachers and would welcome a partnership. Who should we contact?",
    "Good afternoon, may two colleagues join the next event remotely? Thanks in advance."};
static const char *s_areas[] = {"data-protection", "digital-literacy", "ai", "child-protection",
                                "cybercrime"};

#define PICK(table, n) (table[(n) % (sizeof table / sizeof *table)])

/* RFC 3339 UTC of now, e.g. 2026-11-28T16:30:00Z. */
static void s_timestamp(char out[32])
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

/* Packs submission `number` (with request id "<slot>:<number>") into a
   dp.Request. Returns its size, or 0 when it does not fit. */
static size_t s_pack_request(const bench_t *self, int slot, uint64_t number, unsigned char *out,
                             size_t capacity)
{
    char key[128], email[160], request_id[64], received_at[32];
    snprintf(key, sizeof key, "%s-%" PRIu64, self->tag, number);
    snprintf(email, sizeof email, "sender.%s.%" PRIu64 "@%s", self->tag, number,
             PICK(s_domains, number / 3));
    snprintf(request_id, sizeof request_id, "%d:%" PRIu64, slot, number);
    s_timestamp(received_at);
    char *areas[1] = {(char *)PICK(s_areas, number / 4)};

    Dp__EnquirySubmission enquiry = DP__ENQUIRY_SUBMISSION__INIT;
    enquiry.source = "bench";
    enquiry.idempotency_key = key;
    enquiry.sender_name = (char *)PICK(s_names, number);
    enquiry.email = email;
    enquiry.organisation = (char *)PICK(s_organisations, number);
    enquiry.country = (char *)PICK(s_countries, number);
    enquiry.kind = (char *)PICK(s_kinds, number);
    enquiry.subject = (char *)PICK(s_subjects, number / 2);
    enquiry.body = (char *)PICK(s_bodies, number);
    enquiry.language = (char *)PICK(s_languages, number);
    enquiry.received_at = received_at;
    if (self->areas && number % 4 == 0) {
        enquiry.areas = areas;
        enquiry.n_areas = 1;
    }
    Dp__SubmitEnquiryRequest submit = DP__SUBMIT_ENQUIRY_REQUEST__INIT;
    submit.enquiry = &enquiry;
    unsigned char body[2048];
    if (protobuf_c_message_get_packed_size(&submit.base) > sizeof body) return 0;
    Dp__Request request = DP__REQUEST__INIT;
    request.request_id = request_id;
    request.type = (char *)dp__submit_enquiry_request__descriptor.name;
    request.body.data = body;
    request.body.len = protobuf_c_message_pack(&submit.base, body);
    if (protobuf_c_message_get_packed_size(&request.base) > capacity) return 0;
    return protobuf_c_message_pack(&request.base, out);
}

/* ---- the load --------------------------------------------------------------------------- */

static int s_send(bench_t *self, connection_t *connection, int slot)
{
    unsigned char packed[4096];
    uint64_t number = self->next_number++;
    size_t size = s_pack_request(self, slot, number, packed, sizeof packed);
    if (size == 0) return -1;
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, packed, size);
    connection->slots[slot].number = number;
    connection->slots[slot].sent_us = bench_now_us();
    if (zmsg_send(&message, connection->socket) != 0) {
        zmsg_destroy(&message);
        connection->slots[slot].number = 0;
        return -1;
    }
    connection->busy++;
    self->sent++;
    self->sent_bytes += size;
    return 0;
}

static bool s_in_window(const bench_t *self, int64_t at_us)
{
    return at_us >= self->window_start_us && at_us < self->window_end_us;
}

/* Counts one reply; returns the slot it freed, or -1 for a stale or
   undecodable reply. */
static int s_receive(bench_t *self, connection_t *connection)
{
    zmsg_t *message = zmsg_recv(connection->socket);
    if (!message) return -1;
    int64_t now = bench_now_us();
    zframe_t *frame = zmsg_last(message);
    Dp__Reply *reply =
        zmsg_size(message) == 2
            ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                             zframe_size(frame), 1 << 20)
            : NULL;
    zmsg_destroy(&message);
    char *end = NULL;
    long slot = reply ? strtol(reply->request_id, &end, 10) : -1;
    uint64_t number = end && *end == ':' ? strtoull(end + 1, NULL, 10) : 0;
    if (slot < 0 || slot >= self->inflight || number == 0 ||
        connection->slots[slot].number != number) {
        self->stale++;
        dp_message_free((ProtobufCMessage **)&reply);
        return -1;
    }
    int64_t latency = now - connection->slots[slot].sent_us;
    connection->slots[slot].number = 0;
    connection->busy--;
    if (s_in_window(self, now)) {
        Dp__Code code = reply->status ? reply->status->code : DP__CODE__CODE_UNKNOWN;
        if (code == DP__CODE__CODE_OK) {
            self->acks++;
            bench_samples_add(&self->samples, latency);
            Dp__SubmitEnquiryReply *answer = (Dp__SubmitEnquiryReply *)dp_message_decode(
                &dp__submit_enquiry_reply__descriptor, reply->body.data, reply->body.len, 65536);
            if (answer && answer->status == DP__ENQUIRY_STATUS__ENQUIRY_STATUS_QUARANTINED)
                self->quarantined++;
            if (answer && answer->already_submitted) self->already_submitted++;
            dp_message_free((ProtobufCMessage **)&answer);
        } else {
            self->errors++;
            if (!self->first_error[0])
                snprintf(self->first_error, sizeof self->first_error, "%s %s: %s",
                         dp_code_name(code), reply->status ? reply->status->field : "",
                         reply->status ? reply->status->message : "no status");
        }
    }
    dp_message_free((ProtobufCMessage **)&reply);
    return (int)slot;
}

/* Frees the slots whose submission has waited longer than the timeout
   (the reply, if it ever comes, is then stale) and sends anew in them. */
static void s_expire(bench_t *self, int64_t now, bool send_more)
{
    for (int c = 0; c < self->connection_count; c++) {
        connection_t *connection = &self->connections[c];
        for (int slot = 0; slot < self->inflight; slot++) {
            slot_t *entry = &connection->slots[slot];
            if (!entry->number || now - entry->sent_us < self->timeout_us) continue;
            if (s_in_window(self, now)) self->timeouts++;
            entry->number = 0;
            connection->busy--;
            if (send_more) s_send(self, connection, slot);
        }
    }
}

static size_t s_busy(const bench_t *self)
{
    size_t busy = 0;
    for (int c = 0; c < self->connection_count; c++)
        busy += self->connections[c].busy;
    return busy;
}

/* Keeps every slot busy until the window ends, then waits (up to the
   timeout) for the replies still due. Returns -1 when a send failed. */
static int s_run(bench_t *self)
{
    zpoller_t *poller = zpoller_new(NULL);
    for (int c = 0; poller && c < self->connection_count; c++)
        zpoller_add(poller, self->connections[c].socket);
    if (!poller) return -1;
    int64_t start = bench_now_us();
    self->window_start_us = start + self->warmup_us;
    self->window_end_us = self->window_start_us + self->duration_us;
    int outcome = 0;
    for (int c = 0; outcome == 0 && c < self->connection_count; c++)
        for (int slot = 0; outcome == 0 && slot < self->inflight; slot++)
            outcome = s_send(self, &self->connections[c], slot);
    int64_t drain_end = self->window_end_us + self->timeout_us;
    int64_t next_expiry = start + 100000;
    while (outcome == 0) {
        int64_t now = bench_now_us();
        bool sending = now < self->window_end_us;
        if (!sending && (s_busy(self) == 0 || now >= drain_end)) break;
        if (now >= next_expiry) {
            s_expire(self, now, sending);
            next_expiry = now + 100000;
        }
        int64_t wake =
            sending && self->window_end_us < next_expiry ? self->window_end_us : next_expiry;
        int wait_ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        zsock_t *which = zpoller_wait(poller, wait_ms);
        if (!which) {
            if (zpoller_terminated(poller)) outcome = -1;
            continue;
        }
        connection_t *connection = NULL;
        for (int c = 0; c < self->connection_count; c++)
            if (self->connections[c].socket == which) connection = &self->connections[c];
        /* Take everything this socket has, sending the next submission
           into each slot as it frees up. */
        do {
            int slot = s_receive(self, connection);
            if (slot >= 0 && bench_now_us() < self->window_end_us)
                outcome = s_send(self, connection, slot);
        } while (outcome == 0 && (zsock_events(connection->socket) & ZMQ_POLLIN));
    }
    self->unanswered = s_busy(self);
    zpoller_destroy(&poller);
    return outcome;
}

/* ---- results ---------------------------------------------------------------------------- */

static void s_report(bench_t *self)
{
    bench_samples_sort(&self->samples);
    double seconds = (double)self->duration_us / 1e6;
    double rate = (double)self->acks / seconds;
    double p50 = bench_percentile_ms(&self->samples, 50), p90 = bench_percentile_ms(&self->samples, 90),
           p99 = bench_percentile_ms(&self->samples, 99), max = bench_percentile_ms(&self->samples, 100);
    fprintf(stderr,
            "dp-bench-intake %s %s %dx%d: %" PRIu64 " acks in %.1f s = %.0f acks/s; "
            "latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; errors %" PRIu64
            ", timeouts %" PRIu64 "\n",
            self->label, self->endpoint, self->connection_count, self->inflight, self->acks,
            seconds, rate, p50, p90, p99, max, self->errors, self->timeouts);
    if (self->first_error[0])
        fprintf(stderr, "dp-bench-intake: first error: %s\n", self->first_error);
    if (self->quarantined || self->already_submitted || self->stale || self->unanswered)
        fprintf(stderr,
                "dp-bench-intake: quarantined %" PRIu64 ", already submitted %" PRIu64
                ", stale replies %" PRIu64 ", unanswered at the end %" PRIu64 "\n",
                self->quarantined, self->already_submitted, self->stale, self->unanswered);
    printf("label=%s shape=%dx%d connections=%d inflight=%d tag=%s seconds=%.3f acks=%" PRIu64
           " acks_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%" PRIu64
           " timeouts=%" PRIu64 " quarantined=%" PRIu64 " already_submitted=%" PRIu64
           " stale=%" PRIu64 " unanswered=%" PRIu64 " sent=%" PRIu64 " request_bytes=%.0f\n",
           *self->label ? self->label : "-", self->connection_count, self->inflight,
           self->connection_count, self->inflight, self->tag, seconds, self->acks, rate, p50, p90,
           p99, max, self->errors, self->timeouts, self->quarantined, self->already_submitted,
           self->stale, self->unanswered, self->sent,
           self->sent ? (double)self->sent_bytes / (double)self->sent : 0.0);
    fflush(stdout);
}

/* ---- setup ------------------------------------------------------------------------------- */

static int s_setup(bench_t *self, const dp_config_t *config)
{
    snprintf(self->endpoint, sizeof self->endpoint, "%s",
             dp_config_get(config, "DP_BENCH_ENDPOINT"));
    snprintf(self->label, sizeof self->label, "%s", dp_config_get(config, "DP_BENCH_LABEL"));
    self->connection_count = (int)dp_config_get_int(config, "DP_BENCH_CONNECTIONS");
    self->inflight = (int)dp_config_get_int(config, "DP_BENCH_INFLIGHT");
    self->warmup_us = dp_config_get_int(config, "DP_BENCH_WARMUP_MS") * 1000;
    self->duration_us = dp_config_get_int(config, "DP_BENCH_DURATION_MS") * 1000;
    self->timeout_us = dp_config_get_int(config, "DP_BENCH_TIMEOUT_MS") * 1000;
    self->areas = dp_config_get_int(config, "DP_BENCH_AREAS") == 1;
    self->next_number = 1;
    const char *tag = dp_config_get(config, "DP_BENCH_TAG");
    if (*tag)
        snprintf(self->tag, sizeof self->tag, "%s", tag);
    else
        bench_make_tag(self->tag, sizeof self->tag); /* unique across runs against one database */
    if (!bench_valid_tag(self->tag)) {
        fprintf(stderr, "dp-bench-intake: DP_BENCH_TAG must be 1 to 63 of a-z 0-9 -\n");
        return -1;
    }
    self->connections = calloc((size_t)self->connection_count, sizeof *self->connections);
    if (!self->connections) return -1;
    for (int c = 0; c < self->connection_count; c++) {
        connection_t *connection = &self->connections[c];
        connection->slots = calloc((size_t)self->inflight, sizeof *connection->slots);
        connection->socket = zsock_new(ZMQ_DEALER);
        if (!connection->slots || !connection->socket) return -1;
        zsock_set_linger(connection->socket, 0);
        zsock_set_sndhwm(connection->socket, self->inflight * 2 + 16);
        zsock_set_rcvhwm(connection->socket, self->inflight * 2 + 16);
        if (zsock_connect(connection->socket, "%s", self->endpoint) != 0) {
            fprintf(stderr, "dp-bench-intake: cannot connect to %s\n", self->endpoint);
            return -1;
        }
    }
    return 0;
}

static void s_teardown(bench_t *self)
{
    for (int c = 0; self->connections && c < self->connection_count; c++) {
        zsock_destroy(&self->connections[c].socket);
        free(self->connections[c].slots);
    }
    free(self->connections);
    bench_samples_free(&self->samples);
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config = bench_config_load(
        "dp-bench-intake", "load generator for enquiry submissions (acks/s, ack latency)",
        s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config) return exit_code;
    bench_t self = {0};
    int outcome = s_setup(&self, config);
    dp_config_destroy(&config);
    if (outcome == 0 && (outcome = s_run(&self)) != 0)
        fprintf(stderr, "dp-bench-intake: a send failed; results are incomplete\n");
    if (outcome == 0) s_report(&self);
    s_teardown(&self);
    return outcome == 0 ? 0 : 1;
}
