/* The webhook worker: an actor with its own database session that claims
   due deliveries, POSTs each event as proto3 JSON signed with a timestamp
   (DP-Signature, as Stripe signs), and records the outcome: delivered,
   retried after an exponential backoff, or parked after the last attempt.

   Nothing here blocks: names are resolved in threads of their own
   (notify_target.c) and POSTs run in one libcurl multi handle, polled in
   turns of TURN_MS between which the pipe is looked at, so $TERM is
   answered at once whatever a receiver does. Deliveries to different
   webhooks run side by side; those of one webhook run one after another in
   seq order, and after one fails the rest of that webhook's round is put
   back untried (a receiver that hangs costs one timeout per round, not one
   per event).

   What is stored as a delivery's error is a class (timeout, refused, dns,
   tls, address_refused, redirect_refused 302, http_5xx 503, ...), never
   libcurl's text: whoever may read parked deliveries must not learn what
   answers inside the network. */
#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "dp_format.h"
#include "dp_log.h"
#include "notify_db.h"
#include "notify_service.h"
#include "notify_target.h"

enum {
    CLAIM_LIMIT = 20,
    LEASE_MS = 120000,
    IDLE_WAIT_MS = 200,
    TURN_MS = 50,
    MAX_BACKOFF_MS = 3600000,
    MAX_PARALLEL = 8,
    MAX_ADDRESSES = 16
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;

static void s_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void notify_webhook_signature(const char *secret, long long timestamp, const char *body,
                              size_t length, char *header, size_t size)
{
    char prefix[32];
    int prefix_length = snprintf(prefix, sizeof prefix, "%lld.", timestamp);
    /* What is signed: "<timestamp>.<body>". */
    unsigned char *signed_text = malloc((size_t)prefix_length + length + 1);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    char hex[65] = "";
    if (signed_text) {
        memcpy(signed_text, prefix, (size_t)prefix_length);
        memcpy(signed_text + prefix_length, body, length);
        if (HMAC(EVP_sha256(), secret, (int)strlen(secret), signed_text,
                 (size_t)prefix_length + length, digest, &digest_length))
            dp_format_hex(digest, digest_length < 32 ? digest_length : 32, hex);
        free(signed_text);
    }
    snprintf(header, size, "t=%lld,v1=%s", timestamp, hex);
}

/* Discards what the receiver answers. */
static size_t s_discard(char *data, size_t size, size_t count, void *user)
{
    (void)data;
    (void)user;
    return size * count;
}

/* ---- one delivery --------------------------------------------------------------------- */

typedef enum { STAGE_WAITING, STAGE_RESOLVING, STAGE_POSTING, STAGE_DONE } stage_t;

typedef struct {
    notify_hook_job_t *job; /* what to send, where */
    stage_t stage;
    notify_target_t target;                         /* the URL taken apart */
    notify_lookup_t *lookup;                        /* while resolving */
    int64_t deadline;                               /* zclock_mono: resolving gives up */
    struct sockaddr_storage checked[MAX_ADDRESSES]; /* the only addresses it may connect to */
    size_t checked_count;
    CURL *curl; /* while posting */
    struct curl_slist *headers;
    struct curl_slist *resolve; /* pins the name to the checked addresses */
    char *body;
    bool socket_refused; /* s_open_socket refused the address curl chose */
    bool delivered;
    long backoff_ms;  /* when it failed: its retry is due after this */
    char error[64];   /* the class stored when not delivered */
    char detail[400]; /* for the log only */
} delivery_t;

typedef struct {
    dp_db_t *db;             /* the worker's own session */
    long timeout_ms;         /* per delivery: the name's lookup and the POST */
    int backoff_ms;          /* first retry after this; doubles each time */
    int max_attempts;        /* parked after this many */
    const char *allow_hosts; /* DP_WEBHOOK_ALLOW_HOSTS */
    int lease_ms;            /* a claimed round is another worker's only after this */
    CURLM *multi;            /* every POST in flight */
    dp_arena_t *arena;       /* the round's jobs */
    delivery_t *deliveries;  /* the round, in (webhook, seq) order */
    size_t count;
} worker_t;

static bool s_same_address(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

/* libcurl asks this for every connection: the address must be one that
   was checked (the pinning kept), and allowed (checked again, should the
   pinning ever be bypassed). */
static curl_socket_t s_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
    delivery_t *delivery = user;
    bool checked = false;
    for (size_t i = 0; i < delivery->checked_count && !checked; i++)
        checked = s_same_address(&address->addr, &delivery->checked[i]);
    const char *refusal =
        delivery->target.allowlisted ? NULL : notify_address_refusal(&address->addr);
    if (purpose != CURLSOCKTYPE_IPCXN || !checked || refusal) {
        delivery->socket_refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

static void s_fail(delivery_t *delivery, const char *error, const char *detail)
{
    delivery->delivered = false;
    snprintf(delivery->error, sizeof delivery->error, "%s", error);
    snprintf(delivery->detail, sizeof delivery->detail, "%s", detail ? detail : "");
}

/* The error class of a finished POST. */
static void s_classify(delivery_t *delivery, CURLcode code, long status)
{
    const char *text = curl_easy_strerror(code);
    switch (code) {
    case CURLE_OK:
        if (status >= 200 && status < 300) {
            delivery->delivered = true;
            return;
        }
        char error[40];
        snprintf(error, sizeof error, "%s %ld",
                 status >= 300 && status < 400   ? "redirect_refused"
                 : status >= 400 && status < 500 ? "http_4xx"
                 : status >= 500 && status < 600 ? "http_5xx"
                                                 : "http_other",
                 status);
        s_fail(delivery, error, "");
        return;
    case CURLE_OPERATION_TIMEDOUT:
        s_fail(delivery, "timeout", text);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
        s_fail(delivery, "dns", text);
        return;
    case CURLE_COULDNT_CONNECT:
        s_fail(delivery, delivery->socket_refused ? "address_refused" : "refused", text);
        return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        s_fail(delivery, "tls", text);
        return;
    case CURLE_OUT_OF_MEMORY:
        s_fail(delivery, "internal", text);
        return;
    default:
        s_fail(delivery, "connection", text);
        return;
    }
}

/* Takes the looked-up addresses: every one must be allowed (a name that
   resolves to an internal address among public ones is refused whole). */
static bool s_check_addresses(delivery_t *delivery)
{
    int status = 0;
    const struct addrinfo *result = notify_lookup_result(delivery->lookup, &status);
    if (!result) {
        s_fail(delivery, "dns", gai_strerror(status));
        return false;
    }
    delivery->checked_count = 0;
    for (const struct addrinfo *one = result; one; one = one->ai_next) {
        if (one->ai_family != AF_INET && one->ai_family != AF_INET6)
            continue;
        const char *refusal =
            delivery->target.allowlisted ? NULL : notify_address_refusal(one->ai_addr);
        if (refusal) {
            char address[64], detail[400];
            notify_address_text(one->ai_addr, address, sizeof address);
            snprintf(detail, sizeof detail, "%s resolves to %s, %s %s address",
                     delivery->target.host, address, strchr("aeiou", refusal[0]) ? "an" : "a",
                     refusal);
            s_fail(delivery, "address_refused", detail);
            return false;
        }
        bool known = false;
        for (size_t i = 0; i < delivery->checked_count && !known; i++)
            known = s_same_address(one->ai_addr, &delivery->checked[i]);
        if (!known && delivery->checked_count < MAX_ADDRESSES)
            memcpy(&delivery->checked[delivery->checked_count++], one->ai_addr, one->ai_addrlen);
    }
    if (!delivery->checked_count) {
        s_fail(delivery, "dns", "no IP address");
        return false;
    }
    return true;
}

/* "host:port:addr,addr" for CURLOPT_RESOLVE (IPv6 addresses in brackets). */
static struct curl_slist *s_pin(const delivery_t *delivery)
{
    char entry[400];
    int length =
        snprintf(entry, sizeof entry, "%s:%d:", delivery->target.host, delivery->target.port);
    for (size_t i = 0; i < delivery->checked_count && length < (int)sizeof entry; i++) {
        char address[64];
        notify_address_text((const struct sockaddr *)&delivery->checked[i], address,
                            sizeof address);
        bool v6 = delivery->checked[i].ss_family == AF_INET6;
        length += snprintf(entry + length, sizeof entry - (size_t)length, "%s%s%s%s", i ? "," : "",
                           v6 ? "[" : "", address, v6 ? "]" : "");
    }
    return length < (int)sizeof entry ? curl_slist_append(NULL, entry) : NULL;
}

/* Makes the POST and hands it to the multi handle. */
static bool s_start_post(worker_t *worker, delivery_t *delivery)
{
    const notify_hook_job_t *job = delivery->job;
    delivery->body = notify_event_json(job->event);
    delivery->curl = curl_easy_init();
    /* A literal address is never resolved, so there is nothing to pin. */
    delivery->resolve = delivery->target.literal ? NULL : s_pin(delivery);
    if (!delivery->body || !delivery->curl || (!delivery->target.literal && !delivery->resolve)) {
        s_fail(delivery, "internal", "out of memory");
        return false;
    }
    char signature[160], header_signature[200], header_event[200], header_delivery[100];
    notify_webhook_signature(job->secret, (long long)time(NULL), delivery->body,
                             strlen(delivery->body), signature, sizeof signature);
    snprintf(header_signature, sizeof header_signature, "DP-Signature: %s", signature);
    snprintf(header_event, sizeof header_event, "X-DP-Event: %s", job->event->type);
    snprintf(header_delivery, sizeof header_delivery, "X-DP-Delivery: %" PRId64 "-%" PRIu64,
             job->webhook_id, job->event->seq);
    const char *lines[] = {"Content-Type: application/json", header_signature, header_event,
                           header_delivery, "Expect:"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *more = curl_slist_append(delivery->headers, lines[i]);
        if (!more) {
            s_fail(delivery, "internal", "out of memory");
            return false;
        }
        delivery->headers = more;
    }
    CURL *curl = delivery->curl;
    curl_easy_setopt(curl, CURLOPT_URL, job->url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, delivery->body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, delivery->headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "dp-notify");
    /* The lookup and the POST share one attempt's time. */
    int64_t left = delivery->deadline - zclock_mono();
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(left > 100 ? left : 100));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    /* A proxy from the environment would be connected to instead of the
       checked address. */
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    if (delivery->resolve)
        curl_easy_setopt(curl, CURLOPT_RESOLVE, delivery->resolve);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, s_open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, delivery);
    curl_easy_setopt(curl, CURLOPT_PRIVATE, delivery);
    if (curl_multi_add_handle(worker->multi, curl) != CURLM_OK) {
        s_fail(delivery, "internal", "cannot add the request");
        return false;
    }
    delivery->stage = STAGE_POSTING;
    return true;
}

static void s_free_delivery(worker_t *worker, delivery_t *delivery)
{
    if (delivery->curl) {
        curl_multi_remove_handle(worker->multi, delivery->curl);
        curl_easy_cleanup(delivery->curl);
        delivery->curl = NULL;
    }
    curl_slist_free_all(delivery->headers);
    curl_slist_free_all(delivery->resolve);
    delivery->headers = delivery->resolve = NULL;
    free(delivery->body);
    delivery->body = NULL;
    notify_lookup_destroy(&delivery->lookup);
}

/* Records the outcome and frees what the delivery held. */
static void s_finish(worker_t *worker, delivery_t *delivery)
{
    const notify_hook_job_t *job = delivery->job;
    long backoff = worker->backoff_ms;
    for (int attempt = 0; attempt < job->attempts && backoff < MAX_BACKOFF_MS; attempt++)
        backoff *= 2;
    if (backoff > MAX_BACKOFF_MS)
        backoff = MAX_BACKOFF_MS;
    delivery->backoff_ms = backoff;
    if (!delivery->delivered)
        dp_info("webhook %" PRId64 " seq %" PRIu64 " attempt %d failed: %s%s%s", job->webhook_id,
                job->event->seq, job->attempts + 1, delivery->error, *delivery->detail ? " - " : "",
                delivery->detail);
    if (notify_db_finish_webhook_job(worker->db, job, delivery->delivered,
                                     delivery->delivered ? "" : delivery->error, (int)backoff,
                                     worker->max_attempts) < 0)
        dp_warning("webhook outcome not recorded: %s", dp_db_failure_message(worker->db));
    s_free_delivery(worker, delivery);
    delivery->stage = STAGE_DONE;
}

/* Parses the URL and starts the lookup of its host. */
static void s_start(worker_t *worker, delivery_t *delivery)
{
    const char *refusal =
        notify_target_parse(delivery->job->url, worker->allow_hosts, &delivery->target);
    if (refusal) {
        s_fail(delivery, strstr(refusal, "https") ? "https_required" : "invalid_url", refusal);
        s_finish(worker, delivery);
        return;
    }
    delivery->lookup = notify_lookup_start(delivery->target.host, delivery->target.port);
    if (!delivery->lookup) {
        s_fail(delivery, "internal", "cannot start a lookup");
        s_finish(worker, delivery);
        return;
    }
    delivery->deadline = zclock_mono() + worker->timeout_ms;
    delivery->stage = STAGE_RESOLVING;
}

/* ---- a round ---------------------------------------------------------------------------- */

static void s_end_round(worker_t *worker)
{
    for (size_t i = 0; i < worker->count; i++)
        s_free_delivery(worker, &worker->deliveries[i]);
    free(worker->deliveries);
    worker->deliveries = NULL;
    worker->count = 0;
    dp_arena_destroy(&worker->arena);
}

/* Claims due deliveries; false when there are none. */
static bool s_begin_round(worker_t *worker)
{
    worker->arena = dp_arena_new();
    notify_hook_job_t *jobs = NULL;
    size_t count = 0;
    if (!worker->arena ||
        notify_db_claim_webhook_jobs(worker->db, worker->arena, CLAIM_LIMIT, worker->lease_ms,
                                     &jobs, &count) < 0 ||
        count == 0 || !(worker->deliveries = calloc(count, sizeof *worker->deliveries))) {
        dp_arena_destroy(&worker->arena);
        return false;
    }
    worker->count = count;
    for (size_t i = 0; i < count; i++)
        worker->deliveries[i].job = &jobs[i];
    return true;
}

/* Moves every delivery of the round as far as it can go now; true while
   some are not done. */
static bool s_advance(worker_t *worker)
{
    int running = 0;
    for (size_t i = 0; i < worker->count; i++) {
        stage_t stage = worker->deliveries[i].stage;
        running += stage == STAGE_RESOLVING || stage == STAGE_POSTING;
    }
    bool pending = false;
    for (size_t i = 0; i < worker->count; i++) {
        delivery_t *delivery = &worker->deliveries[i];
        if (delivery->stage == STAGE_WAITING) {
            /* One webhook's deliveries go in seq order, one at a time. */
            bool blocked = false, failed = false;
            long retry_ms = 0;
            for (size_t j = 0; j < i; j++) {
                const delivery_t *earlier = &worker->deliveries[j];
                if (earlier->job->webhook_id != delivery->job->webhook_id)
                    continue;
                blocked |= earlier->stage != STAGE_DONE;
                if (earlier->stage == STAGE_DONE && !earlier->delivered) {
                    failed = true;
                    if (earlier->backoff_ms > retry_ms)
                        retry_ms = earlier->backoff_ms;
                }
            }
            if (failed) {
                /* Its receiver just failed: this one waits as long as the
                   failed one, so that the next round takes them in order. */
                if (notify_db_release_webhook_job(worker->db, delivery->job, (int)retry_ms) < 0)
                    dp_warning("webhook delivery not put back: %s",
                               dp_db_failure_message(worker->db));
                delivery->stage = STAGE_DONE;
                delivery->delivered = false;
                continue;
            }
            if (!blocked && running < MAX_PARALLEL) {
                s_start(worker, delivery);
                running += delivery->stage != STAGE_DONE;
            }
        }
        if (delivery->stage == STAGE_RESOLVING) {
            if (notify_lookup_wait(delivery->lookup, 0)) {
                if (!s_check_addresses(delivery) || !s_start_post(worker, delivery)) {
                    s_finish(worker, delivery);
                    running--;
                }
            } else if (zclock_mono() >= delivery->deadline) {
                s_fail(delivery, "dns", "the lookup timed out");
                s_finish(worker, delivery);
                running--;
            }
        }
        pending |= delivery->stage != STAGE_DONE;
    }
    int still_running = 0;
    curl_multi_perform(worker->multi, &still_running);
    CURLMsg *message;
    int left = 0;
    while ((message = curl_multi_info_read(worker->multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        delivery_t *delivery = NULL;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&delivery);
        if (!delivery)
            continue;
        long status = 0;
        curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        s_classify(delivery, message->data.result, status);
        s_finish(worker, delivery);
        pending = true; /* a successor may start now */
    }
    return pending;
}

/* True when the pipe says $TERM (or breaks). */
static bool s_stop_asked(zsock_t *pipe, int wait_ms)
{
    zmq_pollitem_t item = {zsock_resolve(pipe), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, wait_ms) < 0)
        return zmq_errno() != EINTR;
    if (!(item.revents & ZMQ_POLLIN))
        return false;
    char *command = zstr_recv(pipe);
    bool stop = !command || strcmp(command, "$TERM") == 0;
    zstr_free(&command);
    return stop;
}

void notify_webhook_actor(zsock_t *pipe, void *args)
{
    const dp_config_t *config = args;
    pthread_once(&s_curl_once, s_curl_init);
    worker_t worker = {.db =
                           dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-notify-webhooks",
                                     notify_statements, notify_statement_count),
                       .timeout_ms = dp_config_get_int(config, "DP_WEBHOOK_TIMEOUT_MS"),
                       .backoff_ms = (int)dp_config_get_int(config, "DP_WEBHOOK_BACKOFF_MS"),
                       .max_attempts = (int)dp_config_get_int(config, "DP_WEBHOOK_MAX_ATTEMPTS"),
                       .allow_hosts = dp_config_get(config, "DP_WEBHOOK_ALLOW_HOSTS"),
                       .multi = curl_multi_init()};
    /* Long enough for a round whose deliveries to one webhook all take
       their whole time, one after another. */
    worker.lease_ms = (int)(worker.timeout_ms * (CLAIM_LIMIT + 1));
    if (worker.lease_ms < LEASE_MS)
        worker.lease_ms = LEASE_MS;
    bool ready = worker.db && worker.multi;
    zsock_signal(pipe, ready ? 0 : 1);
    while (ready) {
        if (!worker.count && !s_begin_round(&worker)) {
            /* Idle: sleep on the pipe. */
            if (s_stop_asked(pipe, IDLE_WAIT_MS))
                break;
            continue;
        }
        bool pending = s_advance(&worker);
        if (!pending) {
            s_end_round(&worker);
            if (s_stop_asked(pipe, 0))
                break;
            continue;
        }
        /* Wait for the receivers at most one turn, then look at the pipe. */
        curl_multi_poll(worker.multi, NULL, 0, TURN_MS, NULL);
        if (s_stop_asked(pipe, 0))
            break;
    }
    /* Deliveries in flight are dropped: their lease expires and another
       round (of this or another process) sends them again. */
    s_end_round(&worker);
    if (worker.multi)
        curl_multi_cleanup(worker.multi);
    dp_db_destroy(&worker.db);
    OPENSSL_thread_stop();
}
