/* What the intake believes with CURVE on: who did it is the certificate
   (a front end may name the person it acts for), never the request's actor
   field; a feeder key submits only under the sources its certificate lists
   (by default its own name), is rate-limited per key as well as per
   source, and learns nothing of another source's enquiries; events name an
   assignee by an opaque staff id; received_at must lie in a sane window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dp_security.h"
#include "intake_support.h"
#include "security_support.h"

enum { ANSWER_MS = 10000 };

static ts_database_t *database;
static PGconn *admin;
static tk_keys_t *keys;
static tk_service_t *intake; /* CURVE on, no registry (not needed here) */

/* ---- helpers ------------------------------------------------------------------------------ */

/* A feeder certificate that lists the sources it may submit under. */
static void s_add_feeder_with_sources(const char *name, const char *sources)
{
    char public_path[512], secret_path[512], allowed_path[512];
    snprintf(public_path, sizeof public_path, "%s/private/%s.key", tk_keys_dir(keys), name);
    snprintf(secret_path, sizeof secret_path, "%s", tk_keys_secret_path(keys, name));
    snprintf(allowed_path, sizeof allowed_path, "%s/clients/%s.key", tk_keys_dir(keys), name);
    zcert_t *cert = zcert_new();
    assert_non_null(cert);
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "role", "feeder");
    zcert_set_meta(cert, "sources", "%s", sources);
    assert_int_equal(zcert_save_public(cert, public_path), 0);
    assert_int_equal(zcert_save_secret(cert, secret_path), 0);
    zcert_destroy(&cert);
    /* Moved into clients/ in one step, so that the service never reads half a file. */
    assert_int_equal(rename(public_path, allowed_path), 0);
}

/* Sends the request as the named client; fails unless an answer comes. */
static Dp__Reply *s_call_as(tk_service_t *service, const char *client_name,
                            const ProtobufCMessage *request)
{
    tk_client_t *client = tk_client_new(tk_service_endpoint(service), keys, TK_INTAKE,
                                        tk_keys_secret_path(keys, client_name));
    Dp__Reply *reply = tk_exchange(client, request, ANSWER_MS);
    tk_client_destroy(&client);
    if (!reply)
        fail_msg("%s got no answer to %s", client_name, request->descriptor->name);
    return reply;
}

static Dp__Reply *s_call(const char *client_name, const ProtobufCMessage *request)
{
    return s_call_as(intake, client_name, request);
}

/* A dp.Request from a front end naming the person it acts for: the raw
   clients of security_support.h do not set on_behalf_of. */
static Dp__Reply *s_call_on_behalf(const char *client_name, const char *person,
                                   const ProtobufCMessage *request)
{
    dp_client_keys_t client_keys;
    memset(&client_keys, 0, sizeof client_keys);
    assert_int_equal(dp_client_keys_load(&client_keys, tk_keys_dir(keys),
                                         tk_keys_secret_path(keys, client_name), "intake"),
                     1);
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    assert_non_null(dealer);
    dp_client_keys_apply(&client_keys, dealer);
    zsock_set_rcvtimeo(dealer, ANSWER_MS);
    assert_int_equal(zsock_connect(dealer, "%s", tk_service_endpoint(intake)), 0);
    size_t size = 0;
    unsigned char *body = dp_message_pack(request, &size);
    assert_non_null(body);
    Dp__Request envelope = DP__REQUEST__INIT;
    envelope.request_id = "on-behalf-1";
    envelope.type = (char *)request->descriptor->name;
    envelope.body.data = body;
    envelope.body.len = size;
    envelope.on_behalf_of = (char *)person;
    size_t packed_size = 0;
    unsigned char *packed = dp_message_pack(&envelope.base, &packed_size);
    free(body);
    assert_non_null(packed);
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, packed, packed_size);
    free(packed);
    assert_int_equal(zmsg_send(&message, dealer), 0);
    Dp__Reply *reply = ts_receive_reply(dealer);
    zsock_destroy(&dealer);
    dp_client_keys_free(&client_keys);
    return reply;
}

static void s_assert_code(const Dp__Reply *reply, Dp__Code code, const char *field)
{
    if (reply->status->code != code || strcmp(reply->status->field, field ? field : "") != 0)
        fail_msg("expected %s on '%s', got %s on '%s': %s", dp_code_name(code), field ? field : "",
                 dp_code_name(reply->status->code), reply->status->field, reply->status->message);
}

