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

   A raw SUB socket counts the events published live (throughput, monitor).
   Output: a human summary on stderr and one line of key=value pairs on
   stdout for scripts (bench/run-notify). It reports, it never judges. */
#include <czmq.h>
#include <inttypes.h>
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
    {"DP_BENCH_MODE", "latency", "latency, throughput or monitor"},
    {"DP_BENCH_WRITER_URL", "", "libpq URL of the writers (a role that may INSERT into "
                                "registry.outbox: dp_registry)"},
    {"DP_BENCH_ADMIN_URL", "", "libpq URL of a role that reads notify.event and the outboxes "
                               "(the admin)"},
    {"DP_BENCH_PUB_ENDPOINT", "tcp://127.0.0.1:7104", "the notifications service's PUB"},
    {"DP_BENCH_NOTIFY_ENDPOINT", "tcp://127.0.0.1:7103", "its ROUTER (replay, for the follower)"},
    {"DP_BENCH_LABEL", "", "a name for this run in the output"},
    {"DP_BENCH_TAG", "", "names this run's events in aggregate_id (default: unique)"},
    {"DP_BENCH_RATE", "1000", "latency: rows committed per second, one per transaction", true, 1,
     1000000},
    {"DP_BENCH_WRITERS", "1", "writer connections", true, 1, 64},
    {"DP_BENCH_BATCH", "100", "throughput: rows per transaction", true, 1, 100000},
    {"DP_BENCH_PAYLOAD_BYTES", "120", "throughput: payload size of each row", true, 0, 65536},
    {"DP_BENCH_WARMUP_MS", "1000", "load before measuring", true, 0, 3600000},
    {"DP_BENCH_DURATION_MS", "10000", "time measured", true, 100, 3600000},
    {"DP_BENCH_SAMPLE_MS", "200", "throughput, monitor: sampling interval", true, 10, 60000},
    {"DP_BENCH_DRAIN_MS", "30000", "after the load: longest wait for the last events or an "
                                   "empty outbox", true, 0, 3600000},
    {"DP_BENCH_TOPIC", "bench.", "throughput, monitor: topic prefix the live subscriber counts "
                                 "(* for every event)"},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

enum { MODE_LATENCY, MODE_THROUGHPUT, MODE_MONITOR };

/* The writers' statements: constant SQL, prepared on each connection. */
enum { WRITE_ONE, WRITE_BATCH, WRITER_STATEMENT_COUNT };
static const dp_statement_t s_writer_statements[] = {
    /* Outside BEGIN: one row, one transaction, one round trip. */
    [WRITE_ONE] = {"write_one",
                   "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, payload) "
                   "VALUES ('bench.latency', 'bench', $1, convert_to($2, 'UTF8'))",
                   2},
    [WRITE_BATCH] = {"write_batch",
                     "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, "
                     "payload) SELECT 'bench.load', 'bench', $1 || '-' || g, "
                     "convert_to(repeat('x', $3::int), 'UTF8') FROM generate_series(1, $2::int) g",
                     3},
};

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
    int index;         /* 0 .. writers - 1 */
    pthread_t thread;
    bool started;
    int failed;        /* a write failed: the run is incomplete */
    char error[300];
} writer_t;

