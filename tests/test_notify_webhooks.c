/* Webhooks against an HTTP receiver inside the test (127.0.0.1, named by
   DP_WEBHOOK_ALLOW_HOSTS): a delivery that fails twice arrives on the third
   attempt as the event in proto3 JSON, signed (DP-Signature: t=...,v1=
   HMAC-SHA256 of "<t>.<body>" with the secret, recomputed here with
   OpenSSL), with X-DP-Event and
   X-DP-Delivery; one that always fails is parked after
   DP_WEBHOOK_MAX_ATTEMPTS, listed as "webhook:<id>" and delivered again
   after ReplayParked; add / list / remove and their refusals. */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "notify_support.h"

static ts_database_t *db;
static PGconn *admin;
static PGconn *writer;
static tn_notify_t *notify;

#define SECRET "a-test-secret-of-32-bytes-length"
#define MAX_ATTEMPTS "3"

enum { RELAY_WAIT_MS = 20000, DELIVERY_WAIT_MS = 20000 };

/* ---- helpers --------------------------------------------------------------------- */

static void s_add_request(Dp__AddWebhookRequest *request, const char *url, const char *prefix,
                          const char *secret)
{
    *request = (Dp__AddWebhookRequest)DP__ADD_WEBHOOK_REQUEST__INIT;
    request->url = (char *)url;
    request->topic_prefix = (char *)prefix;
    request->secret = (char *)secret;
}

static Dp__Webhook *s_add_at(const char *url, const char *prefix, const char *secret,
                             const char *file, int line)
{
    Dp__AddWebhookRequest request;
    s_add_request(&request, url, prefix, secret);
    dp_status_t status;
    Dp__AddWebhookReply *reply = tn_add_webhook(notify, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    assert_non_null(reply);
    assert_non_null(reply->webhook);
    Dp__Webhook *webhook = reply->webhook;
    reply->webhook = NULL;
    ts_free(&reply);
    return webhook;
}
#define s_add(url, prefix, secret) s_add_at(url, prefix, secret, __FILE__, __LINE__)

static void s_expect_add_refused(const char *url, const char *prefix, const char *secret,
                                 const char *field)
{
    long long before = ts_query_long(admin, "SELECT count(*) FROM notify.webhook", 0, NULL);
    Dp__AddWebhookRequest request;
    s_add_request(&request, url, prefix, secret);
    dp_status_t status;
    Dp__AddWebhookReply *reply = tn_add_webhook(notify, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_INVALID_ARGUMENT, field, __FILE__, __LINE__);
    assert_null(reply);
    assert_int_equal(ts_query_long(admin, "SELECT count(*) FROM notify.webhook", 0, NULL), before);
}

static void s_remove(int64_t id, Dp__Code expected, const char *field)
{
    Dp__RemoveWebhookRequest request = DP__REMOVE_WEBHOOK_REQUEST__INIT;
    request.id = id;
    dp_status_t status;
    Dp__RemoveWebhookReply *reply = tn_remove_webhook(notify, &request, &status);
    ts_assert_status_at(&status, expected, field, __FILE__, __LINE__);
    ts_free(&reply);
}

/* The webhook as ListWebhooks shows it, or NULL. Free with ts_free. */
static Dp__Webhook *s_listed(int64_t id)
{
    Dp__ListWebhooksRequest request = DP__LIST_WEBHOOKS_REQUEST__INIT;
    dp_status_t status;
    Dp__ListWebhooksReply *reply = tn_list_webhooks(notify, &request, &status);
    ts_assert_ok(&status);
    Dp__Webhook *found = NULL;
    for (size_t i = 0; i < reply->n_webhooks; i++)
        if (reply->webhooks[i]->id == id) {
            found = reply->webhooks[i];
            reply->webhooks[i] = reply->webhooks[--reply->n_webhooks];
        }
    ts_free(&reply);
    return found;
}

/* Writes one outbox row and waits for its seq. */
static uint64_t s_emit(const char *event_type, const char *tag, const char *payload)
{
    return tn_emit_one(writer, admin, event_type, tag, payload, RELAY_WAIT_MS);
}

/* Waits until the delivery of seq to the webhook is in this state. */
static bool s_wait_state(int64_t webhook_id, uint64_t seq, const char *wanted)
{
    char id[24], seq_text[24];
    snprintf(id, sizeof id, "%lld", (long long)webhook_id);
    snprintf(seq_text, sizeof seq_text, "%llu", (unsigned long long)seq);
    const char *params[] = {id, seq_text, wanted};
    return tn_wait_value(admin,
                         "SELECT count(*) FROM notify.webhook_delivery WHERE webhook_id ="
                         " $1::bigint AND seq = $2::bigint AND state = $3",
                         3, params, 1, DELIVERY_WAIT_MS);
}

static long long s_delivery_rows(int64_t webhook_id)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)webhook_id);
    const char *params[] = {id};
    return ts_query_long(
        admin, "SELECT count(*) FROM notify.webhook_delivery WHERE webhook_id = $1::bigint", 1,
        params);
}

