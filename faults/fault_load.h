/* A retrying submitter: several DEALER sockets, each with several enquiry
   submissions in flight (a dp_pipeline). It is the ZeroMQ guide's Lazy
   Pirate, pipelined:
   when a submission waits longer than the attempt time, its socket is
   replaced and every submission in flight on it is sent again, byte for
   byte (same request id, same idempotency key, same content). A transient
   refusal (UNAVAILABLE, ABORTED, RESOURCE_EXHAUSTED) is sent again after a
   backoff; any other refusal is final. Acknowledgements can be written to
   a file, one "key<TAB>enquiry id<TAB>already submitted (0/1)" line each. */
#ifndef FAULT_LOAD_H
#define FAULT_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *endpoint; /* the intake's ROUTER */
    const char *source;   /* the submissions' source (a slug) */
    const char *tag;      /* prefix of their idempotency keys */
    uint64_t first;       /* number of the first submission */
    uint64_t count;       /* submissions to make */
    int connections;      /* DEALER sockets */
    int inflight;         /* submissions outstanding per socket */
    int attempt_ms;       /* no reply this long: resend on a fresh socket */
    int backoff_ms;       /* after a transient refusal, resend this much later */
    long rate;            /* new submissions started per second; 0: as fast as answered */
    FILE *acks;           /* where acknowledgements are written, or NULL */
} fault_load_options_t;

typedef struct {
    uint64_t started;          /* distinct submissions sent at least once */
    uint64_t sends;            /* messages sent, resends included */
    uint64_t timeouts;         /* attempts unanswered in time (then resent on a fresh socket) */
    uint64_t transient;        /* transient refusals (then resent after the backoff) */
    uint64_t acked;            /* submissions acknowledged OK */
    uint64_t already;          /* ... of them answered already_submitted (a retry recognised) */
    uint64_t rejected;         /* submissions refused for good */
    uint64_t stale;            /* replies to nothing in flight (late answers to earlier attempts) */
    uint64_t reconnects;       /* sockets replaced */
    uint64_t first_attempt;    /* acknowledged on the first send */
    int64_t max_ack_us;        /* longest time from first send to acknowledgement */
    char first_error[600];     /* the first final refusal */
    char first_transient[600]; /* the first transient refusal */
} fault_load_counts_t;

typedef struct _fault_load_t fault_load_t;

/* Connects the sockets; sends nothing yet. NULL on failure. */
fault_load_t *fault_load_new(const fault_load_options_t *options);
void fault_load_destroy(fault_load_t **self_p);

/* Sends what is due (new submissions, resends), then waits up to wait_ms
   for replies and takes every reply that arrived. Returns -1 once the
   program is asked to stop (fault_stopping). */
int fault_load_step(fault_load_t *self, int wait_ms);

/* True when every submission was acknowledged or refused for good. */
bool fault_load_done(const fault_load_t *self);

/* Submissions started and not yet acknowledged or refused. */
uint64_t fault_load_pending(const fault_load_t *self);

/* Stops starting new submissions (what is in flight still completes). */
void fault_load_stop_starting(fault_load_t *self);

const fault_load_counts_t *fault_load_counts(const fault_load_t *self);

/* The number of a submission acknowledged lately, picked by `random`
   among the last few (for probes that reuse its key); 0 before any. */
uint64_t fault_load_some_acked(const fault_load_t *self, uint64_t random);

/* Prints the counts as key=value pairs (no newline). */
void fault_load_print(const fault_load_t *self, FILE *out);

#endif
