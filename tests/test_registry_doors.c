/* The registry's door: text that is not UTF-8 is INVALID_ARGUMENT naming
   the field (the shared decoder refuses it before any handler, so it never
   reaches PostgreSQL as "database error 22021"), in each of the eight
   requests that name a partner and in nested and repeated fields (the
   field as handlers name it, the message with its path:
   "partner.slug must be valid UTF-8"); a slug
   with control characters is never echoed back in NOT_FOUND; a reference
   with both an id and a slug is refused instead of the id silently
   winning; dates written into the record lie between 1990-01-01 and the
   end of next year (an engagement's end: ten years ahead); and with CURVE
   a key of role service reads a partner without its contact persons,
   which staff still see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_codec.h"
#include "security_support.h"
#include "test_support.h"

#define BAD_UTF8 "caf\xc3\x28-x"                     /* 0xc3 not followed by a continuation byte */
#define CONTROL_SLUG "no\x1b[31mpe\r\naudit: forged" /* UTF-8, but no slug */
#define PRIVACY_KEY "registry-doors-test-privacy-key-0123456789"

static ts_fixture_t *fx;
static int64_t s_alpha, s_beta; /* two partners */

static int s_setup(void **state)
{
    fx = ts_fixture_new("registry_doors", NULL);
    s_alpha = ts_create_partner_id(fx->registry, "alpha", "Alpha Ltd", "2019-03-01");
    s_beta = ts_create_partner_id(fx->registry, "beta", "Beta Ltd", "2020-05-01");
    ts_make_area(fx->registry, "ai", "Artificial intelligence");
    ts_make_form(fx->registry, "event", "Event");
    return 0;
}

static int s_teardown(void **state)
{
    ts_fixture_destroy(&fx);
    return 0;
}

/* The eight requests that name a partner, each with `ref` and otherwise
   valid fields; n is set to their number. */
typedef struct {
    Dp__GetPartnerRequest get;
    Dp__UpdatePartnerRequest update;
    Dp__RenamePartnerRequest rename;
    Dp__WithdrawPartnerRequest withdraw;
    Dp__AddContactRequest add_contact;
    Dp__RemoveContactRequest remove_contact;
    Dp__RecordEngagementRequest engage;
    Dp__ListEngagementsRequest list_engagements;
    char *mask[1];
    const ProtobufCMessage *all[8];
} referring_t;

static void s_referring(referring_t *r, Dp__PartnerRef *ref)
{
    *r = (referring_t){.get = DP__GET_PARTNER_REQUEST__INIT,
                       .update = DP__UPDATE_PARTNER_REQUEST__INIT,
                       .rename = DP__RENAME_PARTNER_REQUEST__INIT,
                       .withdraw = DP__WITHDRAW_PARTNER_REQUEST__INIT,
                       .add_contact = DP__ADD_CONTACT_REQUEST__INIT,
                       .remove_contact = DP__REMOVE_CONTACT_REQUEST__INIT,
                       .engage = DP__RECORD_ENGAGEMENT_REQUEST__INIT,
                       .list_engagements = DP__LIST_ENGAGEMENTS_REQUEST__INIT,
                       .mask = {"note"}};
    r->get.partner = ref;
    r->update.partner = ref;
    r->update.n_update_mask = 1;
    r->update.update_mask = r->mask;
    r->update.note = "changed";
    r->rename.partner = ref;
    r->rename.new_name = "Renamed Ltd";
    r->withdraw.partner = ref;
    r->add_contact.partner = ref;
    r->add_contact.name = "Jo Contact";
    r->add_contact.email = "jo@example.org";
    r->remove_contact.partner = ref;
    r->remove_contact.contact_id = 1;
    r->engage.partner = ref;
    r->engage.form = "event";
    r->engage.area = "ai";
    r->engage.title = "Workshop";
    r->engage.starts_on = "2022-03-01";
    r->list_engagements.partner = ref;
    const ProtobufCMessage *all[] = {
        &r->get.base,         &r->update.base,         &r->rename.base, &r->withdraw.base,
        &r->add_contact.base, &r->remove_contact.base, &r->engage.base, &r->list_engagements.base};
    memcpy(r->all, all, sizeof all);
}

/* ---- UTF-8 ---------------------------------------------------------------------- */

/* The request is refused as INVALID_ARGUMENT with this field and message,
   and changes nothing. */
