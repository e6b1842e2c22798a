/* Revocation, at the handshake and at every request, with the registry
   started in this process on a key folder made in a temporary directory:

   - a staff key whose file is removed from clients/, renamed there
     (x.key.revoked) or moved into a subfolder of clients/ is refused on its
     next request on the connection it already has (UNAUTHENTICATED, within
     about two seconds, with an "audit:" line), and a new connection with it
     gets no answer at all;
   - a key whose file is only in a subfolder of clients/, or only there as
     x.key_secret, never gets an answer;
   - the name and role a request is judged by are the key store's, read at
     that request: a certificate rewritten with another role in place
     changes what the open connection may do;
   - dpctl keys new writes a feeder's sources into its certificate (the
     key store reads them back) and accepts the roles frontend and health;
     dpctl keys revoke moves clients/NAME.key to clients/revoked/ and the
     open connection of that key is refused;
   - dp_security_server_roles: a PUB socket admitting consumer and staff
     keys delivers to a consumer and never to a feeder; and
     dp_security_key_generation changes when a key leaves the store and
     not when one is added;
   - health replies: staff and front ends read the database's error text,
     other roles (health, feeder) read "unavailable"; the health role may
     send dp.HealthRequest and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_security.h"
#include "registry.pb-c.h"
#include "security_support.h"

enum { ANSWER_MS = 10000, SILENCE_MS = 1500, REVOKED_WITHIN_MS = 2500 };

static tk_capture_t *capture;   /* standard error, for the audit lines */
static ts_database_t *database; /* this program's database */
static tk_keys_t *keys;         /* the key folder */
static tk_service_t *registry;  /* CURVE on */
static tk_service_t *broken;    /* CURVE on, its database does not exist */

/* <key folder>/<relative> (static buffer ring). */
static const char *s_path(const char *format, const char *name)
{
    static char ring[4][1024];
    static int next;
    char *path = ring[next++ % 4];
    char relative[512];
    snprintf(relative, sizeof relative, format, name);
    snprintf(path, sizeof ring[0], "%s/%s", tk_keys_dir(keys), relative);
    return path;
}

static tk_client_t *s_client(tk_service_t *service, const char *name)
{
    return tk_client_new(tk_service_endpoint(service), keys, TK_REGISTRY,
                         tk_keys_secret_path(keys, name));
}

/* A request every role but health may send, which reads. */
static Dp__Reply *s_list_areas(tk_client_t *client, int timeout_ms)
{
    Dp__ListAreasRequest request = DP__LIST_AREAS_REQUEST__INIT;
    return tk_exchange(client, &request.base, timeout_ms);
}

