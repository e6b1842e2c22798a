/* A partner's contact persons and engagements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_fixture_t *fx;

#define AREA "child-protection"
#define OTHER_AREA "bioethics"
#define FORM "conference"
#define OTHER_FORM "publication"

/* A new partner for one test; its slug is copied into slug_out. */
static int64_t s_partner(char slug_out[64])
{
    snprintf(slug_out, 64, "%s", ts_unique("ce"));
    return ts_create_partner_id(fx->registry, slug_out, "Contact Engagement Partner", "2018-05-23");
}

static Dp__AddContactReply *s_add_contact(int64_t partner_id, const char *name, const char *email,
                                          dp_status_t *status)
{
    TS_REF_ID(ref, partner_id);
    Dp__AddContactRequest request = DP__ADD_CONTACT_REQUEST__INIT;
    request.partner = &ref;
    request.name = (char *)name;
    request.role = "Head of public policy";
    request.email = (char *)email;
    return ts_add_contact(fx->registry, &request, status);
}

static int64_t s_contact(int64_t partner_id, const char *name, const char *email)
{
    dp_status_t status;
    Dp__AddContactReply *reply = s_add_contact(partner_id, name, email, &status);
    ts_assert_ok(&status);
    int64_t id = reply->contact->id;
    ts_free(&reply);
    return id;
}

/* A valid engagement request for the partner. */
static void s_engagement_request(Dp__RecordEngagementRequest *request, Dp__PartnerRef *ref)
{
    *request = (Dp__RecordEngagementRequest)DP__RECORD_ENGAGEMENT_REQUEST__INIT;
    request->partner = ref;
    request->form = FORM;
    request->area = AREA;
    request->title = "Octopus conference panel";
    request->starts_on = "2021-11-16";
    request->ends_on = "2021-11-18";
    request->note = "panel on child protection";
}

static int64_t s_engagement(int64_t partner_id, const char *form, const char *area)
{
    TS_REF_ID(ref, partner_id);
    Dp__RecordEngagementRequest request;
    s_engagement_request(&request, &ref);
    request.form = (char *)form;
    request.area = (char *)area;
    dp_status_t status;
    Dp__RecordEngagementReply *reply = ts_record_engagement(fx->registry, &request, &status);
    ts_assert_ok(&status);
    int64_t id = reply->engagement->id;
    ts_free(&reply);
    return id;
}

/* ---- contacts -------------------------------------------------------------- */

static void test_add_contact_is_returned_and_shown_with_the_partner(void **state)
{
    char slug[64];
    int64_t partner_id = s_partner(slug);
    dp_status_t status;
    Dp__AddContactReply *reply =
        s_add_contact(partner_id, "Ana Lopez", "ana.lopez@example.org", &status);
    ts_assert_ok(&status);
    Dp__Contact *contact = reply->contact;
    assert_true(contact->id > 0);
    assert_string_equal(contact->name, "Ana Lopez");
    assert_string_equal(contact->role, "Head of public policy");
    assert_string_equal(contact->email, "ana.lopez@example.org");
    int64_t contact_id = contact->id;
    ts_free(&reply);

    Dp__GetPartnerReply *got = ts_get_partner_by_slug(fx->registry, slug, NULL);
    assert_int_equal(got->partner->n_contacts, 1);
    assert_int_equal(got->partner->contacts[0]->id, contact_id);
    assert_string_equal(got->partner->contacts[0]->email, "ana.lopez@example.org");
    ts_free(&got);
}

static void test_list_partners_carries_no_contacts(void **state)
{
    char slug[64];
    int64_t partner_id = s_partner(slug);
    s_contact(partner_id, "Private Person", "private.person@example.org");
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.page_size = 500;
    dp_status_t status;
    Dp__ListPartnersReply *reply = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    bool listed = false;
    for (size_t i = 0; i < reply->n_partners; i++) {
        assert_int_equal(reply->partners[i]->n_contacts, 0);
        listed = listed || reply->partners[i]->id == partner_id;
    }
    assert_true(listed);
    ts_free(&reply);
}

static void test_add_contact_refuses_blank_name(void **state)
{
    char slug[64];
    int64_t partner_id = s_partner(slug);
    TS_REF_ID(ref, partner_id);
    Dp__AddContactRequest request = DP__ADD_CONTACT_REQUEST__INIT;
    request.partner = &ref;
    request.email = "someone@example.org";
    const ts_text_step_t steps[] = {{"name", "", "name"}, {"name", " \t ", "name"}};
    ts_expect_text_steps(fx, &request, steps);
}

