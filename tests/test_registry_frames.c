/* The registry's own part of the door, with a raw DEALER socket: its size
   limit (DP_MAX_MESSAGE_BYTES) refuses a request before any row changes, a
   request under it reaches the handler, and another service's request type
   is not in its route table. The framing every service shares (malformed
   frames and envelopes, unknown types, NUL) is test_server_frames.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake.pb-c.h"
#include "test_support.h"
#include "test_wire.h"

static ts_fixture_t *fx;

enum { MAX_MESSAGE_BYTES = 65536, REPLY_TIMEOUT_MS = 10000 };

static zsock_t *s_dealer(void)
{
    return ts_dealer_new(ts_registry_endpoint(fx->registry), REPLY_TIMEOUT_MS);
}

/* A well-formed request on the same socket, and one from the typed client,
   both succeed. */
static void s_assert_still_serving(zsock_t *dealer)
{
    Dp__ListAreasRequest areas = DP__LIST_AREAS_REQUEST__INIT;
    ts_assert_answered(dealer, &areas.base, "dp.ListAreasReply");
    ts_assert_healthy(fx->registry);
}

/* A valid CreatePartner whose note is note_bytes bytes long; returns the
   note for the caller to free. */
static char *s_create_with_note(Dp__CreatePartnerRequest *create, const char *slug,
                                const char *name, size_t note_bytes)
{
    char *note = malloc(note_bytes + 1);
    assert_non_null(note);
    memset(note, 'n', note_bytes);
    note[note_bytes] = 0;
    *create = (Dp__CreatePartnerRequest)DP__CREATE_PARTNER_REQUEST__INIT;
    create->slug = (char *)slug;
    create->name = (char *)name;
    create->kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create->joined_on = "2020-01-01";
    create->note = note;
    return note;
}

static void test_well_formed_request_is_answered(void **state)
{
    zsock_t *dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_request_over_the_size_limit_is_resource_exhausted(void **state)
{
    Dp__CreatePartnerRequest create;
    char *note = s_create_with_note(&create, "too-large", "Too Large", 100 * 1024);
    char *before = ts_registry_fingerprint(fx->admin);

    zsock_t *dealer = s_dealer();
    zmsg_t *request = ts_request_message("too-large", &create.base);
    assert_true(zframe_size(zmsg_last(request)) > MAX_MESSAGE_BYTES);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, RESOURCE_EXHAUSTED, NULL);
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
    Dp__CreatePartnerRequest create;
    char *note = s_create_with_note(&create, "under-limit", "Under Limit", 60 * 1024);
    ts_expect_error(fx, &create, INVALID_ARGUMENT, "note");
    free(note);
}

/* An intake request is not the registry's: refused naming the service,
   and nothing changes. */
static void test_another_services_request_is_unimplemented(void **state)
{
    char *before = ts_registry_fingerprint(fx->admin);
    zsock_t *dealer = s_dealer();
    Dp__SubmitEnquiryRequest submit = DP__SUBMIT_ENQUIRY_REQUEST__INIT;
    ts_assert_not_served(dealer, &submit.base, "registry");
    char *after = ts_registry_fingerprint(fx->admin);
    assert_string_equal(before, after);
    free(before);
    free(after);
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
        cmocka_unit_test(test_request_over_the_size_limit_is_resource_exhausted),
        cmocka_unit_test(test_request_under_the_size_limit_reaches_its_handler),
        cmocka_unit_test(test_another_services_request_is_unimplemented),
    };
    return ts_fixture_run(&fx, "registry frames", tests, sizeof tests / sizeof *tests);
}