static void s_expect_ok(tk_client_t *client)
{
    Dp__Reply *reply = s_list_areas(client, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
    ts_free(&reply);
}

/* Asks on the open connection until the answer is UNAUTHENTICATED; fails
   when it is not within REVOKED_WITHIN_MS of the change. */
static void s_expect_cut_off(tk_client_t *client, const char *what)
{
    int64_t deadline = zclock_mono() + REVOKED_WITHIN_MS;
    while (true) {
        Dp__Reply *reply = s_list_areas(client, ANSWER_MS);
        if (!reply)
            fail_msg("%s: no answer on the open connection (expected UNAUTHENTICATED)", what);
        Dp__Code code = reply->status->code;
        if (code == DP__CODE__CODE_UNAUTHENTICATED) {
            assert_non_null(strstr(reply->status->message, "no longer allowed"));
            ts_free(&reply);
            return;
        }
        ts_free(&reply);
        if (code != DP__CODE__CODE_OK)
            fail_msg("%s: %s on the open connection", what, dp_code_name(code));
        if (zclock_mono() > deadline)
            fail_msg("%s: still OK on the open connection %d ms after the change", what,
                     REVOKED_WITHIN_MS);
        zclock_sleep(100);
    }
}

static void s_expect_silence(const char *name, const char *what)
{
    tk_client_t *client = s_client(registry, name);
    Dp__Reply *reply = s_list_areas(client, SILENCE_MS);
    if (reply)
        fail_msg("%s: a new connection got %s", what, dp_code_name(reply->status->code));
    tk_client_destroy(&client);
}

/* A staff key that works, connected; then `change` takes its file out of
   the store; the open connection and a new one must both be refused. */
static void s_revocation_case(const char *name, void (*change)(const char *name), const char *what)
{
    tk_keys_add_client(keys, name, "staff", true);
    tk_client_t *client = s_client(registry, name);
    s_expect_ok(client);
    change(name);
    s_expect_cut_off(client, what);
    tk_client_destroy(&client);
    s_expect_silence(name, what);
    char *text = tk_capture_text(capture);
    assert_non_null(strstr(text, "audit: refused a request from the key"));
    free(text);
}

static void s_remove(const char *name)
{
    assert_int_equal(unlink(s_path("clients/%s.key", name)), 0);
}

static void s_rename(const char *name)
{
    char target[1024];
    snprintf(target, sizeof target, "%s.revoked", s_path("clients/%s.key", name));
    assert_int_equal(rename(s_path("clients/%s.key", name), target), 0);
}

static void s_move_into_subfolder(const char *name)
{
    mkdir(s_path("clients/%s", "old"), 0755);
    char target[1024];
    snprintf(target, sizeof target, "%s", s_path("clients/old/%s.key", name));
    assert_int_equal(rename(s_path("clients/%s.key", name), target), 0);
}

/* Undoes what s_setup made; safe on what it did not make. */
static int s_teardown(void **state)
{
    tk_service_stop(&broken);
    tk_service_stop(&registry);
    tk_capture_end(&capture);
    tk_keys_destroy(&keys);
    ts_database_destroy(&database);
    return 0;
}

/* Everything the tests share, made once; -1 (after undoing what was made)
   when a service does not start. */
static int s_setup(void **state)
{
    capture = tk_capture_start();
    database = ts_database_new("security_revocation");
    keys = tk_keys_new();
    tk_keys_add_client(keys, "console", "frontend", true);
    tk_keys_add_client(keys, "checker", "health", true);
    const char *curve[] = {"DP_CURVE_DIR", tk_keys_dir(keys), NULL};
    registry = tk_service_start(TK_REGISTRY, ts_database_url(database, TS_ROLE_REGISTRY), curve);
    char *missing =
        ts_url_with_dbname(ts_database_url(database, TS_ROLE_REGISTRY), "dp_no_such_database");
    const char *broken_settings[] = {"DP_CURVE_DIR", tk_keys_dir(keys), "DP_DB_WAIT_MS", "100",
                                     NULL};
    broken = missing ? tk_service_start(TK_REGISTRY, missing, broken_settings) : NULL;
    free(missing);
    if (!registry || !broken) {
        s_teardown(state);
        fprintf(stderr, "FATAL: the registry did not start with CURVE\n");
        return -1;
    }
    return 0;
}

static void test_a_removed_key_is_refused_on_its_open_connection(void **state)
{
    s_revocation_case("removed", s_remove, "file removed");
}

static void test_a_renamed_key_is_refused_on_its_open_connection(void **state)
{
    s_revocation_case("renamed", s_rename, "renamed to .key.revoked");
}

static void test_a_key_moved_into_a_subfolder_is_refused_on_its_open_connection(void **state)
{
    s_revocation_case("moved", s_move_into_subfolder, "moved into clients/old/");
}

static void test_a_key_only_in_a_subfolder_or_misnamed_never_works(void **state)
{
    /* Made outside clients/, then put where it must not count. */
    tk_keys_add_client(keys, "nested", "staff", false);
    tk_keys_add_client(keys, "misnamed", "staff", false);
    const char *const names[] = {"nested", "misnamed"};
    const char *const places[] = {"clients/deep/%s.key", "clients/%s.key_secret"};
    mkdir(s_path("clients/%s", "deep"), 0755);
    for (int i = 0; i < 2; i++) {
        dp_client_keys_t own;
        assert_int_equal(dp_client_keys_load(&own, tk_keys_dir(keys),
                                             tk_keys_secret_path(keys, names[i]), "registry"),
                         1);
        assert_int_equal(zcert_save_public(own.client, s_path(places[i], names[i])), 0);
        dp_client_keys_free(&own);
    }
    zclock_sleep(1200); /* past the store's next look at the folder */
    s_expect_silence("nested", "a key in clients/deep/");
    s_expect_silence("misnamed", "a key saved as clients/misnamed.key_secret");
}

static void test_the_role_is_read_at_every_request(void **state)
{
    /* A feeder key, connected, may not list partners... */
    tk_keys_add_client(keys, "promoted", "feeder", true);
    tk_client_t *client = s_client(registry, "promoted");
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    Dp__Reply *reply = tk_exchange(client, &request.base, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_PERMISSION_DENIED);
    ts_free(&reply);
    /* ...and its certificate rewritten as staff (same key, new file, moved
       in place) lets the same connection do it. */
    dp_client_keys_t own;
    assert_int_equal(dp_client_keys_load(&own, tk_keys_dir(keys),
                                         tk_keys_secret_path(keys, "promoted"), "registry"),
                     1);
    zcert_t *staff = zcert_new_from(zcert_public_key(own.client), zcert_secret_key(own.client));
    assert_non_null(staff);
    zcert_set_meta(staff, "name", "promoted");
    zcert_set_meta(staff, "role", "staff");
    char staging[1024];
    snprintf(staging, sizeof staging, "%s", s_path("private/%s.key", "promoted-staff"));
    assert_int_equal(zcert_save_public(staff, staging), 0);
    zcert_destroy(&staff);
    dp_client_keys_free(&own);
    assert_int_equal(rename(staging, s_path("clients/%s.key", "promoted")), 0);
    int64_t deadline = zclock_mono() + REVOKED_WITHIN_MS;
    Dp__Code code;
    do {
        zclock_sleep(100);
        reply = tk_exchange(client, &request.base, ANSWER_MS);
        assert_non_null(reply);
        code = reply->status->code;
        ts_free(&reply);
    } while (code != DP__CODE__CODE_OK && zclock_mono() < deadline);
    assert_int_equal(code, DP__CODE__CODE_OK);
    tk_client_destroy(&client);
}

/* ---- dpctl keys ------------------------------------------------------------------------ */

static ts_process_t s_dpctl(const char *const *arguments)
{
    char *program = zsys_sprintf("%s/services/dpctl/dpctl", ts_require_env("DP_BUILD_DIR"));
    const char *argv[16] = {program};
    size_t count = 1;
    for (const char *const *argument = arguments; *argument && count < 15; argument++)
        argv[count++] = *argument;
    argv[count] = NULL;
    ts_process_t run = ts_run(argv, NULL, 10000);
    zstr_free(&program);
    return run;
}

static void test_dpctl_keys_new_writes_sources_and_revoke_cuts_off(void **state)
{
    const char *dir = tk_keys_dir(keys);
    /* A feeder with its sources: the key store reads them from the certificate. */
    const char *feeder[] = {
        "keys",  "new", "shop", "--role", "feeder", "--sources", "shop-web,shop-app",
        "--dir", dir,   NULL};
    ts_process_t run = s_dpctl(feeder);
    assert_int_equal(run.exit_code, 0);
    ts_process_free(&run);
    zcert_t *cert = zcert_load(s_path("clients/%s.key", "shop"));
    assert_non_null(cert);
    dp_key_info_t info;
    zclock_sleep(50);
    assert_true(dp_security_key_lookup(dir, zcert_public_txt(cert), &info));
    assert_string_equal(info.name, "shop");
    assert_int_equal(info.role, DP_ROLE_FEEDER);
    assert_string_equal(info.sources, "shop-web,shop-app");
    zcert_destroy(&cert);
    /* --sources is a feeder's; the new roles are accepted. */
    const char *wrong[] = {"keys",      "new", "nope",  "--role", "staff",
                           "--sources", "a",   "--dir", dir,      NULL};
    run = s_dpctl(wrong);
    assert_int_not_equal(run.exit_code, 0);
    ts_process_free(&run);
    const char *front[] = {"keys", "new", "desk", "--role", "frontend", "--dir", dir, NULL};
    run = s_dpctl(front);
    assert_int_equal(run.exit_code, 0);
    ts_process_free(&run);
    /* A staff key made by dpctl, connected, then revoked by dpctl. */
    const char *staff[] = {"keys", "new", "leaving", "--role", "staff", "--dir", dir, NULL};
    run = s_dpctl(staff);
    assert_int_equal(run.exit_code, 0);
    ts_process_free(&run);
    tk_client_t *client = s_client(registry, "leaving");
    s_expect_ok(client);
    const char *revoke[] = {"keys", "revoke", "leaving", "--dir", dir, NULL};
    run = s_dpctl(revoke);
    assert_int_equal(run.exit_code, 0);
    ts_process_free(&run);
    assert_int_not_equal(access(s_path("clients/%s.key", "leaving"), F_OK), 0);
    assert_int_equal(access(s_path("clients/revoked/%s.key", "leaving"), F_OK), 0);
    s_expect_cut_off(client, "dpctl keys revoke");
    tk_client_destroy(&client);
    s_expect_silence("leaving", "dpctl keys revoke");
    /* Nothing left to revoke: an error, and nothing moves. */
    run = s_dpctl(revoke);
    assert_int_not_equal(run.exit_code, 0);
    ts_process_free(&run);
}

/* ---- the PUB socket's API ------------------------------------------------------------- */

static zsock_t *s_subscriber(const char *endpoint, const char *name)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    assert_non_null(sub);
    zsock_set_linger(sub, 0);
    dp_client_keys_t own;
    assert_int_equal(
        dp_client_keys_load(&own, tk_keys_dir(keys), tk_keys_secret_path(keys, name), "notify"), 1);
    dp_client_keys_apply(&own, sub);
    dp_client_keys_free(&own);
    zsock_set_subscribe(sub, "");
    assert_int_equal(zsock_connect(sub, "%s", endpoint), 0);
    return sub;
}

