/* Requests: replay, durable consumers, parked events and webhooks. */
#include <inttypes.h>
#include <string.h>

#include "dp_handler.h"
#include "dp_log.h"
#include "dp_security.h"
#include "dp_validate.h"
#include "notify_db.h"
#include "notify_service.h"
#include "notify_target.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

enum {
    MAX_PREFIX_BYTES = 100,
    DEFAULT_LIMIT = 100,
    MAX_LIMIT = 1000,
    SCAN_WINDOW = 10000, /* seqs looked at per replay or fetch */
    MIN_SECRET_BYTES = 16,
    MAX_SECRET_BYTES = 200
};

/* Largest seq a request may name: bigint, with room for the scan window. */
#define MAX_SEQ ((uint64_t)INT64_MAX - SCAN_WINDOW)

static bool s_check_seq(dp_reply_t *reply, const char *field, uint64_t seq)
{
    if (seq <= MAX_SEQ)
        return true;
    dp_reply_error(reply, INVALID, field, "%s must be at most %" PRIu64, field, MAX_SEQ);
    return false;
}

static bool s_check_prefix(dp_reply_t *reply, const char *prefix)
{
    if (dp_valid_text(prefix, MAX_PREFIX_BYTES) && !strpbrk(prefix, " \t\r\n"))
        return true;
    dp_reply_error(reply, INVALID, "topic_prefix",
                   "topic_prefix must be at most %d bytes, no spaces", MAX_PREFIX_BYTES);
    return false;
}

/* Events per replay, fetch or parked list: a batch of a stream, not a
   page of records (dp_page_t), so its bounds are its own. */
static bool s_check_limit(dp_reply_t *reply, const char *field, uint32_t value, int *limit)
{
    return dp_check_limit(reply, field, value, DEFAULT_LIMIT, MAX_LIMIT, limit);
}

/* A durable consumer belongs to the key that created it: that key and staff
   (a front end included) may use and manage it, nobody else. A consumer
   without an owner (made without CURVE) is staff's alone while CURVE is on. */
static bool s_may_use(dp_reply_t *reply, const Dp__Consumer *consumer, const char *what)
{
    if (dp_reply_role(reply) & (DP_ROLE_STAFF | DP_ROLE_FRONTEND))
        return true;
    const char *caller = dp_reply_caller(reply);
    if (*consumer->owner && strcmp(consumer->owner, caller) == 0)
        return true;
    dp_warning("audit: denied %s of consumer %s to client '%s' (not its owner)", what,
               consumer->name, caller);
    dp_reply_error(reply, DP__CODE__CODE_PERMISSION_DENIED, "consumer",
                   "consumer %s belongs to another key", consumer->name);
    return false;
}

/* Loads the named consumer and checks the caller may use it; 1 yes, 0 no
   (the reply says why), -1 database failure (the reply says so). */
static int s_load_usable(notify_t *notify, dp_reply_t *reply, const char *field, const char *name,
                         const char *what)
{
    Dp__Consumer *consumer = NULL;
    int found = notify_db_load_consumer(notify->db, dp_reply_arena(reply), name, false, &consumer);
    if (found < 0) {
        dp_reply_db_failure(reply, notify->db);
        return -1;
    }
    if (!found) {
        dp_reply_error(reply, DP__CODE__CODE_NOT_FOUND, field, "no consumer %s", name);
        return 0;
    }
    return s_may_use(reply, consumer, what) ? 1 : 0;
}

/* ---- replay ---------------------------------------------------------------------- */

