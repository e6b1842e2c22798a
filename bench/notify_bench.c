/* dp-bench-notify: measures the notifications service's relay (outbox rows
   -> notify.event -> PUB). Three modes:

   latency     writers commit one outbox row per transaction, paced at
               DP_BENCH_RATE rows/s (as dp_registry: INSERT INTO
               registry.outbox), while a subscriber (the C follower of
               dp_events.h, as a service would use it) takes the events live.
               Per event: receipt time minus the time the writer's COMMIT
               returned, both on this process's monotonic clock (the event's
               aggregate_id names the event, its payload carries the wall
               clock at commit for other tools). p50/p90/p99/max over the
               measured window.
   throughput  writers commit DP_BENCH_BATCH rows per transaction as fast as
               they can, while this program samples max(seq) of notify.event
               and the rows still in the outboxes (as the admin): the
               relay's rate, the writers' rate, the backlog and its trend;
               then, with the writers stopped, how long the relay takes to
               empty the outboxes.
   monitor     no writers: the same sampling, to watch the relay while
               another program makes the load (bench/run-notify runs the
               intake benchmark meanwhile).
   backlog     the relay draining a backlog: DP_BENCH_ROWS outbox rows (as
               throughput writes them) committed by one INSERT, so that they
               become visible to the relay at one instant; then how fast the
               relay sequences them and whether a live SUB got them all.

   Yardsticks (PostgreSQL alone, no relay; scratch tables in the schema
   bench_scratch, made here as the admin):

   pgnotify    the latency yardstick: the same paced writer commits one row
               per transaction into bench_scratch.notify_probe (a copy of the
               outbox's shape) with pg_notify() in the same statement, and a
               libpq connection that LISTENs takes the notifications. Same
               clock, same percentiles as latency.
   rawmove     the relay-rate yardstick: DP_BENCH_ROWS rows, written as in
               backlog, in a scratch copy of the outbox, moved into a scratch
               copy of notify.event (which starts as a copy of it, so both
               sides append to a table of the same size) by one-statement
               transactions of DP_BENCH_MOVE_BATCH rows with consecutive seq.

   backlog and rawmove time their moves the same way, from the database's
   own record: every row moved by one transaction has that transaction's
   start as relayed_at, so the rate is the rows moved by all but the last
   transaction over the time from the first transaction's start to the
   last one's (a full cycle of each, whatever it does between statements).

   A raw SUB socket counts the events published live (throughput, monitor,
   backlog).
   Output: a human summary on stderr and one line of key=value pairs on
   stdout for scripts (bench/run-notify). It reports, it never judges. */
#include <czmq.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "dp_codec.h"
#include "dp_db.h"
#include "dp_events.h"

#define PROGRAM "dp-bench-notify"

