#include "bench_common.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- clocks ------------------------------------------------------------------------------ */

int64_t bench_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int64_t bench_now_us(void)
{
    return bench_now_ns() / 1000;
}

int64_t bench_realtime_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

void bench_sleep_until_ns(int64_t at_ns)
{
    struct timespec at = {.tv_sec = (time_t)(at_ns / 1000000000),
                          .tv_nsec = (long)(at_ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
        ;
}

/* ---- samples ----------------------------------------------------------------------------- */

int bench_samples_add(bench_samples_t *samples, int64_t duration_us)
{
    if (samples->count == samples->capacity) {
        size_t capacity = samples->capacity ? samples->capacity * 2 : 65536;
        uint32_t *values = realloc(samples->values, capacity * sizeof *values);
        if (!values)
            return -1;
        samples->values = values;
        samples->capacity = capacity;
    }
    samples->values[samples->count++] =
        duration_us > UINT32_MAX ? UINT32_MAX : (uint32_t)(duration_us < 0 ? 0 : duration_us);
    return 0;
}

static int s_compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void bench_samples_sort(bench_samples_t *samples)
{
    if (samples->count)
        qsort(samples->values, samples->count, sizeof *samples->values, s_compare_u32);
}

double bench_percentile_ms(const bench_samples_t *samples, double percent)
{
    if (samples->count == 0)
        return 0.0;
    size_t rank = (size_t)((percent / 100.0) * (double)samples->count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > samples->count)
        rank = samples->count;
    return samples->values[rank - 1] / 1000.0;
}

bench_latency_t bench_latency(const bench_samples_t *samples)
{
    return (bench_latency_t){bench_percentile_ms(samples, 50), bench_percentile_ms(samples, 90),
                             bench_percentile_ms(samples, 99), bench_percentile_ms(samples, 100)};
}

void bench_samples_free(bench_samples_t *samples)
{
    free(samples->values);
    *samples = (bench_samples_t){0};
}

/* ---- run tags ---------------------------------------------------------------------------- */

void bench_make_tag(char *out, size_t size)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(out, size, "b%lx%05lx%d", (long)now.tv_sec, now.tv_nsec / 10000, (int)getpid() % 1000);
}

bool bench_valid_tag(const char *tag)
{
    size_t length = strlen(tag);
    if (length == 0 || length > 63)
        return false;
    for (const char *p = tag; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

/* ---- settings ---------------------------------------------------------------------------- */

dp_config_t *bench_config_load(const char *program, const char *summary,
                               const dp_setting_t *settings, size_t count, int argc, char **argv,
                               int *exit_code)
{
    dp_config_t *config = dp_config_new(program, summary, settings, count);
    if (!config) {
        *exit_code = 1;
        return NULL;
    }
    int loaded = dp_config_load(config, argc, argv);
    if (loaded != 0) {
        dp_config_destroy(&config);
        *exit_code = loaded > 0 ? 0 : 2;
        return NULL;
    }
    zsys_handler_set(NULL);
    zsys_init();
    *exit_code = 0;
    return config;
}

/* ---- one-off SQL ------------------------------------------------------------------------- */

PGconn *bench_pg_connect(const char *program, const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "%s: cannot connect to %s: %s", program, url, PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PGresult *result = PQexec(conn, "SET synchronous_commit = on; SET TimeZone = 'UTC'");
    PQclear(result);
    return conn;
}

PGresult *bench_pg_query(const char *program, PGconn *conn, const char *sql, int param_count,
                         const char *const *params)
{
    PGresult *result = PQexecParams(conn, sql, param_count, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        fprintf(stderr, "%s: SQL failed: %s(%.120s...)\n", program, PQerrorMessage(conn), sql);
        PQclear(result);
        return NULL;
    }
    return result;
}

int bench_pg_exec(const char *program, PGconn *conn, const char *sql, int param_count,
                  const char *const *params)
{
    PGresult *result = bench_pg_query(program, conn, sql, param_count, params);
    PQclear(result);
    return result ? 0 : -1;
}

int64_t bench_pg_int(const char *program, PGconn *conn, const char *sql, int param_count,
                     const char *const *params, int64_t fallback)
{
    PGresult *result = bench_pg_query(program, conn, sql, param_count, params);
    int64_t value = fallback;
    if (result && PQntuples(result) > 0 && PQnfields(result) > 0 && !PQgetisnull(result, 0, 0))
        value = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    PQclear(result);
    return value;
}
