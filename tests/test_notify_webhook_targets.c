/* Where webhooks may go, and what a failed delivery tells: AddWebhook
   refuses URLs whose host is or resolves to a loopback, link-local (the
   cloud metadata address 169.254.169.254 among them), private,
   unique-local, unspecified or multicast address, and http:// URLs, unless
   DP_WEBHOOK_ALLOW_HOSTS names the host (or host:port); a webhook stored
   with such a URL anyway (inserted here straight into the table) is refused
   again at delivery, before any connection; the error stored for a failed
   delivery is a class (refused, timeout, http_4xx 404, redirect_refused
   302, address_refused, https_required), never libcurl's text; and the
   body is the event in proto3 canonical JSON whose DP-Signature verifies
   independently (OpenSSL here) within a 5-minute window. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify_support.h"

static ts_database_t *db;
static PGconn *admin;
static PGconn *writer;
static tn_notify_t *notify;
static tn_http_receiver_t *named; /* reached as localhost:<its port>, allowlisted with the port */
static int named_port;
static int hanging; /* a listener that never accepts */
static int hanging_port;

#define SECRET "a-test-secret-of-32-bytes-length"

enum { RELAY_WAIT_MS = 20000, DELIVERY_WAIT_MS = 20000 };

/* ---- helpers --------------------------------------------------------------------- */

static Dp__AddWebhookReply *s_try_add(const char *url, dp_status_t *status)
{
    Dp__AddWebhookRequest request = DP__ADD_WEBHOOK_REQUEST__INIT;
    request.url = (char *)url;
    request.topic_prefix = "target.";
    request.secret = SECRET;
    return tn_add_webhook(notify, &request, status);
}

static int64_t s_add(const char *url, const char *prefix)
{
    Dp__AddWebhookRequest request = DP__ADD_WEBHOOK_REQUEST__INIT;
    request.url = (char *)url;
    request.topic_prefix = (char *)prefix;
    request.secret = SECRET;
    dp_status_t status;
    Dp__AddWebhookReply *reply = tn_add_webhook(notify, &request, &status);
    if (status.code != DP__CODE__CODE_OK)
        fail_msg("AddWebhook %s: %d %s", url, status.code, status.message);
    int64_t id = reply->webhook->id;
    ts_free(&reply);
    return id;
}

static void s_expect_refused(const char *url, Dp__Code code, const char *mentions)
{
    long long before = ts_query_long(admin, "SELECT count(*) FROM notify.webhook", 0, NULL);
    dp_status_t status;
    Dp__AddWebhookReply *reply = s_try_add(url, &status);
    if (status.code != code)
        fail_msg("AddWebhook %s: expected code %d, got %d (%s)", url, code, status.code,
                 status.message);
    assert_null(reply);
    assert_string_equal(status.field, "url");
    if (mentions && !strstr(status.message, mentions))
        fail_msg("AddWebhook %s: the message does not say '%s': %s", url, mentions, status.message);
    assert_int_equal(ts_query_long(admin, "SELECT count(*) FROM notify.webhook", 0, NULL), before);
}

/* A webhook row made without AddWebhook: as if its host had resolved
   elsewhere when it was added, or it predates the checks. */
static int64_t s_insert_webhook(const char *url, const char *prefix)
{
    const char *params[] = {url, prefix, SECRET};
    return (int64_t)ts_query_long(admin,
                                  "INSERT INTO notify.webhook (url, topic_prefix, secret)"
                                  " VALUES ($1, $2, $3) RETURNING id",
                                  3, params);
}

static uint64_t s_emit(const char *event_type, const char *tag, const char *payload)
{
    return tn_emit_one(writer, admin, event_type, tag, payload, RELAY_WAIT_MS);
}

/* Waits until the delivery of seq is parked (DP_WEBHOOK_MAX_ATTEMPTS is 1)
   and returns its stored error (the caller frees). */
static char *s_parked_error(int64_t webhook_id, uint64_t seq)
{
    char id[24], seq_text[24];
    snprintf(id, sizeof id, "%lld", (long long)webhook_id);
    snprintf(seq_text, sizeof seq_text, "%llu", (unsigned long long)seq);
    const char *params[] = {id, seq_text};
    if (!tn_wait_value(admin,
                       "SELECT count(*) FROM notify.webhook_delivery WHERE webhook_id = $1::bigint"
                       " AND seq = $2::bigint AND state = 'parked'",
                       2, params, 1, DELIVERY_WAIT_MS))
        fail_msg("the delivery of seq %s to webhook %s was not parked", seq_text, id);
    PGresult *result = PQexecParams(admin,
                                    "SELECT last_error FROM notify.webhook_delivery"
                                    " WHERE webhook_id = $1::bigint AND seq = $2::bigint",
                                    2, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(result), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(result), 1);
    char *error = strdup(PQgetvalue(result, 0, 0));
    PQclear(result);
    return error;
}

