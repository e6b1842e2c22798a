/* The access export (ExportPersonalDataRequest): the intake returns every
   enquiry of an address, whole (body, history, notes), and the registry
   every contact with it; nothing of another address, however similar;
   every export is in the audit trail and changes nothing else; after an
   erasure the export says so and holds nothing personal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privacy_support.h"

static ti_fixture_t *fx;
static tp_person_t subject; /* the person asking for their data */
static tp_person_t other;   /* someone else */
static int64_t near_id;     /* an enquiry from an address that contains the subject's */

#define SUBJECT_EMAIL TP_SUBJECT_EMAIL
#define NEAR_EMAIL "zephyrine.quillfeather@quillworks.example.org"

/* True when the list holds the id. */
static bool s_has(const int64_t *ids, size_t count, int64_t id)
{
    for (size_t i = 0; i < count; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* The enquiry as GetEnquiry shows it, packed, to compare with the export. */
static unsigned char *s_packed_enquiry(const Dp__Enquiry *enquiry, size_t *size)
{
    unsigned char *packed = dp_message_pack(&enquiry->base, size);
    assert_non_null(packed);
    return packed;
}

static void test_the_intake_exports_every_enquiry_whole_and_nothing_else(void **state)
{
    char *before = ti_fingerprint(fx->admin);
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply = tp_export_intake(fx, SUBJECT_EMAIL, "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->subject_key, subject.key);
    assert_false(reply->erased);
    assert_int_equal(reply->n_contacts, 0);
    assert_int_equal(reply->n_enquiries, TP_ENQUIRIES);
    size_t expected_history[TP_ENQUIRIES] = {5, 3, 2}; /* closed, rejected, triaged */
    for (size_t i = 0; i < reply->n_enquiries; i++) {
        const Dp__Enquiry *enquiry = reply->enquiries[i];
        assert_true(s_has(subject.enquiry_ids, TP_ENQUIRIES, enquiry->id));
        assert_string_equal(enquiry->email, SUBJECT_EMAIL);
        assert_string_equal(enquiry->sender_name, subject.name);
        int index = enquiry->id == subject.enquiry_ids[0]   ? 0
                    : enquiry->id == subject.enquiry_ids[1] ? 1
                                                            : 2;
        assert_string_equal(enquiry->body, subject.bodies[index]);
        assert_int_equal(enquiry->n_history, expected_history[index]);
        assert_int_equal(enquiry->n_notes, 1);
        assert_non_null(strstr(enquiry->notes[0]->text, subject.word));
        /* Exactly what a staff member reading the enquiry sees. */
        Dp__GetEnquiryReply *got = ti_get(fx, enquiry->id);
        size_t exported_size, got_size;
        unsigned char *exported = s_packed_enquiry(enquiry, &exported_size);
        unsigned char *read = s_packed_enquiry(got->enquiry, &got_size);
        assert_int_equal(exported_size, got_size);
        assert_memory_equal(exported, read, got_size);
        free(exported);
        free(read);
        ts_free(&got);
    }
    ts_free(&reply);
    char *after = ti_fingerprint(fx->admin);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_the_address_is_found_whatever_its_case(void **state)
{
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply =
        tp_export_intake(fx, "ZEPHYRINE.Quillfeather@QuillWorks.Example", "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->subject_key, subject.key);
    assert_int_equal(reply->n_enquiries, TP_ENQUIRIES);
    ts_free(&reply);
}

static void test_a_similar_address_is_another_person(void **state)
{
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply = tp_export_intake(fx, NEAR_EMAIL, "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_enquiries, 1);
    assert_int_equal(reply->enquiries[0]->id, near_id);
    ts_free(&reply);
    reply = tp_export_registry(fx, NEAR_EMAIL, "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_contacts, 0);
    ts_free(&reply);
}

static void test_the_registry_exports_every_contact_and_nothing_else(void **state)
{
    char *before = ts_registry_fingerprint(fx->admin);
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply = tp_export_registry(fx, SUBJECT_EMAIL, "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->subject_key, subject.key);
    assert_false(reply->erased);
    assert_int_equal(reply->n_enquiries, 0);
    assert_int_equal(reply->n_contacts, TP_CONTACTS);
    for (size_t i = 0; i < reply->n_contacts; i++) {
        const Dp__PersonalContact *contact = reply->contacts[i];
        assert_int_equal(contact->id, subject.contact_ids[i]);
        assert_string_equal(contact->partner_slug, subject.slugs[i]);
        assert_string_equal(contact->name, subject.name);
        assert_string_equal(contact->email, SUBJECT_EMAIL);
        assert_non_null(strstr(contact->role, subject.word));
        assert_int_equal(strlen(contact->added_at), 20); /* 2026-11-28T16:30:00Z */
    }
    ts_free(&reply);
    char *after = ts_registry_fingerprint(fx->admin);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_an_address_with_nothing_gets_an_empty_export(void **state)
{
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply =
        tp_export_intake(fx, "nobody@nowhere.example", "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_enquiries, 0);
    ts_free(&reply);
    reply = tp_export_registry(fx, "nobody@nowhere.example", "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_contacts, 0);
    ts_free(&reply);
}

static void test_every_export_is_audited_with_actor_and_key(void **state)
{
    long long intake_before = tp_audit_rows(fx->admin, "intake", "export", NULL, NULL);
    long long registry_before = tp_audit_rows(fx->admin, "registry", "export", NULL, NULL);
    const char *params[] = {"2 seconds"};
    char *started = ts_query_text(fx->admin, "SELECT now() - $1::interval", 1, params);
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply = tp_export_intake(fx, SUBJECT_EMAIL, "dpo.carol", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    reply = tp_export_registry(fx, SUBJECT_EMAIL, "dpo.carol", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    assert_int_equal(tp_audit_rows(fx->admin, "intake", "export", NULL, NULL), intake_before + 1);
    assert_int_equal(tp_audit_rows(fx->admin, "registry", "export", NULL, NULL),
                     registry_before + 1);
    const char *row[] = {subject.key, started};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.audit_log WHERE action = 'export'"
                                   " AND actor = 'dpo.carol (unauthenticated)' AND subject_key = $1"
                                   " AND detail = '3 enquiries' AND at BETWEEN $2::timestamptz"
                                   " AND now()",
                                   2, row),
                     1);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.audit_log WHERE action = 'export'"
                                   " AND actor = 'dpo.carol (unauthenticated)' AND subject_key = $1"
                                   " AND detail = '2 contacts' AND at BETWEEN $2::timestamptz"
                                   " AND now()",
                                   2, row),
                     1);
    /* The trail holds the keyed hash, never the address. */
    const char *address[] = {"quillfeather"};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT (SELECT count(*) FROM intake.audit_log t"
                                   "  WHERE t::text ILIKE '%' || $1 || '%')"
                                   " + (SELECT count(*) FROM registry.audit_log t"
                                   "  WHERE t::text ILIKE '%' || $1 || '%')",
                                   1, address),
                     0);
    /* And the person's trail, asked by address, shows the export. */
    Dp__ListAuditReply *audit = tp_list_audit_intake(fx, SUBJECT_EMAIL, &status);
    ts_assert_ok(&status);
    assert_true(audit->n_entries >= 1);
    assert_string_equal(audit->entries[0]->action, "export");
    assert_string_equal(audit->entries[0]->actor, "dpo.carol (unauthenticated)");
    assert_string_equal(audit->entries[0]->subject_key, subject.key);
    ts_free(&audit);
    free(started);
}

static void test_a_refused_export_returns_nothing_and_changes_nothing(void **state)
{
    char *before = tp_digest(fx->admin);
    Dp__ExportPersonalDataRequest request = DP__EXPORT_PERSONAL_DATA_REQUEST__INIT;
    request.email = "not an address";
    request.actor = "dpo.bob";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "email");
    dp_status_t status;
    ProtobufCMessage *reply =
        ts_call(fx->registry, &request.base, &dp__export_personal_data_reply__descriptor, &status);
    ts_assert_status(&status, INVALID_ARGUMENT, "email");
    assert_null(reply);
    char *after = tp_digest(fx->admin);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_after_erasure_the_export_says_so_and_holds_nothing_personal(void **state)
{
    dp_status_t status;
    Dp__ErasePersonalDataReply *erased =
        tp_erase_intake(fx, SUBJECT_EMAIL, "dpo.bob", "REQ-9", &status);
    ts_assert_ok(&status);
    ts_free(&erased);
    erased = tp_erase_registry(fx, SUBJECT_EMAIL, "dpo.bob", "REQ-9", &status);
    ts_assert_ok(&status);
    ts_free(&erased);

    Dp__ExportPersonalDataReply *reply = tp_export_intake(fx, SUBJECT_EMAIL, "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_true(reply->erased);
    assert_int_equal(reply->n_enquiries, TP_ENQUIRIES);
    for (size_t i = 0; i < reply->n_enquiries; i++) {
        assert_string_equal(reply->enquiries[i]->sender_name, "[erased]");
        assert_string_equal(reply->enquiries[i]->body, "[erased]");
        assert_null(strstr(reply->enquiries[i]->email, "quillfeather"));
        for (size_t n = 0; n < reply->enquiries[i]->n_notes; n++)
            assert_string_equal(reply->enquiries[i]->notes[n]->text, "[erased]");
    }
    ts_free(&reply);
    reply = tp_export_registry(fx, SUBJECT_EMAIL, "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_true(reply->erased);
    assert_int_equal(reply->n_contacts, TP_CONTACTS);
    for (size_t i = 0; i < reply->n_contacts; i++)
        assert_string_equal(reply->contacts[i]->name, "[erased]");
    ts_free(&reply);

    /* The other person is exported as before. */
    reply = tp_export_intake(fx, other.email, "dpo.bob", &status);
    ts_assert_ok(&status);
    assert_false(reply->erased);
    assert_int_equal(reply->n_enquiries, TP_ENQUIRIES);
    for (size_t i = 0; i < reply->n_enquiries; i++) {
        assert_true(s_has(other.enquiry_ids, TP_ENQUIRIES, reply->enquiries[i]->id));
        assert_string_equal(reply->enquiries[i]->sender_name, other.name);
    }
    ts_free(&reply);
}

int main(void)
{
    fx = tp_fixture_new("privacy_export");
    tp_people_init(fx, &subject, &other);
    tp_fixture_start_intake(fx, NULL);
    tp_person_add_enquiries(fx, &subject);
    tp_person_add_enquiries(fx, &other);
    ti_form_t near;
    ti_form_init(&near, "near");
    near.enquiry.email = NEAR_EMAIL;
    near.enquiry.sender_name = "Zephyrine Quillfeather";
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &near);
    near_id = reply->enquiry_id;
    ts_free(&reply);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_intake_exports_every_enquiry_whole_and_nothing_else),
        cmocka_unit_test(test_the_address_is_found_whatever_its_case),
        cmocka_unit_test(test_a_similar_address_is_another_person),
        cmocka_unit_test(test_the_registry_exports_every_contact_and_nothing_else),
        cmocka_unit_test(test_an_address_with_nothing_gets_an_empty_export),
        cmocka_unit_test(test_every_export_is_audited_with_actor_and_key),
        cmocka_unit_test(test_a_refused_export_returns_nothing_and_changes_nothing),
        cmocka_unit_test(test_after_erasure_the_export_says_so_and_holds_nothing_personal),
    };
    return ti_fixture_run(&fx, "privacy export", tests, sizeof tests / sizeof *tests);
}