static const dp_setting_t s_settings[] = {
    {"DP_BENCH_MODE", "latency", "latency, pgnotify, throughput, monitor, backlog or rawmove"},
    {"DP_BENCH_WRITER_URL", "",
     "libpq URL of the writers (a role that may INSERT into "
     "registry.outbox: dp_registry)"},
    {"DP_BENCH_ADMIN_URL", "",
     "libpq URL of a role that reads notify.event and the outboxes "
     "and makes the scratch tables (the admin)"},
    {"DP_BENCH_PUB_ENDPOINT", "tcp://127.0.0.1:7104", "the notifications service's PUB"},
    {"DP_BENCH_NOTIFY_ENDPOINT", "tcp://127.0.0.1:7103", "its ROUTER (replay, for the follower)"},
    {"DP_BENCH_LABEL", "", "a name for this run in the output"},
    {"DP_BENCH_TAG", "", "names this run's events in aggregate_id (default: unique)"},
    {"DP_BENCH_RATE", "1000", "latency, pgnotify: rows committed per second, one per transaction",
     true, 1, 1000000},
    {"DP_BENCH_WRITERS", "1", "writer connections", true, 1, 64},
    {"DP_BENCH_BATCH", "100", "throughput: rows per transaction", true, 1, 100000},
    {"DP_BENCH_PAYLOAD_BYTES", "120", "throughput, backlog, rawmove: payload size of each row",
     true, 0, 65536},
    {"DP_BENCH_WARMUP_MS", "1000", "load before measuring", true, 0, 3600000},
    {"DP_BENCH_DURATION_MS", "10000", "time measured", true, 100, 3600000},
    {"DP_BENCH_SAMPLE_MS", "200", "throughput, monitor: sampling interval", true, 10, 60000},
    {"DP_BENCH_DRAIN_MS", "30000",
     "after the load: longest wait for the last events or an "
     "empty outbox",
     true, 0, 3600000},
    {"DP_BENCH_TOPIC", "bench.",
     "throughput, monitor, backlog: topic prefix the live "
     "subscriber counts (* for every event)"},
    {"DP_BENCH_ROWS", "50000", "backlog, rawmove: rows in the backlog", true, 1, 10000000},
    {"DP_BENCH_MOVE_BATCH", "1000",
     "rawmove: rows moved per transaction (the relay's "
     "DP_NOTIFY_RELAY_BATCH)",
     true, 1, 1000000},
    {"DP_BENCH_POLL_MS", "10", "backlog: how often the end of the drain is looked for", true, 1,
     10000},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

enum { MODE_LATENCY, MODE_PGNOTIFY, MODE_THROUGHPUT, MODE_MONITOR, MODE_BACKLOG, MODE_RAWMOVE };
static const char *const s_mode_names[] = {"latency", "pgnotify", "throughput",
                                           "monitor", "backlog",  "rawmove"};
enum { MODE_COUNT = sizeof s_mode_names / sizeof *s_mode_names };

/* The writers' statements: constant SQL, prepared on each connection. */
enum { WRITE_ONE, WRITE_BATCH, WRITE_PROBE, WRITER_STATEMENT_COUNT };
static const dp_statement_t s_writer_statements[] = {
    /* Outside BEGIN: one row, one transaction, one round trip. */
    [WRITE_ONE] =
        {"write_one",
         "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, payload) "
         "VALUES ('bench.latency', 'bench', $1, convert_to($2, 'UTF8'))",
         2},
    [WRITE_BATCH] = {"write_batch",
                     "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, "
                     "payload) SELECT 'bench.load', 'bench', $1 || '-' || g, "
                     "convert_to(repeat('x', $3::int), 'UTF8') FROM generate_series(1, $2::int) g",
                     3},
    /* The latency yardstick's row: the same row as write_one, in a table
       of the same shape, and the notification in the same statement (one
       transaction, one round trip, as write_one with the outbox's wake-up
       trigger). The payload names the event as aggregate_id does. */
    [WRITE_PROBE] = {"write_probe",
                     "WITH written AS (INSERT INTO bench_scratch.notify_probe (event_type, "
                     "aggregate_type, aggregate_id, payload) VALUES ('bench.latency', 'bench', $1, "
                     "convert_to($2, 'UTF8')) RETURNING aggregate_id) "
                     "SELECT pg_notify('dp_bench_probe', aggregate_id) FROM written",
                     2},
};

/* The latency yardstick's scratch table, remade for each run. The bench
   database is made anew for every run and holds nothing else, so the
   writer's role, whichever it is, may use it (SELECT for RETURNING). */
static const char *s_probe_setup_sql =
    "SET client_min_messages = warning; "
    "CREATE SCHEMA IF NOT EXISTS bench_scratch; "
    "DROP TABLE IF EXISTS bench_scratch.notify_probe; "
    "CREATE TABLE bench_scratch.notify_probe (LIKE registry.outbox INCLUDING ALL); "
    "GRANT USAGE ON SCHEMA bench_scratch TO PUBLIC; "
    "GRANT INSERT, SELECT ON bench_scratch.notify_probe TO PUBLIC";
static const char *s_probe_listen_sql = "LISTEN dp_bench_probe";

/* The relay-rate yardstick's scratch outbox and sequence. The sequence
   starts as a copy of notify.event so that both sides append to a table of
   the same size with the same indexes. */
static const char *s_move_setup_sql =
    "SET client_min_messages = warning; "
    "CREATE SCHEMA IF NOT EXISTS bench_scratch; "
    "DROP TABLE IF EXISTS bench_scratch.outbox, bench_scratch.event; "
    "CREATE TABLE bench_scratch.outbox (LIKE registry.outbox INCLUDING ALL); "
    "CREATE TABLE bench_scratch.event (LIKE notify.event INCLUDING ALL); "
    "INSERT INTO bench_scratch.event SELECT * FROM notify.event";

/* Both sides start from tables without dead rows and with fresh
   statistics (earlier runs left dead rows in the outboxes). VACUUM cannot
   share a query string with another statement. */
static const char *s_vacuum_real_sql =
    "VACUUM (ANALYZE) registry.outbox, intake.outbox, notify.event";
static const char *s_vacuum_scratch_sql =
    "VACUUM (ANALYZE) bench_scratch.outbox, bench_scratch.event";

/* The scratch backlog: the rows write_batch writes, in the scratch outbox. */
static const char *s_fill_scratch_sql =
    "INSERT INTO bench_scratch.outbox (event_type, aggregate_type, aggregate_id, payload) "
    "SELECT 'bench.load', 'bench', $1 || '-' || g, convert_to(repeat('x', $3::int), 'UTF8') "
    "FROM generate_series(1, $2::int) g";

/* The yardstick's mover: the relay's move reduced to what it must do (take
   the oldest rows out of the outbox and append them after the last seq,
   numbered consecutively), in one statement and so one transaction.
   origin 'scratch' keeps (origin, origin_id) clear of the copied events. */
enum { MOVE, MOVER_STATEMENT_COUNT };
static const dp_statement_t s_mover_statements[] = {
    [MOVE] = {"move",
              "WITH moved AS ("
              "  DELETE FROM bench_scratch.outbox WHERE id IN "
              "    (SELECT id FROM bench_scratch.outbox ORDER BY id LIMIT $1) "
              "  RETURNING id, event_type, aggregate_type, aggregate_id, payload, occurred_at), "
              "base AS (SELECT COALESCE(max(seq), 0) AS last FROM bench_scratch.event) "
              "INSERT INTO bench_scratch.event (seq, origin, origin_id, event_type, "
              "  aggregate_type, aggregate_id, payload, occurred_at) "
              "SELECT base.last + row_number() OVER (ORDER BY m.id), 'scratch', m.id, "
              "  m.event_type, m.aggregate_type, m.aggregate_id, m.payload, m.occurred_at "
              "FROM moved m, base",
              1},
};

/* How a drain went, from the rows' relayed_at (the start of the transaction
   that moved them): transactions, rows, the largest transaction, the time
   from the first transaction's start to the last one's, and the rows of
   the last transaction. $1 < seq <= $2. */
#define DRAIN_SQL(table)                                                                           \
    "WITH b AS (SELECT relayed_at, count(*) AS n FROM " table " "                                  \
    "  WHERE seq > $1::bigint AND seq <= $2::bigint GROUP BY relayed_at) "                         \
    "SELECT count(*), COALESCE(sum(n), 0), COALESCE(max(n), 0), "                                  \
    "  COALESCE(extract(epoch FROM max(relayed_at) - min(relayed_at)), 0), "                       \
    "  COALESCE((SELECT n FROM b ORDER BY relayed_at DESC LIMIT 1), 0) FROM b"
static const char *s_drain_real_sql = DRAIN_SQL("notify.event");
static const char *s_drain_scratch_sql = DRAIN_SQL("bench_scratch.event");

/* What the admin samples: the newest seq and the rows waiting in each outbox. */
static const char *s_sample_sql =
    "SELECT (SELECT COALESCE(max(seq), 0) FROM notify.event), "
    "(SELECT count(*) FROM registry.outbox) + (SELECT count(*) FROM intake.outbox)";

/* Events per relay transaction: every event of one relay transaction has
   the same relayed_at (now() is the transaction's start). */
static const char *s_relay_batch_sql =
    "SELECT COALESCE(round(avg(n), 1), 0)::text, COALESCE(max(n), 0)::text, count(*)::text "
    "FROM (SELECT count(*) AS n FROM notify.event WHERE seq > $1::bigint AND seq <= $2::bigint "
    "      GROUP BY relayed_at) b";

typedef struct {
    int64_t at_ns;     /* monotonic */
    int64_t max_seq;   /* newest seq in notify.event */
    int64_t backlog;   /* rows still in the outboxes */
    int64_t committed; /* rows the writers committed so far */
    int64_t received;  /* events the live subscriber took so far */
} sample_t;

typedef struct bench_s bench_t;

typedef struct {
    bench_t *bench;
    int index; /* 0 .. writers - 1 */
    pthread_t thread;
    bool started;
    int failed; /* a write failed: the run is incomplete */
    char error[300];
} writer_t;

struct bench_s {
    int mode;
    char writer_url[512], admin_url[512], pub_endpoint[256], notify_endpoint[256];
    char label[64], tag[64], topic[64];
    int rate, writer_count, batch, payload_bytes, rows, move_batch;
    int64_t warmup_ns, duration_ns, sample_ns, drain_ns, poll_ns;
    int64_t start_ns;  /* the load starts */
    int64_t window_ns; /* measuring starts */
    int64_t end_ns;    /* the load stops */
    writer_t *writers;
    atomic_int_fast64_t committed; /* rows committed, all writers */
    atomic_int writers_done;
    /* latency */
    size_t event_count;    /* events scheduled */
    int64_t *scheduled_ns; /* per event: when it was due */
    int64_t *sent_ns;      /* when its INSERT was sent */
    int64_t *commit_ns;    /* when its COMMIT returned (0: not committed) */
    int64_t *receipt_ns;   /* when the subscriber took it (0: not received) */
    /* sampling */
    PGconn *admin;
    sample_t *samples;
    size_t sample_count, sample_capacity;
    zsock_t *sub;
    int64_t received;  /* live events taken by the raw SUB */
    int64_t first_seq; /* max(seq) before the load */
    int64_t last_seq;  /* max(seq) after the drain */
};

/* ---- writers ------------------------------------------------------------------------------ */

static void s_writer_failed(writer_t *writer, dp_db_t *db)
{
    writer->failed = 1;
    snprintf(writer->error, sizeof writer->error, "%s", dp_db_failure_message(db));
}

/* Latency: events index, index + writers, ... each at its scheduled time. */
static void s_write_paced(writer_t *writer, dp_db_t *db)
{
    bench_t *self = writer->bench;
    for (size_t n = (size_t)writer->index; n < self->event_count; n += (size_t)self->writer_count) {
        bench_sleep_until_ns(self->scheduled_ns[n]);
        char id[96], wall[32];
        snprintf(id, sizeof id, "%s:%zu", self->tag, n);
        snprintf(wall, sizeof wall, "%" PRId64, bench_realtime_ns());
        const char *params[] = {id, wall};
        self->sent_ns[n] = bench_now_ns();
        PGresult *result =
            dp_db_run(db, self->mode == MODE_PGNOTIFY ? WRITE_PROBE : WRITE_ONE, params);
        int64_t returned = bench_now_ns();
        if (!result) {
            s_writer_failed(writer, db);
            return;
        }
        PQclear(result);
        self->commit_ns[n] = returned;
        atomic_fetch_add(&self->committed, 1);
    }
}

/* Throughput: batches back to back until the load stops. */
static void s_write_flat_out(writer_t *writer, dp_db_t *db)
{
    bench_t *self = writer->bench;
    char batch[16], payload[16];
    snprintf(batch, sizeof batch, "%d", self->batch);
    snprintf(payload, sizeof payload, "%d", self->payload_bytes);
    for (uint64_t round = 0; bench_now_ns() < self->end_ns; round++) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s:%d:%" PRIu64, self->tag, writer->index, round);
        const char *params[] = {prefix, batch, payload};
        PGresult *result = dp_db_run(db, WRITE_BATCH, params);
        if (!result) {
            s_writer_failed(writer, db);
            return;
        }
        PQclear(result);
        atomic_fetch_add(&self->committed, self->batch);
    }
}

