#include "notify_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_format.h"

enum {
    TAKE_RELAY_LOCK,
    LATEST_SEQ,
    BACKLOG,
    RELAY,
    REPLAY,
    CREATE_CONSUMER,
    LOAD_CONSUMER,
    LOCK_CONSUMER,
    LIST_CONSUMERS,
    DELETE_CONSUMER,
    PARK_EXPIRED,
    REDELIVER,
    DELIVER_NEW,
    ADVANCE_CONSUMER,
    ACK,
    LIST_PARKED,
    REPLAY_PARKED_CONSUMER,
    REPLAY_PARKED_WEBHOOK,
    ADD_WEBHOOK,
    LIST_WEBHOOKS,
    REMOVE_WEBHOOK,
    CLAIM_WEBHOOK_JOBS,
    FINISH_WEBHOOK_JOB,
    RELEASE_WEBHOOK_JOB,
    STATEMENT_COUNT
};

const char *const notify_listen_sql = "LISTEN dp_outbox";

#define TS(column)                                                                                 \
    "COALESCE(to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '')"

/* Columns of an event, from notify.event aliased e. */
#define EVENT_COLUMNS                                                                              \
    "e.seq, e.event_type, e.aggregate_type, e.aggregate_id, e.payload, " TS(                       \
        "e.occurred_at") ", e.origin"
enum { EVENT_COLUMN_COUNT = 7 };

#define CONSUMER_COLUMNS                                                                           \
    "c.name, c.topic_prefix, c.acked_seq, c.delivered_seq, "                                       \
    "(SELECT COALESCE(max(seq), 0) FROM notify.event), "                                           \
    "(SELECT count(*) FROM notify.delivery d WHERE d.consumer = c.name AND d.parked_at IS NULL), " \
    "(SELECT count(*) FROM notify.delivery d WHERE d.consumer = c.name "                           \
    "   AND d.parked_at IS NOT NULL), "                                                            \
    "c.ack_timeout_ms, c.max_attempts, " TS("c.created_at") ", c.owner"

/* The relay's advisory lock: one active relay per database. */
#define RELAY_LOCK_KEY "7101004"