/* Submits the form as the client; returns the enquiry id, or 0 when refused
   (then *reply_out, if given, keeps the refusal). */
static int64_t s_submit(const char *client_name, ti_form_t *form, Dp__Reply **reply_out)
{
    Dp__Reply *reply = s_call(client_name, &form->request.base);
    int64_t id = 0;
    if (reply->status->code == DP__CODE__CODE_OK) {
        Dp__SubmitEnquiryReply *answer = (Dp__SubmitEnquiryReply *)dp_message_decode(
            &dp__submit_enquiry_reply__descriptor, reply->body.data, reply->body.len, 1 << 20);
        assert_non_null(answer);
        id = answer->enquiry_id;
        ts_free(&answer);
    }
    if (reply_out)
        *reply_out = reply;
    else
        ts_free(&reply);
    return id;
}

static long long s_stored_with_key(const char *key)
{
    const char *params[] = {key};
    return ts_query_long(admin, "SELECT count(*) FROM intake.enquiry WHERE idempotency_key = $1", 1,
                         params);
}

/* The actor of the enquiry's first history row (received). */
static char *s_received_by(int64_t id)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_text(admin,
                         "SELECT actor FROM intake.enquiry_transition WHERE enquiry_id = $1::bigint"
                         " ORDER BY id LIMIT 1",
                         1, params);
}

/* ---- sources ------------------------------------------------------------------------------- */

/* Undoes what s_setup made; safe on what it did not make. */
static int s_teardown(void **state)
{
    tk_service_stop(&intake);
    tk_keys_destroy(&keys);
    if (admin)
        PQfinish(admin);
    admin = NULL;
    ts_database_destroy(&database);
    return 0;
}

/* Everything the tests share, made once; -1 (after undoing what was made)
   when a service does not start. */
static int s_setup(void **state)
{
    database = ts_database_new("intake_trust");
    admin = ts_connect_or_exit(ts_database_url(database, TS_ROLE_ADMIN));
    keys = tk_keys_new();
    s_add_feeder_with_sources("feeder-multi", "web-form, mail-import");
    tk_keys_add_client(keys, "console", "frontend", true);
    /* No registry: a port where nothing listens (the intake does not wait for it). */
    const char *settings[] = {"DP_CURVE_DIR",
                              tk_keys_dir(keys),
                              "DP_CURVE_CLIENT_CERT",
                              tk_keys_secret_path(keys, "service-client"),
                              "DP_REGISTRY_ENDPOINT",
                              "tcp://127.0.0.1:9",
                              "DP_INTAKE_SENDER_LIMIT_PER_HOUR",
                              "0",
                              NULL};
    intake = tk_service_start(TK_INTAKE, ts_database_url(database, TS_ROLE_INTAKE), settings);
    if (!intake) {
        fprintf(stderr, "FATAL: the intake did not start with CURVE\n");
        s_teardown(state);
        return -1;
    }
    return 0;
}

static void test_a_feeder_submits_only_under_its_own_name_by_default(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "own-source");
    form.enquiry.source = "feeder-client";
    int64_t id = s_submit("feeder-client", &form, NULL);
    assert_true(id > 0);
    /* Received from the key that submitted it. */
    char *actor = s_received_by(id);
    assert_string_equal(actor, "feeder-client");
    free(actor);

    ti_form_init(&form, "other-source");
    form.enquiry.source = "website";
    Dp__Reply *reply = NULL;
    assert_int_equal(s_submit("feeder-client", &form, &reply), 0);
    s_assert_code(reply, DP__CODE__CODE_PERMISSION_DENIED, "source");
    ts_free(&reply);
    assert_int_equal(s_stored_with_key(form.key), 0);
}

static void test_a_feeder_submits_under_the_sources_its_certificate_lists(void **state)
{
    const char *allowed[] = {"web-form", "mail-import"};
    for (size_t i = 0; i < 2; i++) {
        ti_form_t form;
        ti_form_init(&form, "listed");
        form.enquiry.source = (char *)allowed[i];
        assert_true(s_submit("feeder-multi", &form, NULL) > 0);
    }
    /* Its own name is not listed; neither is a prefix of a listed source. */
    const char *refused[] = {"feeder-multi", "web", "mail-import-2", "website"};
    for (size_t i = 0; i < 4; i++) {
        ti_form_t form;
        ti_form_init(&form, "unlisted");
        form.enquiry.source = (char *)refused[i];
        Dp__Reply *reply = NULL;
        assert_int_equal(s_submit("feeder-multi", &form, &reply), 0);
        s_assert_code(reply, DP__CODE__CODE_PERMISSION_DENIED, "source");
        ts_free(&reply);
        assert_int_equal(s_stored_with_key(form.key), 0);
    }
}