static void *s_writer_main(void *arg)
{
    writer_t *writer = arg;
    bench_t *self = writer->bench;
    dp_db_t *db = dp_db_new(self->writer_url, "dp-bench-notify-writer", s_writer_statements,
                            WRITER_STATEMENT_COUNT);
    if (!db || dp_db_connect(db, 5000) != 0) {
        writer->failed = 1;
        snprintf(writer->error, sizeof writer->error, "cannot connect: %s",
                 db ? dp_db_failure_message(db) : "out of memory");
    } else if (self->mode == MODE_LATENCY || self->mode == MODE_PGNOTIFY)
        s_write_paced(writer, db);
    else
        s_write_flat_out(writer, db);
    dp_db_destroy(&db);
    atomic_fetch_add(&self->writers_done, 1);
    return NULL;
}

static int s_start_writers(bench_t *self)
{
    self->writers = calloc((size_t)self->writer_count, sizeof *self->writers);
    if (!self->writers)
        return -1;
    for (int w = 0; w < self->writer_count; w++) {
        writer_t *writer = &self->writers[w];
        writer->bench = self;
        writer->index = w;
        if (pthread_create(&writer->thread, NULL, s_writer_main, writer) != 0)
            return -1;
        writer->started = true;
    }
    return 0;
}

/* Joins the writers; returns how many failed (their first error is printed). */
static int s_join_writers(bench_t *self)
{
    int failed = 0;
    for (int w = 0; self->writers && w < self->writer_count; w++) {
        writer_t *writer = &self->writers[w];
        if (!writer->started)
            continue;
        pthread_join(writer->thread, NULL);
        writer->started = false;
        if (writer->failed) {
            if (!failed)
                fprintf(stderr, PROGRAM ": writer %d failed: %s\n", w, writer->error);
            failed++;
        }
    }
    return failed;
}

/* ---- sampling ----------------------------------------------------------------------------- */

/* The seq of a packed dp.Event: field 1, which protobuf-c writes first (0
   when it is not there). Cheaper than decoding the whole event. */
static uint64_t s_event_seq(const unsigned char *data, size_t size)
{
    if (size < 2 || data[0] != 0x08)
        return 0;
    uint64_t seq = 0;
    for (size_t i = 1, shift = 0; i < size && shift < 64; i++, shift += 7) {
        seq |= (uint64_t)(data[i] & 0x7f) << shift;
        if (!(data[i] & 0x80))
            return seq;
    }
    return 0;
}

/* Takes what the raw SUB socket holds and counts the events of this run
   (seq past the one sampled before the load; not heartbeats). */
static void s_drain_sub(bench_t *self)
{
    while (self->sub && (zsock_events(self->sub) & ZMQ_POLLIN)) {
        zmsg_t *message = zmsg_recv(self->sub);
        if (!message)
            return;
        zframe_t *topic = zmsg_first(message), *body = zmsg_next(message);
        if (topic && body && !zframe_streq(topic, "heartbeat") &&
            s_event_seq(zframe_data(body), zframe_size(body)) > (uint64_t)self->first_seq)
            self->received++;
        zmsg_destroy(&message);
    }
}

static int s_sample(bench_t *self, sample_t *out)
{
    s_drain_sub(self);
    PGresult *result = bench_pg_query(PROGRAM, self->admin, s_sample_sql, 0, NULL);
    if (!result)
        return -1;
    out->at_ns = bench_now_ns();
    out->max_seq = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    out->backlog = strtoll(PQgetvalue(result, 0, 1), NULL, 10);
    out->committed = atomic_load(&self->committed);
    out->received = self->received;
    PQclear(result);
    return 0;
}

