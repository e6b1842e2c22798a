/* The outbox: exactly one event per successful change, with the right type,
   aggregate id and payload (proto/events.proto), no personal data, and no
   event at all for reads and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_fixture_t *fx;

#define AREA "cybercrime"
#define FORM "conference"

/* Decodes an event's payload as the given message; fails the test if it does not. */
static void *s_decode(const ts_event_t *event, const ProtobufCMessageDescriptor *descriptor)
{
    ProtobufCMessage *message =
        dp_message_decode(descriptor, event->payload, event->payload_size, 1 << 20);
    if (!message)
        fail_msg("the payload of %s does not decode as %s", event->event_type, descriptor->name);
    return message;
}

static int64_t s_partner(const char *slug, const char *name)
{
    return ts_create_partner_id(fx->registry, slug, name, "2018-05-23");
}

/* Sends a change to partner id that must succeed; returns the payload of
   the one event it wrote, of this type and about the partner. */
static Dp__PartnerEvent *s_partner_change(const ProtobufCMessage *request,
                                          const ProtobufCMessageDescriptor *reply_type,
                                          const char *event_type, int64_t id)
{
    long long last = ts_outbox_last_id(fx->admin);
    ProtobufCMessage *reply = ts_call_ok_at(fx->registry, request, reply_type, __FILE__, __LINE__);
    ts_free(&reply);
    ts_event_t *event = ts_expect_one_event(fx->admin, last, event_type, ts_id_text(id));
    Dp__PartnerEvent *payload = s_decode(event, &dp__partner_event__descriptor);
    ts_event_free(&event);
    assert_int_equal(payload->partner_id, id);
    return payload;
}

/* Adds a row to a reference list ("area", "form") through make, and checks
   the one event it wrote. */
static void s_expect_reference_added(void (*make)(ts_registry_t *, const char *, const char *),
                                     const char *list, const char *label)
{
    char stem[32], slug[64], event_type[64];
    snprintf(stem, sizeof stem, "new-%s", list);
    snprintf(slug, sizeof slug, "%s", ts_unique(stem));
    snprintf(event_type, sizeof event_type, "reference.%s_added", list);
    long long last = ts_outbox_last_id(fx->admin);
    make(fx->registry, slug, label);
    ts_event_t *event = ts_expect_one_event(fx->admin, last, event_type, slug);
    Dp__ReferenceEvent *payload = s_decode(event, &dp__reference_event__descriptor);
    assert_string_equal(payload->list, list);
    assert_string_equal(payload->slug, slug);
    assert_string_equal(payload->label, label);
    ts_free(&payload);
    ts_event_free(&event);
}

static void test_create_writes_partner_joined(void **state)
{
    const char *slug = ts_unique("joined");
    char slug_copy[64];
    snprintf(slug_copy, sizeof slug_copy, "%s", slug);
    long long last = ts_outbox_last_id(fx->admin);
    Dp__CreatePartnerReply *created =
        ts_new_partner(fx->registry, slug_copy, "Joined Partner", "2020-02-01", MONTH);
    int64_t id = created->partner->id;
    ts_free(&created);

    ts_event_t *event = ts_expect_one_event(fx->admin, last, "partner.joined", ts_id_text(id));
    assert_true(strlen(event->aggregate_type) > 0);
    Dp__PartnerEvent *payload = s_decode(event, &dp__partner_event__descriptor);
    assert_int_equal(payload->partner_id, id);
    assert_string_equal(payload->slug, slug_copy);
    assert_string_equal(payload->name, "Joined Partner");
    assert_string_equal(payload->kind, "company");
    assert_string_equal(payload->status, "active");
    assert_string_equal(payload->effective_on, "2020-02-01");
    assert_int_equal(payload->version, 1);
    ts_free(&payload);
    ts_event_free(&event);
}