static void test_a_pub_socket_admits_only_its_roles(void **state)
{
    zsock_t *pub = zsock_new(ZMQ_PUB);
    assert_non_null(pub);
    zsock_set_linger(pub, 0);
    assert_int_equal(dp_security_server_roles(pub, tk_keys_dir(keys), "notify", "dp-events",
                                              DP_ROLE_CONSUMER | DP_ROLE_STAFF),
                     0);
    assert_true(zsock_bind(pub, "tcp://127.0.0.1:*") > 0);
    char *endpoint = zsock_last_endpoint(pub);
    zsock_t *consumer = s_subscriber(endpoint, "consumer-client");
    zsock_t *feeder = s_subscriber(endpoint, "feeder-client");
    /* Publish until the consumer has one (subscriptions take a moment). */
    int64_t deadline = zclock_mono() + ANSWER_MS;
    char *got = NULL;
    zsock_set_rcvtimeo(consumer, 100);
    while (!got && zclock_mono() < deadline) {
        zstr_send(pub, "event");
        got = zstr_recv(consumer);
    }
    assert_non_null(got);
    zstr_free(&got);
    for (int i = 0; i < 10; i++)
        zstr_send(pub, "event");
    zsock_set_rcvtimeo(feeder, SILENCE_MS);
    got = zstr_recv(feeder);
    if (got)
        fail_msg("a feeder key received '%s' from a PUB admitting consumer and staff", got);
    zsock_destroy(&feeder);
    zsock_destroy(&consumer);
    zstr_free(&endpoint);
    zsock_destroy(&pub);
    dp_security_server_done(tk_keys_dir(keys));
}