static void test_add_contact_refuses_bad_email(void **state)
{
    char slug[64];
    int64_t partner_id = s_partner(slug);
    TS_REF_ID(ref, partner_id);
    Dp__AddContactRequest request = DP__ADD_CONTACT_REQUEST__INIT;
    request.partner = &ref;
    request.name = "Bad Email";
    const char *bad[] = {"", "no-at.example.org", "a@b@example.org", "jane@localhost",
                         "jane doe@example.org"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request.email = (char *)bad[i];
        ts_expect_error(fx, &request, INVALID_ARGUMENT, "email");
    }
}

static void test_add_contact_to_unknown_partner(void **state)
{
    Dp__AddContactRequest request = DP__ADD_CONTACT_REQUEST__INIT;
    request.name = "Nobody";
    request.email = "nobody@example.org";
    TS_REF_ID(unknown, 99999999);
    ts_expect_unknown_partner(fx, &request, &unknown);
}

static void test_remove_contact_deletes_it(void **state)
{
    char slug[64];
    int64_t partner_id = s_partner(slug);
    int64_t keep = s_contact(partner_id, "Keep Me", "keep@example.org");
    int64_t drop = s_contact(partner_id, "Drop Me", "drop@example.org");
    TS_REF_SLUG(ref, slug);
    Dp__RemoveContactRequest request = DP__REMOVE_CONTACT_REQUEST__INIT;
    request.partner = &ref;
    request.contact_id = drop;
    ts_send_ok(fx->registry, &request, &dp__remove_contact_reply__descriptor);

    const char *params[] = {ts_id_text(drop)};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.contact WHERE id = $1::bigint", 1,
                                   params),
                     0);
    Dp__GetPartnerReply *got = ts_get_partner_by_slug(fx->registry, slug, NULL);
    assert_int_equal(got->partner->n_contacts, 1);
    assert_int_equal(got->partner->contacts[0]->id, keep);
    ts_free(&got);

    /* Removing it again finds nothing. */
    ts_expect_error(fx, &request, NOT_FOUND, "contact_id");
}

static void test_remove_contact_of_another_partner_is_not_found(void **state)
{
    char mine[64], theirs[64];
    int64_t my_id = s_partner(mine);
    int64_t their_id = s_partner(theirs);
    int64_t their_contact = s_contact(their_id, "Their Contact", "their@example.org");
    TS_REF_ID(ref, my_id);
    Dp__RemoveContactRequest request = DP__REMOVE_CONTACT_REQUEST__INIT;
    request.partner = &ref;
    request.contact_id = their_contact;
    ts_expect_error(fx, &request, NOT_FOUND, "contact_id");
    request.contact_id = 99999999;
    ts_expect_error(fx, &request, NOT_FOUND, "contact_id");
}

static void test_remove_contact_of_unknown_partner(void **state)
{
    Dp__RemoveContactRequest request = DP__REMOVE_CONTACT_REQUEST__INIT;
    request.contact_id = 1;
    TS_REF_SLUG(unknown, "no-such-partner");
    ts_expect_unknown_partner(fx, &request, &unknown);
}

/* ---- engagements ----------------------------------------------------------- */

static void test_record_engagement_returns_it(void **state)
{
    char slug[64];
    int64_t partner_id = s_partner(slug);
    TS_REF_SLUG(ref, slug);
    Dp__RecordEngagementRequest request;
    s_engagement_request(&request, &ref);
    dp_status_t status;
    Dp__RecordEngagementReply *reply = ts_record_engagement(fx->registry, &request, &status);
    ts_assert_ok(&status);
    Dp__Engagement *engagement = reply->engagement;
    assert_true(engagement->id > 0);
    assert_int_equal(engagement->partner_id, partner_id);
    assert_string_equal(engagement->partner_slug, slug);
    assert_string_equal(engagement->form, FORM);
    assert_string_equal(engagement->area, AREA);
    assert_string_equal(engagement->title, "Octopus conference panel");
    assert_string_equal(engagement->starts_on, "2021-11-16");
    assert_string_equal(engagement->ends_on, "2021-11-18");
    assert_string_equal(engagement->note, "panel on child protection");
    const char *params[] = {ts_id_text(engagement->id)};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.engagement WHERE id = $1::bigint",
                                   1, params),
                     1);
    ts_free(&reply);
}