static void s_assert_parked_with(int64_t webhook_id, uint64_t seq, const char *expected)
{
    char *error = s_parked_error(webhook_id, seq);
    if (strcmp(error, expected) != 0)
        fail_msg("webhook %lld: stored error '%s', expected the class '%s'", (long long)webhook_id,
                 error, expected);
    free(error);
}

/* Runs the Python verification of docs/webhooks.md (its first python
   block) on the request as received: it must accept it, and refuse it
   with one byte more in the body or 301 s later. */
static void s_verify_with_the_documented_snippet(const tn_http_request_t *post,
                                                 const char *signature)
{
    char directory[] = "/tmp/dp-webhook-XXXXXX";
    assert_non_null(mkdtemp(directory));
    char body_path[64], script_path[64];
    snprintf(body_path, sizeof body_path, "%s/body", directory);
    snprintf(script_path, sizeof script_path, "%s/check.py", directory);
    FILE *body = fopen(body_path, "wb");
    assert_non_null(body);
    fwrite(post->body, 1, post->body_size, body);
    fclose(body);
    FILE *script = fopen(script_path, "w");
    assert_non_null(script);
    fprintf(script, "import sys, time\n"
                    "doc = open(sys.argv[1]).read()\n"
                    "exec(doc.split('```python\\n', 1)[1].split('```', 1)[0])\n"
                    "body = open(sys.argv[2], 'rb').read()\n"
                    "header, secret = sys.argv[3], sys.argv[4].encode()\n"
                    "good = verify(secret, header, body)\n"
                    "tampered = verify(secret, header, body + b' ')\n"
                    "late = verify(secret, header, body, now=time.time() + 301)\n"
                    "print('documented verify: good', good, 'tampered', tampered, 'late', late)\n"
                    "sys.exit(0 if good and not tampered and not late else 1)\n");
    fclose(script);
    char command[600];
    snprintf(command, sizeof command, "python3 %s %s/webhooks.md %s '%s' '%s' 1>&2", script_path,
             DP_DOCS_DIR, body_path, signature, SECRET);
    int outcome = system(command);
    unlink(body_path);
    unlink(script_path);
    rmdir(directory);
    if (outcome != 0)
        fail_msg("the snippet of docs/webhooks.md does not verify the delivery");
}

/* ---- refused when added ------------------------------------------------------------- */

static void test_internal_addresses_are_refused_when_added(void **state)
{
    (void)state;
    static const char *const internal[] = {
        "https://127.0.0.2/hook",                   /* loopback, not the allowlisted 127.0.0.1 */
        "https://localhost/hook",                   /* allowlisted only with another port */
        "https://169.254.169.254/latest/meta-data", /* link-local: cloud metadata */
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://172.31.255.254/hook",
        "https://192.168.1.1/hook",
        "https://100.64.0.1/hook", /* carrier-grade NAT */
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://255.255.255.255/hook",
        "https://[::1]/hook",
        "https://[::]/hook",
        "https://[fe80::1]/hook",
        "https://[fd12:3456::1]/hook", /* unique-local */
        "https://[ff02::1]/hook",
        "https://[::ffff:127.0.0.1]/hook", /* IPv4-mapped loopback */
        "https://[::ffff:10.0.0.1]/hook",
        "https://2130706434/hook", /* 127.0.0.2 as one number */
        "https://0x7f.2/hook",
        "https://10.1/hook", /* 10.0.0.1 */
    };
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++)
        s_expect_refused(internal[i], DP__CODE__CODE_PERMISSION_DENIED, "DP_WEBHOOK_ALLOW_HOSTS");
    /* The reason names the kind of address. */
    s_expect_refused("https://169.254.169.254/x", DP__CODE__CODE_PERMISSION_DENIED, "link-local");
    s_expect_refused("https://10.0.0.1/x", DP__CODE__CODE_PERMISSION_DENIED, "private");
    s_expect_refused("https://[::1]/x", DP__CODE__CODE_PERMISSION_DENIED, "loopback");
    /* https is required unless the host is allowlisted. */
    s_expect_refused("http://203.0.113.7/hook", DP__CODE__CODE_INVALID_ARGUMENT, "https");
    char url[120];
    snprintf(url, sizeof url, "http://localhost:%d/hook",
             named_port + 1 > 65535 ? 1 : named_port + 1);
    s_expect_refused(url, DP__CODE__CODE_INVALID_ARGUMENT, "https");
    /* A public address over https is accepted. */
    int64_t id = s_add("https://203.0.113.7/hook", "target.public.");
    assert_true(id > 0);
    Dp__RemoveWebhookRequest remove = DP__REMOVE_WEBHOOK_REQUEST__INIT;
    remove.id = id;
    ts_send_ok(notify, &remove, &dp__remove_webhook_reply__descriptor);
}

