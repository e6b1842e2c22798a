/* The audit trail: every read of personal data (GetEnquiry, ListEnquiries,
   GetPartner with contacts, the export) and every erasure writes one row
   with actor, time and action; with CURVE off the actor is the request's
   actor field marked "(unauthenticated)" where it has one, else
   "unauthenticated". The trails are
   append-only: the services' roles (and even the superuser) cannot update,
   delete or truncate them. ListAudit by address shows that person's rows
   only. */
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
static tp_person_t subject; /* the person whose data is read */
static tp_person_t other;   /* someone else, also read */

#define SUBJECT_EMAIL TP_SUBJECT_EMAIL

/* ---- helpers --------------------------------------------------------------------------- */

/* The newest row of a trail as "actor|action|subject_key|detail", and
   whether its time lies between `since` and now. */
static char *s_newest(const char *service, const char *since, bool *in_time)
{
    const char *params[] = {since};
    PGresult *result = strcmp(service, "intake") == 0
                           ? ts_query(fx->admin,
                                      "SELECT concat_ws('|', actor, action, subject_key, detail),"
                                      " at BETWEEN $1::timestamptz AND now()"
                                      " FROM intake.audit_log ORDER BY id DESC LIMIT 1",
                                      1, params)
                           : ts_query(fx->admin,
                                      "SELECT concat_ws('|', actor, action, subject_key, detail),"
                                      " at BETWEEN $1::timestamptz AND now()"
                                      " FROM registry.audit_log ORDER BY id DESC LIMIT 1",
                                      1, params);
    assert_int_equal(PQntuples(result), 1);
    char *row = strdup(PQgetvalue(result, 0, 0));
    *in_time = strcmp(PQgetvalue(result, 0, 1), "t") == 0;
    PQclear(result);
    return row;
}

static long long s_rows(const char *service)
{
    return strcmp(service, "intake") == 0
               ? ts_query_long(fx->admin, "SELECT count(*) FROM intake.audit_log", 0, NULL)
               : ts_query_long(fx->admin, "SELECT count(*) FROM registry.audit_log", 0, NULL);
}

/* The database's time a moment ago, to bound the audit rows' times. */
static char *s_now(void)
{
    return ts_query_text(fx->admin, "SELECT now() - interval '1 second'", 0, NULL);
}

/* Fails unless the request wrote exactly one row to the trail, the newest,
   equal to `expected` ("actor|action|subject_key|detail"), at a time
   between `since` and now. */
static void s_assert_one_row_at(const char *service, long long rows_before, const char *since,
                                const char *expected, const char *file, int line)
{
    long long rows = s_rows(service);
    bool in_time = false;
    char *newest = rows > rows_before ? s_newest(service, since, &in_time) : strdup("(none)");
    if (rows != rows_before + 1 || strcmp(newest, expected) != 0 || !in_time) {
        print_error("expected one %s audit row '%s' (now), found %lld new; newest '%s'%s\n",
                    service, expected, rows - rows_before, newest,
                    in_time ? "" : " at another time");
        free(newest);
        _fail(file, line);
    }
    free(newest);
}
#define s_assert_one_row(service, before, since, expected)                                         \
    s_assert_one_row_at(service, before, since, expected, __FILE__, __LINE__)

/* ---- reads ----------------------------------------------------------------------------- */

static void test_get_enquiry_is_audited_with_the_subject_key(void **state)
{
    char *since = s_now();
    long long before = s_rows("intake");
    Dp__GetEnquiryReply *reply = ti_get(fx, subject.enquiry_ids[1]);
    ts_free(&reply);
    char expected[200];
    snprintf(expected, sizeof expected, "unauthenticated|read enquiry|%s|enquiry %lld", subject.key,
             (long long)subject.enquiry_ids[1]);
    s_assert_one_row("intake", before, since, expected);
    free(since);
}

