/* The intake's own part of the door, with a raw DEALER socket: its size
   limit (under it a submission is stored, far past it only the connection
   is dropped), a registry request refused, and bad requests inside a batch
   refused alone while the rest is stored. Nothing refused is stored, and
   the service keeps serving. The framing every service shares (malformed
   frames and envelopes, unknown types, NUL) is test_server_frames.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake_support.h"

static ti_fixture_t *fx;

enum { MAX_MESSAGE_BYTES = 4096, REPLY_TIMEOUT_MS = 10000 };

static zsock_t *s_dealer(void)
{
    return ts_dealer_new(ti_intake_endpoint(fx->intake), REPLY_TIMEOUT_MS);
}

/* A valid submission on the same socket is stored, and the typed client's
   health request is answered. */
static void s_assert_still_serving(zsock_t *dealer)
{
    ti_form_t form;
    ti_form_init(&form, "still-serving");
    zmsg_t *request = ts_request_message("still-serving", &form.request.base);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    assert_string_equal(reply->request_id, "still-serving");
    Dp__SubmitEnquiryReply *answer =
        (Dp__SubmitEnquiryReply *)ts_reply_body(reply, &dp__submit_enquiry_reply__descriptor);
    assert_true(answer->enquiry_id > 0);
    assert_false(answer->already_submitted);
    ts_free(&answer);
    ts_free(&reply);

    ts_assert_healthy(fx->intake);
}

/* Sends the message, expects a refusal with this code and field, and checks
   that nothing was stored. */
static void s_expect_refusal(zsock_t *dealer, zmsg_t **request_p, Dp__Code code, const char *field,
                             const char *request_id)
{
    char *before = ti_fingerprint(fx->admin);
    Dp__Reply *reply = ts_exchange(dealer, request_p);
    ts_assert_reply_at(reply, code, field, __FILE__, __LINE__);
    if (request_id)
        assert_string_equal(reply->request_id, request_id);
    ts_free(&reply);
    char *after = ti_fingerprint(fx->admin);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_well_formed_submission_is_answered(void **state)
{
    zsock_t *dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

/* A registry request is not the intake's. */
static void test_registry_request_is_unimplemented(void **state)
{
    zsock_t *dealer = s_dealer();
    Dp__ListAreasRequest areas = DP__LIST_AREAS_REQUEST__INIT;
    zmsg_t *request = ts_request_message("registry-type", &areas.base);
    s_expect_refusal(dealer, &request, DP__CODE__CODE_UNIMPLEMENTED, "type", "registry-type");
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

/* A body of n bytes makes the submission's message about n + 300 bytes. */
static void s_form_with_body(ti_form_t *form, const char *tag, char **body, size_t n)
{
    *body = malloc(n + 1);
    assert_non_null(*body);
    memset(*body, 'b', n);
    (*body)[n] = 0;
    ti_form_init(form, tag);
    form->enquiry.body = *body;
}

static void test_request_over_the_size_limit_is_resource_exhausted(void **state)
{
    char *body = NULL;
    ti_form_t form;
    s_form_with_body(&form, "too-large", &body, MAX_MESSAGE_BYTES);
    zsock_t *dealer = s_dealer();
    zmsg_t *request = ts_request_message("too-large", &form.request.base);
    assert_true(zmsg_content_size(request) > MAX_MESSAGE_BYTES);
    s_expect_refusal(dealer, &request, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, NULL);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
    free(body);
}

static void test_request_under_the_size_limit_is_stored(void **state)
{
    char *body = NULL;
    ti_form_t form;
    s_form_with_body(&form, "under-limit", &body, MAX_MESSAGE_BYTES - 600);
    zsock_t *dealer = s_dealer();
    zmsg_t *request = ts_request_message("under-limit", &form.request.base);
    assert_true(zmsg_content_size(request) < MAX_MESSAGE_BYTES);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, OK, NULL);
    ts_free(&reply);
    zsock_destroy(&dealer);
    free(body);
}

/* Far past the limit ZeroMQ drops the connection instead of buffering the
   message (no reply can come); the service serves everyone else. */
static void test_request_far_over_the_limit_does_not_stop_the_service(void **state)
{
    char *body = NULL;
    ti_form_t form;
    s_form_with_body(&form, "far-too-large", &body, 8 * MAX_MESSAGE_BYTES);
    char *before = ti_fingerprint(fx->admin);
    zsock_t *dealer = s_dealer();
    zmsg_t *request = ts_request_message("far-too-large", &form.request.base);
    assert_int_equal(zmsg_send(&request, dealer), 0);
    zsock_t *other = s_dealer();
    s_assert_still_serving(other);
    zsock_destroy(&other);
    zsock_destroy(&dealer);
    char *after = ti_fingerprint(fx->admin);
    /* Only s_assert_still_serving's submission was stored. */
    assert_string_not_equal(before, after);
    const char *params[] = {form.key};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE idempotency_key = $1",
                                   1, params),
                     0);
    free(before);
    free(after);
    free(body);
}

/* Bad requests pipelined among good submissions: the good ones are stored
   as one batch, each bad one gets its own refusal. */
static void test_bad_requests_inside_a_batch_are_refused_alone(void **state)
{
    enum { COUNT = 8 };
    ti_form_t forms[COUNT];
    const ProtobufCMessage *requests[COUNT];
    for (size_t i = 0; i < COUNT; i++) {
        ti_form_init(&forms[i], "batch-mix");
        requests[i] = &forms[i].request.base;
    }
    forms[2].enquiry.email = "not-an-address";
    forms[5].enquiry.kind = "no-such-kind";
    Dp__Reply *replies[COUNT];
    zsock_t *dealer = s_dealer();
    ti_pipeline_gated(fx, "mix", requests, COUNT, replies);
    for (size_t i = 0; i < COUNT; i++) {
        const char *params[] = {forms[i].key};
        long long stored = ts_query_long(
            fx->admin, "SELECT count(*) FROM intake.enquiry WHERE idempotency_key = $1", 1, params);
        if (i == 2) {
            ts_assert_reply(replies[i], INVALID_ARGUMENT, "email");
            assert_int_equal(stored, 0);
        } else if (i == 5) {
            ts_assert_reply(replies[i], INVALID_ARGUMENT, "kind");
            assert_int_equal(stored, 0);
        } else {
            ts_assert_reply(replies[i], OK, NULL);
            assert_int_equal(stored, 1);
        }
        ts_free(&replies[i]);
    }
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

int main(void)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%d", MAX_MESSAGE_BYTES);
    const char *settings[] = {"DP_MAX_MESSAGE_BYTES", limit, "DP_INTAKE_SENDER_LIMIT_PER_HOUR", "0",
                              NULL};
    fx = ti_fixture_new("intake_frames");
    ti_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed_submission_is_answered),
        cmocka_unit_test(test_registry_request_is_unimplemented),
        cmocka_unit_test(test_request_over_the_size_limit_is_resource_exhausted),
        cmocka_unit_test(test_request_under_the_size_limit_is_stored),
        cmocka_unit_test(test_request_far_over_the_limit_does_not_stop_the_service),
        cmocka_unit_test(test_bad_requests_inside_a_batch_are_refused_alone),
    };
    return ti_fixture_run(&fx, "intake frames", tests, sizeof tests / sizeof *tests);
}