/* ---- allowlisted: delivered, over http ------------------------------------------------ */

static void test_an_allowlisted_name_and_port_is_delivered_to(void **state)
{
    (void)state;
    char url[120];
    snprintf(url, sizeof url, "http://localhost:%d/hook", named_port);
    int64_t id = s_add(url, "target.named.");
    uint64_t seq = s_emit("target.named.one", "named", "to localhost");
    assert_int_equal(tn_http_receiver_wait(named, 1, DELIVERY_WAIT_MS), 1);
    const tn_http_request_t *post = tn_http_receiver_request(named, 0);
    assert_string_equal(post->method, "POST");

    /* The body: exactly the proto3 JSON of the event, fields by number. */
    json_error_t error;
    json_t *body = json_loadb(post->body, post->body_size, 0, &error);
    if (!body)
        fail_msg("the body is not JSON (%s): %s", error.text, post->body);
    char seq_text[24];
    snprintf(seq_text, sizeof seq_text, "%llu", (unsigned long long)seq);
    /* "to localhost" in base64 */
    json_t *expected =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", seq_text, "type",
                  "target.named.one", "aggregateType", "test", "aggregateId", "named-1",
                  "occurredAt", json_string_value(json_object_get(body, "occurredAt")), "payload",
                  "dG8gbG9jYWxob3N0", "origin", "registry");
    assert_non_null(expected);
    if (!json_equal(body, expected))
        fail_msg("the body is not the event in proto3 JSON: %s", post->body);
    json_decref(expected);
    json_decref(body);
    /* No snake_case, no base64 of the whole message. */
    assert_null(strstr(post->body, "aggregate_id"));
    assert_null(strstr(post->body, "payload_base64"));

    /* The signature, recomputed: HMAC-SHA256(secret, "<t>.<body>"), t within 5 minutes. */
    char *signature = tn_http_header(post, "DP-Signature");
    assert_non_null(signature);
    long long t = 0;
    char hex[65] = "";
    int consumed = 0;
    if (sscanf(signature, "t=%lld,v1=%64[0-9a-f]%n", &t, hex, &consumed) != 2 ||
        (size_t)consumed != strlen(signature) || strlen(hex) != 64)
        fail_msg("DP-Signature is not t=<unix>,v1=<64 hex>: %s", signature);
    assert_true(llabs((long long)time(NULL) - t) <= 300);
    size_t signed_size = (size_t)snprintf(NULL, 0, "%lld.", t) + post->body_size;
    char *signed_text = malloc(signed_size + 1);
    assert_non_null(signed_text);
    int prefix = snprintf(signed_text, signed_size + 1, "%lld.", t);
    memcpy(signed_text + prefix, post->body, post->body_size);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)signed_text, signed_size,
         digest, &digest_length);
    char computed[65];
    for (unsigned int i = 0; i < 32; i++)
        snprintf(computed + 2 * i, 3, "%02x", digest[i]);
    assert_string_equal(hex, computed);
    /* The same body under another timestamp does not verify. */
    signed_text[0] = signed_text[0] == '1' ? '2' : '1';
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)signed_text, signed_size,
         digest, &digest_length);
    for (unsigned int i = 0; i < 32; i++)
        snprintf(computed + 2 * i, 3, "%02x", digest[i]);
    assert_string_not_equal(hex, computed);
    free(signed_text);
    s_verify_with_the_documented_snippet(post, signature);
    free(signature);

    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    const char *params[] = {id_text, seq_text};
    assert_true(tn_wait_value(admin,
                              "SELECT count(*) FROM notify.webhook_delivery WHERE webhook_id ="
                              " $1::bigint AND seq = $2::bigint AND state = 'delivered'",
                              2, params, 1, DELIVERY_WAIT_MS));
}

/* ---- refused at delivery ----------------------------------------------------------------- */

static void test_internal_addresses_are_refused_at_delivery(void **state)
{
    (void)state;
    char url[160];
    /* Named, not allowlisted on this port: resolves to loopback. */
    snprintf(url, sizeof url, "https://localhost:%d/hook", named_port == 9 ? 10 : 9);
    int64_t by_name = s_insert_webhook(url, "target.inside.");
    int64_t metadata =
        s_insert_webhook("https://169.254.169.254/latest/meta-data", "target.inside.");
    int64_t private_net = s_insert_webhook("https://10.0.0.1:5432/", "target.inside.");
    snprintf(url, sizeof url, "http://203.0.113.7:%d/hook", named_port);
    int64_t plain_http = s_insert_webhook(url, "target.inside.");
    size_t before = tn_http_receiver_wait(named, 0, 0);

    uint64_t seq = s_emit("target.inside.one", "inside", "must not leave");
    s_assert_parked_with(by_name, seq, "address_refused");
    s_assert_parked_with(metadata, seq, "address_refused");
    s_assert_parked_with(private_net, seq, "address_refused");
    s_assert_parked_with(plain_http, seq, "https_required");
    /* Nothing reached the receiver behind localhost. */
    assert_int_equal(tn_http_receiver_wait(named, before + 1, 300), before);
}