static int s_record(bench_t *self)
{
    if (self->sample_count == self->sample_capacity) {
        size_t capacity = self->sample_capacity ? self->sample_capacity * 2 : 1024;
        sample_t *samples = realloc(self->samples, capacity * sizeof *samples);
        if (!samples)
            return -1;
        self->samples = samples;
        self->sample_capacity = capacity;
    }
    if (s_sample(self, &self->samples[self->sample_count]) != 0)
        return -1;
    self->sample_count++;
    return 0;
}

/* Lets the last published events reach the subscriber: returns once none
   arrived for 300 ms. */
static void s_wait_quiet(bench_t *self)
{
    int64_t quiet_until = bench_now_ns() + 300000000;
    while (self->sub && bench_now_ns() < quiet_until) {
        int64_t before = self->received;
        zpoller_t *poller = zpoller_new(self->sub, NULL);
        zpoller_wait(poller, 100);
        zpoller_destroy(&poller);
        s_drain_sub(self);
        if (self->received != before)
            quiet_until = bench_now_ns() + 300000000;
    }
}

/* Samples every sample_ns until end_ns (monotonic), then until the outboxes
   are empty, the writers are done and (with a SUB) no event arrived for a
   moment, or the drain time is over. Returns -1 when a sample failed. */
static int s_sample_run(bench_t *self)
{
    int64_t next = bench_now_ns();
    while (next < self->end_ns) {
        bench_sleep_until_ns(next);
        if (s_record(self) != 0)
            return -1;
        next += self->sample_ns;
    }
    int64_t drain_end = self->end_ns + self->drain_ns;
    for (;;) {
        if (s_record(self) != 0)
            return -1;
        const sample_t *last = &self->samples[self->sample_count - 1];
        bool writers_done =
            atomic_load(&self->writers_done) == self->writer_count || self->mode == MODE_MONITOR;
        if ((writers_done && last->backlog == 0) || last->at_ns >= drain_end)
            break;
        bench_sleep_until_ns(last->at_ns + self->sample_ns / 4 + 1000000);
    }
    s_wait_quiet(self);
    return 0;
}

/* The last sample taken at or before `at_ns` (the first when none is). */
static const sample_t *s_sample_at(const bench_t *self, int64_t at_ns)
{
    const sample_t *found = &self->samples[0];
    for (size_t i = 0; i < self->sample_count; i++)
        if (self->samples[i].at_ns <= at_ns)
            found = &self->samples[i];
    return found;
}

/* ---- results ------------------------------------------------------------------------------ */

typedef struct {
    char mean[32], max[32], count[32];
} relay_batches_t;

static void s_relay_batches(bench_t *self, relay_batches_t *out)
{
    snprintf(out->mean, sizeof out->mean, "-");
    snprintf(out->max, sizeof out->max, "-");
    snprintf(out->count, sizeof out->count, "-");
    char from[32], to[32];
    snprintf(from, sizeof from, "%" PRId64, self->first_seq);
    snprintf(to, sizeof to, "%" PRId64, self->last_seq);
    const char *params[] = {from, to};
    PGresult *result = bench_pg_query(PROGRAM, self->admin, s_relay_batch_sql, 2, params);
    if (result && PQntuples(result) == 1) {
        snprintf(out->mean, sizeof out->mean, "%s", PQgetvalue(result, 0, 0));
        snprintf(out->max, sizeof out->max, "%s", PQgetvalue(result, 0, 1));
        snprintf(out->count, sizeof out->count, "%s", PQgetvalue(result, 0, 2));
    }
    PQclear(result);
}

static void s_report_latency(bench_t *self, uint64_t repaired)
{
    bench_samples_t latency = {0}, commit = {0};
    uint64_t measured = 0, received = 0, lost = 0, early = 0, uncommitted = 0;
    int64_t behind_max = 0;
    for (size_t n = 0; n < self->event_count; n++) {
        if (self->scheduled_ns[n] < self->window_ns)
            continue;
        measured++;
        if (!self->commit_ns[n]) {
            uncommitted++;
            continue;
        }
        if (self->sent_ns[n] - self->scheduled_ns[n] > behind_max)
            behind_max = self->sent_ns[n] - self->scheduled_ns[n];
        bench_samples_add(&commit, (self->commit_ns[n] - self->sent_ns[n]) / 1000);
        if (!self->receipt_ns[n]) {
            lost++;
            continue;
        }
        received++;
        int64_t delta = self->receipt_ns[n] - self->commit_ns[n];
        if (delta < 0)
            early++; /* taken before this thread saw COMMIT return: counts as 0 */
        bench_samples_add(&latency, delta / 1000);
    }
    bench_samples_sort(&latency);
    bench_samples_sort(&commit);
    /* The yardstick has no relay: its batch columns stay "-". */
    relay_batches_t batches = {"-", "-", "-"};
    if (self->mode == MODE_LATENCY)
        s_relay_batches(self, &batches);
    const char *mode = s_mode_names[self->mode];
    double seconds = (double)self->duration_ns / 1e9;
    bench_latency_t figures = bench_latency(&latency);
    fprintf(stderr,
            PROGRAM
            " %s %s: %" PRIu64 " events at %d/s over %.1f s (%d writer%s), %" PRIu64
            " received, %" PRIu64 " lost; commit-to-receipt p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, "
            "max %.2f ms; commit itself p50 %.2f ms, p99 %.2f ms; relay batches mean %s max %s\n",
            mode, self->label, measured, self->rate, seconds, self->writer_count,
            self->writer_count == 1 ? "" : "s", received, lost, figures.p50, figures.p90,
            figures.p99, figures.max, bench_percentile_ms(&commit, 50),
            bench_percentile_ms(&commit, 99), batches.mean, batches.max);
    printf("mode=%s label=%s tag=%s rate=%d writers=%d seconds=%.3f events=%" PRIu64
           " committed_per_s=%.1f received=%" PRIu64 " lost=%" PRIu64 " uncommitted=%" PRIu64
           " repaired=%" PRIu64 " early=%" PRIu64 " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f"
           " max_ms=%.3f commit_p50_ms=%.3f commit_p99_ms=%.3f behind_max_ms=%.3f"
           " relay_batch_mean=%s relay_batch_max=%s relay_transactions=%s\n",
           mode, *self->label ? self->label : "-", self->tag, self->rate, self->writer_count,
           seconds, measured, (double)(measured - uncommitted) / seconds, received, lost,
           uncommitted, repaired, early, figures.p50, figures.p90, figures.p99, figures.max,
           bench_percentile_ms(&commit, 50), bench_percentile_ms(&commit, 99),
           (double)behind_max / 1e6, batches.mean, batches.max, batches.count);
    fflush(stdout);
    bench_samples_free(&latency);
    bench_samples_free(&commit);
}

