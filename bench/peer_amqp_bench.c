/* dp-bench-amqp: RabbitMQ publisher-confirm throughput and ack latency, for
   bench/run. C connections, each with K persistent (delivery_mode 2) messages
   of the intake payload size in flight, into one durable queue (classic or
   quorum). An ack is the broker's publisher confirm. Prints one line of
   key=value like dp-bench-intake. Settings from the environment:
   DP_BENCH_AMQP_HOST [127.0.0.1], DP_BENCH_AMQP_PORT [5672],
   DP_BENCH_QUEUE_TYPE classic|quorum, DP_BENCH_LABEL, DP_BENCH_CONNECTIONS [4],
   DP_BENCH_INFLIGHT [16], DP_BENCH_WARMUP_MS [1000], DP_BENCH_DURATION_MS [5000],
   DP_BENCH_PAYLOAD_BYTES [360]. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "bench_common.h"

static const char *host;
static int port, connections, inflight, payload_bytes;
static char queue[64];
static const char *queue_type;
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */
static atomic_int failed;

typedef struct {
    pthread_t thread;
    uint64_t acks, nacks;
    bench_samples_t samples;
} worker_t;

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : fallback;
}

static amqp_connection_state_t open_conn(void)
{
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(conn);
    if (!sock || amqp_socket_open(sock, host, port) != AMQP_STATUS_OK) {
        fprintf(stderr, "dp-bench-amqp: cannot connect to %s:%d\n", host, port);
        return NULL;
    }
    amqp_rpc_reply_t r =
        amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "dp-bench-amqp: login failed\n");
        return NULL;
    }
    amqp_channel_open(conn, 1);
    if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "dp-bench-amqp: channel.open failed\n");
        return NULL;
    }
    return conn;
}

static void *work(void *arg)
{
    worker_t *w = arg;
    amqp_connection_state_t conn = open_conn();
    if (!conn) {
        atomic_store(&failed, 1);
        return NULL;
    }
    amqp_confirm_select(conn, 1);
    if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "dp-bench-amqp: confirm.select failed\n");
        atomic_store(&failed, 1);
        return NULL;
    }
    int64_t *sent_ns = calloc((size_t)inflight, sizeof *sent_ns);
    char *body = malloc((size_t)payload_bytes);
    memset(body, 'e', (size_t)payload_bytes);
    amqp_basic_properties_t props = {0};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.delivery_mode = 2;
    props.content_type = amqp_cstring_bytes("application/octet-stream");
    amqp_bytes_t msg = {(size_t)payload_bytes, body};
    uint64_t next_tag = 1, acked_below = 1; /* tags [acked_below, next_tag) in flight */
    while (atomic_load(&phase) < 2) {
        while (next_tag - acked_below < (uint64_t)inflight && atomic_load(&phase) < 2) {
            sent_ns[next_tag % (uint64_t)inflight] = bench_now_ns();
            if (amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0,
                                   &props, msg) != AMQP_STATUS_OK) {
                fprintf(stderr, "dp-bench-amqp: publish failed\n");
                atomic_store(&failed, 1);
                goto out;
            }
            next_tag++;
        }
        amqp_frame_t frame;
        struct timeval tv = {1, 0};
        int rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
        if (rc == AMQP_STATUS_TIMEOUT)
            continue;
        if (rc != AMQP_STATUS_OK) {
            fprintf(stderr, "dp-bench-amqp: wait failed: %s\n", amqp_error_string2(rc));
            atomic_store(&failed, 1);
            goto out;
        }
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        uint64_t tag;
        int multiple, nack = 0;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = frame.payload.method.decoded;
            tag = a->delivery_tag;
            multiple = a->multiple;
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            amqp_basic_nack_t *a = frame.payload.method.decoded;
            tag = a->delivery_tag;
            multiple = a->multiple;
            nack = 1;
        } else {
            continue;
        }
        int64_t now = bench_now_ns();
        uint64_t from = multiple ? acked_below : tag;
        for (uint64_t t = from; t <= tag; t++) {
            if (atomic_load(&phase) == 1) {
                if (nack) {
                    w->nacks++;
                } else {
                    w->acks++;
                    bench_samples_add(&w->samples, (now - sent_ns[t % (uint64_t)inflight]) / 1000);
                }
            }
        }
        /* Confirms on one channel to one queue come in order; a single ack
           beyond acked_below still settles everything up to it. */
        if (tag >= acked_below)
            acked_below = tag + 1;
        amqp_maybe_release_buffers(conn);
    }