static void s_replay(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__ReplayEventsRequest *request = (const Dp__ReplayEventsRequest *)message;
    int limit = 0;
    if (!s_check_prefix(reply, request->topic_prefix) ||
        !s_check_limit(reply, "limit", request->limit, &limit) ||
        !s_check_seq(reply, "from_seq", request->from_seq))
        return;
    uint64_t from = request->from_seq ? request->from_seq : 1;
    Dp__ReplayEventsReply answer = DP__REPLAY_EVENTS_REPLY__INIT;
    int failed = 0;
    answer.latest_seq = notify_db_latest_seq(notify->db, &failed);
    if (failed || notify_db_replay(notify->db, dp_reply_arena(reply), from, request->topic_prefix,
                                   limit, SCAN_WINDOW, &answer.events, &answer.n_events) < 0) {
        dp_reply_db_failure(reply, notify->db);
        return;
    }
    /* Resume after the last event given, or after the scanned window. */
    answer.next_seq = answer.n_events == (size_t)limit ? answer.events[answer.n_events - 1]->seq + 1
                                                       : from + SCAN_WINDOW;
    if (answer.next_seq > answer.latest_seq + 1)
        answer.next_seq = answer.latest_seq + 1;
    dp_reply_ok(reply, &answer.base);
}

/* ---- consumers --------------------------------------------------------------------- */

static void s_create_consumer(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__CreateConsumerRequest *request = (const Dp__CreateConsumerRequest *)message;
    if (!dp_check_slug(reply, "name", request->name) ||
        !s_check_prefix(reply, request->topic_prefix) ||
        !s_check_seq(reply, "start_seq", request->start_seq))
        return;
    if (request->ack_timeout_ms > 86400000) {
        dp_reply_error(reply, INVALID, "ack_timeout_ms", "ack_timeout_ms must be at most a day");
        return;
    }
    if (request->max_attempts > 1000) {
        dp_reply_error(reply, INVALID, "max_attempts", "max_attempts must be at most 1000");
        return;
    }
    int failed = 0;
    uint64_t latest = notify_db_latest_seq(notify->db, &failed);
    uint64_t start_after = request->start_seq ? request->start_seq - 1 : latest;
    int created = failed ? -1
                         : notify_db_create_consumer(
                               notify->db, request, start_after,
                               request->ack_timeout_ms ? request->ack_timeout_ms
                                                       : (uint32_t)notify->default_ack_timeout_ms,
                               request->max_attempts ? request->max_attempts
                                                     : (uint32_t)notify->default_max_attempts,
                               dp_reply_caller(reply));
    Dp__CreateConsumerReply answer = DP__CREATE_CONSUMER_REPLY__INIT;
    if (created == 1)
        created = notify_db_load_consumer(notify->db, dp_reply_arena(reply), request->name, false,
                                          &answer.consumer);
    if (created < 0)
        dp_reply_db_failure(reply, notify->db);
    else if (created == 0)
        dp_reply_error(reply, DP__CODE__CODE_ALREADY_EXISTS, "name", "consumer %s exists",
                       request->name);
    else
        dp_reply_ok(reply, &answer.base);
}

/* A fetch runs in one transaction on the locked consumer row, so two
   workers of one consumer never get the same delivery at once. */
typedef struct {
    notify_t *notify;                      /* the service */
    dp_reply_t *reply;                     /* where a refusal goes */
    const Dp__FetchEventsRequest *request; /* the request */
    int max;                               /* deliveries at most */
    Dp__FetchEventsReply answer;           /* filled on success */
} fetch_t;

static dp_txn_outcome_t s_fetch_body(dp_db_t *db, void *arg)
{
    fetch_t *fetch = arg;
    dp_arena_t *arena = dp_reply_arena(fetch->reply);
    Dp__Consumer *consumer = NULL;
    int found = notify_db_load_consumer(db, arena, fetch->request->consumer, true, &consumer);
    if (found < 0)
        return DP_TXN_FAILED;
    if (!found) {
        dp_reply_error(fetch->reply, DP__CODE__CODE_NOT_FOUND, "consumer", "no consumer %s",
                       fetch->request->consumer);
        return DP_TXN_ROLLBACK;
    }
    if (!s_may_use(fetch->reply, consumer, "fetch"))
        return DP_TXN_ROLLBACK;
    return notify_db_fetch(db, arena, consumer, fetch->max, SCAN_WINDOW, &fetch->answer.deliveries,
                           &fetch->answer.n_deliveries) < 0
               ? DP_TXN_FAILED
               : DP_TXN_COMMIT;
}

