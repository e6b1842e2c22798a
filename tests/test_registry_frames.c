/* Malformed traffic on the wire, sent with a raw DEALER socket: every case
   gets a dp.Reply with a clear error status, and the service keeps serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"
#include "test_wire.h"

static ts_fixture_t *fx;

enum { MAX_MESSAGE_BYTES = 65536, REPLY_TIMEOUT_MS = 10000 };

/* The raw-frame helpers are shared with the other services' frame tests. */
static zsock_t *s_dealer(void)
{
    return ts_dealer_new(ts_registry_endpoint(fx->registry), REPLY_TIMEOUT_MS);
}
#define s_envelope_for ts_envelope_for
#define s_exchange ts_exchange
#define s_assert_reply_status(reply, code, field)                                                  \
    ts_assert_reply_at(reply, code, field, __FILE__, __LINE__)

/* A well-formed request on the same socket, and one from the typed client,
   both succeed. */
static void s_assert_still_serving(zsock_t *dealer)
{
    Dp__ListAreasRequest areas = DP__LIST_AREAS_REQUEST__INIT;
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zframe_t *envelope = s_envelope_for("still-serving", &areas.base);
    zmsg_append(request, &envelope);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_OK, NULL);
    assert_string_equal(reply->request_id, "still-serving");
    assert_string_equal(reply->type, "dp.ListAreasReply");
    ts_free(&reply);

    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    dp_status_t status;
    Dp__HealthReply *healthy = ts_health(fx->registry, &health, &status);
    ts_assert_ok(&status);
    assert_true(healthy->database_ok);
    ts_free(&healthy);
}

static void test_well_formed_request_is_answered(void **state)
{
    zsock_t *dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_single_frame_is_refused(void **state)
{
    zsock_t *dealer = s_dealer();
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    zmsg_t *request = zmsg_new();
    zframe_t *envelope = s_envelope_for("one-frame", &health.base);
    zmsg_append(request, &envelope);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_INVALID_ARGUMENT, NULL);
    ts_free(&reply);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_three_frames_are_refused(void **state)
{
    zsock_t *dealer = s_dealer();
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zframe_t *envelope = s_envelope_for("three-frames", &health.base);
    zmsg_append(request, &envelope);
    zmsg_addstr(request, "extra");
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_INVALID_ARGUMENT, NULL);
    ts_free(&reply);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_missing_empty_delimiter_is_refused(void **state)
{
    zsock_t *dealer = s_dealer();
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    zmsg_t *request = zmsg_new();
    zmsg_addstr(request, "not-empty");
    zframe_t *envelope = s_envelope_for("no-delimiter", &health.base);
    zmsg_append(request, &envelope);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_INVALID_ARGUMENT, NULL);
    ts_free(&reply);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_envelope_that_is_not_protobuf_is_refused(void **state)
{
    static const unsigned char garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x07, 0x07};
    zsock_t *dealer = s_dealer();
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zmsg_addmem(request, garbage, sizeof garbage);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_INVALID_ARGUMENT, NULL);
    /* Nothing could be read, not even the request id. */
    assert_string_equal(reply->request_id, "");
    ts_free(&reply);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_unknown_type_is_unimplemented(void **state)
{
    zsock_t *dealer = s_dealer();
    zmsg_t *request = ts_envelope_message("unknown-type", "dp.NoSuchRequest", NULL, 0);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_UNIMPLEMENTED, "type");
    assert_string_equal(reply->request_id, "unknown-type");
    ts_free(&reply);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_missing_type_is_invalid(void **state)
{
    zsock_t *dealer = s_dealer();
    zmsg_t *request = ts_envelope_message("no-type", "", NULL, 0);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_INVALID_ARGUMENT, "type");
    assert_string_equal(reply->request_id, "no-type");
    ts_free(&reply);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_body_that_does_not_decode_is_invalid(void **state)
{
    static const unsigned char garbage[] = {0x0a, 0x7f, 'a', 'b'};
    zsock_t *dealer = s_dealer();
    long long last = ts_outbox_last_id(fx->admin);
    zmsg_t *request =
        ts_envelope_message("bad-body", "dp.CreatePartnerRequest", garbage, sizeof garbage);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_INVALID_ARGUMENT, "body");
    assert_string_equal(reply->request_id, "bad-body");
    ts_free(&reply);
    assert_int_equal(ts_outbox_count_after(fx->admin, last), 0);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_request_over_the_size_limit_is_resource_exhausted(void **state)
{
    enum { NOTE_BYTES = 100 * 1024 };
    char *note = malloc(NOTE_BYTES + 1);
    assert_non_null(note);
    memset(note, 'n', NOTE_BYTES);
    note[NOTE_BYTES] = 0;
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.slug = "too-large";
    create.name = "Too Large";
    create.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create.joined_on = "2020-01-01";
    create.note = note;
    char *before = ts_registry_fingerprint(fx->admin);

    zsock_t *dealer = s_dealer();
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zframe_t *envelope = s_envelope_for("too-large", &create.base);
    assert_true(zframe_size(envelope) > MAX_MESSAGE_BYTES);
    zmsg_append(request, &envelope);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL);
    ts_free(&reply);
    free(note);

    char *after = ts_registry_fingerprint(fx->admin);
    assert_string_equal(before, after);
    free(before);
    free(after);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_request_under_the_size_limit_reaches_its_handler(void **state)
{
    /* 60 KB is under the limit, so the handler sees it and refuses the note
       for its own reason, not the size of the message. */
    enum { NOTE_BYTES = 60 * 1024 };
    char *note = malloc(NOTE_BYTES + 1);
    assert_non_null(note);
    memset(note, 'n', NOTE_BYTES);
    note[NOTE_BYTES] = 0;
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.slug = "under-limit";
    create.name = "Under Limit";
    create.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create.joined_on = "2020-01-01";
    create.note = note;
    ts_expect_error(fx, &create, INVALID_ARGUMENT, "note");
    free(note);
}

static void test_invalid_request_id_is_refused(void **state)
{
    zsock_t *dealer = s_dealer();
    zmsg_t *request = ts_envelope_message("bad\xff"
                                          "id",
                                          "dp.HealthRequest", NULL, 0);
    Dp__Reply *reply = s_exchange(dealer, &request);
    s_assert_reply_status(reply, DP__CODE__CODE_INVALID_ARGUMENT, "request_id");
    ts_free(&reply);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

int main(void)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%d", MAX_MESSAGE_BYTES);
    const char *settings[] = {"DP_MAX_MESSAGE_BYTES", limit, NULL};
    fx = ts_fixture_new("frames", settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed_request_is_answered),
        cmocka_unit_test(test_single_frame_is_refused),
        cmocka_unit_test(test_three_frames_are_refused),
        cmocka_unit_test(test_missing_empty_delimiter_is_refused),
        cmocka_unit_test(test_envelope_that_is_not_protobuf_is_refused),
        cmocka_unit_test(test_unknown_type_is_unimplemented),
        cmocka_unit_test(test_missing_type_is_invalid),
        cmocka_unit_test(test_body_that_does_not_decode_is_invalid),
        cmocka_unit_test(test_request_over_the_size_limit_is_resource_exhausted),
        cmocka_unit_test(test_request_under_the_size_limit_reaches_its_handler),
        cmocka_unit_test(test_invalid_request_id_is_refused),
    };
    int failed = cmocka_run_group_tests_name("registry frames", tests, NULL, NULL);
    ts_fixture_destroy(&fx);
    return failed;
}