static void s_report_flow(bench_t *self)
{
    const sample_t *first = s_sample_at(self, self->window_ns);
    const sample_t *last = s_sample_at(self, self->end_ns);
    const sample_t *final = &self->samples[self->sample_count - 1];
    double seconds = (double)(last->at_ns - first->at_ns) / 1e9;
    if (seconds <= 0)
        seconds = 1e-9;
    double relayed = (double)(last->max_seq - first->max_seq) / seconds;
    double written = (double)(last->committed - first->committed) / seconds;
    /* Produced: what reached the sequence plus what grew in the outboxes. */
    double produced =
        (double)((last->max_seq + last->backlog) - (first->max_seq + first->backlog)) / seconds;
    /* The backlog's trend over the window (least squares, rows per second)
       and its largest value. */
    double sum_t = 0, sum_b = 0, sum_tt = 0, sum_tb = 0;
    int64_t backlog_max = 0;
    size_t points = 0;
    for (size_t i = 0; i < self->sample_count; i++) {
        const sample_t *s = &self->samples[i];
        if (s->at_ns < first->at_ns || s->at_ns > last->at_ns)
            continue;
        double t = (double)(s->at_ns - first->at_ns) / 1e9, b = (double)s->backlog;
        sum_t += t, sum_b += b, sum_tt += t * t, sum_tb += t * b;
        points++;
        if (s->backlog > backlog_max)
            backlog_max = s->backlog;
    }
    double denominator = (double)points * sum_tt - sum_t * sum_t;
    double slope = points > 1 && denominator > 0
                       ? ((double)points * sum_tb - sum_t * sum_b) / denominator
                       : 0.0;
    /* Bounded: the backlog never held more than the relay moves in one
       second, or it did not trend up by more than 1% of what is produced. */
    bool bounded = (double)backlog_max <= relayed || slope <= 0.01 * produced;
    /* The drain: from the load's end until the outboxes were empty. */
    const sample_t *emptied = NULL;
    for (size_t i = 0; i < self->sample_count; i++)
        if (self->samples[i].at_ns >= last->at_ns && self->samples[i].backlog == 0) {
            emptied = &self->samples[i];
            break;
        }
    double drain_s = emptied ? (double)(emptied->at_ns - last->at_ns) / 1e9 : -1;
    double drain_rate = emptied && emptied->at_ns > last->at_ns
                            ? (double)(emptied->max_seq - last->max_seq) /
                                  ((double)(emptied->at_ns - last->at_ns) / 1e9)
                            : 0;
    int64_t sequenced = final->max_seq - self->first_seq;
    relay_batches_t batches;
    s_relay_batches(self, &batches);
    const char *mode = self->mode == MODE_MONITOR ? "monitor" : "throughput";
    fprintf(stderr,
            PROGRAM
            " %s %s: over %.1f s the relay moved %.0f events/s (produced %.0f/s, "
            "writers committed %.0f rows/s); backlog %" PRId64 " -> %" PRId64 " (max %" PRId64
            ", trend %+.0f rows/s): %s; emptied %s%.2f s after the load (%.0f events/s alone); "
            "%" PRId64 " sequenced, %" PRId64 " received live; relay batches mean %s max %s\n",
            mode, self->label, seconds, relayed, produced, written, first->backlog, last->backlog,
            backlog_max, slope, bounded ? "bounded" : "GROWING", emptied ? "" : "not within ",
            emptied ? drain_s : (double)self->drain_ns / 1e9, drain_rate, sequenced, self->received,
            batches.mean, batches.max);
    printf("mode=%s label=%s tag=%s writers=%d batch=%d seconds=%.3f relayed_per_s=%.1f"
           " produced_per_s=%.1f written_per_s=%.1f backlog_start=%" PRId64 " backlog_end=%" PRId64
           " backlog_max=%" PRId64 " backlog_trend_per_s=%.1f bounded=%s drain_s=%.3f"
           " drain_per_s=%.1f sequenced=%" PRId64 " received_live=%" PRId64
           " relay_batch_mean=%s relay_batch_max=%s relay_transactions=%s samples=%zu\n",
           mode, *self->label ? self->label : "-", self->tag,
           self->mode == MODE_MONITOR ? 0 : self->writer_count, self->batch, seconds, relayed,
           produced, written, first->backlog, last->backlog, backlog_max, slope,
           bounded ? "yes" : "no", drain_s, drain_rate, sequenced, self->received, batches.mean,
           batches.max, batches.count, self->sample_count);
    fflush(stdout);
}

/* ---- the modes ---------------------------------------------------------------------------- */

static int s_latest_seq(bench_t *self, int64_t *out)
{
    int64_t value = bench_pg_int(PROGRAM, self->admin,
                                 "SELECT COALESCE(max(seq), 0) FROM notify.event", 0, NULL, -1);
    if (value < 0)
        return -1;
    *out = value;
    return 0;
}

/* Runs constant SQL of one or more statements as the admin (the simple
   query protocol: no parameters, several statements allowed). */
static int s_exec_script(bench_t *self, const char *sql)
{
    PGresult *result = PQexec(self->admin, sql);
    ExecStatusType status = PQresultStatus(result);
    int outcome = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ? 0 : -1;
    if (outcome != 0)
        fprintf(stderr, PROGRAM ": SQL failed: %s(%.120s...)\n", PQerrorMessage(self->admin), sql);
    PQclear(result);
    return outcome;
}

/* A raw SUB socket on the PUB, counting this run's events (s_drain_sub). */
static int s_open_sub(bench_t *self)
{
    self->sub = zsock_new(ZMQ_SUB);
    if (!self->sub)
        return -1;
    zsock_set_rcvhwm(self->sub, 0);
    zsock_set_linger(self->sub, 0);
    zsock_set_subscribe(self->sub, strcmp(self->topic, "*") == 0 ? "" : self->topic);
    if (zsock_connect(self->sub, "%s", self->pub_endpoint) != 0) {
        fprintf(stderr, PROGRAM ": cannot connect to %s\n", self->pub_endpoint);
        return -1;
    }
    /* Give the subscription time to reach the publisher (slow joiner). */
    zclock_sleep(300);
    return 0;
}

/* Where the latency modes take their events from: the C follower on the
   notifications service's PUB (latency), or a libpq connection that LISTENs
   on the yardstick's channel (pgnotify). */
typedef struct {
    dp_follower_t *follower;
    PGconn *listener;
} receiver_t;

/* Notes the receipt of event `id` ("<tag>:<n>") at `now`; ignores others. */
static void s_take(bench_t *self, const char *id, int64_t now, uint64_t *received)
{
    size_t prefix_length = strlen(self->tag);
    if (strncmp(id, self->tag, prefix_length) != 0 || id[prefix_length] != ':')
        return;
    size_t n = strtoull(id + prefix_length + 1, NULL, 10);
    if (n < self->event_count && !self->receipt_ns[n]) {
        self->receipt_ns[n] = now;
        (*received)++;
    }
}