static void s_expect_path(const ProtobufCMessage *request, const char *field, const char *message)
{
    dp_status_t status;
    ProtobufCMessage *reply =
        ts_call(fx->registry, request, &dp__health_reply__descriptor, &status);
    ts_free(&reply);
    if (status.code != DP__CODE__CODE_INVALID_ARGUMENT || strcmp(status.field, field) != 0 ||
        strcmp(status.message, message) != 0)
        fail_msg("%s: expected INVALID_ARGUMENT %s (%s), got %s %s: %s", request->descriptor->name,
                 field, message, dp_code_name(status.code), status.field, status.message);
    ts_expect_error_at(fx, request, DP__CODE__CODE_INVALID_ARGUMENT, field, __FILE__, __LINE__);
}

static void test_a_slug_that_is_not_utf8_is_invalid_in_every_request(void **state)
{
    TS_REF_SLUG(ref, BAD_UTF8);
    referring_t r;
    s_referring(&r, &ref);
    /* Each refused naming the slug, and nothing changed: no row, no event. */
    for (size_t i = 0; i < 8; i++)
        s_expect_path(r.all[i], "slug", "partner.slug must be valid UTF-8");
}

static void test_repeated_and_nested_text_that_is_not_utf8_is_named(void **state)
{
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    char *domains[] = {"alpha-new.example.org", "bad\xff.example.org"};
    create.slug = "gamma";
    create.name = "Gamma";
    create.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create.joined_on = "2021-01-01";
    create.domains = domains;
    create.n_domains = 2;
    s_expect_path(&create.base, "domains", "domains[1] must be valid UTF-8");
    create.n_domains = 0;
    create.name = "Gamma \xed\xa0\x80"; /* a UTF-16 surrogate */
    ts_expect_error(fx, &create, INVALID_ARGUMENT, "name");
    create.name = "Gamma \xc0\xaf"; /* an overlong '/' */
    ts_expect_error(fx, &create, INVALID_ARGUMENT, "name");
    Dp__Area area = DP__AREA__INIT;
    area.slug = "media";
    area.label = "Media \xe2\x82";
    Dp__AddAreaRequest add_area = DP__ADD_AREA_REQUEST__INIT;
    add_area.area = &area;
    s_expect_path(&add_area.base, "label", "area.label must be valid UTF-8");
    /* Valid multi-byte text still goes through. */
    create.name = "Gamma \xe2\x80\x94 \xf0\x9f\x8c\x8d";
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &create, &(dp_status_t){0});
    assert_non_null(reply);
    assert_string_equal(reply->partner->name, create.name);
    ts_free(&reply);
}

/* ---- echoes -------------------------------------------------------------------- */