const dp_statement_t notify_statements[] = {
    /* Holds the lock already (it survives between transactions), or takes it now. */
    [TAKE_RELAY_LOCK] = {"take_relay_lock",
                         "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = "
                         "'advisory' AND classid = 0 AND objid = " RELAY_LOCK_KEY
                         " AND objsubid = 1 "
                         "AND pid = pg_backend_pid() AND granted) THEN true "
                         "ELSE pg_try_advisory_lock(" RELAY_LOCK_KEY ") END",
                         0},
    [LATEST_SEQ] = {"latest_seq", "SELECT COALESCE(max(seq), 0) FROM notify.event", 0},
    [BACKLOG] =
        {"backlog",
         "SELECT (SELECT count(*) FROM registry.outbox) + (SELECT count(*) FROM intake.outbox), "
         "  COALESCE((SELECT max(l.latest - c.acked_seq) FROM notify.consumer c, "
         "    (SELECT COALESCE(max(seq), 0) AS latest FROM notify.event) l), 0), "
         "  (SELECT count(*) FROM notify.delivery WHERE parked_at IS NOT NULL) + "
         "  (SELECT count(*) FROM notify.webhook_delivery WHERE state = 'parked')",
         0},
    /* Rows are moved, not copied: a row committed late is still in its outbox
       and is taken by a later turn; a rolled-back row was never visible.
       "id = ANY (ARRAY(...))" and not "id IN (...)": with IN, the generic
       plan PostgreSQL may keep for a prepared statement guesses that LIMIT
       $1 takes a tenth of the outbox and hash-joins a sequential scan of it,
       so a relay turn over a backlog of 900,000 rows took 125 ms instead of
       1.4 ms and the relay fell further behind the more it had to catch up. */
    [RELAY] = {"relay",
               "WITH moved_registry AS ("
               "  DELETE FROM registry.outbox WHERE id = ANY (ARRAY("
               "    SELECT id FROM registry.outbox ORDER BY id LIMIT $1)) "
               "  RETURNING 'registry'::text AS origin, id, event_type, aggregate_type, "
               "    aggregate_id, payload, occurred_at), "
               "moved_intake AS ("
               "  DELETE FROM intake.outbox WHERE id = ANY (ARRAY("
               "    SELECT id FROM intake.outbox ORDER BY id LIMIT $1)) "
               "  RETURNING 'intake'::text AS origin, id, event_type, aggregate_type, "
               "    aggregate_id, payload, occurred_at), "
               "moved AS (SELECT * FROM moved_registry UNION ALL SELECT * FROM moved_intake), "
               "base AS (SELECT COALESCE(max(seq), 0) AS last FROM notify.event), "
               "appended AS ("
               "  INSERT INTO notify.event (seq, origin, origin_id, event_type, aggregate_type, "
               "    aggregate_id, payload, occurred_at) "
               "  SELECT base.last + row_number() OVER (ORDER BY m.occurred_at, m.origin, m.id), "
               "    m.origin, m.id, m.event_type, m.aggregate_type, m.aggregate_id, m.payload, "
               "    m.occurred_at FROM moved m, base "
               "  RETURNING *), "
               "hooks AS ("
               "  INSERT INTO notify.webhook_delivery (webhook_id, seq) "
               "  SELECT w.id, a.seq FROM appended a JOIN notify.webhook w "
               "    ON w.removed_at IS NULL AND starts_with(a.event_type, w.topic_prefix)) "
               "SELECT " EVENT_COLUMNS " FROM appended e ORDER BY e.seq",
               1},
    [REPLAY] = {"replay",
                "SELECT " EVENT_COLUMNS " FROM notify.event e "
                "WHERE e.seq >= $1::bigint AND e.seq < $1::bigint + $4::bigint "
                "AND starts_with(e.event_type, $2) ORDER BY e.seq LIMIT $3::int",
                4},
    [CREATE_CONSUMER] =
        {"create_consumer",
         "INSERT INTO notify.consumer (name, topic_prefix, acked_seq, delivered_seq, "
         "ack_timeout_ms, max_attempts, owner) VALUES ($1, $2, $3, $3, $4, $5, $6) "
         "ON CONFLICT (name) DO NOTHING",
         6},
    [LOAD_CONSUMER] = {"load_consumer",
                       "SELECT " CONSUMER_COLUMNS " FROM notify.consumer c WHERE c.name = $1", 1},
    [LOCK_CONSUMER] = {"lock_consumer",
                       "SELECT " CONSUMER_COLUMNS " FROM notify.consumer c WHERE c.name = $1 "
                       "FOR UPDATE",
                       1},
    [LIST_CONSUMERS] = {"list_consumers",
                        "SELECT " CONSUMER_COLUMNS " FROM notify.consumer c ORDER BY c.name", 0},
    [DELETE_CONSUMER] = {"delete_consumer", "DELETE FROM notify.consumer WHERE name = $1", 1},
    /* $2 max attempts, $3 ack timeout in ms */
    [PARK_EXPIRED] = {"park_expired",
                      "UPDATE notify.delivery SET parked_at = now() "
                      "WHERE consumer = $1 AND parked_at IS NULL AND attempts >= $2::int "
                      "AND delivered_at < now() - make_interval(secs => $3::float8 / 1000)",
                      3},
    [REDELIVER] = {"redeliver",
                   "WITH again AS ("
                   "  UPDATE notify.delivery d SET attempts = d.attempts + 1, delivered_at = now() "
                   "  WHERE d.consumer = $1 AND d.seq = ANY (ARRAY(SELECT seq FROM notify.delivery "
                   "    WHERE consumer = $1 AND parked_at IS NULL "
                   "    AND delivered_at < now() - make_interval(secs => $2::float8 / 1000) "
                   "    ORDER BY seq LIMIT $3::int)) "
                   "  RETURNING d.seq, d.attempts) "
                   "SELECT " EVENT_COLUMNS ", a.attempts FROM again a "
                   "JOIN notify.event e ON e.seq = a.seq ORDER BY e.seq",
                   3},
    /* $2 delivered_seq, $3 prefix, $4 scan window, $5 limit */
    [DELIVER_NEW] = {"deliver_new",
                     "WITH picked AS ("
                     "  SELECT seq FROM notify.event WHERE seq > $2::bigint "
                     "  AND seq <= $2::bigint + $4::bigint AND starts_with(event_type, $3) "
                     "  ORDER BY seq LIMIT $5::int), "
                     "handed AS ("
                     "  INSERT INTO notify.delivery (consumer, seq, attempts, delivered_at) "
                     "  SELECT $1, seq, 1, now() FROM picked RETURNING seq) "
                     "SELECT " EVENT_COLUMNS ", 1 FROM handed h "
                     "JOIN notify.event e ON e.seq = h.seq ORDER BY e.seq",
                     5},
    [ADVANCE_CONSUMER] = {"advance_consumer",
                          "UPDATE notify.consumer SET delivered_seq = GREATEST(delivered_seq, $2) "
                          "WHERE name = $1",
                          2},
    /* An ack covers the fetch that delivered the newest in-flight event up
       to up_to_seq, and earlier events delivered with it or later (a fetch's
       rows share delivered_at): what
       another worker fetched before and never handled stays in flight and
       is redelivered. acked_seq is up_to_seq but below the lowest event
       still in flight, or the last delivered seq when none is. */
    [ACK] = {"ack",
             "WITH fetched AS (SELECT delivered_at FROM notify.delivery "
             "  WHERE consumer = $1 AND seq <= $2::bigint AND parked_at IS NULL "
             "  ORDER BY seq DESC LIMIT 1), "
             "done AS (DELETE FROM notify.delivery d WHERE d.consumer = $1 "
             "  AND d.seq <= $2::bigint AND d.parked_at IS NULL "
             "  AND d.delivered_at >= (SELECT delivered_at FROM fetched) RETURNING d.seq) "
             "UPDATE notify.consumer c SET acked_seq = GREATEST(c.acked_seq, "
             "  COALESCE((SELECT LEAST($2::bigint, min(d.seq) - 1, c.delivered_seq) "
             "    FROM notify.delivery d WHERE d.consumer = $1 AND d.parked_at IS NULL "
             "    AND d.seq NOT IN (SELECT seq FROM done) HAVING count(*) > 0), "
             "    c.delivered_seq)) "
             "WHERE c.name = $1",
             2},
    [LIST_PARKED] =
        {"list_parked",
         "SELECT * FROM ("
         "  SELECT d.consumer AS who, " EVENT_COLUMNS ", d.attempts, " TS(
             "d.parked_at") ", ''::text "
                            "  FROM notify.delivery d JOIN notify.event e ON e.seq = d.seq "
                            "  WHERE d.parked_at IS NOT NULL AND ($1 = '' OR d.consumer = $1) "
                            "  UNION ALL "
                            "  SELECT 'webhook:' || w.webhook_id, " EVENT_COLUMNS
                            ", w.attempts, " TS(
                                "w.finished_at") ", w.last_error "
                                                 "  FROM notify.webhook_delivery w JOIN "
                                                 "notify.event e ON e.seq = w.seq "
                                                 "  WHERE w.state = 'parked' AND ($1 = '' OR "
                                                 "'webhook:' || w.webhook_id = $1)"
                                                 ") parked ORDER BY 1, 2 LIMIT $2::int",
         2},
    [REPLAY_PARKED_CONSUMER] =
        {"replay_parked_consumer",
         "UPDATE notify.delivery SET parked_at = NULL, attempts = 0, "
         "delivered_at = '-infinity' WHERE consumer = $1 "
         "AND parked_at IS NOT NULL AND ($2::bigint = 0 OR seq = $2::bigint)",
         2},
    [REPLAY_PARKED_WEBHOOK] =
        {"replay_parked_webhook",
         "UPDATE notify.webhook_delivery SET state = 'pending', attempts = 0, "
         "next_attempt_at = now(), finished_at = NULL "
         "WHERE 'webhook:' || webhook_id = $1 AND state = 'parked' "
         "AND ($2::bigint = 0 OR seq = $2::bigint)",
         2},
    [ADD_WEBHOOK] = {"add_webhook",
                     "INSERT INTO notify.webhook (url, topic_prefix, secret) VALUES ($1, $2, $3) "
                     "RETURNING id, " TS("created_at"),
                     3},
    [LIST_WEBHOOKS] =
        {"list_webhooks",
         "SELECT w.id, w.url, w.topic_prefix, " TS(
             "w.created_at") ", "
                             "(SELECT count(*) FROM notify.webhook_delivery d "
                             "   WHERE d.webhook_id = w.id AND d.state = 'pending'), "
                             "(SELECT count(*) FROM notify.webhook_delivery d "
                             "   WHERE d.webhook_id = w.id AND d.state = 'parked'), "
                             "(SELECT COALESCE(max(seq), 0) FROM notify.webhook_delivery d "
                             "   WHERE d.webhook_id = w.id AND d.state = 'delivered') "
                             "FROM notify.webhook w WHERE w.removed_at IS NULL ORDER BY w.id",
         0},
    [REMOVE_WEBHOOK] = {"remove_webhook",
                        "UPDATE notify.webhook SET removed_at = now() "
                        "WHERE id = $1 AND removed_at IS NULL",
                        1},
    /* Several workers may run (one per replica): a claimed row is leased. */
    [CLAIM_WEBHOOK_JOBS] =
        {"claim_webhook_jobs",
         "WITH due AS ("
         "  SELECT webhook_id, seq FROM notify.webhook_delivery d "
         "  WHERE state = 'pending' AND next_attempt_at <= now() "
         "  AND EXISTS (SELECT 1 FROM notify.webhook w WHERE w.id = d.webhook_id "
         "    AND w.removed_at IS NULL) "
         "  ORDER BY next_attempt_at, seq LIMIT $1::int FOR UPDATE SKIP LOCKED), "
         "claimed AS ("
         "  UPDATE notify.webhook_delivery d SET next_attempt_at = now() + "
         "    make_interval(secs => $2::float8 / 1000) FROM due "
         "  WHERE d.webhook_id = due.webhook_id AND d.seq = due.seq "
         "  RETURNING d.webhook_id, d.seq, d.attempts) "
         "SELECT " EVENT_COLUMNS ", c.webhook_id, w.url, w.secret, c.attempts "
         "FROM claimed c JOIN notify.webhook w ON w.id = c.webhook_id "
         "JOIN notify.event e ON e.seq = c.seq "
         "WHERE w.removed_at IS NULL ORDER BY c.webhook_id, c.seq",
         2},
    /* $3 delivered, $4 error, $5 max attempts, $6 backoff in ms */
    [FINISH_WEBHOOK_JOB] = {"finish_webhook_job",
                            "UPDATE notify.webhook_delivery SET attempts = attempts + 1, "
                            "state = CASE WHEN $3::bool THEN 'delivered' "
                            "  WHEN attempts + 1 >= $5::int THEN 'parked' ELSE 'pending' END, "
                            "last_error = $4, "
                            "next_attempt_at = now() + make_interval(secs => $6::float8 / 1000), "
                            "finished_at = CASE WHEN $3::bool OR attempts + 1 >= $5::int "
                            "  THEN now() END "
                            "WHERE webhook_id = $1 AND seq = $2",
                            6},
    /* A claimed delivery not attempted: due again after $3 ms, no attempt counted. */
    [RELEASE_WEBHOOK_JOB] = {"release_webhook_job",
                             "UPDATE notify.webhook_delivery SET next_attempt_at = now() + "
                             "make_interval(secs => $3::float8 / 1000) "
                             "WHERE webhook_id = $1 AND seq = $2 AND state = 'pending'",
                             3},
};
const size_t notify_statement_count = STATEMENT_COUNT;