/* ---- the stored error is a class ------------------------------------------------------- */

static void test_the_stored_error_is_a_class(void **state)
{
    (void)state;
    char url[120];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/closed", tn_free_port());
    int64_t closed = s_add(url, "target.class.");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hangs", hanging_port);
    int64_t hangs = s_add(url, "target.class.");
    tn_http_receiver_t *missing = tn_http_receiver_new(NULL, 0, 404);
    int64_t not_found = s_add(tn_http_receiver_url(missing), "target.class.");
    tn_http_receiver_t *moved = tn_http_receiver_new(NULL, 0, 302);
    int64_t redirect = s_add(tn_http_receiver_url(moved), "target.class.");
    tn_http_receiver_t *broken = tn_http_receiver_new(NULL, 0, 503);
    int64_t unavailable = s_add(tn_http_receiver_url(broken), "target.class.");

    uint64_t seq = s_emit("target.class.one", "class", "what failed");
    s_assert_parked_with(closed, seq, "refused");
    s_assert_parked_with(hangs, seq, "timeout");
    s_assert_parked_with(not_found, seq, "http_4xx 404");
    s_assert_parked_with(redirect, seq, "redirect_refused 302");
    s_assert_parked_with(unavailable, seq, "http_5xx 503");
    /* ListParked shows the same classes. */
    Dp__ListParkedRequest request = DP__LIST_PARKED_REQUEST__INIT;
    request.consumer = "";
    request.limit = 1000;
    dp_status_t status;
    Dp__ListParkedReply *parked = tn_list_parked(notify, &request, &status);
    ts_assert_ok(&status);
    size_t seen = 0;
    for (size_t i = 0; i < parked->n_parked; i++) {
        const char *error = parked->parked[i]->last_error;
        if (strncmp(parked->parked[i]->consumer, "webhook:", 8) != 0)
            continue;
        seen++;
        /* A class, a space and a status at most: no sentence from libcurl. */
        assert_true(strlen(error) <= 24);
        assert_null(strstr(error, "Failed"));
        assert_null(strstr(error, "Could not"));
        assert_null(strstr(error, "after"));
    }
    assert_true(seen >= 5);
    ts_free(&parked);
    tn_http_receiver_destroy(&missing);
    tn_http_receiver_destroy(&moved);
    tn_http_receiver_destroy(&broken);
}

int main(void)
{
    tn_open("notify_webhook_targets", &db, &admin, &writer);
    named = tn_http_receiver_new(NULL, 0, 200);
    const char *receiver_url = tn_http_receiver_url(named);
    named_port = atoi(strrchr(receiver_url, ':') + 1);
    hanging = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (hanging < 0 || bind(hanging, (struct sockaddr *)&address, sizeof address) != 0 ||
        listen(hanging, 16) != 0 ||
        getsockname(hanging, (struct sockaddr *)&address, &length) != 0) {
        fprintf(stderr, "FATAL: cannot listen on 127.0.0.1\n");
        exit(1);
    }
    hanging_port = ntohs(address.sin_port);
    char allow[200];
    snprintf(allow, sizeof allow, "127.0.0.1, localhost:%d", named_port);
    const char *const settings[] = {"DP_NOTIFY_POLL_MS",
                                    "100",
                                    "DP_WEBHOOK_MAX_ATTEMPTS",
                                    "1",
                                    "DP_WEBHOOK_BACKOFF_MS",
                                    "20",
                                    "DP_WEBHOOK_TIMEOUT_MS",
                                    "1000",
                                    "DP_WEBHOOK_ALLOW_HOSTS",
                                    allow,
                                    NULL};
    notify = tn_notify_start(ts_database_url(db, TS_ROLE_NOTIFY), settings);
    tn_require_relaying(notify, admin, RELAY_WAIT_MS);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_internal_addresses_are_refused_when_added),
        cmocka_unit_test(test_an_allowlisted_name_and_port_is_delivered_to),
        cmocka_unit_test(test_internal_addresses_are_refused_at_delivery),
        cmocka_unit_test(test_the_stored_error_is_a_class),
    };
    int failed = cmocka_run_group_tests_name("notify webhook targets", tests, NULL, NULL);
    tn_notify_stop(&notify);
    tn_http_receiver_destroy(&named);
    close(hanging);
    tn_close(&db, &admin, &writer);
    return failed;
}