static void test_control_characters_are_not_echoed(void **state)
{
    TS_REF_SLUG(ref, CONTROL_SLUG);
    referring_t r;
    s_referring(&r, &ref);
    for (size_t i = 0; i < 8; i++) {
        dp_status_t status;
        ProtobufCMessage *reply =
            ts_call(fx->registry, r.all[i], &dp__health_reply__descriptor, &status);
        ts_free(&reply);
        if (status.code == DP__CODE__CODE_OK)
            fail_msg("%s: a slug that is no slug was accepted", r.all[i]->descriptor->name);
        for (const char *p = status.message; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                fail_msg("%s: control character 0x%02x echoed in \"%s\"",
                         r.all[i]->descriptor->name, (unsigned char)*p, status.message);
        assert_null(strstr(status.message, "forged"));
    }
}

/* ---- both id and slug ------------------------------------------------------------ */

static void test_a_reference_with_both_id_and_slug_is_refused(void **state)
{
    /* alpha's id with beta's slug: before, the id won without a word. */
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    ref.id = s_alpha;
    ref.slug = "beta";
    referring_t r;
    s_referring(&r, &ref);
    for (size_t i = 0; i < 8; i++)
        ts_expect_error_at(fx, r.all[i], DP__CODE__CODE_INVALID_ARGUMENT, "partner", __FILE__,
                           __LINE__);
    /* Either alone still works. */
    Dp__PartnerRef by_id = DP__PARTNER_REF__INIT, by_slug = DP__PARTNER_REF__INIT;
    by_id.id = s_beta;
    by_slug.slug = "alpha";
    Dp__GetPartnerRequest get = DP__GET_PARTNER_REQUEST__INIT;
    dp_status_t status;
    get.partner = &by_id;
    Dp__GetPartnerReply *reply = ts_get_partner(fx->registry, &get, &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->partner->slug, "beta");
    ts_free(&reply);
    get.partner = &by_slug;
    reply = ts_get_partner(fx->registry, &get, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->partner->id, s_alpha);
    ts_free(&reply);
}

/* ---- dates ---------------------------------------------------------------------- */

static void test_record_dates_lie_in_a_sane_window(void **state)
{
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.slug = "delta";
    create.name = "Delta";
    create.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    const char *bad_joined[] = {"1989-12-31", "1900-01-01", "2999-01-01", "2100-06-01"};
    for (size_t i = 0; i < 4; i++) {
        create.joined_on = (char *)bad_joined[i];
        ts_expect_error(fx, &create, INVALID_ARGUMENT, "joined_on");
    }
    TS_REF_ID(ref, s_beta);
    referring_t r;
    s_referring(&r, &ref);
    r.engage.starts_on = "2999-01-01";
    ts_expect_error(fx, &r.engage, INVALID_ARGUMENT, "starts_on");
    r.engage.starts_on = "2022-03-01";
    r.engage.ends_on = "2999-01-01";
    ts_expect_error(fx, &r.engage, INVALID_ARGUMENT, "ends_on");
    r.withdraw.withdrawn_on = "2999-01-01";
    ts_expect_error(fx, &r.withdraw, INVALID_ARGUMENT, "withdrawn_on");
    r.rename.effective_on = "2999-01-01";
    ts_expect_error(fx, &r.rename, INVALID_ARGUMENT, "effective_on");
    /* The oldest date allowed still is. */
    create.joined_on = "1990-01-01";
    ts_send_ok(fx->registry, &create, &dp__create_partner_reply__descriptor);
}

/* ---- contacts by role ------------------------------------------------------------ */

static Dp__GetPartnerReply *s_get_as(tk_client_t *client, int64_t id)
{
    TS_REF_ID(ref, id);
    Dp__GetPartnerRequest get = DP__GET_PARTNER_REQUEST__INIT;
    get.partner = &ref;
    Dp__Reply *reply = tk_exchange(client, &get.base, 10000);
    assert_non_null(reply);
    if (reply->status->code != DP__CODE__CODE_OK)
        fail_msg("GetPartner: %s %s", dp_code_name(reply->status->code), reply->status->message);
    Dp__GetPartnerReply *answer = (Dp__GetPartnerReply *)dp_message_decode(
        &dp__get_partner_reply__descriptor, reply->body.data, reply->body.len, 1 << 20);
    ts_free(&reply);
    assert_non_null(answer);
    return answer;
}

static void test_the_service_role_reads_no_contact_persons(void **state)
{
    tk_keys_t *keys = tk_keys_new();
    const char *settings[] = {"DP_CURVE_DIR", tk_keys_dir(keys), "DP_PRIVACY_KEY", PRIVACY_KEY,
                              NULL};
    tk_service_t *registry =
        tk_service_start(TK_REGISTRY, ts_database_url(fx->database, TS_ROLE_REGISTRY), settings);
    assert_non_null(registry);
    tk_client_t *staff = tk_client_new(tk_service_endpoint(registry), keys, TK_REGISTRY,
                                       tk_keys_secret_path(keys, "staff-client"));
    tk_client_t *service = tk_client_new(tk_service_endpoint(registry), keys, TK_REGISTRY,
                                         tk_keys_secret_path(keys, "service-client"));
    TS_REF_ID(ref, s_alpha);
    Dp__AddContactRequest add = DP__ADD_CONTACT_REQUEST__INIT;
    add.partner = &ref;
    add.name = "Secret Person";
    add.email = "secret.person@example.org";
    Dp__Reply *added = tk_exchange(staff, &add.base, 10000);
    assert_non_null(added);
    assert_int_equal(added->status->code, DP__CODE__CODE_OK);
    ts_free(&added);

    Dp__GetPartnerReply *seen_by_staff = s_get_as(staff, s_alpha);
    assert_true(seen_by_staff->partner->n_contacts >= 1);
    ts_free(&seen_by_staff);
    Dp__GetPartnerReply *seen_by_service = s_get_as(service, s_alpha);
    assert_string_equal(seen_by_service->partner->slug, "alpha");
    assert_int_equal(seen_by_service->partner->n_contacts, 0);
    ts_free(&seen_by_service);

    tk_client_destroy(&service);
    tk_client_destroy(&staff);
    tk_service_stop(&registry);
    tk_keys_destroy(&keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_slug_that_is_not_utf8_is_invalid_in_every_request),
        cmocka_unit_test(test_repeated_and_nested_text_that_is_not_utf8_is_named),
        cmocka_unit_test(test_control_characters_are_not_echoed),
        cmocka_unit_test(test_a_reference_with_both_id_and_slug_is_refused),
        cmocka_unit_test(test_record_dates_lie_in_a_sane_window),
        cmocka_unit_test(test_the_service_role_reads_no_contact_persons),
    };
    return cmocka_run_group_tests_name("registry doors", tests, s_setup, s_teardown);
}