static void s_fetch(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__FetchEventsRequest *request = (const Dp__FetchEventsRequest *)message;
    fetch_t fetch = {.notify = notify, .reply = reply, .request = request};
    if (!dp_check_slug(reply, "consumer", request->consumer) ||
        !s_check_limit(reply, "max", request->max, &fetch.max))
        return;
    dp__fetch_events_reply__init(&fetch.answer);
    int outcome = dp_db_transaction(notify->db, s_fetch_body, &fetch);
    if (outcome < 0)
        dp_reply_db_failure(reply, notify->db);
    else if (outcome == 0)
        dp_reply_ok(reply, &fetch.answer.base);
}

static void s_ack(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__AckEventsRequest *request = (const Dp__AckEventsRequest *)message;
    if (!dp_check_slug(reply, "consumer", request->consumer) ||
        !s_check_seq(reply, "up_to_seq", request->up_to_seq))
        return;
    if (s_load_usable(notify, reply, "consumer", request->consumer, "ack") <= 0)
        return;
    int done = notify_db_ack(notify->db, request->consumer, request->up_to_seq);
    Dp__AckEventsReply answer = DP__ACK_EVENTS_REPLY__INIT;
    if (done > 0)
        done = notify_db_load_consumer(notify->db, dp_reply_arena(reply), request->consumer, false,
                                       &answer.consumer);
    if (done < 0)
        dp_reply_db_failure(reply, notify->db);
    else if (done == 0)
        dp_reply_error(reply, DP__CODE__CODE_NOT_FOUND, "consumer", "no consumer %s",
                       request->consumer);
    else
        dp_reply_ok(reply, &answer.base);
}

static void s_list_consumers(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_reply_list(reply, ((notify_t *)state)->db, &dp__list_consumers_reply__descriptor,
                  notify_db_list_consumers);
}

static void s_delete_consumer(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__DeleteConsumerRequest *request = (const Dp__DeleteConsumerRequest *)message;
    if (!dp_check_slug(reply, "name", request->name))
        return;
    if (s_load_usable(notify, reply, "name", request->name, "delete") <= 0)
        return;
    int deleted = notify_db_delete_consumer(notify->db, request->name);
    Dp__DeleteConsumerReply answer = DP__DELETE_CONSUMER_REPLY__INIT;
    dp_reply_found(reply, notify->db, deleted, &answer.base, "name", "no consumer %s",
                   request->name);
}

/* ---- parked events ---------------------------------------------------------------------- */

/* A consumer name, or "webhook:<id>". */
static bool s_check_owner(dp_reply_t *reply, const char *owner, bool required)
{
    if (!*owner && !required)
        return true;
    if (strncmp(owner, "webhook:", 8) == 0) {
        char *end = NULL;
        long long id = strtoll(owner + 8, &end, 10);
        if (id > 0 && !*end)
            return true;
    } else if (dp_valid_slug(owner))
        return true;
    dp_reply_error(reply, INVALID, "consumer",
                   "consumer must be a consumer's name or webhook:<id>");
    return false;
}

/* Parked events of all consumers, or of a webhook, are staff's; a
   consumer's own parked events are also its owner's. */
static bool s_check_parked_owner(notify_t *notify, dp_reply_t *reply, const char *owner,
                                 const char *what)
{
    if (dp_reply_role(reply) & (DP_ROLE_STAFF | DP_ROLE_FRONTEND))
        return true;
    if (!*owner) {
        /* Every consumer's is staff's: the request must name one. */
        dp_reply_error(reply, INVALID, "consumer", "consumer is required: the name of yours");
        return false;
    }
    if (strncmp(owner, "webhook:", 8) == 0) {
        dp_warning("audit: denied %s of %s to client '%s' (staff only)", what, owner,
                   dp_reply_caller(reply));
        dp_reply_error(reply, DP__CODE__CODE_PERMISSION_DENIED, "consumer",
                       "only staff may %s of webhooks", what);
        return false;
    }
    return s_load_usable(notify, reply, "consumer", owner, what) > 0;
}