/* Checks one POST: headers, signature, and the JSON body describing the event. */
static void s_assert_signed_post(const tn_http_request_t *post, int64_t webhook_id, uint64_t seq,
                                 const char *event_type, const char *aggregate_id,
                                 const char *payload)
{
    assert_string_equal(post->method, "POST");
    assert_string_equal(post->target, "/hook");

    char *content_type = tn_http_header(post, "Content-Type");
    assert_non_null(content_type);
    assert_string_equal(content_type, "application/json");
    free(content_type);
    char *event_header = tn_http_header(post, "X-DP-Event");
    assert_non_null(event_header);
    assert_string_equal(event_header, event_type);
    free(event_header);
    char *delivery = tn_http_header(post, "X-DP-Delivery");
    assert_non_null(delivery);
    char expected_delivery[64];
    snprintf(expected_delivery, sizeof expected_delivery, "%lld-%llu", (long long)webhook_id,
             (unsigned long long)seq);
    assert_string_equal(delivery, expected_delivery);
    free(delivery);

    char *signature = tn_http_header(post, "DP-Signature");
    assert_non_null(signature);
    long long timestamp = 0;
    char hex[65] = "";
    if (sscanf(signature, "t=%lld,v1=%64[0-9a-f]", &timestamp, hex) != 2)
        fail_msg("DP-Signature is not t=<unix>,v1=<hex>: %s", signature);
    assert_true(llabs((long long)time(NULL) - timestamp) < 120);
    char *signed_text = NULL;
    size_t signed_size = 0;
    FILE *stream = open_memstream(&signed_text, &signed_size);
    assert_non_null(stream);
    fprintf(stream, "%lld.", timestamp);
    fwrite(post->body, 1, post->body_size, stream);
    fclose(stream);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
                         (const unsigned char *)signed_text, signed_size, digest, &digest_length));
    free(signed_text);
    assert_int_equal(digest_length, 32);
    char expected[65];
    for (unsigned int i = 0; i < digest_length; i++)
        snprintf(expected + 2 * i, 3, "%02x", digest[i]);
    assert_string_equal(hex, expected);
    free(signature);

    /* The event in proto3 JSON: lowerCamelCase, seq as a string, payload in base64. */
    json_error_t error;
    json_t *body = json_loadb(post->body, post->body_size, 0, &error);
    if (!body)
        fail_msg("the body is not JSON (%s): %s", error.text, post->body);
    char seq_text[24];
    snprintf(seq_text, sizeof seq_text, "%llu", (unsigned long long)seq);
    assert_string_equal(json_string_value(json_object_get(body, "seq")), seq_text);
    assert_string_equal(json_string_value(json_object_get(body, "type")), event_type);
    assert_string_equal(json_string_value(json_object_get(body, "aggregateType")), "test");
    assert_string_equal(json_string_value(json_object_get(body, "aggregateId")), aggregate_id);
    assert_string_equal(json_string_value(json_object_get(body, "origin")), "registry");
    const char *occurred_at = json_string_value(json_object_get(body, "occurredAt"));
    assert_non_null(occurred_at);
    assert_true(strlen(occurred_at) >= 20);
    const char *encoded = json_string_value(json_object_get(body, "payload"));
    assert_non_null(encoded);
    unsigned char decoded[256];
    size_t encoded_length = strlen(encoded);
    assert_true(encoded_length < sizeof decoded);
    int decoded_length =
        EVP_DecodeBlock(decoded, (const unsigned char *)encoded, (int)encoded_length);
    assert_true(decoded_length >= 0);
    /* EVP_DecodeBlock counts the padding as bytes. */
    while (encoded_length && encoded[encoded_length - 1] == '=') {
        encoded_length--;
        decoded_length--;
    }
    assert_int_equal(decoded_length, strlen(payload));
    assert_memory_equal(decoded, payload, strlen(payload));
    json_decref(body);
}