/* ---- helpers -------------------------------------------------------------------- */

/* An event from EVENT_COLUMNS starting at `column`. */
static Dp__Event *s_event(dp_arena_t *arena, const PGresult *result, int row, int column)
{
    Dp__Event *event = dp_arena_alloc(arena, sizeof *event);
    if (!event)
        return NULL;
    dp__event__init(event);
    event->seq = dp_db_uint64(result, row, column);
    event->type = dp_db_text(arena, result, row, column + 1);
    event->aggregate_type = dp_db_text(arena, result, row, column + 2);
    event->aggregate_id = dp_db_text(arena, result, row, column + 3);
    size_t size = 0;
    unsigned char *payload =
        PQunescapeBytea((const unsigned char *)PQgetvalue(result, row, column + 4), &size);
    if (!payload)
        return NULL;
    event->payload.data = dp_arena_alloc(arena, size ? size : 1);
    if (event->payload.data)
        memcpy(event->payload.data, payload, size);
    event->payload.len = size;
    PQfreemem(payload);
    event->occurred_at = dp_db_text(arena, result, row, column + 5);
    event->origin = dp_db_text(arena, result, row, column + 6);
    return event->payload.data ? event : NULL;
}

static void *s_event_row(dp_arena_t *arena, const PGresult *result, int row)
{
    return s_event(arena, result, row, 0);
}