static void s_list_parked(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__ListParkedRequest *request = (const Dp__ListParkedRequest *)message;
    int limit = 0;
    if (!s_check_owner(reply, request->consumer, false) ||
        !s_check_limit(reply, "limit", request->limit, &limit) ||
        !s_check_parked_owner(notify, reply, request->consumer, "list parked"))
        return;
    Dp__ListParkedReply answer = DP__LIST_PARKED_REPLY__INIT;
    int outcome = notify_db_list_parked(notify->db, dp_reply_arena(reply), request->consumer, limit,
                                        &answer.parked, &answer.n_parked);
    dp_reply_read(reply, notify->db, outcome, &answer.base);
}

static void s_replay_parked(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__ReplayParkedRequest *request = (const Dp__ReplayParkedRequest *)message;
    if (!s_check_owner(reply, request->consumer, true) ||
        !s_check_seq(reply, "seq", request->seq) ||
        !s_check_parked_owner(notify, reply, request->consumer, "replay parked"))
        return;
    int replayed = notify_db_replay_parked(notify->db, request->consumer, request->seq);
    Dp__ReplayParkedReply answer = DP__REPLAY_PARKED_REPLY__INIT;
    answer.replayed = replayed > 0 ? (uint32_t)replayed : 0;
    if (replayed < 0)
        dp_reply_db_failure(reply, notify->db);
    else if (replayed == 0 && request->seq)
        dp_reply_error(reply, DP__CODE__CODE_NOT_FOUND, "seq", "%s has no parked event %" PRIu64,
                       request->consumer, request->seq);
    else
        dp_reply_ok(reply, &answer.base);
}

/* ---- webhooks ---------------------------------------------------------------------------- */

/* How long AddWebhook waits for the URL's host to resolve: the server
   thread must not wait on DNS for long (the answer is then UNAVAILABLE,
   and a second try finds the name in the resolver's cache). */
enum { ADD_LOOKUP_MS = 500 };

/* Refuses a URL that is not https (unless allowlisted) or whose host
   resolves to an address a webhook may not target; true when it may be used.
   The worker checks again at every delivery, the address it connects to. */
static bool s_check_webhook_url(notify_t *notify, dp_reply_t *reply, const char *url)
{
    notify_target_t target;
    const char *refusal = *url && dp_valid_url(url)
                              ? notify_target_parse(url, notify->webhook_allow_hosts, &target)
                              : "url must be an http:// or https:// URL";
    if (refusal) {
        dp_reply_error(reply, INVALID, "url", "%s", refusal);
        return false;
    }
    if (target.allowlisted)
        return true;
    notify_lookup_t *lookup = notify_lookup_start(target.host, target.port);
    if (!lookup) {
        dp_reply_error(reply, DP__CODE__CODE_INTERNAL, NULL, "out of memory");
        return false;
    }
    bool allowed = false;
    int status = 0;
    const struct addrinfo *result =
        notify_lookup_wait(lookup, ADD_LOOKUP_MS) ? notify_lookup_result(lookup, &status) : NULL;
    if (!notify_lookup_wait(lookup, 0) || status == EAI_AGAIN)
        dp_reply_error(reply, DP__CODE__CODE_UNAVAILABLE, "url",
                       "the host of url could not be resolved now; try again");
    else if (!result)
        dp_reply_error(reply, INVALID, "url", "the host of url does not resolve");
    else {
        allowed = true;
        for (const struct addrinfo *one = result; one && allowed; one = one->ai_next) {
            const char *kind = notify_address_refusal(one->ai_addr);
            if (!kind)
                continue;
            char address[64];
            notify_address_text(one->ai_addr, address, sizeof address);
            dp_reply_error(reply, DP__CODE__CODE_PERMISSION_DENIED, "url",
                           "the host of url resolves to %s, %s %s address: webhooks may target "
                           "it only when DP_WEBHOOK_ALLOW_HOSTS names the host",
                           address, strchr("aeiou", kind[0]) ? "an" : "a", kind);
            allowed = false;
        }
    }
    notify_lookup_destroy(&lookup);
    return allowed;
}