/* ---- retries, then delivered ------------------------------------------------------------ */

static void test_delivery_failing_twice_arrives_signed_on_the_third_attempt(void **state)
{
    const int failures[] = {500, 500};
    tn_http_receiver_t *receiver = tn_http_receiver_new(failures, 2, 200);
    Dp__Webhook *webhook = s_add(tn_http_receiver_url(receiver), "hook.retry.", SECRET);
    int64_t id = webhook->id;
    assert_true(id > 0);
    ts_free(&webhook);

    uint64_t seq = s_emit("hook.retry.done", "retried", "retried payload");
    assert_int_equal(tn_http_receiver_wait(receiver, 3, DELIVERY_WAIT_MS), 3);
    assert_true(s_wait_state(id, seq, "delivered"));
    /* Delivered on the third POST, and then no more. */
    assert_int_equal(tn_http_receiver_wait(receiver, 3, 0), 3);
    for (size_t i = 0; i < 3; i++) {
        const tn_http_request_t *post = tn_http_receiver_request(receiver, i);
        assert_int_equal(post->answered, i < 2 ? 500 : 200);
        s_assert_signed_post(post, id, seq, "hook.retry.done", "retried-1", "retried payload");
        /* Every attempt sends the same bytes. */
        assert_string_equal(post->body, tn_http_receiver_request(receiver, 0)->body);
    }
    char id_text[24], seq_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    snprintf(seq_text, sizeof seq_text, "%llu", (unsigned long long)seq);
    const char *params[] = {id_text, seq_text};
    assert_int_equal(ts_query_long(admin,
                                   "SELECT attempts FROM notify.webhook_delivery"
                                   " WHERE webhook_id = $1::bigint AND seq = $2::bigint",
                                   2, params),
                     3);

    webhook = s_listed(id);
    assert_non_null(webhook);
    assert_int_equal(webhook->delivered_seq, seq);
    assert_int_equal(webhook->pending, 0);
    assert_int_equal(webhook->parked, 0);
    ts_free(&webhook);
    s_remove(id, DP__CODE__CODE_OK, NULL);
    tn_http_receiver_destroy(&receiver);
}

/* ---- parked, then replayed ---------------------------------------------------------------- */