/* Every row of a result as events. */
static int s_events(dp_arena_t *arena, PGresult *result, Dp__Event ***events, size_t *count)
{
    return dp_db_rows(result, arena, s_event_row, (void ***)events, count);
}

/* ---- relay and replay -------------------------------------------------------------- */

int notify_db_take_relay_lock(dp_db_t *db)
{
    PGresult *result = dp_db_run(db, TAKE_RELAY_LOCK, NULL);
    if (!result)
        return -1;
    int held = strcmp(PQgetvalue(result, 0, 0), "t") == 0;
    PQclear(result);
    return held;
}

int notify_db_relay(dp_db_t *db, dp_arena_t *arena, int limit, Dp__Event ***events, size_t *count)
{
    char limit_text[24];
    dp_format_uint64(limit_text, (uint64_t)limit);
    const char *params[] = {limit_text};
    PGresult *result = dp_db_run(db, RELAY, params);
    return result ? s_events(arena, result, events, count) : -1;
}

uint64_t notify_db_latest_seq(dp_db_t *db, int *failed)
{
    PGresult *result = dp_db_run(db, LATEST_SEQ, NULL);
    *failed = result == NULL;
    if (!result)
        return 0;
    uint64_t latest = dp_db_uint64(result, 0, 0);
    PQclear(result);
    return latest;
}

