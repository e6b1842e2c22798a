/* What the benchmark programs share: clocks, latency samples and their
   percentiles, run tags, reading a program's settings and one-off SQL.
   Benchmarks measure and report; nothing here judges a time. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_config.h"

/* ---- clocks ------------------------------------------------------------------------------ */

/* Monotonic time in microseconds and nanoseconds (for intervals). */
int64_t bench_now_us(void);
int64_t bench_now_ns(void);
/* Wall-clock time in nanoseconds since the epoch (comparable across processes). */
int64_t bench_realtime_ns(void);
/* Sleeps until the monotonic time `at_ns` (returns at once when it has passed). */
void bench_sleep_until_ns(int64_t at_ns);

/* ---- samples ----------------------------------------------------------------------------- */

/* Durations in microseconds (capped at UINT32_MAX, about 71 minutes). */
typedef struct {
    uint32_t *values; /* one per measured event */
    size_t count;     /* used */
    size_t capacity;  /* allocated */
} bench_samples_t;

/* Adds one duration; negative ones count as 0. Returns -1 when out of memory. */
int bench_samples_add(bench_samples_t *samples, int64_t duration_us);
/* Sorts the samples; call before bench_percentile_ms. */
void bench_samples_sort(bench_samples_t *samples);
/* The nearest-rank percentile of sorted samples, in milliseconds (0 when empty). */
double bench_percentile_ms(const bench_samples_t *samples, double percent);
void bench_samples_free(bench_samples_t *samples);

/* The latency figures the benchmarks report, in milliseconds. */
typedef struct {
    double p50, p90, p99, max;
} bench_latency_t;
/* Those of sorted samples (bench_percentile_ms at 50, 90, 99 and 100). */
bench_latency_t bench_latency(const bench_samples_t *samples);

/* ---- run tags ---------------------------------------------------------------------------- */

/* A tag unique across runs against the same database ("b" + hex time + pid),
   made of a-z 0-9 only. */
void bench_make_tag(char *out, size_t size);
/* True when `tag` is 1 to 63 characters of a-z 0-9 and '-'. */
bool bench_valid_tag(const char *tag);

/* ---- settings ---------------------------------------------------------------------------- */

/* dp_config_new and dp_config_load in one: returns the loaded configuration,
   or NULL with *exit_code set (0 after --help, 1 when out of memory, 2 on a
   bad setting). Also disables czmq's signal handler and starts czmq. */
dp_config_t *bench_config_load(const char *program, const char *summary,
                               const dp_setting_t *settings, size_t count, int argc, char **argv,
                               int *exit_code);

/* ---- one-off SQL ------------------------------------------------------------------------- */

/* Connects with libpq (UTC, synchronous commit on); NULL after printing why. */
PGconn *bench_pg_connect(const char *program, const char *url);
/* Runs a constant SQL text with text parameters (NULL is SQL NULL). Returns
   the result (PQclear it), or NULL after printing the server's message. */
PGresult *bench_pg_query(const char *program, PGconn *conn, const char *sql, int param_count,
                         const char *const *params);
/* The same for a statement whose rows are not wanted: 0, or -1 after printing. */
int bench_pg_exec(const char *program, PGconn *conn, const char *sql, int param_count,
                  const char *const *params);
/* The first column of the first row as an integer, or `fallback` (failure,
   no row, NULL). */
int64_t bench_pg_int(const char *program, PGconn *conn, const char *sql, int param_count,
                     const char *const *params, int64_t fallback);

#endif
