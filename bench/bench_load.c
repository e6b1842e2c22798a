/* The closed loop of requests over DEALER sockets (see bench_load.h). */
#include "bench_load.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "dp_codec.h"
#include "dp_pipeline.h"

/* The loop's state: the pipeline does the sockets, the matching and the
   time-outs; a request's tag is its slot, connection * inflight + slot. */
typedef struct {
    bench_load_t *load;
    const bench_load_handler_t *handler;
    dp_pipeline_t *pipeline;
    uint64_t *freed;    /* slots whose request ended since the last refill */
    size_t freed_count; /* entries in freed */
} loop_t;

bool bench_load_in_window(const bench_load_t *load, int64_t at_us)
{
    return at_us >= load->window_start_us && at_us < load->window_end_us;
}

static int s_send(loop_t *self, uint64_t tag)
{
    int c = (int)(tag / (uint64_t)self->load->inflight);
    int index = (int)(tag % (uint64_t)self->load->inflight);
    unsigned char body[8192];
    const char *type = NULL;
    size_t body_size = 0;
    if (self->handler->pack_body(self->handler->arg, c, index, &type, body, sizeof body,
                                 &body_size) != 0 ||
        !type)
        return -1;
    return dp_pipeline_send_body(self->pipeline, type, body, body_size, tag);
}

/* A request ended (dp_pipeline_done_fn): its reply is the program's to
   count; one unanswered within the time-out counts as a time-out. Either
   way its slot is refilled after the poll. */
static int s_done(void *sink, const dp_pipeline_result_t *result)
{
    loop_t *self = sink;
    int64_t now = bench_now_us();
    bool in_window = bench_load_in_window(self->load, now);
    if (!result->envelope) {
        if (in_window)
            self->load->timeouts++;
    } else {
        int c = (int)(result->tag / (uint64_t)self->load->inflight);
        int index = (int)(result->tag % (uint64_t)self->load->inflight);
        self->handler->on_reply(self->handler->arg, c, index, result->envelope, result->reply_size,
                                result->latency_us, in_window);
    }
    self->freed[self->freed_count++] = result->tag;
    return 0;
}

/* Keeps every slot busy until the window ends, then waits (up to the
   time-out) for the replies still due. */
static int s_loop(loop_t *self)
{
    bench_load_t *load = self->load;
    int64_t start = bench_now_us();
    load->window_start_us = start + load->warmup_us;
    load->window_end_us = load->window_start_us + load->duration_us;
    uint64_t slots = (uint64_t)load->connection_count * (uint64_t)load->inflight;
    int outcome = 0;
    for (uint64_t tag = 0; outcome == 0 && tag < slots; tag++)
        outcome = s_send(self, tag);
    int64_t drain_end = load->window_end_us + load->timeout_us;
    while (outcome == 0) {
        int64_t now = bench_now_us();
        bool sending = now < load->window_end_us;
        if (!sending && (dp_pipeline_outstanding(self->pipeline) == 0 || now >= drain_end))
            break;
        int64_t wake = sending ? load->window_end_us : drain_end;
        dp_pipeline_poll(self->pipeline, wake > now ? (int)((wake - now + 999) / 1000) : 0);
        if (zsys_interrupted)
            outcome = -1;
        /* The next request into each slot that freed up. */
        sending = bench_now_us() < load->window_end_us;
        for (size_t i = 0; sending && outcome == 0 && i < self->freed_count; i++)
            outcome = s_send(self, self->freed[i]);
        self->freed_count = 0;
    }
    load->unanswered = dp_pipeline_outstanding(self->pipeline);
    return outcome;
}

int bench_load_run(bench_load_t *load, const char *program, const char *endpoint,
                   const bench_load_handler_t *handler)
{
    loop_t self = {load, handler, NULL, NULL, 0};
    load->sent = load->sent_bytes = load->timeouts = load->stale = load->unanswered = 0;
    if (!load->max_reply)
        load->max_reply = 1 << 20;
    size_t slots = (size_t)load->connection_count * (size_t)load->inflight;
    self.freed = calloc(slots, sizeof *self.freed);
    /* One attempt, and the sockets kept: a time-out is a result here, and
       the slot goes on with a new request. Short ids, as a client's. */
    dp_pipeline_options_t options = {.endpoints = endpoint,
                                     .sockets = (size_t)load->connection_count,
                                     .window = (size_t)load->inflight,
                                     .timeout_ms = (int)(load->timeout_us / 1000),
                                     .attempts = 1,
                                     .fresh = DP_PIPELINE_FRESH_NEVER,
                                     .max_reply = load->max_reply,
                                     .id_prefix = "",
                                     .done = s_done,
                                     .sink = &self};
    self.pipeline = self.freed ? dp_pipeline_new(&options) : NULL;
    int outcome = 0;
    if (!self.pipeline) {
        fprintf(stderr, "%s: cannot connect to %s\n", program, endpoint);
        outcome = -1;
    } else if ((outcome = s_loop(&self)) != 0)
        fprintf(stderr, "%s: a send failed; results are incomplete\n", program);
    if (self.pipeline) {
        const dp_pipeline_stats_t *stats = dp_pipeline_stats(self.pipeline);
        load->sent = stats->requests;
        load->sent_bytes = stats->bytes;
        load->stale = stats->stale;
    }
    dp_pipeline_destroy(&self.pipeline);
    free(self.freed);
    return outcome;
}