static void test_staff_submit_under_any_source(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "staff-source");
    form.enquiry.source = "website";
    assert_true(s_submit("staff-client", &form, NULL) > 0);
}

static void test_no_reply_names_an_enquiry_id(void **state)
{
    /* Another source's key: the feeder cannot even try it. */
    ti_form_t theirs;
    ti_form_init(&theirs, "their-key");
    theirs.enquiry.source = "website";
    int64_t their_id = s_submit("staff-client", &theirs, NULL);
    assert_true(their_id > 0);
    ti_form_t squat;
    ti_form_init(&squat, "squat");
    snprintf(squat.key, sizeof squat.key, "%s", theirs.key);
    squat.enquiry.source = "website";
    Dp__Reply *reply = NULL;
    assert_int_equal(s_submit("feeder-client", &squat, &reply), 0);
    s_assert_code(reply, DP__CODE__CODE_PERMISSION_DENIED, "source");
    assert_null(strstr(reply->status->message, ts_id_text(their_id)));
    ts_free(&reply);

    /* Its own key reused with other content: refused without the id. */
    ti_form_t first;
    ti_form_init(&first, "reused-key");
    first.enquiry.source = "feeder-client";
    int64_t first_id = s_submit("feeder-client", &first, NULL);
    assert_true(first_id > 0);
    first.enquiry.subject = "Another question under the same key";
    assert_int_equal(s_submit("feeder-client", &first, &reply), 0);
    s_assert_code(reply, DP__CODE__CODE_ALREADY_EXISTS, "idempotency_key");
    assert_null(strstr(reply->status->message, ts_id_text(first_id)));
    ts_free(&reply);
}

static void test_rate_limits_apply_per_key_as_well_as_per_source(void **state)
{
    /* An intake of its own with three submissions a second per bucket. */
    const char *settings[] = {"DP_CURVE_DIR",
                              tk_keys_dir(keys),
                              "DP_CURVE_CLIENT_CERT",
                              tk_keys_secret_path(keys, "service-client"),
                              "DP_REGISTRY_ENDPOINT",
                              "tcp://127.0.0.1:9",
                              "DP_INTAKE_SENDER_LIMIT_PER_HOUR",
                              "0",
                              "DP_INTAKE_SOURCE_RATE",
                              "3",
                              NULL};
    tk_service_t *limited =
        tk_service_start(TK_INTAKE, ts_database_url(database, TS_ROLE_INTAKE), settings);
    assert_non_null(limited);
    for (int i = 0; i < 3; i++) {
        ti_form_t form;
        ti_form_init(&form, "rate-key");
        form.enquiry.source = "web-form";
        Dp__Reply *reply = s_call_as(limited, "feeder-multi", &form.request.base);
        s_assert_code(reply, DP__CODE__CODE_OK, NULL);
        ts_free(&reply);
    }
    /* Another source with a full bucket: the key's own bucket is empty. */
    ti_form_t form;
    ti_form_init(&form, "rate-key");
    form.enquiry.source = "mail-import";
    Dp__Reply *reply = s_call_as(limited, "feeder-multi", &form.request.base);
    s_assert_code(reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, "source");
    ts_free(&reply);
    assert_int_equal(s_stored_with_key(form.key), 0);
    /* The source itself still takes another key's submission. */
    reply = s_call_as(limited, "staff-client", &form.request.base);
    s_assert_code(reply, DP__CODE__CODE_OK, NULL);
    ts_free(&reply);
    tk_service_stop(&limited);
}

/* ---- who did it ------------------------------------------------------------------------------ */

static int64_t s_new_enquiry(const char *tag)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    int64_t id = s_submit("staff-client", &form, NULL);
    assert_true(id > 0);
    return id;
}

/* The actors of an enquiry's history rows after the first two (intake's),
   then of its notes, "|"-separated. */
