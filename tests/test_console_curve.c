/* The staff console with CurveZMQ on, as deployed: the console calls the
   registry and the intake with its own certificate (role frontend, named
   "console") and names the signed-in person on every request, so the
   intake's history, notes and audit read "<person> via console"; staff
   accounts are made over the console's own CURVE endpoint with a staff
   key, and the console's audit names that key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console_support.h"
#include "dp_security.h"
#include "security_support.h"

static ts_database_t *database;
static PGconn *admin;
static tk_keys_t *keys;
static tk_service_t *registry;
static tk_service_t *intake;
static tc_console_t *console;

static const char PASSWORD[] = "correct horse battery";
static const char PERSON[] = "Ana Lopes via console";

/* Submits an enquiry over CURVE with the staff key; returns its id. */
static int64_t s_submit(const char *tag)
{
    dp_client_keys_t client_keys;
    assert_int_equal(dp_client_keys_load(&client_keys, tk_keys_dir(keys),
                                         tk_keys_secret_path(keys, "staff-client"), "intake"),
                     1);
    dp_client_t *client = dp_client_new(tk_service_endpoint(intake), 15000, 1);
    assert_non_null(client);
    dp_client_set_keys(client, &client_keys);
    ti_form_t form;
    ti_form_init(&form, tag);
    form.enquiry.received_at = (char *)tc_minute_ago();
    Dp__SubmitEnquiryReply *reply = NULL;
    dp_status_t status;
    assert_int_equal(dp_client_call(client, &form.request.base,
                                    &dp__submit_enquiry_reply__descriptor,
                                    (ProtobufCMessage **)&reply, &status),
                     0);
    ts_assert_ok(&status);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    dp_client_destroy(&client);
    dp_client_keys_free(&client_keys);
    return id;
}

/* Rows of the intake's table for this enquiry whose actor is `actor`. */
static long long s_rows_by(const char *sql, int64_t id, const char *actor)
{
    const char *params[] = {ts_id_text(id), actor};
    return ts_query_long(admin, sql, 2, params);
}

static void test_the_history_names_the_person_via_the_console(void **state)
{
    (void)state;
    int64_t id = s_submit("curve");
    tc_browser_t *browser = tc_browser_new(console, NULL);
    tc_login(browser, "ana", PASSWORD);
    const char *page_path = tc_enquiry_path(id, NULL);
    tc_submit_ok(browser, page_path, tc_enquiry_path(id, "assign"),
                 TC_FIELDS("assignee", "me", "note", "taking it"));
    tc_submit_ok(browser, page_path, tc_enquiry_path(id, "note"),
                 TC_FIELDS("text", "checked with the partner"));
    tc_submit_ok(browser, page_path, tc_enquiry_path(id, "due"),
                 TC_FIELDS("due_on", "2026-12-31", "reason", "the partner asked for time"));

    /* The services recorded the person through the console's certificate. */
    assert_true(s_rows_by("SELECT count(*) FROM intake.enquiry_transition"
                          " WHERE enquiry_id = $1 AND actor = $2",
                          id, PERSON) >= 2);
    assert_int_equal(s_rows_by("SELECT count(*) FROM intake.enquiry_note"
                               " WHERE enquiry_id = $1 AND actor = $2",
                               id, PERSON),
                     1);
    const char *params[] = {PERSON};
    assert_true(ts_query_long(admin,
                              "SELECT count(*) FROM intake.audit_log WHERE actor = $1"
                              " AND action IN ('read enquiry', 'change due date')",
                              1, params) >= 2);
    /* Nothing claimed without a certificate. */
    assert_int_equal(ts_query_long(admin,
                                   "SELECT (SELECT count(*) FROM intake.enquiry_transition"
                                   "         WHERE actor LIKE '%unauthenticated%')"
                                   "     + (SELECT count(*) FROM intake.enquiry_note"
                                   "         WHERE actor LIKE '%unauthenticated%')"
                                   "     + (SELECT count(*) FROM intake.audit_log"
                                   "         WHERE actor LIKE '%unauthenticated%')",
                                   0, NULL),
                     0);
    /* And the page shows it. */
    tc_response_t page = tc_get(browser, page_path);
    tc_assert_status(&page, 200, NULL);
    tc_assert_has(&page, "<span class=\"actor\">Ana Lopes via console</span>");
    tc_response_free(&page);
    tc_browser_destroy(&browser);
}

