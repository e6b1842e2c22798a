/* Matching a sender's address to a partner by the partner's e-mail domains,
   which the intake reads from the registry and reloads periodically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake_support.h"

static ti_fixture_t *fx;
static int64_t partner_id; /* the partner known when the intake started */

#define PARTNER_SLUG "northwind"
#define PARTNER_DOMAIN "northwind.example"

enum { REFRESH_MS = 200, MATCH_WAIT_MS = 5000 };

/* Submits a new enquiry from the address; returns it as stored. Free with ts_free. */
static Dp__GetEnquiryReply *s_enquiry_from(const char *email)
{
    ti_form_t form;
    ti_form_init(&form, "match");
    form.enquiry.email = (char *)email;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    Dp__GetEnquiryReply *got = ti_get(fx, reply->enquiry_id);
    ts_free(&reply);
    return got;
}

static void s_assert_matched(const char *email, int64_t id, const char *slug)
{
    Dp__GetEnquiryReply *got = s_enquiry_from(email);
    if (got->enquiry->partner_id != id || strcmp(got->enquiry->partner_slug, slug) != 0)
        fail_msg("%s: partner %lld '%s', expected %lld '%s'", email,
                 (long long)got->enquiry->partner_id, got->enquiry->partner_slug, (long long)id,
                 slug);
    ts_free(&got);
}

static void test_enquiry_from_a_partner_domain_is_matched(void **state)
{
    long long last = ti_outbox_last_id(fx->admin);
    s_assert_matched("jane@" PARTNER_DOMAIN, partner_id, PARTNER_SLUG);
    /* The events name the partner by id. */
    size_t count = 0;
    ts_event_t **events = ti_events_after(fx->admin, last, &count);
    assert_int_equal(count, 2);
    for (size_t i = 0; i < count; i++) {
        Dp__EnquiryEvent *event = ti_enquiry_event(events[i]);
        assert_int_equal(event->partner_id, partner_id);
        ts_free(&event);
    }
    ti_events_free(&events, count);
}

static void test_enquiry_from_a_subdomain_is_matched(void **state)
{
    s_assert_matched("jane@mail." PARTNER_DOMAIN, partner_id, PARTNER_SLUG);
    s_assert_matched("jane@eu.mail." PARTNER_DOMAIN, partner_id, PARTNER_SLUG);
}

static void test_domain_matching_ignores_case(void **state)
{
    s_assert_matched("Jane@NorthWind.EXAMPLE", partner_id, PARTNER_SLUG);
}

static void test_unknown_domain_is_not_matched(void **state)
{
    s_assert_matched("jane@southwind.example", 0, "");
    /* A domain that merely ends like the partner's, or extends it, is another domain. */
    s_assert_matched("jane@not" PARTNER_DOMAIN, 0, "");
    s_assert_matched("jane@" PARTNER_DOMAIN ".org", 0, "");
}

static void test_new_partner_is_matched_after_the_refresh(void **state)
{
    s_assert_matched("first@contoso.example", 0, "");
    int64_t contoso = ti_create_partner_with_domain(fx->registry, "contoso", "contoso.example");
    int64_t deadline = zclock_mono() + MATCH_WAIT_MS;
    int attempts = 0;
    bool matched = false;
    while (!matched && zclock_mono() < deadline) {
        Dp__GetEnquiryReply *got = s_enquiry_from("later@contoso.example");
        attempts++;
        matched = got->enquiry->partner_id == contoso &&
                  strcmp(got->enquiry->partner_slug, "contoso") == 0;
        if (!matched)
            assert_int_equal(got->enquiry->partner_id, 0);
        ts_free(&got);
        if (!matched)
            zclock_sleep(REFRESH_MS / 4);
    }
    if (!matched)
        fail_msg("the new partner's domain was not matched within %d ms (%d submissions)",
                 MATCH_WAIT_MS, attempts);
    print_message("matched after %d submissions\n", attempts);
    /* From then on, every enquiry from the domain is matched. */
    s_assert_matched("again@contoso.example", contoso, "contoso");
}

int main(void)
{
    fx = ti_fixture_new("intake_partner_match");
    partner_id = ti_create_partner_with_domain(fx->registry, PARTNER_SLUG, PARTNER_DOMAIN);
    char refresh[24];
    snprintf(refresh, sizeof refresh, "%d", REFRESH_MS);
    const char *settings[] = {"DP_INTAKE_PARTNER_REFRESH_MS", refresh,
                              "DP_INTAKE_SENDER_LIMIT_PER_HOUR", "0", NULL};
    ti_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enquiry_from_a_partner_domain_is_matched),
        cmocka_unit_test(test_enquiry_from_a_subdomain_is_matched),
        cmocka_unit_test(test_domain_matching_ignores_case),
        cmocka_unit_test(test_unknown_domain_is_not_matched),
        cmocka_unit_test(test_new_partner_is_matched_after_the_refresh),
    };
    return ti_fixture_run(&fx, "intake partner matching", tests, sizeof tests / sizeof *tests);
}