static void test_record_single_day_engagement(void **state)
{
    char slug[64];
    s_partner(slug);
    TS_REF_SLUG(ref, slug);
    Dp__RecordEngagementRequest request;
    s_engagement_request(&request, &ref);
    request.ends_on = "";
    dp_status_t status;
    Dp__RecordEngagementReply *reply = ts_record_engagement(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->engagement->ends_on, "");
    ts_free(&reply);
    /* Ending on the day it starts is fine too. */
    request.ends_on = request.starts_on;
    reply = ts_record_engagement(fx->registry, &request, &status);
    ts_assert_ok(&status);
    ts_free(&reply);
}

/* A valid engagement for a new partner, then the steps: each a field set
   and, where a refusal is named, the request refused for it. */
static void s_expect_engagement_steps(const ts_text_step_t *steps, size_t count)
{
    char slug[64];
    s_partner(slug);
    TS_REF_SLUG(ref, slug);
    Dp__RecordEngagementRequest request;
    s_engagement_request(&request, &ref);
    ts_expect_text_steps_at(fx, &request.base, steps, count, __FILE__, __LINE__);
}

static void test_record_engagement_refuses_unknown_form_and_area(void **state)
{
    const ts_text_step_t steps[] = {{"form", "no-such-form", "form"},
                                    {"form", "", "form"},
                                    {"form", FORM, NULL},
                                    {"area", "no-such-area", "area"},
                                    {"area", "", "area"}};
    s_expect_engagement_steps(steps, sizeof steps / sizeof *steps);
}

static void test_record_engagement_refuses_blank_title(void **state)
{
    const ts_text_step_t steps[] = {
        {"title", "", "title"}, {"title", "  ", "title"}, {"title", "bad \xff title", "title"}};
    s_expect_engagement_steps(steps, sizeof steps / sizeof *steps);
}

static void test_record_engagement_refuses_bad_dates(void **state)
{
    const ts_text_step_t steps[] = {{"starts_on", "", "starts_on"},
                                    {"starts_on", "2021-11-31", "starts_on"},
                                    {"starts_on", "2021-11-16", NULL},
                                    {"ends_on", "2021-11-15", "ends_on"},
                                    {"ends_on", "2021-11-99", "ends_on"}};
    s_expect_engagement_steps(steps, sizeof steps / sizeof *steps);
}

static void test_record_engagement_for_unknown_partner(void **state)
{
    Dp__RecordEngagementRequest request;
    s_engagement_request(&request, NULL);
    TS_REF_ID(unknown, 99999999);
    ts_expect_unknown_partner(fx, &request, &unknown);
}

/* Lists engagements with this filter, all pages, and returns how many; ids
   collected into ids. */
static size_t s_list_all(const Dp__PartnerRef *partner, const char *form, const char *area,
                         uint32_t page_size, int64_t *ids, size_t capacity)
{
    char token[512] = "";
    size_t seen = 0;
    int pages = 0;
    do {
        Dp__ListEngagementsRequest request = DP__LIST_ENGAGEMENTS_REQUEST__INIT;
        request.partner = (Dp__PartnerRef *)partner;
        request.form = (char *)form;
        request.area = (char *)area;
        request.page_size = page_size;
        request.page_token = token;
        dp_status_t status;
        Dp__ListEngagementsReply *reply = ts_list_engagements(fx->registry, &request, &status);
        ts_assert_ok(&status);
        assert_true(++pages <= 20);
        if (page_size)
            assert_true(reply->n_engagements <= page_size);
        for (size_t i = 0; i < reply->n_engagements; i++) {
            assert_true(seen < capacity);
            ids[seen++] = reply->engagements[i]->id;
        }
        assert_true(strlen(reply->next_page_token) < sizeof token);
        strcpy(token, reply->next_page_token);
        ts_free(&reply);
    } while (*token);
    return seen;
}

static bool s_contains(const int64_t *ids, size_t count, int64_t wanted)
{
    for (size_t i = 0; i < count; i++)
        if (ids[i] == wanted)
            return true;
    return false;
}