static void test_update_writes_partner_updated_with_changed_fields(void **state)
{
    int64_t id = s_partner(ts_unique("updated"), "Updated Partner");
    TS_REF_ID(ref, id);
    char *mask[] = {"website", "note"};
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.n_update_mask = 2;
    request.update_mask = mask;
    request.website = "https://updated.example";
    request.note = "updated";
    Dp__PartnerEvent *payload = s_partner_change(
        &request.base, &dp__update_partner_reply__descriptor, "partner.updated", id);
    assert_int_equal(payload->version, 2);
    assert_int_equal(payload->n_changed_fields, 2);
    bool website = false, note = false;
    for (size_t i = 0; i < payload->n_changed_fields; i++) {
        website = website || strcmp(payload->changed_fields[i], "website") == 0;
        note = note || strcmp(payload->changed_fields[i], "note") == 0;
    }
    assert_true(website && note);
    ts_free(&payload);
}

static void test_rename_writes_partner_renamed(void **state)
{
    int64_t id = s_partner(ts_unique("renamed"), "Before Name");
    TS_REF_ID(ref, id);
    Dp__RenamePartnerRequest request = DP__RENAME_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.new_name = "After Name";
    request.effective_on = "2021-03-01";
    Dp__PartnerEvent *payload = s_partner_change(
        &request.base, &dp__rename_partner_reply__descriptor, "partner.renamed", id);
    assert_string_equal(payload->name, "After Name");
    assert_string_equal(payload->effective_on, "2021-03-01");
    assert_int_equal(payload->version, 2);
    ts_free(&payload);
}

static void test_withdraw_writes_partner_withdrawn(void **state)
{
    int64_t id = s_partner(ts_unique("withdrawn"), "Withdrawn Partner");
    TS_REF_ID(ref, id);
    Dp__WithdrawPartnerRequest request = DP__WITHDRAW_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.withdrawn_on = "2023-05-01";
    Dp__PartnerEvent *payload = s_partner_change(
        &request.base, &dp__withdraw_partner_reply__descriptor, "partner.withdrawn", id);
    assert_string_equal(payload->status, "withdrawn");
    assert_string_equal(payload->effective_on, "2023-05-01");
    ts_free(&payload);
}

static void test_contact_events_carry_no_personal_data(void **state)
{
    static const char *name = "Personal Name Xq";
    static const char *email = "personal.xq@example.org";
    int64_t id = s_partner(ts_unique("contact"), "Contact Partner");
    TS_REF_ID(ref, id);
    Dp__AddContactRequest add = DP__ADD_CONTACT_REQUEST__INIT;
    add.partner = &ref;
    add.name = (char *)name;
    add.role = "Policy lead";
    add.email = (char *)email;
    long long last = ts_outbox_last_id(fx->admin);
    dp_status_t status;
    Dp__AddContactReply *added = ts_add_contact(fx->registry, &add, &status);
    ts_assert_ok(&status);
    int64_t contact_id = added->contact->id;
    ts_free(&added);

    ts_event_t *event =
        ts_expect_one_event(fx->admin, last, "partner.contact_added", ts_id_text(id));
    Dp__ContactEvent *payload = s_decode(event, &dp__contact_event__descriptor);
    assert_int_equal(payload->partner_id, id);
    assert_int_equal(payload->contact_id, contact_id);
    assert_false(ts_event_mentions(event, name));
    assert_false(ts_event_mentions(event, email));
    assert_false(ts_event_mentions(event, "personal.xq"));
    ts_free(&payload);
    ts_event_free(&event);

    Dp__RemoveContactRequest remove = DP__REMOVE_CONTACT_REQUEST__INIT;
    remove.partner = &ref;
    remove.contact_id = contact_id;
    last = ts_outbox_last_id(fx->admin);
    Dp__RemoveContactReply *removed = ts_remove_contact(fx->registry, &remove, &status);
    ts_assert_ok(&status);
    ts_free(&removed);
    event = ts_expect_one_event(fx->admin, last, "partner.contact_removed", ts_id_text(id));
    payload = s_decode(event, &dp__contact_event__descriptor);
    assert_int_equal(payload->partner_id, id);
    assert_int_equal(payload->contact_id, contact_id);
    assert_false(ts_event_mentions(event, name));
    assert_false(ts_event_mentions(event, email));
    ts_free(&payload);
    ts_event_free(&event);

    /* No row of the outbox mentions the person, whatever its type. */
    const char *params[] = {name, email};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.outbox"
                                   " WHERE position(convert_to($1, 'UTF8') in payload) > 0"
                                   "    OR position(convert_to($2, 'UTF8') in payload) > 0"
                                   "    OR aggregate_id IN ($1, $2)",
                                   2, params),
                     0);
}