static void test_get_of_an_unknown_enquiry_reads_nothing_and_writes_nothing(void **state)
{
    long long before = s_rows("intake");
    Dp__GetEnquiryRequest request = DP__GET_ENQUIRY_REQUEST__INIT;
    request.id = 999999;
    dp_status_t status;
    Dp__GetEnquiryReply *reply = ti_get_enquiry(fx->intake, &request, &status);
    ts_assert_status(&status, NOT_FOUND, "id");
    assert_null(reply);
    assert_int_equal(s_rows("intake"), before);
}

static void test_list_enquiries_is_audited(void **state)
{
    char *since = s_now();
    long long before = s_rows("intake");
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.page_size = 4;
    dp_status_t status;
    Dp__ListEnquiriesReply *reply = ti_list_enquiries(fx->intake, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_enquiries, 4);
    char expected[200];
    snprintf(expected, sizeof expected, "unauthenticated|list enquiries||4 enquiries from id %lld",
             (long long)reply->enquiries[0]->id);
    ts_free(&reply);
    s_assert_one_row("intake", before, since, expected);
    free(since);
}

static void test_get_partner_with_contacts_is_audited(void **state)
{
    char *since = s_now();
    long long before = s_rows("registry");
    Dp__GetPartnerReply *reply = ts_get_partner_by_slug(fx->registry, subject.slugs[0], NULL);
    assert_int_equal(reply->partner->n_contacts, 1);
    ts_free(&reply);
    char expected[200];
    /* One row per person whose contact details were read, found by their key. */
    snprintf(expected, sizeof expected, "unauthenticated|read partner contacts|%s|partner %lld",
             subject.key, (long long)subject.partner_ids[0]);
    s_assert_one_row("registry", before, since, expected);
    free(since);
}

static void test_reads_without_personal_data_are_not_audited(void **state)
{
    /* A partner without contacts, and the partner list (which has none). */
    ts_create_partner_id(fx->registry, "no-contacts", "No Contacts", "2022-02-02");
    long long before = s_rows("registry");
    Dp__GetPartnerReply *got = ts_get_partner_by_slug(fx->registry, "no-contacts", NULL);
    assert_int_equal(got->partner->n_contacts, 0);
    ts_free(&got);
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    dp_status_t status;
    Dp__ListPartnersReply *list = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    for (size_t i = 0; i < list->n_partners; i++)
        assert_int_equal(list->partners[i]->n_contacts, 0);
    ts_free(&list);
    assert_int_equal(s_rows("registry"), before);
}