static void s_add_webhook(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__AddWebhookRequest *request = (const Dp__AddWebhookRequest *)message;
    if (!*request->url || !dp_valid_url(request->url)) {
        dp_reply_error(reply, INVALID, "url", "url must be an http:// or https:// URL");
        return;
    }
    if (!s_check_prefix(reply, request->topic_prefix))
        return;
    size_t secret = strlen(request->secret);
    if (secret < MIN_SECRET_BYTES || secret > MAX_SECRET_BYTES ||
        !dp_valid_text(request->secret, MAX_SECRET_BYTES)) {
        dp_reply_error(reply, INVALID, "secret", "secret must be %d to %d bytes of text",
                       MIN_SECRET_BYTES, MAX_SECRET_BYTES);
        return;
    }
    if (!s_check_webhook_url(notify, reply, request->url))
        return;
    Dp__AddWebhookReply answer = DP__ADD_WEBHOOK_REPLY__INIT;
    int outcome =
        notify_db_add_webhook(notify->db, dp_reply_arena(reply), request, &answer.webhook);
    dp_reply_read(reply, notify->db, outcome, &answer.base);
}

static void s_list_webhooks(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_reply_list(reply, ((notify_t *)state)->db, &dp__list_webhooks_reply__descriptor,
                  notify_db_list_webhooks);
}

static void s_remove_webhook(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    notify_t *notify = state;
    const Dp__RemoveWebhookRequest *request = (const Dp__RemoveWebhookRequest *)message;
    if (!dp_check_id(reply, "id", request->id, "a webhook id"))
        return;
    int removed = notify_db_remove_webhook(notify->db, request->id);
    Dp__RemoveWebhookReply answer = DP__REMOVE_WEBHOOK_REPLY__INIT;
    dp_reply_found(reply, notify->db, removed, &answer.base, "id", "no webhook %" PRId64,
                   request->id);
}

const dp_route_t notify_routes[] = {
    {&dp__replay_events_request__descriptor, s_replay, NULL,
     DP_ROLE_CONSUMER | DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__create_consumer_request__descriptor, s_create_consumer, NULL,
     DP_ROLE_CONSUMER | DP_ROLE_STAFF},
    {&dp__fetch_events_request__descriptor, s_fetch, NULL, DP_ROLE_CONSUMER | DP_ROLE_STAFF},
    {&dp__ack_events_request__descriptor, s_ack, NULL, DP_ROLE_CONSUMER | DP_ROLE_STAFF},
    {&dp__list_consumers_request__descriptor, s_list_consumers, NULL},
    /* The owner check of each handler narrows these to the consumer's own key. */
    {&dp__delete_consumer_request__descriptor, s_delete_consumer, NULL,
     DP_ROLE_CONSUMER | DP_ROLE_STAFF},
    {&dp__list_parked_request__descriptor, s_list_parked, NULL, DP_ROLE_CONSUMER | DP_ROLE_STAFF},
    {&dp__replay_parked_request__descriptor, s_replay_parked, NULL,
     DP_ROLE_CONSUMER | DP_ROLE_STAFF},
    {&dp__add_webhook_request__descriptor, s_add_webhook, NULL},
    {&dp__list_webhooks_request__descriptor, s_list_webhooks, NULL},
    {&dp__remove_webhook_request__descriptor, s_remove_webhook, NULL},
};
const size_t notify_route_count = sizeof notify_routes / sizeof notify_routes[0];