int notify_db_backlog(dp_db_t *db, double *outbox_rows, double *max_consumer_lag, double *parked)
{
    PGresult *result = dp_db_run(db, BACKLOG, NULL);
    if (!result)
        return -1;
    *outbox_rows = atof(PQgetvalue(result, 0, 0));
    *max_consumer_lag = atof(PQgetvalue(result, 0, 1));
    *parked = atof(PQgetvalue(result, 0, 2));
    PQclear(result);
    return 1;
}

int notify_db_replay(dp_db_t *db, dp_arena_t *arena, uint64_t from, const char *prefix, int limit,
                     uint64_t window, Dp__Event ***events, size_t *count)
{
    char from_text[24], limit_text[24], window_text[24];
    dp_format_uint64(from_text, from);
    dp_format_uint64(limit_text, (uint64_t)limit);
    dp_format_uint64(window_text, window);
    const char *params[] = {from_text, prefix, limit_text, window_text};
    PGresult *result = dp_db_run(db, REPLAY, params);
    return result ? s_events(arena, result, events, count) : -1;
}

/* ---- consumers ---------------------------------------------------------------------- */

static void *s_consumer(dp_arena_t *arena, const PGresult *result, int row)
{
    Dp__Consumer *consumer = dp_arena_alloc(arena, sizeof *consumer);
    if (!consumer)
        return NULL;
    dp__consumer__init(consumer);
    consumer->name = dp_db_text(arena, result, row, 0);
    consumer->topic_prefix = dp_db_text(arena, result, row, 1);
    consumer->acked_seq = dp_db_uint64(result, row, 2);
    consumer->delivered_seq = dp_db_uint64(result, row, 3);
    consumer->latest_seq = dp_db_uint64(result, row, 4);
    consumer->lag =
        consumer->latest_seq > consumer->acked_seq ? consumer->latest_seq - consumer->acked_seq : 0;
    consumer->in_flight = (uint32_t)dp_db_uint64(result, row, 5);
    consumer->parked = (uint32_t)dp_db_uint64(result, row, 6);
    consumer->ack_timeout_ms = (uint32_t)dp_db_uint64(result, row, 7);
    consumer->max_attempts = (uint32_t)dp_db_uint64(result, row, 8);
    consumer->created_at = dp_db_text(arena, result, row, 9);
    consumer->owner = dp_db_text(arena, result, row, 10);
    return consumer;
}