static void test_exports_are_audited_with_the_request_actor(void **state)
{
    char *since = s_now();
    long long intake_before = s_rows("intake"), registry_before = s_rows("registry");
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply = tp_export_intake(fx, SUBJECT_EMAIL, "dpo.dora", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    char expected[200];
    snprintf(expected, sizeof expected, "dpo.dora (unauthenticated)|export|%s|3 enquiries",
             subject.key);
    s_assert_one_row("intake", intake_before, since, expected);
    reply = tp_export_registry(fx, SUBJECT_EMAIL, "dpo.dora", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    snprintf(expected, sizeof expected, "dpo.dora (unauthenticated)|export|%s|2 contacts",
             subject.key);
    s_assert_one_row("registry", registry_before, since, expected);
    free(since);
}

static void test_an_export_without_actor_is_audited_as_unauthenticated(void **state)
{
    char *since = s_now();
    long long before = s_rows("intake");
    dp_status_t status;
    Dp__ExportPersonalDataReply *reply = tp_export_intake(fx, other.email, "", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    char expected[200];
    snprintf(expected, sizeof expected, "unauthenticated|export|%s|3 enquiries", other.key);
    s_assert_one_row("intake", before, since, expected);
    free(since);
}

/* ---- the trails are append-only ----------------------------------------------------------- */

/* Fails unless the statement fails with SQLSTATE 42501. */
static void s_assert_refused_at(PGconn *conn, const char *sql, const char *file, int line)
{
    char *sqlstate = ts_query_error(conn, sql, 0, NULL);
    if (strcmp(sqlstate, "42501") != 0) {
        print_error("expected 42501 for: %s\n  got '%s'\n", sql, *sqlstate ? sqlstate : "success");
        free(sqlstate);
        _fail(file, line);
    }
    free(sqlstate);
}
#define s_assert_refused(conn, sql) s_assert_refused_at(conn, sql, __FILE__, __LINE__)

static char *s_trails(void)
{
    return ts_query_text(fx->admin,
                         "SELECT concat_ws('/',"
                         " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM "
                         "intake.audit_log t),"
                         " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
                         "    FROM registry.audit_log t))",
                         0, NULL);
}

static void test_the_service_roles_cannot_change_their_trails(void **state)
{
    char *before = s_trails();
    PGconn *intake = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_INTAKE));
    PGconn *registry = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_REGISTRY));
    s_assert_refused(intake, "UPDATE intake.audit_log SET actor = 'someone else'");
    s_assert_refused(intake, "UPDATE intake.audit_log SET detail = '' WHERE action = 'export'");
    s_assert_refused(intake, "DELETE FROM intake.audit_log");
    s_assert_refused(intake, "DELETE FROM intake.audit_log WHERE action = 'read enquiry'");
    s_assert_refused(intake, "TRUNCATE intake.audit_log");
    s_assert_refused(intake, "ALTER TABLE intake.audit_log DISABLE TRIGGER USER");
    s_assert_refused(intake, "DROP TRIGGER intake_audit_append_only ON intake.audit_log");
    s_assert_refused(registry, "UPDATE registry.audit_log SET actor = 'someone else'");
    s_assert_refused(registry, "DELETE FROM registry.audit_log");
    s_assert_refused(registry, "TRUNCATE registry.audit_log");
    s_assert_refused(registry, "ALTER TABLE registry.audit_log DISABLE TRIGGER USER");
    /* Nor the other service's. */
    s_assert_refused(intake, "SELECT count(*) FROM registry.audit_log");
    s_assert_refused(intake, "INSERT INTO registry.audit_log (actor, action) VALUES ('x', 'x')");
    s_assert_refused(registry, "SELECT count(*) FROM intake.audit_log");
    s_assert_refused(registry, "INSERT INTO intake.audit_log (actor, action) VALUES ('x', 'x')");
    PQfinish(intake);
    PQfinish(registry);
    char *after = s_trails();
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_even_the_superuser_cannot_change_a_trail_by_mistake(void **state)
{
    char *before = s_trails();
    s_assert_refused(fx->admin, "UPDATE intake.audit_log SET actor = 'someone else'");
    s_assert_refused(fx->admin, "DELETE FROM intake.audit_log");
    s_assert_refused(fx->admin, "TRUNCATE intake.audit_log");
    s_assert_refused(fx->admin, "UPDATE registry.audit_log SET actor = 'someone else'");
    s_assert_refused(fx->admin, "DELETE FROM registry.audit_log");
    s_assert_refused(fx->admin, "TRUNCATE registry.audit_log");
    char *after = s_trails();
    assert_string_equal(after, before);
    free(before);
    free(after);
}

/* ---- erasure ------------------------------------------------------------------------------- */