/* Waits up to timeout_ms for events and takes what arrived. Returns -1
   when the listening connection is lost. */
static int s_receive(bench_t *self, receiver_t *receiver, int timeout_ms, uint64_t *received)
{
    if (receiver->follower) {
        Dp__Event *event = dp_follower_next(receiver->follower, timeout_ms);
        int64_t now = bench_now_ns();
        if (event) {
            s_take(self, event->aggregate_id, now, received);
            dp_message_free((ProtobufCMessage **)&event);
        }
        return 0;
    }
    PGnotify *note = PQnotifies(receiver->listener);
    if (!note) {
        struct pollfd socket = {.fd = PQsocket(receiver->listener), .events = POLLIN};
        if (socket.fd < 0)
            return -1;
        if (poll(&socket, 1, timeout_ms) > 0 && !PQconsumeInput(receiver->listener))
            return -1;
        note = PQnotifies(receiver->listener);
    }
    /* Read once the socket was read: every notification it brought arrived then. */
    int64_t now = bench_now_ns();
    for (; note; note = PQnotifies(receiver->listener)) {
        s_take(self, note->extra, now, received);
        PQfreemem(note);
    }
    return 0;
}

static int s_open_receiver(bench_t *self, receiver_t *receiver)
{
    if (self->mode == MODE_LATENCY) {
        receiver->follower =
            dp_follower_new(self->pub_endpoint, self->notify_endpoint, "bench.latency", 0);
        if (!receiver->follower) {
            fprintf(stderr, PROGRAM ": cannot subscribe to %s\n", self->pub_endpoint);
            return -1;
        }
        /* Give the subscription time to reach the publisher (ZeroMQ's slow
           joiner); the warm-up covers the rest. */
        zclock_sleep(300);
        return 0;
    }
    if (s_exec_script(self, s_probe_setup_sql) != 0)
        return -1;
    receiver->listener = bench_pg_connect(PROGRAM, self->admin_url);
    if (!receiver->listener)
        return -1;
    return bench_pg_exec(PROGRAM, receiver->listener, s_probe_listen_sql, 0, NULL);
}

static void s_close_receiver(receiver_t *receiver)
{
    dp_follower_destroy(&receiver->follower);
    if (receiver->listener)
        PQfinish(receiver->listener);
    receiver->listener = NULL;
}

/* latency and pgnotify: paced writers, one receiver, one measure. */
static int s_run_latency(bench_t *self)
{
    int64_t total_ns = self->warmup_ns + self->duration_ns;
    self->event_count = (size_t)((double)total_ns / 1e9 * self->rate);
    size_t bytes = self->event_count * sizeof(int64_t);
    self->scheduled_ns = malloc(bytes);
    self->sent_ns = calloc(1, bytes);
    self->commit_ns = calloc(1, bytes);
    self->receipt_ns = calloc(1, bytes);
    if (!self->scheduled_ns || !self->sent_ns || !self->commit_ns || !self->receipt_ns)
        return -1;
    receiver_t receiver = {0};
    if (s_open_receiver(self, &receiver) != 0 || s_latest_seq(self, &self->first_seq) != 0) {
        s_close_receiver(&receiver);
        return -1;
    }
    self->start_ns = bench_now_ns() + 50000000;
    self->window_ns = self->start_ns + self->warmup_ns;
    self->end_ns = self->start_ns + total_ns;
    for (size_t n = 0; n < self->event_count; n++)
        self->scheduled_ns[n] = self->start_ns + (int64_t)((double)n * 1e9 / self->rate);
    int outcome = s_start_writers(self);
    uint64_t received = 0;
    int64_t give_up = 0;
    while (outcome == 0) {
        if (s_receive(self, &receiver, 50, &received) != 0) {
            fprintf(stderr, PROGRAM ": the listening connection was lost\n");
            outcome = -1;
            break;
        }
        int64_t now = bench_now_ns();
        if (atomic_load(&self->writers_done) == self->writer_count) {
            if (!give_up)
                give_up = now + self->drain_ns;
            if (received >= (uint64_t)atomic_load(&self->committed) || now >= give_up)
                break;
        }
    }
    int failed = s_join_writers(self);
    uint64_t repaired = receiver.follower ? dp_follower_repaired(receiver.follower) : 0;
    s_close_receiver(&receiver);
    if (outcome != 0 || s_latest_seq(self, &self->last_seq) != 0)
        return -1;
    s_report_latency(self, repaired);
    return failed ? -1 : 0;
}

static int s_run_flow(bench_t *self)
{
    if (s_open_sub(self) != 0 || s_latest_seq(self, &self->first_seq) != 0)
        return -1;
    self->start_ns = bench_now_ns();
    self->window_ns = self->start_ns + self->warmup_ns;
    self->end_ns = self->window_ns + self->duration_ns;
    int outcome = self->mode == MODE_THROUGHPUT ? s_start_writers(self) : 0;
    if (outcome == 0)
        outcome = s_sample_run(self);
    int failed = s_join_writers(self);
    if (outcome != 0 || self->sample_count == 0 || s_latest_seq(self, &self->last_seq) != 0)
        return -1;
    s_report_flow(self);
    return failed ? -1 : 0;
}

/* ---- draining a backlog ------------------------------------------------------------------ */

/* How one drain went (backlog and rawmove report the same figures). */
typedef struct {
    int64_t rows;         /* rows in the backlog */
    double fill_s;        /* the INSERT that made it, to its COMMIT's return */
    int64_t sequenced;    /* events appended after it was committed */
    int64_t transactions; /* moving transactions (distinct relayed_at) */
    int64_t largest;      /* most events one of them moved */
    int64_t last_rows;    /* events the last of them moved */
    double span_s;        /* first transaction's start to the last one's (relayed_at) */
    double whole_s;       /* the backlog's COMMIT returned to the last move seen committed */
    bool complete;        /* every row of the backlog was moved within DP_BENCH_DRAIN_MS */
    int64_t received;     /* events a live SUB took (-1: no SUB) */
} drain_t;