static char *s_actors(int64_t id)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_text(
        admin,
        "SELECT concat_ws('/',"
        " (SELECT string_agg(actor, '|' ORDER BY id) FROM (SELECT id, actor FROM"
        "   intake.enquiry_transition WHERE enquiry_id = $1::bigint ORDER BY id OFFSET 2) t),"
        " (SELECT string_agg(actor, '|' ORDER BY id) FROM intake.enquiry_note"
        "   WHERE enquiry_id = $1::bigint))",
        1, params);
}

static void test_the_history_names_the_certificate_not_the_claimed_actor(void **state)
{
    int64_t id = s_new_enquiry("forged");
    Dp__AssignEnquiryRequest assign = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    assign.id = id;
    assign.assignee = "bob";
    assign.actor = "somebody.else";
    Dp__TransitionEnquiryRequest answer = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    answer.id = id;
    answer.to_status = DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ANSWERED;
    answer.actor = "somebody.else";
    Dp__AddEnquiryNoteRequest note = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
    note.id = id;
    note.text = "Called back.";
    note.actor = "somebody.else";
    /* With CURVE the field may as well be empty. */
    Dp__TransitionEnquiryRequest close = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    close.id = id;
    close.to_status = DP__ENQUIRY_STATUS__ENQUIRY_STATUS_CLOSED;
    const ProtobufCMessage *requests[] = {&assign.base, &answer.base, &note.base, &close.base};
    for (size_t i = 0; i < 4; i++) {
        Dp__Reply *reply = s_call("staff-client", requests[i]);
        s_assert_code(reply, DP__CODE__CODE_OK, NULL);
        ts_free(&reply);
    }
    char *actors = s_actors(id);
    assert_string_equal(actors, "staff-client|staff-client|staff-client/staff-client");
    free(actors);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT (SELECT count(*) FROM intake.enquiry_transition"
                                   "  WHERE actor LIKE '%somebody%')"
                                   " + (SELECT count(*) FROM intake.enquiry_note"
                                   "  WHERE actor LIKE '%somebody%')"
                                   " + (SELECT count(*) FROM intake.audit_log"
                                   "  WHERE actor LIKE '%somebody%')",
                                   0, NULL),
                     0);
}

static void test_a_front_end_names_the_person_it_acts_for(void **state)
{
    int64_t id = s_new_enquiry("front-end");
    Dp__AssignEnquiryRequest assign = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    assign.id = id;
    assign.assignee = "ann.person";
    assign.actor = "somebody.else";
    Dp__AddEnquiryNoteRequest note = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
    note.id = id;
    note.text = "Through the console.";
    const ProtobufCMessage *requests[] = {&assign.base, &note.base};
    for (size_t i = 0; i < 2; i++) {
        Dp__Reply *reply = s_call_on_behalf("console", "ann.person", requests[i]);
        s_assert_code(reply, DP__CODE__CODE_OK, NULL);
        ts_free(&reply);
    }
    char *actors = s_actors(id);
    assert_string_equal(actors, "ann.person via console/ann.person via console");
    free(actors);
    /* A staff key cannot name someone else: on_behalf_of is for front ends. */
    Dp__AddEnquiryNoteRequest again = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
    again.id = id;
    again.text = "Not through the console.";
    Dp__Reply *reply = s_call_on_behalf("staff-client", "ann.person", &again.base);
    assert_int_not_equal(reply->status->code, DP__CODE__CODE_OK);
    ts_free(&reply);
    actors = s_actors(id);
    assert_string_equal(actors, "ann.person via console/ann.person via console");
    free(actors);
}

/* ---- events -----------------------------------------------------------------------------------
 */

