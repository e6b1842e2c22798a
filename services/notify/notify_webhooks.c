/* The webhook worker: a thread with its own database session that claims
   due deliveries, POSTs each event as JSON with an HMAC-SHA256 signature
   (as GitHub and Stripe do), and records the outcome: delivered, retried
   after an exponential backoff, or parked after the last attempt. */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>

#include "dp_log.h"
#include "notify_db.h"
#include "notify_service.h"

enum { CLAIM_LIMIT = 20, LEASE_MS = 120000, IDLE_WAIT_MS = 200, MAX_BACKOFF_MS = 3600000 };

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;

static void s_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void notify_webhook_signature(const char *secret, const char *body, size_t length, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, length, digest,
         &digest_length);
    for (unsigned int i = 0; i < digest_length && i < 32; i++)
        snprintf(hex + i * 2, 3, "%02x", digest[i]);
    hex[64] = 0;
}

/* The JSON body: the event's fields and its payload in base64. */
static char *s_body(const Dp__Event *event)
{
    size_t encoded_size = 4 * ((event->payload.len + 2) / 3) + 1;
    unsigned char *encoded = malloc(encoded_size);
    if (!encoded)
        return NULL;
    EVP_EncodeBlock(encoded, event->payload.data, (int)event->payload.len);
    json_t *body = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)event->seq,
                             "type", event->type, "aggregate_type", event->aggregate_type,
                             "aggregate_id", event->aggregate_id, "occurred_at", event->occurred_at,
                             "origin", event->origin, "payload_base64", (const char *)encoded);
    free(encoded);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

/* Discards what the receiver answers. */
static size_t s_discard(char *data, size_t size, size_t count, void *user)
{
    return size * count;
}

/* POSTs one delivery; returns true on a 2xx answer, else fills error. */
static bool s_post(const notify_hook_job_t *job, long timeout_ms, char *error, size_t error_size)
{
    char *body = s_body(job->event);
    CURL *curl = curl_easy_init();
    if (!body || !curl) {
        snprintf(error, error_size, "out of memory");
        free(body);
        if (curl)
            curl_easy_cleanup(curl);
        return false;
    }
    char signature[65], header_signature[100], header_event[200], header_delivery[100];
    notify_webhook_signature(job->secret, body, strlen(body), signature);
    snprintf(header_signature, sizeof header_signature, "X-DP-Signature: sha256=%s", signature);
    snprintf(header_event, sizeof header_event, "X-DP-Event: %s", job->event->type);
    snprintf(header_delivery, sizeof header_delivery, "X-DP-Delivery: %" PRId64 "-%" PRIu64,
             job->webhook_id, job->event->seq);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, header_signature);
    headers = curl_slist_append(headers, header_event);
    headers = curl_slist_append(headers, header_delivery);
    curl_easy_setopt(curl, CURLOPT_URL, job->url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    bool delivered = code == CURLE_OK && status >= 200 && status < 300;
    if (code != CURLE_OK)
        snprintf(error, error_size, "%s", curl_easy_strerror(code));
    else if (!delivered)
        snprintf(error, error_size, "HTTP %ld", status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(body);
    return delivered;
}

typedef struct {
    dp_db_t *db;          /* the worker's own session */
    long timeout_ms;      /* per POST */
    int backoff_ms;       /* first retry after this; doubles each time */
    int max_attempts;     /* parked after this many */
} worker_t;

/* Claims and sends one round of due deliveries; returns how many. */
static size_t s_round(worker_t *worker)
{
    dp_arena_t *arena = dp_arena_new();
    notify_hook_job_t *jobs = NULL;
    size_t count = 0;
    if (!arena ||
        notify_db_claim_webhook_jobs(worker->db, arena, CLAIM_LIMIT, LEASE_MS, &jobs, &count) < 0)
        count = 0;
    for (size_t i = 0; i < count; i++) {
        char error[256] = "";
        bool delivered = s_post(&jobs[i], worker->timeout_ms, error, sizeof error);
        long backoff = worker->backoff_ms;
        for (int attempt = 0; attempt < jobs[i].attempts && backoff < MAX_BACKOFF_MS; attempt++)
            backoff *= 2;
        if (backoff > MAX_BACKOFF_MS)
            backoff = MAX_BACKOFF_MS;
        if (!delivered)
            dp_info("webhook %" PRId64 " seq %" PRIu64 " attempt %d failed: %s", jobs[i].webhook_id,
                    jobs[i].event->seq, jobs[i].attempts + 1, error);
        if (notify_db_finish_webhook_job(worker->db, &jobs[i], delivered, error, (int)backoff,
                                         worker->max_attempts) < 0)
            dp_warning("webhook outcome not recorded: %s", dp_db_failure_message(worker->db));
    }
    dp_arena_destroy(&arena);
    return count;
}

void notify_webhook_actor(zsock_t *pipe, void *args)
{
    const dp_config_t *config = args;
    pthread_once(&s_curl_once, s_curl_init);
    worker_t worker = {
        .db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-notify-webhooks",
                        notify_statements, notify_statement_count),
        .timeout_ms = dp_config_get_int(config, "DP_WEBHOOK_TIMEOUT_MS"),
        .backoff_ms = (int)dp_config_get_int(config, "DP_WEBHOOK_BACKOFF_MS"),
        .max_attempts = (int)dp_config_get_int(config, "DP_WEBHOOK_MAX_ATTEMPTS")};
    zsock_signal(pipe, worker.db ? 0 : 1);
    while (worker.db) {
        /* Sleep on the pipe when idle, so that $TERM is seen at once. */
        int wait = s_round(&worker) ? 0 : IDLE_WAIT_MS;
        zmq_pollitem_t item = {zsock_resolve(pipe), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, wait) < 0)
            break;
        if (item.revents & ZMQ_POLLIN) {
            char *command = zstr_recv(pipe);
            bool stop = !command || strcmp(command, "$TERM") == 0;
            zstr_free(&command);
            if (stop)
                break;
        }
    }
    dp_db_destroy(&worker.db);
    OPENSSL_thread_stop();
}