static void test_the_key_generation_changes_when_a_key_leaves(void **state)
{
    const char *dir = tk_keys_dir(keys);
    uint64_t before = dp_security_key_generation(dir);
    tk_keys_add_client(keys, "arrives", "consumer", true);
    zclock_sleep(1200);
    assert_true(dp_security_key_generation(dir) == before);
    tk_keys_revoke(keys, "arrives");
    int64_t deadline = zclock_mono() + REVOKED_WITHIN_MS;
    while (dp_security_key_generation(dir) == before && zclock_mono() < deadline)
        zclock_sleep(50);
    assert_true(dp_security_key_generation(dir) > before);
}

/* ---- health -------------------------------------------------------------------------- */

static Dp__HealthReply *s_health(const char *name)
{
    tk_client_t *client = s_client(broken, name);
    Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
    Dp__Reply *reply = tk_exchange(client, &request.base, ANSWER_MS);
    tk_client_destroy(&client);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
    Dp__HealthReply *health = (Dp__HealthReply *)protobuf_c_message_unpack(
        &dp__health_reply__descriptor, NULL, reply->body.len, reply->body.data);
    ts_free(&reply);
    assert_non_null(health);
    assert_false(health->database_ok);
    return health;
}

static void test_health_detail_is_for_staff_and_front_ends_only(void **state)
{
    const char *const detailed[] = {"staff-client", "console"};
    for (int i = 0; i < 2; i++) {
        Dp__HealthReply *health = s_health(detailed[i]);
        if (!strstr(health->database_message, "dp_no_such_database"))
            fail_msg("%s read '%s', not the database's error", detailed[i],
                     health->database_message);
        protobuf_c_message_free_unpacked(&health->base, NULL);
    }
    const char *const plain[] = {"checker", "feeder-client", "consumer-client"};
    for (int i = 0; i < 3; i++) {
        Dp__HealthReply *health = s_health(plain[i]);
        if (strcmp(health->database_message, "unavailable") != 0)
            fail_msg("%s read '%s'", plain[i], health->database_message);
        protobuf_c_message_free_unpacked(&health->base, NULL);
    }
}

static void test_the_health_role_sends_health_and_nothing_else(void **state)
{
    tk_client_t *client = s_client(registry, "checker");
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    Dp__Reply *reply = tk_exchange(client, &health.base, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
    ts_free(&reply);
    reply = s_list_areas(client, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_PERMISSION_DENIED);
    ts_free(&reply);
    tk_client_destroy(&client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_removed_key_is_refused_on_its_open_connection),
        cmocka_unit_test(test_a_renamed_key_is_refused_on_its_open_connection),
        cmocka_unit_test(test_a_key_moved_into_a_subfolder_is_refused_on_its_open_connection),
        cmocka_unit_test(test_a_key_only_in_a_subfolder_or_misnamed_never_works),
        cmocka_unit_test(test_the_role_is_read_at_every_request),
        cmocka_unit_test(test_dpctl_keys_new_writes_sources_and_revoke_cuts_off),
        cmocka_unit_test(test_a_pub_socket_admits_only_its_roles),
        cmocka_unit_test(test_the_key_generation_changes_when_a_key_leaves),
        cmocka_unit_test(test_health_detail_is_for_staff_and_front_ends_only),
        cmocka_unit_test(test_the_health_role_sends_health_and_nothing_else),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