struct bench_s {
    int mode;
    char writer_url[512], admin_url[512], pub_endpoint[256], notify_endpoint[256];
    char label[64], tag[64], topic[64];
    int rate, writer_count, batch, payload_bytes;
    int64_t warmup_ns, duration_ns, sample_ns, drain_ns;
    int64_t start_ns;      /* the load starts */
    int64_t window_ns;     /* measuring starts */
    int64_t end_ns;        /* the load stops */
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
    int64_t received;      /* live events taken by the raw SUB */
    int64_t first_seq;     /* max(seq) before the load */
    int64_t last_seq;      /* max(seq) after the drain */
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
    for (size_t n = (size_t)writer->index; n < self->event_count;
         n += (size_t)self->writer_count) {
        bench_sleep_until_ns(self->scheduled_ns[n]);
        char id[96], wall[32];
        snprintf(id, sizeof id, "%s:%zu", self->tag, n);
        snprintf(wall, sizeof wall, "%" PRId64, bench_realtime_ns());
        const char *params[] = {id, wall};
        self->sent_ns[n] = bench_now_ns();
        PGresult *result = dp_db_run(db, WRITE_ONE, params);
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
    } else if (self->mode == MODE_LATENCY)
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
        bool writers_done = atomic_load(&self->writers_done) == self->writer_count ||
                            self->mode == MODE_MONITOR;
        if ((writers_done && last->backlog == 0) || last->at_ns >= drain_end)
            break;
        bench_sleep_until_ns(last->at_ns + self->sample_ns / 4 + 1000000);
    }
    /* Let the last published events reach the subscriber. */
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
    relay_batches_t batches;
    s_relay_batches(self, &batches);
    double seconds = (double)self->duration_ns / 1e9;
    double p50 = bench_percentile_ms(&latency, 50), p90 = bench_percentile_ms(&latency, 90),
           p99 = bench_percentile_ms(&latency, 99), max = bench_percentile_ms(&latency, 100);
    fprintf(stderr,
            PROGRAM " latency %s: %" PRIu64 " events at %d/s over %.1f s (%d writer%s), %" PRIu64
            " received, %" PRIu64 " lost; commit-to-receipt p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, "
            "max %.2f ms; commit itself p50 %.2f ms, p99 %.2f ms; relay batches mean %s max %s\n",
            self->label, measured, self->rate, seconds, self->writer_count,
            self->writer_count == 1 ? "" : "s", received, lost, p50, p90, p99, max,
            bench_percentile_ms(&commit, 50), bench_percentile_ms(&commit, 99), batches.mean,
            batches.max);
    printf("mode=latency label=%s tag=%s rate=%d writers=%d seconds=%.3f events=%" PRIu64
           " committed_per_s=%.1f received=%" PRIu64 " lost=%" PRIu64 " uncommitted=%" PRIu64
           " repaired=%" PRIu64 " early=%" PRIu64 " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f"
           " max_ms=%.3f commit_p50_ms=%.3f commit_p99_ms=%.3f behind_max_ms=%.3f"
           " relay_batch_mean=%s relay_batch_max=%s relay_transactions=%s\n",
           *self->label ? self->label : "-", self->tag, self->rate, self->writer_count, seconds,
           measured, (double)(measured - uncommitted) / seconds, received, lost, uncommitted,
           repaired, early, p50, p90, p99, max, bench_percentile_ms(&commit, 50),
           bench_percentile_ms(&commit, 99), (double)behind_max / 1e6, batches.mean, batches.max,
           batches.count);
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
            PROGRAM " %s %s: over %.1f s the relay moved %.0f events/s (produced %.0f/s, "
            "writers committed %.0f rows/s); backlog %" PRId64 " -> %" PRId64 " (max %" PRId64
            ", trend %+.0f rows/s): %s; emptied %s%.2f s after the load (%.0f events/s alone); "
            "%" PRId64 " sequenced, %" PRId64 " received live; relay batches mean %s max %s\n",
            mode, self->label, seconds, relayed, produced, written, first->backlog, last->backlog,
            backlog_max, slope, bounded ? "bounded" : "GROWING", emptied ? "" : "not within ",
            emptied ? drain_s : (double)self->drain_ns / 1e9, drain_rate, sequenced,
            self->received, batches.mean, batches.max);
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
    dp_follower_t *follower =
        dp_follower_new(self->pub_endpoint, self->notify_endpoint, "bench.latency", 0);
    if (!follower) {
        fprintf(stderr, PROGRAM ": cannot subscribe to %s\n", self->pub_endpoint);
        return -1;
    }
    /* Give the subscription time to reach the publisher (ZeroMQ's slow
       joiner); the warm-up covers the rest. */
    zclock_sleep(300);
    if (s_latest_seq(self, &self->first_seq) != 0) {
        dp_follower_destroy(&follower);
        return -1;
    }
    self->start_ns = bench_now_ns() + 50000000;
    self->window_ns = self->start_ns + self->warmup_ns;
    self->end_ns = self->start_ns + total_ns;
    for (size_t n = 0; n < self->event_count; n++)
        self->scheduled_ns[n] = self->start_ns + (int64_t)((double)n * 1e9 / self->rate);
    int outcome = s_start_writers(self);
    size_t prefix_length = strlen(self->tag);
    uint64_t received = 0;
    int64_t give_up = 0;
    while (outcome == 0) {
        Dp__Event *event = dp_follower_next(follower, 50);
        int64_t now = bench_now_ns();
        if (event) {
            const char *id = event->aggregate_id;
            if (strncmp(id, self->tag, prefix_length) == 0 && id[prefix_length] == ':') {
                size_t n = strtoull(id + prefix_length + 1, NULL, 10);
                if (n < self->event_count && !self->receipt_ns[n]) {
                    self->receipt_ns[n] = now;
                    received++;
                }
            }
            dp_message_free((ProtobufCMessage **)&event);
        }
        if (atomic_load(&self->writers_done) == self->writer_count) {
            if (!give_up)
                give_up = now + self->drain_ns;
            if (received >= (uint64_t)atomic_load(&self->committed) || now >= give_up)
                break;
        }
    }
    int failed = s_join_writers(self);
    uint64_t repaired = dp_follower_repaired(follower);
    dp_follower_destroy(&follower);
    if (outcome != 0 || s_latest_seq(self, &self->last_seq) != 0)
        return -1;
    s_report_latency(self, repaired);
    return failed ? -1 : 0;
}

static int s_run_flow(bench_t *self)
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
    zclock_sleep(300);
    if (s_latest_seq(self, &self->first_seq) != 0)
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

/* ---- setup -------------------------------------------------------------------------------- */

static int s_setup(bench_t *self, const dp_config_t *config)
{
    const char *mode = dp_config_get(config, "DP_BENCH_MODE");
    if (strcmp(mode, "latency") == 0)
        self->mode = MODE_LATENCY;
    else if (strcmp(mode, "throughput") == 0)
        self->mode = MODE_THROUGHPUT;
    else if (strcmp(mode, "monitor") == 0)
        self->mode = MODE_MONITOR;
    else {
        fprintf(stderr, PROGRAM ": DP_BENCH_MODE must be latency, throughput or monitor\n");
        return -1;
    }
#define COPY(field, name) snprintf(self->field, sizeof self->field, "%s", dp_config_get(config, name))
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
    if (!*self->admin_url || (self->mode != MODE_MONITOR && !*self->writer_url)) {
        fprintf(stderr, PROGRAM ": set DP_BENCH_ADMIN_URL%s (see --help)\n",
                self->mode != MODE_MONITOR ? " and DP_BENCH_WRITER_URL" : "");
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
        PROGRAM, "relay latency (commit to live receipt) and sustained relay rate", s_settings,
        SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    bench_t *self = calloc(1, sizeof *self);
    int outcome = self ? s_setup(self, config) : -1;
    dp_config_destroy(&config);
    if (outcome == 0)
        outcome = self->mode == MODE_LATENCY ? s_run_latency(self) : s_run_flow(self);
    if (outcome != 0)
        fprintf(stderr, PROGRAM ": the run failed; results are missing or incomplete\n");
    if (self)
        s_teardown(self);
    free(self);
    return outcome == 0 ? 0 : 1;
}