int notify_db_create_consumer(dp_db_t *db, const Dp__CreateConsumerRequest *request,
                              uint64_t start_after, uint32_t ack_timeout_ms, uint32_t max_attempts,
                              const char *owner)
{
    char start[24], timeout[24], attempts[24];
    dp_format_uint64(start, start_after);
    dp_format_uint64(timeout, ack_timeout_ms);
    dp_format_uint64(attempts, max_attempts);
    const char *params[] = {request->name, request->topic_prefix, start, timeout, attempts, owner};
    return dp_db_run_count(db, CREATE_CONSUMER, params);
}

int notify_db_load_consumer(dp_db_t *db, dp_arena_t *arena, const char *name, bool lock,
                            Dp__Consumer **consumer)
{
    const char *params[] = {name};
    return dp_db_run_one(db, lock ? LOCK_CONSUMER : LOAD_CONSUMER, params, arena, s_consumer,
                         (void **)consumer);
}

int notify_db_list_consumers(dp_db_t *db, dp_arena_t *arena, void ***consumers, size_t *count)
{
    return dp_db_run_rows(db, LIST_CONSUMERS, NULL, arena, s_consumer, consumers, count);
}

int notify_db_delete_consumer(dp_db_t *db, const char *name)
{
    const char *params[] = {name};
    return dp_db_run_count(db, DELETE_CONSUMER, params);
}

/* Appends the deliveries of a result (events followed by the attempt). */
static int s_add_deliveries(dp_arena_t *arena, PGresult *result, Dp__Delivery **deliveries,
                            size_t *count)
{
    for (int row = 0; row < PQntuples(result); row++) {
        Dp__Delivery *delivery = dp_arena_alloc(arena, sizeof *delivery);
        Dp__Event *event = delivery ? s_event(arena, result, row, 0) : NULL;
        if (!event) {
            PQclear(result);
            return -1;
        }
        dp__delivery__init(delivery);
        delivery->event = event;
        delivery->attempt = (uint32_t)dp_db_uint64(result, row, EVENT_COLUMN_COUNT);
        deliveries[(*count)++] = delivery;
    }
    PQclear(result);
    return 1;
}

