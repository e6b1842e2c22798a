/* A closed loop of requests over DEALER sockets, the load of dp-bench-intake
   and of dp-bench-registry's "ours": `inflight` requests in flight on each
   of `connection_count` sockets; each reply frees its slot and the slot's
   next request goes out at once, until the measured window ends; then the
   replies still due are awaited up to the time-out. The sockets are a
   dp_pipeline's (one attempt, sockets kept): each request has an id of its
   own, so that a late reply to a request already given up (a time-out) is
   recognised as stale. The program says what each request holds and what
   each reply counts for; the loop does the rest. */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.pb-c.h"

typedef struct {
    /* Packs the body of slot `slot`'s next request on connection
       `connection` into out (capacity bytes), sets *size to its length
       (0 for an empty message) and *type to the body message's full name.
       Returns 0, or -1 when it cannot (the load then stops). */
    int (*pack_body)(void *arg, int connection, int slot, const char **type, unsigned char *out,
                     size_t capacity, size_t *size);
    /* The reply to the request in flight in that slot (decoded; its body is
       the program's to decode), `latency_us` after it was sent; `in_window`:
       it came while measuring. */
    void (*on_reply)(void *arg, int connection, int slot, const Dp__Reply *reply, size_t reply_size,
                     int64_t latency_us, bool in_window);
    void *arg;
} bench_load_handler_t;

typedef struct {
    /* Set before bench_load_run. */
    int connection_count; /* DEALER sockets */
    int inflight;         /* requests in flight on each */
    int64_t warmup_us;    /* load before measuring */
    int64_t duration_us;  /* time measured */
    int64_t timeout_us;   /* unanswered this long: a time-out, and the slot sends anew */
    size_t max_reply;     /* largest dp.Reply decoded */
    /* Set by bench_load_run. */
    int64_t window_start_us; /* measuring starts (monotonic) */
    int64_t window_end_us;   /* measuring ends; no new sends after it */
    uint64_t sent;           /* requests sent, all phases */
    uint64_t sent_bytes;     /* their serialised dp.Request sizes, summed */
    uint64_t timeouts;       /* requests unanswered within the time-out, in the window */
    uint64_t stale;          /* replies for no request in flight, or not decodable */
    uint64_t unanswered;     /* still in flight when the drain gave up */
} bench_load_t;

/* Connects the sockets to `endpoint` and runs the load. Returns 0, or -1
   after printing why when a socket could not connect or a send failed (the
   counts are then incomplete). */
int bench_load_run(bench_load_t *load, const char *program, const char *endpoint,
                   const bench_load_handler_t *handler);

/* True when at_us (monotonic) falls in the measured window. */
bool bench_load_in_window(const bench_load_t *load, int64_t at_us);

#endif
