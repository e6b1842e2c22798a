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
#include "bench_load.h"
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

typedef struct {
    char endpoint[256];         /* where the load goes */
    char label[64];             /* shown in the output */
    char tag[64];               /* makes keys and addresses unique */
    bench_load_t load;          /* connections, in flight, times; sent, timeouts, ... */
    bool areas;                 /* name seed areas in some submissions */
    uint64_t next_number;       /* sequence of the next submission, from 1 */
    uint64_t acks;              /* OK replies in the window */
    uint64_t errors;            /* error replies in the window */
    uint64_t quarantined;       /* OK but quarantined (the rate limit hit: a bench defect) */
    uint64_t already_submitted; /* OK but a retry (key reuse: a bench defect) */
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

/* Packs the next submission (bench_load_handler_t.pack_body): a
   SubmitEnquiryRequest whose key and sender carry the tag and the number. */
static int s_pack_body(void *arg, int connection, int slot, const char **type, unsigned char *out,
                       size_t capacity, size_t *size)
{
    (void)connection;
    (void)slot;
    bench_t *self = arg;
    uint64_t number = self->next_number++;
    char key[128], email[160], received_at[32];
    snprintf(key, sizeof key, "%s-%" PRIu64, self->tag, number);
    snprintf(email, sizeof email, "sender.%s.%" PRIu64 "@%s", self->tag, number,
             PICK(s_domains, number / 3));
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
    if (protobuf_c_message_get_packed_size(&submit.base) > capacity)
        return -1;
    *type = dp__submit_enquiry_request__descriptor.name;
    *size = protobuf_c_message_pack(&submit.base, out);
    return 0;
}

/* Counts one reply (bench_load_handler_t.on_reply). */
static void s_on_reply(void *arg, int connection, int slot, const Dp__Reply *reply,
                       size_t reply_size, int64_t latency_us, bool in_window)
{
    (void)connection;
    (void)slot;
    (void)reply_size;
    bench_t *self = arg;
    if (!in_window)
        return;
    Dp__Code code = reply->status ? reply->status->code : DP__CODE__CODE_UNKNOWN;
    if (code != DP__CODE__CODE_OK) {
        self->errors++;
        if (!self->first_error[0])
            snprintf(self->first_error, sizeof self->first_error, "%s %s: %s", dp_code_name(code),
                     reply->status ? reply->status->field : "",
                     reply->status ? reply->status->message : "no status");
        return;
    }
    self->acks++;
    bench_samples_add(&self->samples, latency_us);
    Dp__SubmitEnquiryReply *answer = (Dp__SubmitEnquiryReply *)dp_message_decode(
        &dp__submit_enquiry_reply__descriptor, reply->body.data, reply->body.len, 65536);
    if (answer && answer->status == DP__ENQUIRY_STATUS__ENQUIRY_STATUS_QUARANTINED)
        self->quarantined++;
    if (answer && answer->already_submitted)
        self->already_submitted++;
    dp_message_free((ProtobufCMessage **)&answer);
}

/* ---- results ---------------------------------------------------------------------------- */

static void s_report(bench_t *self)
{
    bench_samples_sort(&self->samples);
    const bench_load_t *load = &self->load;
    double seconds = (double)load->duration_us / 1e6;
    double rate = (double)self->acks / seconds;
    bench_latency_t figures = bench_latency(&self->samples);
    fprintf(stderr,
            "dp-bench-intake %s %s %dx%d: %" PRIu64 " acks in %.1f s = %.0f acks/s; "
            "latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; errors %" PRIu64
            ", timeouts %" PRIu64 "\n",
            self->label, self->endpoint, load->connection_count, load->inflight, self->acks,
            seconds, rate, figures.p50, figures.p90, figures.p99, figures.max, self->errors,
            load->timeouts);
    if (self->first_error[0])
        fprintf(stderr, "dp-bench-intake: first error: %s\n", self->first_error);
    if (self->quarantined || self->already_submitted || load->stale || load->unanswered)
        fprintf(stderr,
                "dp-bench-intake: quarantined %" PRIu64 ", already submitted %" PRIu64
                ", stale replies %" PRIu64 ", unanswered at the end %" PRIu64 "\n",
                self->quarantined, self->already_submitted, load->stale, load->unanswered);
    printf("label=%s shape=%dx%d connections=%d inflight=%d tag=%s seconds=%.3f acks=%" PRIu64
           " acks_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%" PRIu64
           " timeouts=%" PRIu64 " quarantined=%" PRIu64 " already_submitted=%" PRIu64
           " stale=%" PRIu64 " unanswered=%" PRIu64 " sent=%" PRIu64 " request_bytes=%.0f\n",
           *self->label ? self->label : "-", load->connection_count, load->inflight,
           load->connection_count, load->inflight, self->tag, seconds, self->acks, rate,
           figures.p50, figures.p90, figures.p99, figures.max, self->errors, load->timeouts,
           self->quarantined, self->already_submitted, load->stale, load->unanswered, load->sent,
           load->sent ? (double)load->sent_bytes / (double)load->sent : 0.0);
    fflush(stdout);
}

/* ---- setup ------------------------------------------------------------------------------- */

static int s_setup(bench_t *self, const dp_config_t *config)
{
    snprintf(self->endpoint, sizeof self->endpoint, "%s",
             dp_config_get(config, "DP_BENCH_ENDPOINT"));
    snprintf(self->label, sizeof self->label, "%s", dp_config_get(config, "DP_BENCH_LABEL"));
    self->load.connection_count = (int)dp_config_get_int(config, "DP_BENCH_CONNECTIONS");
    self->load.inflight = (int)dp_config_get_int(config, "DP_BENCH_INFLIGHT");
    self->load.warmup_us = dp_config_get_int(config, "DP_BENCH_WARMUP_MS") * 1000;
    self->load.duration_us = dp_config_get_int(config, "DP_BENCH_DURATION_MS") * 1000;
    self->load.timeout_us = dp_config_get_int(config, "DP_BENCH_TIMEOUT_MS") * 1000;
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
    return 0;
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config = bench_config_load(
        "dp-bench-intake", "load generator for enquiry submissions (acks/s, ack latency)",
        s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    bench_t self = {0};
    int outcome = s_setup(&self, config);
    dp_config_destroy(&config);
    bench_load_handler_t handler = {s_pack_body, s_on_reply, &self};
    if (outcome == 0)
        outcome = bench_load_run(&self.load, "dp-bench-intake", self.endpoint, &handler);
    if (outcome == 0)
        s_report(&self);
    bench_samples_free(&self.samples);
    return outcome == 0 ? 0 : 1;
}