static void test_engagement_writes_engagement_recorded(void **state)
{
    int64_t id = s_partner(ts_unique("engaged"), "Engaged Partner");
    TS_REF_ID(ref, id);
    Dp__RecordEngagementRequest request = DP__RECORD_ENGAGEMENT_REQUEST__INIT;
    request.partner = &ref;
    request.form = FORM;
    request.area = AREA;
    request.title = "Cybercrime convention workshop";
    request.starts_on = "2022-03-01";
    request.ends_on = "2022-03-02";
    long long last = ts_outbox_last_id(fx->admin);
    dp_status_t status;
    Dp__RecordEngagementReply *reply = ts_record_engagement(fx->registry, &request, &status);
    ts_assert_ok(&status);
    int64_t engagement_id = reply->engagement->id;
    ts_free(&reply);

    ts_event_t *event = ts_expect_one_event(fx->admin, last, "engagement.recorded", ts_id_text(id));
    Dp__EngagementEvent *payload = s_decode(event, &dp__engagement_event__descriptor);
    assert_int_equal(payload->engagement_id, engagement_id);
    assert_int_equal(payload->partner_id, id);
    assert_string_equal(payload->form, FORM);
    assert_string_equal(payload->area, AREA);
    assert_string_equal(payload->starts_on, "2022-03-01");
    assert_string_equal(payload->ends_on, "2022-03-02");
    ts_free(&payload);
    ts_event_free(&event);
}

static void test_add_area_writes_reference_area_added(void **state)
{
    s_expect_reference_added(ts_make_area, "area", "A new area");
}

static void test_add_form_writes_reference_form_added(void **state)
{
    s_expect_reference_added(ts_make_form, "form", "A new form");
}

static void test_reads_write_nothing(void **state)
{
    const char *slug = ts_unique("reader");
    char slug_copy[64];
    snprintf(slug_copy, sizeof slug_copy, "%s", slug);
    int64_t id = s_partner(slug_copy, "Read Only");
    char *before = ts_registry_fingerprint(fx->admin);
    Dp__GetPartnerReply *got = ts_get_partner_by_slug(fx->registry, slug_copy, "2019-01-01");
    ts_free(&got);
    Dp__ListPartnersRequest list = DP__LIST_PARTNERS_REQUEST__INIT;
    list.as_of = "2020-01-01";
    TS_REF_ID(ref, id);
    Dp__ListEngagementsRequest engagements = DP__LIST_ENGAGEMENTS_REQUEST__INIT;
    engagements.partner = &ref;
    Dp__ListAreasRequest areas = DP__LIST_AREAS_REQUEST__INIT;
    Dp__ListFormsRequest forms = DP__LIST_FORMS_REQUEST__INIT;
    Dp__ListPartnerDomainsRequest domains = DP__LIST_PARTNER_DOMAINS_REQUEST__INIT;
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    const struct {
        const ProtobufCMessage *request;
        const ProtobufCMessageDescriptor *reply_type;
    } reads[] = {{&list.base, &dp__list_partners_reply__descriptor},
                 {&engagements.base, &dp__list_engagements_reply__descriptor},
                 {&areas.base, &dp__list_areas_reply__descriptor},
                 {&forms.base, &dp__list_forms_reply__descriptor},
                 {&domains.base, &dp__list_partner_domains_reply__descriptor},
                 {&health.base, &dp__health_reply__descriptor}};
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        ProtobufCMessage *reply =
            ts_call_ok_at(fx->registry, reads[i].request, reads[i].reply_type, __FILE__, __LINE__);
        ts_free(&reply);
    }

    char *after = ts_registry_fingerprint(fx->admin);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* One refusal of each writing request type: none may leave an event or a row
   behind (ts_expect_error compares every registry table before and after). */