static void test_the_assigned_event_carries_a_staff_id_and_no_name(void **state)
{
    int64_t id = s_new_enquiry("assigned-event");
    long long last = ti_outbox_last_id(admin);
    Dp__AssignEnquiryRequest assign = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    assign.id = id;
    assign.assignee = "Jane Staffmember";
    Dp__Reply *reply = s_call("staff-client", &assign.base);
    s_assert_code(reply, DP__CODE__CODE_OK, NULL);
    ts_free(&reply);
    ts_event_t *event = ti_expect_one_event(admin, last, "enquiry.assigned", ts_id_text(id));
    assert_false(ts_event_mentions(event, "Jane"));
    assert_false(ts_event_mentions(event, "Staffmember"));
    Dp__EnquiryEvent *payload = ti_enquiry_event(event);
    assert_string_equal(payload->assignee, "");
    const char *params[] = {"Jane Staffmember"};
    long long staff_id =
        ts_query_long(admin, "SELECT id FROM intake.staff WHERE name = $1", 1, params);
    assert_true(staff_id > 0);
    assert_int_equal(payload->assignee_id, staff_id);
    ts_free(&payload);
    ts_event_free(&event);

    /* A later move keeps naming the assignee by the id only. */
    last = ti_outbox_last_id(admin);
    Dp__TransitionEnquiryRequest answer = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    answer.id = id;
    answer.to_status = DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ANSWERED;
    reply = s_call("staff-client", &answer.base);
    s_assert_code(reply, DP__CODE__CODE_OK, NULL);
    ts_free(&reply);
    event = ti_expect_one_event(admin, last, "enquiry.status_changed", ts_id_text(id));
    assert_false(ts_event_mentions(event, "Jane"));
    payload = ti_enquiry_event(event);
    assert_int_equal(payload->assignee_id, staff_id);
    ts_free(&payload);
    ts_event_free(&event);

    /* Staff still read the name. */
    Dp__GetEnquiryRequest get = DP__GET_ENQUIRY_REQUEST__INIT;
    get.id = id;
    reply = s_call("staff-client", &get.base);
    s_assert_code(reply, DP__CODE__CODE_OK, NULL);
    Dp__GetEnquiryReply *got = (Dp__GetEnquiryReply *)dp_message_decode(
        &dp__get_enquiry_reply__descriptor, reply->body.data, reply->body.len, 1 << 20);
    assert_non_null(got);
    assert_string_equal(got->enquiry->assignee, "Jane Staffmember");
    ts_free(&got);
    ts_free(&reply);
}

/* ---- received_at -------------------------------------------------------------------------------
 */

static void test_received_at_outside_a_sane_window_is_refused(void **state)
{
    char soon[32], too_soon[32];
    time_t now = time(NULL);
    struct tm utc;
    time_t in_a_minute = now + 60, in_ten_minutes = now + 600;
    gmtime_r(&in_a_minute, &utc);
    strftime(soon, sizeof soon, "%Y-%m-%dT%H:%M:%SZ", &utc);
    gmtime_r(&in_ten_minutes, &utc);
    strftime(too_soon, sizeof too_soon, "%Y-%m-%dT%H:%M:%SZ", &utc);
    const char *refused[] = {"2999-01-01T00:00:00Z", too_soon, "2016-12-31T23:59:59Z",
                             /* 2016-12-31T23:30:00Z, by its offset */
                             "2017-01-01T00:30:00+01:00"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        ti_form_t form;
        ti_form_init(&form, "window");
        form.enquiry.received_at = (char *)refused[i];
        Dp__Reply *reply = NULL;
        assert_int_equal(s_submit("staff-client", &form, &reply), 0);
        s_assert_code(reply, DP__CODE__CODE_INVALID_ARGUMENT, "received_at");
        ts_free(&reply);
        assert_int_equal(s_stored_with_key(form.key), 0);
    }
    /* A clock a minute fast, and the oldest mail imported, are accepted. */
    const char *accepted[] = {soon, "2017-01-01T00:00:00Z", "2017-11-08T09:00:00+01:00"};
    for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++) {
        ti_form_t form;
        ti_form_init(&form, "window");
        form.enquiry.received_at = (char *)accepted[i];
        assert_true(s_submit("staff-client", &form, NULL) > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_feeder_submits_only_under_its_own_name_by_default),
        cmocka_unit_test(test_a_feeder_submits_under_the_sources_its_certificate_lists),
        cmocka_unit_test(test_staff_submit_under_any_source),
        cmocka_unit_test(test_no_reply_names_an_enquiry_id),
        cmocka_unit_test(test_rate_limits_apply_per_key_as_well_as_per_source),
        cmocka_unit_test(test_the_history_names_the_certificate_not_the_claimed_actor),
        cmocka_unit_test(test_a_front_end_names_the_person_it_acts_for),
        cmocka_unit_test(test_the_assigned_event_carries_a_staff_id_and_no_name),
        cmocka_unit_test(test_received_at_outside_a_sane_window_is_refused),
    };
    return cmocka_run_group_tests_name("intake trust", tests, s_setup, s_teardown);
}