static void test_accounts_are_made_over_curve_and_audited_with_the_key(void **state)
{
    (void)state;
    const char *params[] = {"ana"};
    char *actor = ts_query_text(admin,
                                "SELECT actor FROM console.audit WHERE action = 'add account'"
                                " AND target = $1",
                                1, params);
    assert_string_equal(actor, "staff-client");
    free(actor);
    /* A client without a key gets no answer from the console's endpoint. */
    dp_client_t *plain = dp_client_new(tc_console_endpoint(console), 1500, 1);
    assert_non_null(plain);
    Dp__ListStaffRequest list = DP__LIST_STAFF_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    dp_status_t status;
    int outcome =
        dp_client_call(plain, &list.base, &dp__list_staff_reply__descriptor, &reply, &status);
    assert_true(outcome != 0 || status.code != DP__CODE__CODE_OK);
    dp_message_free(&reply);
    dp_client_destroy(&plain);
}

static int s_setup(void **state)
{
    (void)state;
    tc_add_staff(console, "ana", "Ana Lopes", AGENT, PASSWORD);
    return 0;
}

static void s_fatal(const char *what)
{
    fprintf(stderr, "FATAL: %s\n", what);
    tc_console_stop(&console);
    tk_service_stop(&intake);
    tk_service_stop(&registry);
    tk_keys_destroy(&keys);
    if (admin)
        PQfinish(admin);
    ts_database_destroy(&database);
    exit(1);
}

int main(void)
{
    database = ts_database_new("console_curve");
    admin = ts_connect_or_exit(ts_database_url(database, TS_ROLE_ADMIN));
    keys = tk_keys_new();
    /* The console's client certificate (a front end) and its own server key. */
    tk_keys_add_client(keys, "console", "frontend", true);
    char public_path[512], secret_path[512];
    snprintf(public_path, sizeof public_path, "%s/services/console.key", tk_keys_dir(keys));
    snprintf(secret_path, sizeof secret_path, "%s/services/console.key_secret", tk_keys_dir(keys));
    if (dp_security_new_cert(public_path, secret_path, "console", NULL) != 0)
        s_fatal("cannot make the console's server key");

    const char *service_settings[] = {"DP_CURVE_DIR", tk_keys_dir(keys), "DP_CURVE_CLIENT_CERT",
                                      tk_keys_secret_path(keys, "service-client"), NULL};
    registry = tk_service_start(TK_REGISTRY, ts_database_url(database, TS_ROLE_REGISTRY),
                                service_settings);
    if (!registry)
        s_fatal("the registry did not start with CURVE");
    const char *intake_settings[] = {"DP_CURVE_DIR",
                                     tk_keys_dir(keys),
                                     "DP_CURVE_CLIENT_CERT",
                                     tk_keys_secret_path(keys, "service-client"),
                                     "DP_REGISTRY_ENDPOINT",
                                     tk_service_endpoint(registry),
                                     NULL};
    intake =
        tk_service_start(TK_INTAKE, ts_database_url(database, TS_ROLE_INTAKE), intake_settings);
    if (!intake)
        s_fatal("the intake did not start with CURVE");
    /* notify and report are not needed here: where nothing listens. */
    tc_peers_t peers = {{NULL}};
    peers.endpoints[TF_REGISTRY] = tk_service_endpoint(registry);
    peers.endpoints[TF_INTAKE] = tk_service_endpoint(intake);
    const char *settings[] = {"DP_CURVE_DIR", tk_keys_dir(keys), "DP_CURVE_CLIENT_CERT",
                              tk_keys_secret_path(keys, "console"), NULL};
    console = tc_console_start(database, &peers, settings);
    if (!console)
        s_fatal("the console did not start with CURVE");
    tc_console_use_keys(console, tk_keys_dir(keys), tk_keys_secret_path(keys, "staff-client"));

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_history_names_the_person_via_the_console),
        cmocka_unit_test(test_accounts_are_made_over_curve_and_audited_with_the_key),
    };
    int failed = cmocka_run_group_tests_name("console with CURVE", tests, s_setup, NULL);
    tc_console_stop(&console);
    tk_service_stop(&intake);
    tk_service_stop(&registry);
    tk_keys_destroy(&keys);
    PQfinish(admin);
    ts_database_destroy(&database);
    return failed;
}