/* Reads transactions, their sizes and span from relayed_at, first < seq <= last. */
static int s_read_drain(bench_t *self, const char *sql, int64_t first, int64_t last, drain_t *out)
{
    char from[32], to[32];
    snprintf(from, sizeof from, "%" PRId64, first);
    snprintf(to, sizeof to, "%" PRId64, last);
    const char *params[] = {from, to};
    PGresult *result = bench_pg_query(PROGRAM, self->admin, sql, 2, params);
    if (!result)
        return -1;
    if (PQntuples(result) == 1 && PQnfields(result) == 5) {
        out->transactions = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
        out->sequenced = strtoll(PQgetvalue(result, 0, 1), NULL, 10);
        out->largest = strtoll(PQgetvalue(result, 0, 2), NULL, 10);
        out->span_s = strtod(PQgetvalue(result, 0, 3), NULL);
        out->last_rows = strtoll(PQgetvalue(result, 0, 4), NULL, 10);
    }
    PQclear(result);
    return 0;
}

static void s_report_drain(const bench_t *self, const drain_t *drain)
{
    const char *mode = s_mode_names[self->mode];
    /* All but the last transaction's rows over the time from the first
       transaction's start to the last one's: each side's full cycle per
       batch, timed by the database's own clock. */
    double rate = drain->transactions > 1 && drain->span_s > 0
                      ? (double)(drain->sequenced - drain->last_rows) / drain->span_s
                      : 0;
    double whole_rate = drain->whole_s > 0 ? (double)drain->sequenced / drain->whole_s : 0;
    double mean = drain->transactions ? (double)drain->sequenced / (double)drain->transactions : 0;
    char received[32] = "-";
    if (drain->received >= 0)
        snprintf(received, sizeof received, "%" PRId64, drain->received);
    fprintf(stderr,
            PROGRAM " %s %s: %" PRId64 " rows committed in %.3f s; %" PRId64
                    " events moved in %" PRId64 " transactions (mean %.1f, max %" PRId64
                    ") at %.0f events/s (first to last "
                    "transaction start, %.3f s), %.3f s from the backlog's commit to the last move "
                    "(%.0f events/s)%s; received live %s\n",
            mode, self->label, drain->rows, drain->fill_s, drain->sequenced, drain->transactions,
            mean, drain->largest, rate, drain->span_s, drain->whole_s, whole_rate,
            drain->complete ? "" : " INCOMPLETE", received);
    printf("mode=%s label=%s tag=%s rows=%" PRId64 " fill_s=%.3f sequenced=%" PRId64
           " transactions=%" PRId64 " batch_mean=%.1f batch_max=%" PRId64 " span_s=%.3f"
           " events_per_s=%.1f whole_s=%.3f whole_per_s=%.1f complete=%s received_live=%s\n",
           mode, *self->label ? self->label : "-", self->tag, drain->rows, drain->fill_s,
           drain->sequenced, drain->transactions, mean, drain->largest, drain->span_s, rate,
           drain->whole_s, whole_rate, drain->complete ? "yes" : "no", received);
    fflush(stdout);
}

/* Waits (up to DP_BENCH_DRAIN_MS) until the outboxes are empty, so that the
   backlog is the only thing the relay moves. */
static int s_wait_outboxes_empty(bench_t *self)
{
    int64_t give_up = bench_now_ns() + self->drain_ns;
    for (;;) {
        sample_t sample;
        if (s_sample(self, &sample) != 0)
            return -1;
        if (sample.backlog == 0)
            return 0;
        if (sample.at_ns >= give_up) {
            fprintf(stderr, PROGRAM ": the outboxes still hold %" PRId64 " rows\n", sample.backlog);
            return -1;
        }
        zclock_sleep(50);
    }
}

/* backlog: DP_BENCH_ROWS outbox rows committed at once, drained by the
   running relay. The relay keeps running (rather than being stopped while
   the rows are written) because rows of one transaction become visible at
   one instant anyway, and a restarted publisher would lose its first
   events to the live subscriber's reconnection. */
static int s_run_backlog(bench_t *self)
{
    drain_t drain = {.rows = self->rows, .received = 0};
    if (s_open_sub(self) != 0 || s_exec_script(self, s_vacuum_real_sql) != 0 ||
        s_wait_outboxes_empty(self) != 0 || s_latest_seq(self, &self->first_seq) != 0)
        return -1;
    dp_db_t *writer = dp_db_new(self->writer_url, "dp-bench-notify-writer", s_writer_statements,
                                WRITER_STATEMENT_COUNT);
    if (!writer || dp_db_connect(writer, 5000) != 0) {
        fprintf(stderr, PROGRAM ": cannot connect the writer: %s\n",
                writer ? dp_db_failure_message(writer) : "out of memory");
        dp_db_destroy(&writer);
        return -1;
    }
    char prefix[96], rows[16], payload[16];
    snprintf(prefix, sizeof prefix, "%s:backlog", self->tag);
    snprintf(rows, sizeof rows, "%d", self->rows);
    snprintf(payload, sizeof payload, "%d", self->payload_bytes);
    const char *params[] = {prefix, rows, payload};
    int64_t fill_start = bench_now_ns();
    PGresult *result = dp_db_run(writer, WRITE_BATCH, params);
    int64_t committed_ns = bench_now_ns();
    if (!result)
        fprintf(stderr, PROGRAM ": the backlog was not written: %s\n",
                dp_db_failure_message(writer));
    PQclear(result);
    dp_db_destroy(&writer);
    if (!result)
        return -1;
    drain.fill_s = (double)(committed_ns - fill_start) / 1e9;
    /* max(seq) is one step down the primary key: polling it costs the
       relay little. The poll only finds the end; the rate comes from
       relayed_at. */
    int64_t target = self->first_seq + self->rows, seq = self->first_seq;
    int64_t give_up = committed_ns + self->drain_ns, next = bench_now_ns();
    for (;;) {
        bench_sleep_until_ns(next);
        s_drain_sub(self);
        if (s_latest_seq(self, &seq) != 0)
            return -1;
        int64_t now = bench_now_ns();
        if (seq >= target) {
            drain.complete = true;
            drain.whole_s = (double)(now - committed_ns) / 1e9;
            break;
        }
        if (now >= give_up) {
            drain.whole_s = (double)(now - committed_ns) / 1e9;
            break;
        }
        next = now + self->poll_ns;
    }
    s_wait_quiet(self);
    if (s_latest_seq(self, &self->last_seq) != 0 ||
        s_read_drain(self, s_drain_real_sql, self->first_seq, self->last_seq, &drain) != 0)
        return -1;
    drain.received = self->received;
    s_report_drain(self, &drain);
    return 0;
}

/* rawmove: the same backlog in scratch tables, moved by s_mover_statements
   in one-statement transactions, back to back, by one connection. */
