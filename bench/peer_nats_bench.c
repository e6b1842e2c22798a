/* dp-bench-nats: NATS JetStream publish-ack throughput and ack latency, for
   bench/run. C connections, each with K asynchronous publishes of the intake
   payload size in flight, into one file-storage stream. An ack is the
   stream's PubAck (stored; the packaged nats-server 2.9 does not fsync before
   acknowledging). Prints one line of key=value like dp-bench-intake.
   Environment: DP_BENCH_NATS_URL [nats://127.0.0.1:4222], DP_BENCH_LABEL,
   DP_BENCH_CONNECTIONS [4], DP_BENCH_INFLIGHT [16], DP_BENCH_WARMUP_MS [1000],
   DP_BENCH_DURATION_MS [5000], DP_BENCH_PAYLOAD_BYTES [360]. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "bench_common.h"

static const char *url;
static int connections, inflight, payload_bytes;
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */
static atomic_int failed;

typedef struct {
    pthread_t thread;
    int index;
    atomic_uint_fast64_t acks, errors;
    bench_samples_t samples; /* only the connection's ack thread adds */
} worker_t;

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : fallback;
}

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pa;
    worker_t *w = closure;
    int64_t now = bench_now_ns(), sent;
    memcpy(&sent, natsMsg_GetData(msg), sizeof sent);
    if (atomic_load(&phase) == 1 && sent > 0) {
        if (pae != NULL) {
            atomic_fetch_add(&w->errors, 1);
        } else {
            atomic_fetch_add(&w->acks, 1);
            bench_samples_add(&w->samples, (now - sent) / 1000);
        }
    }
    natsMsg_Destroy(msg);
}

static void *work(void *arg)
{
    worker_t *w = arg;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsOptions o;
    if (natsConnection_ConnectTo(&nc, url) != NATS_OK) {
        fprintf(stderr, "dp-bench-nats: cannot connect to %s\n", url);
        atomic_store(&failed, 1);
        return NULL;
    }
    jsOptions_Init(&o);
    o.PublishAsync.MaxPending = inflight;
    o.PublishAsync.AckHandler = on_ack;
    o.PublishAsync.AckHandlerClosure = w;
    o.PublishAsync.StallWait = 10000;
    if (natsConnection_JetStream(&js, nc, &o) != NATS_OK) {
        atomic_store(&failed, 1);
        natsConnection_Destroy(nc);
        return NULL;
    }
    char *body = malloc((size_t)payload_bytes);
    memset(body, 'e', (size_t)payload_bytes);
    char subject[64];
    snprintf(subject, sizeof subject, "dpbench.enquiry.%d", w->index);
    while (atomic_load(&phase) < 2) {
        int64_t now = bench_now_ns();
        memcpy(body, &now, sizeof now);
        natsStatus s = js_PublishAsync(js, subject, body, payload_bytes, NULL);
        if (s != NATS_OK && s != NATS_TIMEOUT) {
            fprintf(stderr, "dp-bench-nats: publish failed: %s\n", natsStatus_GetText(s));
            atomic_store(&failed, 1);
            break;
        }
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 5000;
    js_PublishAsyncComplete(js, &po);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    free(body);
    return NULL;
}

int main(void)
{
    url = getenv("DP_BENCH_NATS_URL") ? getenv("DP_BENCH_NATS_URL") : "nats://127.0.0.1:4222";
    const char *label = getenv("DP_BENCH_LABEL") ? getenv("DP_BENCH_LABEL") : "nats";
    connections = env_int("DP_BENCH_CONNECTIONS", 4);
    inflight = env_int("DP_BENCH_INFLIGHT", 16);
    payload_bytes = env_int("DP_BENCH_PAYLOAD_BYTES", 360);
    int warmup_ms = env_int("DP_BENCH_WARMUP_MS", 1000),
        duration_ms = env_int("DP_BENCH_DURATION_MS", 5000);
    if (connections < 1 || inflight < 1 || payload_bytes < (int)sizeof(int64_t))
        return 2;

    /* The stream: file storage, one replica; purged before the run. */
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
        fprintf(stderr, "dp-bench-nats: cannot connect to %s\n", url);
        return 1;
    }
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char *subjects[] = {"dpbench.enquiry.>"};
    sc.Name = "DPBENCH";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    natsStatus s = js_AddStream(&si, js, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr != JSStreamNameExistErr) {
        fprintf(stderr, "dp-bench-nats: cannot add the stream: %s (%d)\n", natsStatus_GetText(s),
                (int)jerr);
        return 1;
    }
    jsStreamInfo_Destroy(si);
    js_PurgeStream(js, "DPBENCH", NULL, &jerr);

    worker_t *workers = calloc((size_t)connections, sizeof *workers);
    for (int i = 0; i < connections; i++) {
        workers[i].index = i;
        pthread_create(&workers[i].thread, NULL, work, &workers[i]);
    }
    bench_sleep_until_ns(bench_now_ns() + (int64_t)warmup_ms * 1000000);
    int64_t start = bench_now_ns();
    atomic_store(&phase, 1);
    bench_sleep_until_ns(start + (int64_t)duration_ms * 1000000);
    atomic_store(&phase, 2);
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    bench_samples_t all = {0};
    uint64_t acks = 0, errors = 0;
    for (int i = 0; i < connections; i++) {
        pthread_join(workers[i].thread, NULL);
        acks += atomic_load(&workers[i].acks);
        errors += atomic_load(&workers[i].errors);
        for (size_t j = 0; j < workers[i].samples.count; j++)
            bench_samples_add(&all, workers[i].samples.values[j]);
    }
    bench_samples_sort(&all);
    js_PurgeStream(js, "DPBENCH", NULL, &jerr);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    printf("label=%s shape=%dx%d connections=%d inflight=%d seconds=%.3f acks=%" PRIu64
           " acks_per_s=%.1f p50_ms=%.3f p99_ms=%.3f errors=%" PRIu64
           " timeouts=0 request_bytes=%d\n",
           label, connections, inflight, connections, inflight, seconds, acks, acks / seconds,
           bench_percentile_ms(&all, 50), bench_percentile_ms(&all, 99),
           errors + (uint64_t)atomic_load(&failed), payload_bytes);
    return atomic_load(&failed) ? 1 : 0;
}
