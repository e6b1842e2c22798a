/* Every SQL statement of the notifications service. Functions return 1
   (found / done), 0 (not found / nothing) or -1 (database failure). */
#ifndef NOTIFY_DB_H
#define NOTIFY_DB_H

#include <stdint.h>

#include "dp_arena.h"
#include "dp_db.h"
#include "notify.pb-c.h"

extern const dp_statement_t notify_statements[];
extern const size_t notify_statement_count;

/* The LISTEN statement for the relay's connection. */
extern const char *const notify_listen_sql;

/* Within a transaction: true (1) when this session holds the relay lock or
   has just taken it, 0 when another relay holds it. */
int notify_db_take_relay_lock(dp_db_t *db);
/* Within a transaction: moves up to `limit` rows from each outbox into the
   sequence, numbered after the current last seq, and queues their webhook
   deliveries. The appended events, in seq order, go to *events. */
int notify_db_relay(dp_db_t *db, dp_arena_t *arena, int limit, Dp__Event ***events, size_t *count);

uint64_t notify_db_latest_seq(dp_db_t *db, int *failed);
/* Rows waiting in the outboxes, the largest consumer lag and the parked
   events (consumers and webhooks). */
int notify_db_backlog(dp_db_t *db, double *outbox_rows, double *max_consumer_lag, double *parked);
/* Matching events with seq in [from, from + window), at most limit. */
int notify_db_replay(dp_db_t *db, dp_arena_t *arena, uint64_t from, const char *prefix, int limit,
                     uint64_t window, Dp__Event ***events, size_t *count);

/* 1 created, 0 the name exists. owner: the creating key's name ("" without CURVE). */
int notify_db_create_consumer(dp_db_t *db, const Dp__CreateConsumerRequest *request,
                              uint64_t start_after, uint32_t ack_timeout_ms, uint32_t max_attempts,
                              const char *owner);
int notify_db_load_consumer(dp_db_t *db, dp_arena_t *arena, const char *name, bool lock,
                            Dp__Consumer **consumer);
/* Every consumer (Dp__Consumer): dp_list_read_fn, for dp_reply_list. */
int notify_db_list_consumers(dp_db_t *db, dp_arena_t *arena, void ***consumers, size_t *count);
int notify_db_delete_consumer(dp_db_t *db, const char *name);
/* Within a transaction on a locked consumer: parks what timed out after its
   last attempt, redelivers what timed out, then hands out new matching
   events, up to max in all. */
int notify_db_fetch(dp_db_t *db, dp_arena_t *arena, const Dp__Consumer *consumer, int max,
                    uint64_t scan_window, Dp__Delivery ***deliveries, size_t *count);
int notify_db_ack(dp_db_t *db, const char *consumer, uint64_t up_to_seq);

int notify_db_list_parked(dp_db_t *db, dp_arena_t *arena, const char *consumer, int limit,
                          Dp__ParkedEvent ***parked, size_t *count);
/* Puts parked events of a consumer ("webhook:<id>" for a webhook) back; returns how many. */
int notify_db_replay_parked(dp_db_t *db, const char *consumer, uint64_t seq);

int notify_db_add_webhook(dp_db_t *db, dp_arena_t *arena, const Dp__AddWebhookRequest *request,
                          Dp__Webhook **webhook);
/* Every webhook (Dp__Webhook): dp_list_read_fn, for dp_reply_list. */
int notify_db_list_webhooks(dp_db_t *db, dp_arena_t *arena, void ***webhooks, size_t *count);
int notify_db_remove_webhook(dp_db_t *db, int64_t id);

/* A webhook delivery claimed by a worker. */
typedef struct {
    int64_t webhook_id; /* which webhook */
    char *url;          /* where to POST */
    char *secret;       /* HMAC key */
    int attempts;       /* attempts made before this one */
    Dp__Event *event;   /* what to send */
} notify_hook_job_t;

/* Claims up to limit due deliveries for lease_ms (another worker skips them). */
int notify_db_claim_webhook_jobs(dp_db_t *db, dp_arena_t *arena, int limit, int lease_ms,
                                 notify_hook_job_t **jobs, size_t *count);
/* Records an attempt: delivered, or failed with a retry after backoff_ms (parked at max_attempts).
 */
int notify_db_finish_webhook_job(dp_db_t *db, const notify_hook_job_t *job, bool delivered,
                                 const char *error, int backoff_ms, int max_attempts);
/* Puts a claimed delivery back without counting an attempt: due after delay_ms. */
int notify_db_release_webhook_job(dp_db_t *db, const notify_hook_job_t *job, int delay_ms);

#endif
