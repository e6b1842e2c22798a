#include "fault_load.h"

#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "dp_codec.h"
#include "dp_pipeline.h"
#include "fault_common.h"

enum { RECENT_ACKS = 64, MAX_REPLY_BYTES = 1 << 20 };

struct _fault_load_t {
    fault_load_options_t options; /* as given (strings borrowed) */
    dp_pipeline_t *pipeline;      /* the sockets; a submission's tag is its number */
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

static int s_done(void *sink, const dp_pipeline_result_t *result);

fault_load_t *fault_load_new(const fault_load_options_t *options)
{
    fault_load_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->options = *options;
    if (self->options.connections < 1)
        self->options.connections = 1;
    if (self->options.inflight < 1)
        self->options.inflight = 1;
    self->next_number = options->first;
    self->end_number = options->first + options->count;
    fault_now_rfc3339(self->received_at);
    /* Lazy Pirate, pipelined: no bound on attempts, and a late reply
       replaces its socket at once, everything in flight on it going again
       unchanged. Request ids carry the tag, unique per run. */
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s-r", self->options.tag);
    dp_pipeline_options_t pipeline = {.endpoints = self->options.endpoint,
                                      .sockets = (size_t)self->options.connections,
                                      .window = (size_t)self->options.inflight,
                                      .timeout_ms = self->options.attempt_ms,
                                      .attempts = 0,
                                      .fresh = DP_PIPELINE_FRESH_ON_TIMEOUT,
                                      .max_reply = MAX_REPLY_BYTES,
                                      .id_prefix = prefix,
                                      .done = s_done,
                                      .sink = self};
    self->pipeline = dp_pipeline_new(&pipeline);
    if (!self->pipeline)
        fault_load_destroy(&self);
    return self;
}

void fault_load_destroy(fault_load_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fault_load_t *self = *self_p;
    dp_pipeline_destroy(&self->pipeline);
    free(self->latencies_us);
    free(self);
    *self_p = NULL;
}

/* Keeps one acknowledgement's latency (a lost one only thins the percentiles). */
static void s_record_latency(fault_load_t *self, int64_t latency_us)
{
    if (self->latency_count == self->latency_capacity) {
        size_t capacity = self->latency_capacity ? self->latency_capacity * 2 : 4096;
        int64_t *grown = realloc(self->latencies_us, capacity * sizeof *grown);
        if (!grown)
            return;
        self->latencies_us = grown;
        self->latency_capacity = capacity;
    }
    self->latencies_us[self->latency_count++] = latency_us;
}

static int s_start(fault_load_t *self)
{
    uint64_t number = self->next_number++;
    fault_submission_t submission;
    fault_submission_init(&submission, self->options.source, self->options.tag, number,
                          self->received_at);
    if (dp_pipeline_send(self->pipeline, &submission.request.base, number) != 0)
        return -1;
    self->counts.started++;
    return 0;
}

static bool s_may_start(const fault_load_t *self, int64_t now)
{
    if (self->next_number >= self->end_number)
        return false;
    if (self->options.rate <= 0)
        return true;
    double allowed = (double)(now - self->started_us) / 1e6 * (double)self->options.rate;
    return (double)self->counts.started < allowed + 1.0;
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

static void s_describe(char *out, size_t size, const fault_load_t *self, uint64_t number,
                       const dp_status_t *status)
{
    snprintf(out, size, "%s-%" PRIu64 "-r: %s %s: %s", self->options.tag, number,
             dp_code_name(status->code), status->field, status->message);
}

/* One submission answered (dp_pipeline_done_fn): acknowledged, refused
   for good, or refused for now (then sent again after the backoff). */
static int s_done(void *sink, const dp_pipeline_result_t *result)
{
    fault_load_t *self = sink;
    uint64_t number = result->tag;
    Dp__Code code = result->status->code;
    if (result->envelope && code == DP__CODE__CODE_OK) {
        const Dp__Reply *reply = result->envelope;
        Dp__SubmitEnquiryReply *answer = (Dp__SubmitEnquiryReply *)dp_message_decode(
            &dp__submit_enquiry_reply__descriptor, reply->body.data, reply->body.len, 65536);
        if (!answer || answer->enquiry_id <= 0) {
            self->counts.rejected++;
            if (!*self->counts.first_error)
                snprintf(self->counts.first_error, sizeof self->counts.first_error,
                         "%s-%" PRIu64 "-r: OK without an enquiry id", self->options.tag, number);
        } else {
            self->counts.acked++;
            self->counts.already += answer->already_submitted;
            self->counts.first_attempt += result->sends == 1;
            if (result->latency_us > self->counts.max_ack_us)
                self->counts.max_ack_us = result->latency_us;
            s_record_latency(self, result->latency_us);
            if (self->options.acks)
                fprintf(self->options.acks, "%s-%" PRIu64 "\t%" PRId64 "\t%d\n", self->options.tag,
                        number, answer->enquiry_id, answer->already_submitted ? 1 : 0);
            s_remember(self, number);
        }
        dp_message_free((ProtobufCMessage **)&answer);
        return 0;
    }
    if (result->envelope && s_transient(code)) {
        self->counts.transient++;
        if (!*self->counts.first_transient)
            s_describe(self->counts.first_transient, sizeof self->counts.first_transient, self,
                       number, result->status);
        return self->options.backoff_ms > 0 ? self->options.backoff_ms : 1;
    }
    self->counts.rejected++;
    if (!*self->counts.first_error)
        s_describe(self->counts.first_error, sizeof self->counts.first_error, self, number,
                   result->status);
    return 0;
}

/* The pipeline's counts into ours. */
static void s_sync(fault_load_t *self)
{
    const dp_pipeline_stats_t *stats = dp_pipeline_stats(self->pipeline);
    self->counts.sends = stats->sends;
    self->counts.timeouts = stats->timeouts;
    self->counts.reconnects = stats->reconnects;
    self->counts.stale = stats->stale;
}

int fault_load_step(fault_load_t *self, int wait_ms)
{
    int64_t now = fault_now_us();
    if (!self->started_us)
        self->started_us = now;
    while (dp_pipeline_room(self->pipeline) > 0 && s_may_start(self, now))
        if (s_start(self) != 0)
            break;
    /* Wake in time for pacing and resends: at most 5 ms late. */
    int wait = wait_ms;
    if ((self->options.rate > 0 && self->next_number < self->end_number) || self->counts.transient)
        wait = wait > 5 ? 5 : wait;
    dp_pipeline_poll(self->pipeline, wait);
    s_sync(self);
    return fault_stopping() ? -1 : 0;
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
    if (!self->latency_count)
        return 0;
    int64_t *sorted = malloc(self->latency_count * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, self->latencies_us, self->latency_count * sizeof *sorted);
    qsort(sorted, self->latency_count, sizeof *sorted, s_compare_latency);
    size_t rank = (size_t)(percent / 100.0 * (double)self->latency_count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > self->latency_count)
        rank = self->latency_count;
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