static void test_delivery_that_always_fails_is_parked_then_replayed(void **state)
{
    tn_http_receiver_t *receiver = tn_http_receiver_new(NULL, 0, 500);
    Dp__Webhook *webhook = s_add(tn_http_receiver_url(receiver), "hook.park.", SECRET);
    int64_t id = webhook->id;
    ts_free(&webhook);
    char owner[40];
    snprintf(owner, sizeof owner, "webhook:%lld", (long long)id);

    s_emit("hook.unrelated", "unrelated", "not for this webhook");
    uint64_t seq = s_emit("hook.park.item", "parked", "parked payload");
    assert_int_equal(tn_http_receiver_wait(receiver, 3, DELIVERY_WAIT_MS), 3);
    assert_true(s_wait_state(id, seq, "parked"));
    /* Three attempts (DP_WEBHOOK_MAX_ATTEMPTS), none after parking. */
    assert_int_equal(tn_http_receiver_wait(receiver, 4, 0), 3);
    for (size_t i = 0; i < 3; i++)
        s_assert_signed_post(tn_http_receiver_request(receiver, i), id, seq, "hook.park.item",
                             "parked-1", "parked payload");
    /* The topic filter: only its own event was queued for it. */
    assert_int_equal(s_delivery_rows(id), 1);

    Dp__ListParkedReply *parked = tn_parked(notify, owner);
    assert_int_equal(parked->n_parked, 1);
    assert_string_equal(parked->parked[0]->consumer, owner);
    assert_int_equal(parked->parked[0]->event->seq, seq);
    assert_string_equal(parked->parked[0]->event->type, "hook.park.item");
    assert_int_equal(parked->parked[0]->attempts, 3);
    /* The stored error is a class with the status, not libcurl's text. */
    assert_string_equal(parked->parked[0]->last_error, "http_5xx 500");
    assert_true(strlen(parked->parked[0]->parked_at) >= 20);
    ts_free(&parked);
    parked = tn_parked(notify, "");
    bool listed = false;
    for (size_t i = 0; i < parked->n_parked; i++)
        listed |= strcmp(parked->parked[i]->consumer, owner) == 0;
    assert_true(listed);
    ts_free(&parked);
    webhook = s_listed(id);
    assert_int_equal(webhook->parked, 1);
    assert_int_equal(webhook->pending, 0);
    ts_free(&webhook);

    /* The receiver is fixed; the replay delivers. */
    tn_http_receiver_set_status(receiver, 200);
    Dp__ReplayParkedRequest replay = DP__REPLAY_PARKED_REQUEST__INIT;
    replay.consumer = owner;
    dp_status_t status;
    Dp__ReplayParkedReply *replayed = tn_replay_parked(notify, &replay, &status);
    ts_assert_ok(&status);
    assert_int_equal(replayed->replayed, 1);
    ts_free(&replayed);
    assert_int_equal(tn_http_receiver_wait(receiver, 4, DELIVERY_WAIT_MS), 4);
    assert_true(s_wait_state(id, seq, "delivered"));
    const tn_http_request_t *post = tn_http_receiver_request(receiver, 3);
    assert_int_equal(post->answered, 200);
    s_assert_signed_post(post, id, seq, "hook.park.item", "parked-1", "parked payload");
    parked = tn_parked(notify, owner);
    assert_int_equal(parked->n_parked, 0);
    ts_free(&parked);
    webhook = s_listed(id);
    assert_int_equal(webhook->parked, 0);
    assert_int_equal(webhook->delivered_seq, seq);
    ts_free(&webhook);

    /* Nothing parked at that seq any more; a bad owner is refused. */
    replay.seq = seq;
    replayed = tn_replay_parked(notify, &replay, &status);
    ts_assert_status(&status, NOT_FOUND, "seq");
    replay.consumer = "webhook:0";
    replayed = tn_replay_parked(notify, &replay, &status);
    ts_assert_status(&status, INVALID_ARGUMENT, "consumer");
    assert_null(replayed);
    s_remove(id, DP__CODE__CODE_OK, NULL);
    tn_http_receiver_destroy(&receiver);
}

/* ---- add, list, remove ------------------------------------------------------------------- */

