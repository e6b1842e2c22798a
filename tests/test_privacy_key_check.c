/* With CURVE on, the registry and the intake refuse to start with the
   development privacy key or one shorter than 32 bytes
   (dp_privacy_key_check), and say why in an error line; with a key of 32
   bytes they start and answer; without CURVE (development) the default is
   only warned about and the service starts. The services run in this
   process on a key folder made in a temporary directory; the dp-registry
   and dp-intake programs ($DP_BUILD_DIR) are also run, and must exit 1 at
   once rather than hang or serve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_privacy.h"
#include "security_support.h"

enum { ANSWER_MS = 10000 };

#define DEFAULT_KEY "development-only-privacy-key"
/* 31 and 32 bytes. */
#define SHORT_KEY "0123456789abcdef0123456789abcde"
#define GOOD_KEY "0123456789abcdef0123456789abcdef"

static tk_capture_t *capture;   /* standard error, for the refusal lines */
static ts_database_t *database; /* this program's database */
static tk_keys_t *keys;         /* the key folder */

/* The captured log contains `needle`. */
static bool s_logged(const char *needle)
{
    char *text = tk_capture_text(capture);
    bool found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

static ts_role_t s_role(tk_kind_t kind)
{
    return kind == TK_REGISTRY ? TS_ROLE_REGISTRY : TS_ROLE_INTAKE;
}

/* Starts the registry or the intake with CURVE on (curve true) and `key`. */
static tk_service_t *s_start(tk_kind_t kind, bool curve, const char *key,
                             const char *registry_endpoint)
{
    char cert[512];
    snprintf(cert, sizeof cert, "%s", tk_keys_secret_path(keys, "service-client"));
    const char *settings[] = {"DP_PRIVACY_KEY",
                              key,
                              "DP_CURVE_DIR",
                              curve ? tk_keys_dir(keys) : "",
                              "DP_CURVE_CLIENT_CERT",
                              curve ? cert : "",
                              kind == TK_INTAKE ? "DP_REGISTRY_ENDPOINT" : NULL,
                              registry_endpoint,
                              NULL};
    return tk_service_start(kind, ts_database_url(database, s_role(kind)), settings);
}

/* A health request from the staff client is answered OK. */
static void s_assert_answers(tk_service_t *service, tk_kind_t kind)
{
    tk_client_t *client = tk_client_new(tk_service_endpoint(service), keys, kind,
                                        tk_keys_secret_path(keys, "staff-client"));
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    Dp__Reply *reply = tk_exchange(client, &health.base, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
    ts_free(&reply);
    tk_client_destroy(&client);
}

/* Neither the registry nor the intake starts with CURVE on and this key
   (what: the key in words), and the log says why. */
static void s_expect_refused_with_curve(const char *key, const char *what, const char *logged)
{
    tk_kind_t kinds[] = {TK_REGISTRY, TK_INTAKE};
    for (size_t i = 0; i < 2; i++) {
        tk_service_t *service = s_start(kinds[i], true, key, "tcp://127.0.0.1:1");
        if (service)
            fail_msg("the %s started with CURVE on and %s", tk_kind_name(kinds[i]), what);
    }
    assert_true(s_logged(logged));
}

static void test_default_key_refused_with_curve(void **state)
{
    (void)state;
    s_expect_refused_with_curve(DEFAULT_KEY, "the default privacy key",
                                "DP_PRIVACY_KEY is the development default and CURVE is on: "
                                "refusing to start");
}

static void test_short_key_refused_with_curve(void **state)
{
    (void)state;
    s_expect_refused_with_curve(SHORT_KEY, "a privacy key of 31 bytes",
                                "DP_PRIVACY_KEY has 31 bytes and CURVE is on: refusing to start");
}

static void test_programs_exit_with_the_default_key(void **state)
{
    (void)state;
    const char *programs[] = {"services/registry/dp-registry", "services/intake/dp-intake"};
    for (size_t i = 0; i < 2; i++) {
        char path[1024], curve[600];
        snprintf(path, sizeof path, "%s/%s", ts_require_env("DP_BUILD_DIR"), programs[i]);
        snprintf(curve, sizeof curve, "DP_CURVE_DIR=%s", tk_keys_dir(keys));
        const char *argv[] = {path, NULL};
        const char *env[] = {curve,
                             "DP_PRIVACY_KEY=" DEFAULT_KEY,
                             "DP_METRICS_PORT=-1",
                             "DP_REGISTRY_ENDPOINT=tcp://127.0.0.1:0",
                             "DP_INTAKE_ENDPOINT=tcp://127.0.0.1:0",
                             "DP_DB_WAIT_MS=0",
                             NULL};
        ts_process_t run = ts_run(argv, env, 10000);
        if (run.exit_code != 1 || !strstr(run.err, "refusing to start"))
            fail_msg("%s exited with %d (1 expected, -1: still running after 10 s):\n%s", path,
                     run.exit_code, run.err);
        ts_process_free(&run);
    }
}

static void test_key_of_32_bytes_accepted_with_curve(void **state)
{
    (void)state;
    tk_service_t *registry = s_start(TK_REGISTRY, true, GOOD_KEY, NULL);
    assert_non_null(registry);
    s_assert_answers(registry, TK_REGISTRY);
    tk_service_t *intake = s_start(TK_INTAKE, true, GOOD_KEY, tk_service_endpoint(registry));
    assert_non_null(intake);
    s_assert_answers(intake, TK_INTAKE);
    tk_service_stop(&intake);
    tk_service_stop(&registry);
}

static void test_default_key_only_warned_without_curve(void **state)
{
    (void)state;
    tk_service_t *registry = s_start(TK_REGISTRY, false, DEFAULT_KEY, NULL);
    assert_non_null(registry);
    tk_client_t *client = tk_client_new(tk_service_endpoint(registry), keys, TK_REGISTRY, NULL);
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    Dp__Reply *reply = tk_exchange(client, &health.base, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
    ts_free(&reply);
    tk_client_destroy(&client);
    tk_service_stop(&registry);
    assert_true(s_logged("DP_PRIVACY_KEY is the development default: set a secret"));
}

int main(void)
{
    capture = tk_capture_start();
    database = ts_database_new("privacy_key_check");
    keys = tk_keys_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_key_refused_with_curve),
        cmocka_unit_test(test_short_key_refused_with_curve),
        cmocka_unit_test(test_programs_exit_with_the_default_key),
        cmocka_unit_test(test_key_of_32_bytes_accepted_with_curve),
        cmocka_unit_test(test_default_key_only_warned_without_curve),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tk_keys_destroy(&keys);
    ts_database_destroy(&database);
    tk_capture_end(&capture);
    return failed;
}