static void test_refusals_write_no_event(void **state)
{
    const char *slug = ts_unique("refused");
    char slug_copy[64];
    snprintf(slug_copy, sizeof slug_copy, "%s", slug);
    int64_t id = s_partner(slug_copy, "Refused Partner");
    long long last = ts_outbox_last_id(fx->admin);
    TS_REF_ID(ref, id);

    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.slug = slug_copy; /* taken */
    create.name = "Again";
    create.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create.joined_on = "2020-01-01";
    ts_expect_error(fx, &create, ALREADY_EXISTS, "slug");

    char *mask[] = {"note"};
    Dp__UpdatePartnerRequest update = DP__UPDATE_PARTNER_REQUEST__INIT;
    update.partner = &ref;
    update.n_update_mask = 1;
    update.update_mask = mask;
    update.note = "x";
    update.expected_version = 7;
    ts_expect_error(fx, &update, FAILED_PRECONDITION, "expected_version");

    Dp__RenamePartnerRequest rename = DP__RENAME_PARTNER_REQUEST__INIT;
    rename.partner = &ref;
    rename.new_name = "Refused Partner";
    ts_expect_error(fx, &rename, INVALID_ARGUMENT, "new_name");

    Dp__WithdrawPartnerRequest withdraw = DP__WITHDRAW_PARTNER_REQUEST__INIT;
    withdraw.partner = &ref;
    withdraw.withdrawn_on = "2000-01-01";
    ts_expect_error(fx, &withdraw, INVALID_ARGUMENT, "withdrawn_on");

    Dp__AddContactRequest contact = DP__ADD_CONTACT_REQUEST__INIT;
    contact.partner = &ref;
    contact.name = "No Mail";
    contact.email = "not an address";
    ts_expect_error(fx, &contact, INVALID_ARGUMENT, "email");

    Dp__RemoveContactRequest remove = DP__REMOVE_CONTACT_REQUEST__INIT;
    remove.partner = &ref;
    remove.contact_id = 99999999;
    ts_expect_error(fx, &remove, NOT_FOUND, "contact_id");

    Dp__RecordEngagementRequest engagement = DP__RECORD_ENGAGEMENT_REQUEST__INIT;
    engagement.partner = &ref;
    engagement.form = FORM;
    engagement.area = AREA;
    engagement.title = "Backwards";
    engagement.starts_on = "2022-03-02";
    engagement.ends_on = "2022-03-01";
    ts_expect_error(fx, &engagement, INVALID_ARGUMENT, "ends_on");

    Dp__Area area = DP__AREA__INIT;
    area.slug = AREA; /* exists */
    area.label = "Again";
    Dp__AddAreaRequest add_area = DP__ADD_AREA_REQUEST__INIT;
    add_area.area = &area;
    ts_expect_error(fx, &add_area, ALREADY_EXISTS, "slug");

    Dp__Form form = DP__FORM__INIT;
    form.slug = FORM; /* exists */
    form.label = "Again";
    Dp__AddFormRequest add_form = DP__ADD_FORM_REQUEST__INIT;
    add_form.form = &form;
    ts_expect_error(fx, &add_form, ALREADY_EXISTS, "slug");

    assert_int_equal(ts_outbox_count_after(fx->admin, last), 0);
}

int main(void)
{
    fx = ts_fixture_new_with_lists(
        "outbox", (const char *const[]){AREA, "Combating cybercrime", NULL},
        (const char *const[]){FORM, "Participation in conferences", NULL});
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_writes_partner_joined),
        cmocka_unit_test(test_update_writes_partner_updated_with_changed_fields),
        cmocka_unit_test(test_rename_writes_partner_renamed),
        cmocka_unit_test(test_withdraw_writes_partner_withdrawn),
        cmocka_unit_test(test_contact_events_carry_no_personal_data),
        cmocka_unit_test(test_engagement_writes_engagement_recorded),
        cmocka_unit_test(test_add_area_writes_reference_area_added),
        cmocka_unit_test(test_add_form_writes_reference_form_added),
        cmocka_unit_test(test_reads_write_nothing),
        cmocka_unit_test(test_refusals_write_no_event),
    };
    return ts_fixture_run(&fx, "registry outbox", tests, sizeof tests / sizeof *tests);
}