static void test_add_list_remove_and_refusals(void **state)
{
    /* A public address (TEST-NET-3): nothing is ever delivered there in this test. */
    Dp__Webhook *webhook = s_add("https://203.0.113.7/dp", "hook.crud.", SECRET);
    int64_t id = webhook->id;
    assert_true(id > 0);
    assert_string_equal(webhook->url, "https://203.0.113.7/dp");
    assert_string_equal(webhook->topic_prefix, "hook.crud.");
    assert_true(strlen(webhook->created_at) >= 20);
    ts_free(&webhook);
    webhook = s_listed(id);
    assert_non_null(webhook);
    assert_string_equal(webhook->url, "https://203.0.113.7/dp");
    assert_string_equal(webhook->topic_prefix, "hook.crud.");
    assert_int_equal(webhook->pending, 0);
    assert_int_equal(webhook->parked, 0);
    ts_free(&webhook);

    s_remove(id, DP__CODE__CODE_OK, NULL);
    assert_null(s_listed(id));
    s_remove(id, DP__CODE__CODE_NOT_FOUND, "id");
    s_remove(0, DP__CODE__CODE_INVALID_ARGUMENT, "id");
    s_remove(-5, DP__CODE__CODE_INVALID_ARGUMENT, "id");
    /* A removed webhook gets nothing of what comes later. */
    s_emit("hook.crud.after", "after", "after removal");
    assert_int_equal(s_delivery_rows(id), 0);

    /* The shortest secret accepted. */
    webhook = s_add("http://127.0.0.1:9/x", "", "0123456789abcdef");
    s_remove(webhook->id, DP__CODE__CODE_OK, NULL);
    ts_free(&webhook);

    char long_url[520] = "https://example.org/";
    memset(long_url + strlen(long_url), 'u', sizeof long_url - strlen(long_url) - 1);
    long_url[sizeof long_url - 1] = 0;
    char long_secret[202];
    memset(long_secret, 's', sizeof long_secret - 1);
    long_secret[sizeof long_secret - 1] = 0;
    s_expect_add_refused("", "", SECRET, "url");
    s_expect_add_refused("ftp://example.org/hook", "", SECRET, "url");
    s_expect_add_refused("http://", "", SECRET, "url");
    s_expect_add_refused("http:///hook", "", SECRET, "url");
    s_expect_add_refused("http://exa mple.org/hook", "", SECRET, "url");
    s_expect_add_refused("example.org/hook", "", SECRET, "url");
    s_expect_add_refused(long_url, "", SECRET, "url");
    s_expect_add_refused("https://example.org/hook", "", "", "secret");
    s_expect_add_refused("https://example.org/hook", "", "short", "secret");
    s_expect_add_refused("https://example.org/hook", "", "0123456789abcde", "secret");
    s_expect_add_refused("https://example.org/hook", "", long_secret, "secret");
    s_expect_add_refused("https://example.org/hook", "", "0123456789abcdef\x01", "secret");
    s_expect_add_refused("https://example.org/hook", "hook crud", SECRET, "topic_prefix");
}

int main(void)
{
    tn_open("notify_webhooks", &db, &admin, &writer);
    const char *const settings[] = {"DP_NOTIFY_POLL_MS",
                                    "100",
                                    "DP_WEBHOOK_MAX_ATTEMPTS",
                                    MAX_ATTEMPTS,
                                    "DP_WEBHOOK_BACKOFF_MS",
                                    "20",
                                    "DP_WEBHOOK_TIMEOUT_MS",
                                    "5000",
                                    "DP_WEBHOOK_ALLOW_HOSTS",
                                    "127.0.0.1",
                                    NULL};
    notify = tn_notify_start(ts_database_url(db, TS_ROLE_NOTIFY), settings);
    tn_require_relaying(notify, admin, RELAY_WAIT_MS);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery_failing_twice_arrives_signed_on_the_third_attempt),
        cmocka_unit_test(test_delivery_that_always_fails_is_parked_then_replayed),
        cmocka_unit_test(test_add_list_remove_and_refusals),
    };
    int failed = cmocka_run_group_tests_name("notify webhooks", tests, NULL, NULL);
    tn_notify_stop(&notify);
    tn_close(&db, &admin, &writer);
    return failed;
}