out:
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    free(sent_ns);
    free(body);
    return NULL;
}

int main(void)
{
    host = getenv("DP_BENCH_AMQP_HOST") ? getenv("DP_BENCH_AMQP_HOST") : "127.0.0.1";
    port = env_int("DP_BENCH_AMQP_PORT", 5672);
    queue_type = getenv("DP_BENCH_QUEUE_TYPE") ? getenv("DP_BENCH_QUEUE_TYPE") : "classic";
    const char *label = getenv("DP_BENCH_LABEL") ? getenv("DP_BENCH_LABEL") : queue_type;
    connections = env_int("DP_BENCH_CONNECTIONS", 4);
    inflight = env_int("DP_BENCH_INFLIGHT", 16);
    payload_bytes = env_int("DP_BENCH_PAYLOAD_BYTES", 360);
    int warmup_ms = env_int("DP_BENCH_WARMUP_MS", 1000),
        duration_ms = env_int("DP_BENCH_DURATION_MS", 5000);
    if (connections < 1 || inflight < 1 || payload_bytes < 1)
        return 2;
    snprintf(queue, sizeof queue, "dp-bench-%s", queue_type);

    /* Declare the durable queue and empty it. */
    amqp_connection_state_t admin = open_conn();
    if (!admin)
        return 1;
    amqp_table_entry_t entry;
    amqp_table_t args = {0, NULL};
    if (strcmp(queue_type, "quorum") == 0) {
        entry.key = amqp_cstring_bytes("x-queue-type");
        entry.value.kind = AMQP_FIELD_KIND_UTF8;
        entry.value.value.bytes = amqp_cstring_bytes("quorum");
        args.num_entries = 1;
        args.entries = &entry;
    }
    amqp_queue_declare(admin, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, args);
    if (amqp_get_rpc_reply(admin).reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "dp-bench-amqp: queue.declare %s failed\n", queue);
        return 1;
    }
    amqp_queue_purge(admin, 1, amqp_cstring_bytes(queue));
    amqp_get_rpc_reply(admin);

    worker_t *workers = calloc((size_t)connections, sizeof *workers);
    for (int i = 0; i < connections; i++)
        pthread_create(&workers[i].thread, NULL, work, &workers[i]);
    bench_sleep_until_ns(bench_now_ns() + (int64_t)warmup_ms * 1000000);
    int64_t start = bench_now_ns();
    atomic_store(&phase, 1);
    bench_sleep_until_ns(start + (int64_t)duration_ms * 1000000);
    atomic_store(&phase, 2);
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    bench_samples_t all = {0};
    uint64_t acks = 0, nacks = 0;
    for (int i = 0; i < connections; i++) {
        pthread_join(workers[i].thread, NULL);
        acks += workers[i].acks;
        nacks += workers[i].nacks;
        for (size_t j = 0; j < workers[i].samples.count; j++)
            bench_samples_add(&all, workers[i].samples.values[j]);
    }
    bench_samples_sort(&all);
    amqp_queue_purge(admin, 1, amqp_cstring_bytes(queue));
    amqp_get_rpc_reply(admin);
    amqp_connection_close(admin, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(admin);
    printf("label=%s shape=%dx%d connections=%d inflight=%d seconds=%.3f acks=%" PRIu64
           " acks_per_s=%.1f p50_ms=%.3f p99_ms=%.3f errors=%" PRIu64
           " timeouts=0 request_bytes=%d\n",
           label, connections, inflight, connections, inflight, seconds, acks, acks / seconds,
           bench_percentile_ms(&all, 50), bench_percentile_ms(&all, 99),
           nacks + (uint64_t)atomic_load(&failed), payload_bytes);
    return atomic_load(&failed) ? 1 : 0;
}