int notify_db_fetch(dp_db_t *db, dp_arena_t *arena, const Dp__Consumer *consumer, int max,
                    uint64_t scan_window, Dp__Delivery ***deliveries, size_t *count)
{
    char attempts[24], timeout[24], limit[24];
    dp_format_uint64(attempts, consumer->max_attempts);
    dp_format_uint64(timeout, consumer->ack_timeout_ms);
    dp_format_uint64(limit, (uint64_t)max);
    *count = 0;
    *deliveries = (Dp__Delivery **)dp_arena_array(arena, (size_t)max);
    if (!*deliveries)
        return -1;
    const char *park_params[] = {consumer->name, attempts, timeout};
    if (dp_db_run_count(db, PARK_EXPIRED, park_params) < 0)
        return -1;
    const char *again_params[] = {consumer->name, timeout, limit};
    PGresult *result = dp_db_run(db, REDELIVER, again_params);
    if (!result || s_add_deliveries(arena, result, *deliveries, count) < 0)
        return -1;
    if (*count >= (size_t)max)
        return 1;
    char delivered[24], window[24], remaining[24];
    dp_format_uint64(delivered, consumer->delivered_seq);
    dp_format_uint64(window, scan_window);
    dp_format_uint64(remaining, (uint64_t)max - *count);
    size_t before = *count;
    const char *new_params[] = {consumer->name, delivered, consumer->topic_prefix, window,
                                remaining};
    result = dp_db_run(db, DELIVER_NEW, new_params);
    if (!result || s_add_deliveries(arena, result, *deliveries, count) < 0)
        return -1;
    /* Move the cursor past what was handed out, or past the scanned window
       when it held fewer matching events than asked for. */
    uint64_t cursor = consumer->delivered_seq + scan_window;
    if (*count - before == (size_t)max - before && *count > before)
        cursor = (*deliveries)[*count - 1]->event->seq;
    if (cursor > consumer->latest_seq)
        cursor = consumer->latest_seq;
    /* DELIVER_NEW has a newer snapshot than the consumer row: it may hand
       out events relayed since, and the cursor must cover them. */
    if (*count > before && (*deliveries)[*count - 1]->event->seq > cursor)
        cursor = (*deliveries)[*count - 1]->event->seq;
    char cursor_text[24];
    dp_format_uint64(cursor_text, cursor);
    const char *advance_params[] = {consumer->name, cursor_text};
    return dp_db_run_count(db, ADVANCE_CONSUMER, advance_params) < 0 ? -1 : 1;
}

int notify_db_ack(dp_db_t *db, const char *consumer, uint64_t up_to_seq)
{
    char seq[24];
    dp_format_uint64(seq, up_to_seq);
    const char *params[] = {consumer, seq};
    return dp_db_run_count(db, ACK, params);
}

static void *s_parked_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    Dp__ParkedEvent *one = dp_arena_alloc(arena, sizeof *one);
    Dp__Event *event = one ? s_event(arena, result, row, 1) : NULL;
    if (!event)
        return NULL;
    dp__parked_event__init(one);
    one->consumer = dp_db_text(arena, result, row, 0);
    one->event = event;
    one->attempts = (uint32_t)dp_db_uint64(result, row, 1 + EVENT_COLUMN_COUNT);
    one->parked_at = dp_db_text(arena, result, row, 2 + EVENT_COLUMN_COUNT);
    one->last_error = dp_db_text(arena, result, row, 3 + EVENT_COLUMN_COUNT);
    return one;
}

int notify_db_list_parked(dp_db_t *db, dp_arena_t *arena, const char *consumer, int limit,
                          Dp__ParkedEvent ***parked, size_t *count)
{
    char limit_text[24];
    dp_format_uint64(limit_text, (uint64_t)limit);
    const char *params[] = {consumer, limit_text};
    return dp_db_run_rows(db, LIST_PARKED, params, arena, s_parked_from_row, (void ***)parked,
                          count);
}

int notify_db_replay_parked(dp_db_t *db, const char *consumer, uint64_t seq)
{
    char seq_text[24];
    dp_format_uint64(seq_text, seq);
    const char *params[] = {consumer, seq_text};
    bool webhook = strncmp(consumer, "webhook:", 8) == 0;
    return dp_db_run_count(db, webhook ? REPLAY_PARKED_WEBHOOK : REPLAY_PARKED_CONSUMER, params);
}

/* ---- webhooks -------------------------------------------------------------------------- */