static void test_erasures_are_audited_with_the_request_actor(void **state)
{
    char *since = s_now();
    long long intake_before = s_rows("intake"), registry_before = s_rows("registry");
    dp_status_t status;
    Dp__ErasePersonalDataReply *reply =
        tp_erase_intake(fx, SUBJECT_EMAIL, "dpo.erin", "REQ-42", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    char expected[200];
    snprintf(expected, sizeof expected, "dpo.erin (unauthenticated)|erase|%s|3 enquiries; REQ-42",
             subject.key);
    s_assert_one_row("intake", intake_before, since, expected);
    reply = tp_erase_registry(fx, SUBJECT_EMAIL, "", "REQ-42", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    snprintf(expected, sizeof expected, "unauthenticated|erase|%s|2 contacts; REQ-42", subject.key);
    s_assert_one_row("registry", registry_before, since, expected);
    free(since);
}

/* ---- ListAudit ------------------------------------------------------------------------------- */

static void test_list_audit_by_address_shows_that_person_only(void **state)
{
    /* Reads of both people, so that each has rows of their own. */
    Dp__GetEnquiryReply *got = ti_get(fx, other.enquiry_ids[0]);
    ts_free(&got);
    got = ti_get(fx, subject.enquiry_ids[2]);
    ts_free(&got);

    const char *params[] = {subject.key};
    long long expected = ts_query_long(
        fx->admin, "SELECT count(*) FROM intake.audit_log WHERE subject_key = $1", 1, params);
    assert_true(expected >= 4); /* reads, export, erase */
    dp_status_t status;
    Dp__ListAuditReply *reply =
        tp_list_audit_intake(fx, "Zephyrine.Quillfeather@quillworks.example", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_entries, expected);
    bool saw_read = false, saw_export = false, saw_erase = false;
    for (size_t i = 0; i < reply->n_entries; i++) {
        const Dp__AuditEntry *entry = reply->entries[i];
        assert_string_equal(entry->subject_key, subject.key);
        assert_string_equal(entry->service, "intake");
        assert_int_equal(strlen(entry->at), 20);
        assert_true(*entry->actor);
        if (i)
            assert_true(entry->id < reply->entries[i - 1]->id); /* newest first */
        saw_read = saw_read || strcmp(entry->action, "read enquiry") == 0;
        saw_export = saw_export || strcmp(entry->action, "export") == 0;
        saw_erase = saw_erase || strcmp(entry->action, "erase") == 0;
    }
    assert_true(saw_read && saw_export && saw_erase);
    ts_free(&reply);

    /* The other person's list has their rows and none of the subject's. */
    reply = tp_list_audit_intake(fx, other.email, &status);
    ts_assert_ok(&status);
    assert_true(reply->n_entries >= 2);
    for (size_t i = 0; i < reply->n_entries; i++)
        assert_string_equal(reply->entries[i]->subject_key, other.key);
    ts_free(&reply);

    /* All rows, listing reads included, without an address. */
    reply = tp_list_audit_intake(fx, "", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_entries, s_rows("intake"));
    ts_free(&reply);

    reply = tp_list_audit_registry(fx, SUBJECT_EMAIL, &status);
    ts_assert_ok(&status);
    /* the export and the erasure, and any read of the subject's contact details */
    assert_true(reply->n_entries >= 2);
    for (size_t i = 0; i < reply->n_entries; i++) {
        assert_string_equal(reply->entries[i]->subject_key, subject.key);
        assert_string_equal(reply->entries[i]->service, "registry");
    }
    assert_string_equal(reply->entries[0]->action, "erase");
    assert_string_equal(reply->entries[1]->action, "export");
    ts_free(&reply);
}

static void test_a_read_of_a_persons_contact_is_found_by_their_address(void **state)
{
    /* GetPartner shows the other person's contact (name, role, address):
       the person's own trail, asked by address, must show that read as the
       intake's does for a read of an enquiry. */
    Dp__GetPartnerReply *got = ts_get_partner_by_slug(fx->registry, other.slugs[1], NULL);
    assert_int_equal(got->partner->n_contacts, 1);
    assert_string_equal(got->partner->contacts[0]->email, other.email);
    ts_free(&got);
    dp_status_t status;
    Dp__ListAuditReply *reply = tp_list_audit_registry(fx, other.email, &status);
    ts_assert_ok(&status);
    bool found = false;
    for (size_t i = 0; i < reply->n_entries; i++)
        found = found || strcmp(reply->entries[i]->action, "read partner contacts") == 0;
    size_t entries = reply->n_entries;
    ts_free(&reply);
    if (!found)
        fail_msg("the registry's trail for the contact's address has %zu entries and no "
                 "'read partner contacts': the read was recorded without the contact's key",
                 entries);
}

static void test_the_whole_reason_of_an_erasure_is_kept(void **state)
{
    /* Reasons of up to 500 bytes are accepted; the trail must keep them whole. */
    char reason[481];
    for (size_t i = 0; i < sizeof reason - 1; i++)
        reason[i] = (char)('a' + i % 26);
    memcpy(reason + sizeof reason - 9, "REQ-END9", 8);
    reason[sizeof reason - 1] = 0;
    dp_status_t status;
    Dp__ErasePersonalDataReply *reply =
        tp_erase_intake(fx, "long.reason@example.org", "dpo.erin", reason, &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    reply = tp_erase_registry(fx, "long.reason@example.org", "dpo.erin", reason, &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    char expected[600];
    snprintf(expected, sizeof expected, "0 contacts; %s", reason);
    char *registry = ts_query_text(
        fx->admin, "SELECT detail FROM registry.audit_log ORDER BY id DESC LIMIT 1", 0, NULL);
    assert_string_equal(registry, expected);
    snprintf(expected, sizeof expected, "0 enquiries; %s", reason);
    char *intake = ts_query_text(
        fx->admin, "SELECT detail FROM intake.audit_log ORDER BY id DESC LIMIT 1", 0, NULL);
    if (strcmp(intake, expected) != 0)
        fail_msg("the intake's audit row keeps %zu of the %zu bytes of the reason: '...%s'",
                 strlen(intake) > 14 ? strlen(intake) - 14 : 0, strlen(reason),
                 strlen(intake) > 20 ? intake + strlen(intake) - 20 : intake);
    free(registry);
    free(intake);
}

static void test_list_audit_checks_its_arguments(void **state)
{
    Dp__ListAuditRequest request = DP__LIST_AUDIT_REQUEST__INIT;
    request.email = "not-an-address";
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "email");
    request.email = "";
    request.limit = 1001;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "limit");
    request.limit = 2;
    dp_status_t status;
    Dp__ListAuditReply *reply = (Dp__ListAuditReply *)ts_call(
        fx->registry, &request.base, &dp__list_audit_reply__descriptor, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_entries, 2);
    ts_free(&reply);
}

int main(void)
{
    fx = tp_fixture_new("privacy_audit");
    tp_people_init(fx, &subject, &other);
    tp_fixture_start_intake(fx, NULL);
    tp_person_add_enquiries(fx, &subject);
    tp_person_add_enquiries(fx, &other);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_enquiry_is_audited_with_the_subject_key),
        cmocka_unit_test(test_get_of_an_unknown_enquiry_reads_nothing_and_writes_nothing),
        cmocka_unit_test(test_list_enquiries_is_audited),
        cmocka_unit_test(test_get_partner_with_contacts_is_audited),
        cmocka_unit_test(test_reads_without_personal_data_are_not_audited),
        cmocka_unit_test(test_exports_are_audited_with_the_request_actor),
        cmocka_unit_test(test_an_export_without_actor_is_audited_as_unauthenticated),
        cmocka_unit_test(test_the_service_roles_cannot_change_their_trails),
        cmocka_unit_test(test_even_the_superuser_cannot_change_a_trail_by_mistake),
        cmocka_unit_test(test_erasures_are_audited_with_the_request_actor),
        cmocka_unit_test(test_list_audit_by_address_shows_that_person_only),
        cmocka_unit_test(test_a_read_of_a_persons_contact_is_found_by_their_address),
        cmocka_unit_test(test_the_whole_reason_of_an_erasure_is_kept),
        cmocka_unit_test(test_list_audit_checks_its_arguments),
    };
    return ti_fixture_run(&fx, "privacy audit", tests, sizeof tests / sizeof *tests);
}