static void test_list_engagements_by_partner_form_and_area(void **state)
{
    char slug[64], other[64];
    int64_t partner_id = s_partner(slug);
    int64_t other_id = s_partner(other);
    int64_t a = s_engagement(partner_id, FORM, AREA);
    int64_t b = s_engagement(partner_id, OTHER_FORM, AREA);
    int64_t c = s_engagement(partner_id, FORM, OTHER_AREA);
    int64_t d = s_engagement(other_id, FORM, AREA);
    int64_t ids[200];

    TS_REF_SLUG(by_slug, slug);
    size_t count = s_list_all(&by_slug, "", "", 0, ids, 200);
    assert_int_equal(count, 3);
    assert_true(s_contains(ids, count, a) && s_contains(ids, count, b) &&
                s_contains(ids, count, c));
    TS_REF_ID(by_id, partner_id);
    assert_int_equal(s_list_all(&by_id, "", "", 0, ids, 200), 3);

    count = s_list_all(&by_slug, OTHER_FORM, "", 0, ids, 200);
    assert_int_equal(count, 1);
    assert_int_equal(ids[0], b);
    count = s_list_all(&by_slug, "", OTHER_AREA, 0, ids, 200);
    assert_int_equal(count, 1);
    assert_int_equal(ids[0], c);

    /* Without a partner: every partner's. */
    count = s_list_all(NULL, "", "", 0, ids, 200);
    assert_true(s_contains(ids, count, a) && s_contains(ids, count, d));
    assert_int_equal(count,
                     ts_query_long(fx->admin, "SELECT count(*) FROM registry.engagement", 0, NULL));
}

static void test_list_engagements_pages(void **state)
{
    char slug[64];
    int64_t partner_id = s_partner(slug);
    int64_t created[5];
    for (int i = 0; i < 5; i++)
        created[i] = s_engagement(partner_id, FORM, AREA);
    TS_REF_ID(ref, partner_id);
    int64_t ids[20], again[20];
    size_t count = s_list_all(&ref, "", "", 2, ids, 20);
    assert_int_equal(count, 5);
    for (int i = 0; i < 5; i++) {
        int found = 0;
        for (size_t j = 0; j < count; j++)
            found += ids[j] == created[i];
        assert_int_equal(found, 1);
    }
    assert_int_equal(s_list_all(&ref, "", "", 2, again, 20), 5);
    assert_memory_equal(ids, again, sizeof ids[0] * 5);
}

static void test_list_engagements_refuses_bad_paging_and_unknown_partner(void **state)
{
    Dp__ListEngagementsRequest request = DP__LIST_ENGAGEMENTS_REQUEST__INIT;
    request.page_token = "garbage-token";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "page_token");
    request.page_token = "";
    request.page_size = 501;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "page_size");
    request.page_size = 0;
    TS_REF_SLUG(ref, "no-such-partner");
    request.partner = &ref;
    ts_expect_error(fx, &request, NOT_FOUND, "partner");
}

int main(void)
{
    const char *const areas[] = {AREA, "Children's protection in the online environment",
                                 OTHER_AREA, "Bioethics", NULL};
    const char *const forms[] = {FORM, "Participation in conferences", OTHER_FORM,
                                 "Joint publications", NULL};
    fx = ts_fixture_new_with_lists("contacts", areas, forms);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_contact_is_returned_and_shown_with_the_partner),
        cmocka_unit_test(test_list_partners_carries_no_contacts),
        cmocka_unit_test(test_add_contact_refuses_blank_name),
        cmocka_unit_test(test_add_contact_refuses_bad_email),
        cmocka_unit_test(test_add_contact_to_unknown_partner),
        cmocka_unit_test(test_remove_contact_deletes_it),
        cmocka_unit_test(test_remove_contact_of_another_partner_is_not_found),
        cmocka_unit_test(test_remove_contact_of_unknown_partner),
        cmocka_unit_test(test_record_engagement_returns_it),
        cmocka_unit_test(test_record_single_day_engagement),
        cmocka_unit_test(test_record_engagement_refuses_unknown_form_and_area),
        cmocka_unit_test(test_record_engagement_refuses_blank_title),
        cmocka_unit_test(test_record_engagement_refuses_bad_dates),
        cmocka_unit_test(test_record_engagement_for_unknown_partner),
        cmocka_unit_test(test_list_engagements_by_partner_form_and_area),
        cmocka_unit_test(test_list_engagements_pages),
        cmocka_unit_test(test_list_engagements_refuses_bad_paging_and_unknown_partner),
    };
    return ts_fixture_run(&fx, "registry contacts and engagements", tests,
                          sizeof tests / sizeof *tests);
}