int notify_db_add_webhook(dp_db_t *db, dp_arena_t *arena, const Dp__AddWebhookRequest *request,
                          Dp__Webhook **webhook)
{
    const char *params[] = {request->url, request->topic_prefix, request->secret};
    PGresult *result = dp_db_run(db, ADD_WEBHOOK, params);
    if (!result)
        return -1;
    *webhook = dp_arena_alloc(arena, sizeof **webhook);
    if (*webhook) {
        dp__webhook__init(*webhook);
        (*webhook)->id = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
        (*webhook)->created_at = dp_db_text(arena, result, 0, 1);
        (*webhook)->url = dp_arena_strdup(arena, request->url);
        (*webhook)->topic_prefix = dp_arena_strdup(arena, request->topic_prefix);
    }
    PQclear(result);
    return *webhook ? 1 : -1;
}

static void *s_webhook_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    static const char *const fields[] = {"id",      "url",    "topic_prefix",  "created_at",
                                         "pending", "parked", "delivered_seq", NULL};
    return dp_db_message(arena, &dp__webhook__descriptor, fields, result, row);
}

int notify_db_list_webhooks(dp_db_t *db, dp_arena_t *arena, void ***webhooks, size_t *count)
{
    return dp_db_run_rows(db, LIST_WEBHOOKS, NULL, arena, s_webhook_from_row, webhooks, count);
}

int notify_db_remove_webhook(dp_db_t *db, int64_t id)
{
    char id_text[24];
    dp_format_uint64(id_text, (uint64_t)id);
    const char *params[] = {id_text};
    return dp_db_run_count(db, REMOVE_WEBHOOK, params);
}

int notify_db_claim_webhook_jobs(dp_db_t *db, dp_arena_t *arena, int limit, int lease_ms,
                                 notify_hook_job_t **jobs, size_t *count)
{
    char limit_text[24], lease[24];
    dp_format_uint64(limit_text, (uint64_t)limit);
    dp_format_uint64(lease, (uint64_t)lease_ms);
    const char *params[] = {limit_text, lease};
    PGresult *result = dp_db_run(db, CLAIM_WEBHOOK_JOBS, params);
    if (!result)
        return -1;
    int rows = PQntuples(result);
    *count = 0;
    *jobs = dp_arena_alloc(arena, sizeof **jobs * (size_t)(rows ? rows : 1));
    for (int row = 0; *jobs && row < rows; row++) {
        notify_hook_job_t *job = &(*jobs)[*count];
        job->event = s_event(arena, result, row, 0);
        if (!job->event)
            break;
        job->webhook_id = strtoll(PQgetvalue(result, row, EVENT_COLUMN_COUNT), NULL, 10);
        job->url = dp_db_text(arena, result, row, EVENT_COLUMN_COUNT + 1);
        job->secret = dp_db_text(arena, result, row, EVENT_COLUMN_COUNT + 2);
        job->attempts = atoi(PQgetvalue(result, row, EVENT_COLUMN_COUNT + 3));
        (*count)++;
    }
    PQclear(result);
    return *count == (size_t)rows ? 1 : -1;
}

int notify_db_finish_webhook_job(dp_db_t *db, const notify_hook_job_t *job, bool delivered,
                                 const char *error, int backoff_ms, int max_attempts)
{
    char id[24], seq[24], attempts[24], backoff[24];
    dp_format_uint64(id, (uint64_t)job->webhook_id);
    dp_format_uint64(seq, job->event->seq);
    dp_format_uint64(attempts, (uint64_t)max_attempts);
    dp_format_uint64(backoff, (uint64_t)backoff_ms);
    const char *params[] = {id,       seq,    delivered ? "true" : "false", error ? error : "",
                            attempts, backoff};
    return dp_db_run_count(db, FINISH_WEBHOOK_JOB, params) < 0 ? -1 : 1;
}

int notify_db_release_webhook_job(dp_db_t *db, const notify_hook_job_t *job, int delay_ms)
{
    char id[24], seq[24], delay[24];
    dp_format_uint64(id, (uint64_t)job->webhook_id);
    dp_format_uint64(seq, job->event->seq);
    dp_format_uint64(delay, (uint64_t)delay_ms);
    const char *params[] = {id, seq, delay};
    return dp_db_run_count(db, RELEASE_WEBHOOK_JOB, params) < 0 ? -1 : 1;
}