static int s_run_rawmove(bench_t *self)
{
    drain_t drain = {.rows = self->rows, .received = -1};
    if (s_exec_script(self, s_move_setup_sql) != 0 ||
        s_exec_script(self, s_vacuum_scratch_sql) != 0)
        return -1;
    int64_t first = bench_pg_int(
        PROGRAM, self->admin, "SELECT COALESCE(max(seq), 0) FROM bench_scratch.event", 0, NULL, -1);
    if (first < 0)
        return -1;
    /* Connected and prepared before the backlog is committed, as the
       running relay is. LIMIT 0 moves nothing. */
    dp_db_t *mover = dp_db_new(self->admin_url, "dp-bench-notify-mover", s_mover_statements,
                               MOVER_STATEMENT_COUNT);
    const char *none[] = {"0"};
    if (!mover || dp_db_connect(mover, 5000) != 0 || dp_db_run_count(mover, MOVE, none) != 0) {
        fprintf(stderr, PROGRAM ": cannot prepare the mover: %s\n",
                mover ? dp_db_failure_message(mover) : "out of memory");
        dp_db_destroy(&mover);
        return -1;
    }
    char prefix[96], rows[16], payload[16], batch[16];
    snprintf(prefix, sizeof prefix, "%s:backlog", self->tag);
    snprintf(rows, sizeof rows, "%d", self->rows);
    snprintf(payload, sizeof payload, "%d", self->payload_bytes);
    snprintf(batch, sizeof batch, "%d", self->move_batch);
    const char *fill[] = {prefix, rows, payload};
    int64_t fill_start = bench_now_ns();
    int outcome = bench_pg_exec(PROGRAM, self->admin, s_fill_scratch_sql, 3, fill);
    int64_t committed_ns = bench_now_ns(), last_ns = committed_ns;
    drain.fill_s = (double)(committed_ns - fill_start) / 1e9;
    const char *params[] = {batch};
    int64_t moved = 0;
    while (outcome == 0) {
        int n = dp_db_run_count(mover, MOVE, params);
        if (n < 0) {
            fprintf(stderr, PROGRAM ": the move failed: %s\n", dp_db_failure_message(mover));
            outcome = -1;
            break;
        }
        if (n == 0)
            break;
        moved += n;
        last_ns = bench_now_ns();
    }
    dp_db_destroy(&mover);
    if (outcome != 0)
        return -1;
    drain.complete = moved >= self->rows;
    drain.whole_s = (double)(last_ns - committed_ns) / 1e9;
    if (s_read_drain(self, s_drain_scratch_sql, first, first + moved, &drain) != 0)
        return -1;
    s_report_drain(self, &drain);
    return 0;
}

/* ---- setup -------------------------------------------------------------------------------- */

static int s_setup(bench_t *self, const dp_config_t *config)
{
    const char *mode = dp_config_get(config, "DP_BENCH_MODE");
    self->mode = -1;
    for (int m = 0; m < MODE_COUNT; m++)
        if (strcmp(mode, s_mode_names[m]) == 0)
            self->mode = m;
    if (self->mode < 0) {
        fprintf(stderr, PROGRAM ": DP_BENCH_MODE must be latency, pgnotify, throughput, monitor, "
                                "backlog or rawmove\n");
        return -1;
    }
#define COPY(field, name)                                                                          \
    snprintf(self->field, sizeof self->field, "%s", dp_config_get(config, name))
    COPY(writer_url, "DP_BENCH_WRITER_URL");
    COPY(admin_url, "DP_BENCH_ADMIN_URL");
    COPY(pub_endpoint, "DP_BENCH_PUB_ENDPOINT");
    COPY(notify_endpoint, "DP_BENCH_NOTIFY_ENDPOINT");
    COPY(label, "DP_BENCH_LABEL");
    COPY(topic, "DP_BENCH_TOPIC");
    COPY(tag, "DP_BENCH_TAG");
#undef COPY
    if (!*self->tag)
        bench_make_tag(self->tag, sizeof self->tag);
    if (!bench_valid_tag(self->tag)) {
        fprintf(stderr, PROGRAM ": DP_BENCH_TAG must be 1 to 63 of a-z 0-9 -\n");
        return -1;
    }
    bool writes = self->mode != MODE_MONITOR && self->mode != MODE_RAWMOVE;
    if (!*self->admin_url || (writes && !*self->writer_url)) {
        fprintf(stderr, PROGRAM ": set DP_BENCH_ADMIN_URL%s (see --help)\n",
                writes ? " and DP_BENCH_WRITER_URL" : "");
        return -1;
    }
    self->rate = (int)dp_config_get_int(config, "DP_BENCH_RATE");
    self->writer_count = (int)dp_config_get_int(config, "DP_BENCH_WRITERS");
    self->batch = (int)dp_config_get_int(config, "DP_BENCH_BATCH");
    self->payload_bytes = (int)dp_config_get_int(config, "DP_BENCH_PAYLOAD_BYTES");
    self->warmup_ns = dp_config_get_int(config, "DP_BENCH_WARMUP_MS") * 1000000;
    self->duration_ns = dp_config_get_int(config, "DP_BENCH_DURATION_MS") * 1000000;
    self->sample_ns = dp_config_get_int(config, "DP_BENCH_SAMPLE_MS") * 1000000;
    self->drain_ns = dp_config_get_int(config, "DP_BENCH_DRAIN_MS") * 1000000;
    self->rows = (int)dp_config_get_int(config, "DP_BENCH_ROWS");
    self->move_batch = (int)dp_config_get_int(config, "DP_BENCH_MOVE_BATCH");
    self->poll_ns = dp_config_get_int(config, "DP_BENCH_POLL_MS") * 1000000;
    self->admin = bench_pg_connect(PROGRAM, self->admin_url);
    return self->admin ? 0 : -1;
}

static void s_teardown(bench_t *self)
{
    free(self->writers);
    free(self->scheduled_ns);
    free(self->sent_ns);
    free(self->commit_ns);
    free(self->receipt_ns);
    free(self->samples);
    zsock_destroy(&self->sub);
    if (self->admin)
        PQfinish(self->admin);
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config = bench_config_load(
        PROGRAM, "relay latency (commit to live receipt), relay rates, and their yardsticks",
        s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    bench_t *self = calloc(1, sizeof *self);
    int outcome = self ? s_setup(self, config) : -1;
    dp_config_destroy(&config);
    if (outcome == 0) {
        switch (self->mode) {
        case MODE_LATENCY:
        case MODE_PGNOTIFY:
            outcome = s_run_latency(self);
            break;
        case MODE_BACKLOG:
            outcome = s_run_backlog(self);
            break;
        case MODE_RAWMOVE:
            outcome = s_run_rawmove(self);
            break;
        default:
            outcome = s_run_flow(self);
        }
    }
    if (outcome != 0)
        fprintf(stderr, PROGRAM ": the run failed; results are missing or incomplete\n");
    if (self)
        s_teardown(self);
    free(self);
    return outcome == 0 ? 0 : 1;
}
