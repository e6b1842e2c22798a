/* Erasure on request: one person's three enquiries (with history and notes)
   and two partner contacts are pseudonymised by ErasePersonalDataRequest in
   the intake and in the registry, rows and everything the reports count
   kept; the tombstone holds the keyed hash; each outbox gets one
   privacy.erased event without the address; the same enquiry imported
   again stores nothing, a new one from the person and a contact added again
   are stored erased, and personal data put back by a restore from a backup
   is erased again.

   The tests run in order on one database: the first two erase, the others
   look at what follows an erasure. A second person's data, never erased,
   must stay exactly as it was throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.pb-c.h"
#include "privacy_support.h"

static ti_fixture_t *fx;
static tp_person_t subject; /* the person who asks to be erased */
static tp_person_t other;   /* someone else, never erased */
static char *other_before;  /* the other person's rows before any erasure */

#define SUBJECT_EMAIL TP_SUBJECT_EMAIL
/* The same address as a feeding system might spell it. */
#define SUBJECT_EMAIL_SHOUTED "Zephyrine.QuillFeather@QUILLWORKS.example"

/* ---- reading back ------------------------------------------------------------------ */

/* Every column of the person's enquiries that must survive an erasure, one
   line per enquiry: the row, its kind, dates, status, partner link. */
static char *s_kept_enquiry_columns(const char *key)
{
    const char *params[] = {key};
    return ts_query_text(
        fx->admin,
        "SELECT coalesce(string_agg(concat_ws('|', id, source, idempotency_key, kind, country,"
        "  language, areas, received_at, stored_at, status, partner_id, partner_slug,"
        "  suggested_areas, possible_duplicate_of, quarantine_reason, assignee, due_on,"
        "  first_response_at, resolved_at, email_key, content_hash), E'\\n' ORDER BY id), '')"
        " FROM intake.enquiry WHERE email_key = $1",
        1, params);
}

/* The status history and the notes of the person's enquiries, without
   their texts: who, when, from, to. */
static char *s_kept_history(const char *key)
{
    const char *params[] = {key};
    return ts_query_text(
        fx->admin,
        "SELECT concat_ws(E'\\n',"
        " (SELECT string_agg(concat_ws('|', s.id, s.enquiry_id, s.from_status, s.to_status,"
        "    s.actor, s.at), ';' ORDER BY s.id) FROM intake.enquiry_transition s"
        "    JOIN intake.enquiry e ON e.id = s.enquiry_id WHERE e.email_key = $1),"
        " (SELECT string_agg(concat_ws('|', n.id, n.enquiry_id, n.actor, n.at), ';' ORDER BY n.id)"
        "    FROM intake.enquiry_note n JOIN intake.enquiry e ON e.id = n.enquiry_id"
        "    WHERE e.email_key = $1),"
        " (SELECT count(*) FROM intake.enquiry_transition s JOIN intake.enquiry e"
        "    ON e.id = s.enquiry_id WHERE e.email_key = $1 AND s.note IN ('', 'at intake')))",
        1, params);
}

/* Every row of the other person, whole. */
static char *s_rows_of(const tp_person_t *person)
{
    const char *params[] = {person->key};
    return ts_query_text(
        fx->admin,
        "SELECT concat_ws(E'\\n',"
        " (SELECT string_agg(e::text, ';' ORDER BY e.id) FROM intake.enquiry e"
        "    WHERE e.email_key = $1),"
        " (SELECT string_agg(n::text, ';' ORDER BY n.id) FROM intake.enquiry_note n"
        "    JOIN intake.enquiry e ON e.id = n.enquiry_id WHERE e.email_key = $1),"
        " (SELECT string_agg(s::text, ';' ORDER BY s.id) FROM intake.enquiry_transition s"
        "    JOIN intake.enquiry e ON e.id = s.enquiry_id WHERE e.email_key = $1),"
        " (SELECT string_agg(c::text, ';' ORDER BY c.id) FROM registry.contact c"
        "    WHERE c.email_key = $1))",
        1, params);
}

static void s_assert_other_unchanged(void)
{
    char *now = s_rows_of(&other);
    assert_string_equal(now, other_before);
    free(now);
}

/* The address an erased row carries instead of the real one. */
static void s_erased_email(const char *key, char email[64])
{
    dp_privacy_erased_email(key, email);
}

/* Fails unless none of the person's words is left in any enquiry, note,
   history entry or contact. */
static void s_assert_nothing_left_of(const tp_person_t *person)
{
    const char *needles[] = {person->name, person->email, person->organisation, person->word};
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++) {
        if (tp_enquiry_mentions(fx->admin, needles[i]) ||
            tp_contact_mentions(fx->admin, needles[i]))
            fail_msg("'%s' is still stored after the erasure", needles[i]);
    }
}

/* Exactly one privacy.erased event in the outbox (intake or registry)
   after after_id; fails unless it describes this erasure without the address. */
static void s_assert_privacy_event(const char *service, long long after_id, uint32_t erased,
                                   const char *reason)
{
    ts_event_t *event;
    if (strcmp(service, "intake") == 0) {
        event = ti_expect_one_event(fx->admin, after_id, "privacy.erased", NULL);
    } else {
        event = ts_expect_one_event(fx->admin, after_id, "privacy.erased", subject.key);
        assert_string_equal(event->aggregate_type, "privacy");
    }
    Dp__PrivacyEvent *decoded = (Dp__PrivacyEvent *)dp_message_decode(
        &dp__privacy_event__descriptor, event->payload, event->payload_size, 1 << 20);
    assert_non_null(decoded);
    assert_string_equal(decoded->service, service);
    assert_string_equal(decoded->subject_key, subject.key);
    assert_int_equal(decoded->erased, erased);
    assert_string_equal(decoded->reason, reason);
    const char *needles[] = {subject.email, "zephyrine.quillfeather", "Zephyrine", "Quillfeather",
                             subject.word};
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++)
        if (ts_event_mentions(event, needles[i]))
            fail_msg("the %s privacy.erased event carries '%s'", service, needles[i]);
    ts_free(&decoded);
    ts_event_free(&event);
}

/* ---- erasure ------------------------------------------------------------------------ */

static void test_the_subject_is_stored_and_linked_before_erasure(void **state)
{
    const char *params[] = {subject.key, ts_id_text(subject.partner_ids[0])};
    /* The intake keys the rows with the same keyed hash as the test. */
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE email_key = $1"
                                   " AND partner_id = $2::bigint",
                                   2, params),
                     TP_ENQUIRIES);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.contact WHERE email_key = $1", 1,
                                   params),
                     TP_CONTACTS);
    assert_true(tp_enquiry_mentions(fx->admin, subject.word) >= TP_ENQUIRIES);
    assert_int_equal(tp_contact_mentions(fx->admin, subject.name), TP_CONTACTS);
}

static void test_erasure_in_the_intake_pseudonymises_every_personal_field(void **state)
{
    char *kept_before = s_kept_enquiry_columns(subject.key);
    char *history_before = s_kept_history(subject.key);
    long long outbox = ti_outbox_last_id(fx->admin);
    long long enquiries = ti_enquiry_count(fx->admin);

    dp_status_t status;
    Dp__ErasePersonalDataReply *reply =
        tp_erase_intake(fx, SUBJECT_EMAIL_SHOUTED, "dpo.alice", "REQ-2026-117", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->erased, TP_ENQUIRIES);
    assert_string_equal(reply->subject_key, subject.key);
    ts_free(&reply);

    /* Rows, kinds, dates, statuses, partner links and the history stay. */
    assert_int_equal(ti_enquiry_count(fx->admin), enquiries);
    char *kept_after = s_kept_enquiry_columns(subject.key);
    assert_string_equal(kept_after, kept_before);
    char *history_after = s_kept_history(subject.key);
    assert_string_equal(history_after, history_before);

    char erased_email[64];
    s_erased_email(subject.key, erased_email);
    const char *params[] = {subject.key, erased_email};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE email_key = $1"
                                   " AND sender_name = '[erased]' AND email = $2"
                                   " AND organisation = '' AND subject = '[erased]'"
                                   " AND subject_key = '' AND body = '[erased]'"
                                   " AND erased_at IS NOT NULL AND erasure_reason = 'request'",
                                   2, params),
                     TP_ENQUIRIES);
    /* Every note, and every move's own note; the service's generic notes stay. */
    assert_int_equal(
        ts_query_long(fx->admin,
                      "SELECT count(*) FROM intake.enquiry_note n JOIN intake.enquiry e"
                      " ON e.id = n.enquiry_id WHERE e.email_key = $1"
                      " AND n.text <> '[erased]'",
                      1, params),
        0);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry_transition s"
                                   " JOIN intake.enquiry e ON e.id = s.enquiry_id"
                                   " WHERE e.email_key = $1"
                                   " AND s.note NOT IN ('', 'at intake', '[erased]')",
                                   1, params),
                     0);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry_transition s"
                                   " JOIN intake.enquiry e ON e.id = s.enquiry_id"
                                   " WHERE e.email_key = $1 AND s.note = '[erased]'",
                                   1, params),
                     4);
    assert_int_equal(tp_enquiry_mentions(fx->admin, subject.name), 0);
    assert_int_equal(tp_enquiry_mentions(fx->admin, subject.email), 0);
    assert_int_equal(tp_enquiry_mentions(fx->admin, subject.organisation), 0);
    assert_int_equal(tp_enquiry_mentions(fx->admin, subject.word), 0);

    /* The service shows the pseudonymised enquiry. */
    Dp__GetEnquiryReply *got = ti_get(fx, subject.enquiry_ids[0]);
    assert_string_equal(got->enquiry->sender_name, "[erased]");
    assert_string_equal(got->enquiry->email, erased_email);
    assert_string_equal(got->enquiry->body, "[erased]");
    assert_int_equal(got->enquiry->partner_id, subject.partner_ids[0]);
    ts_free(&got);

    /* The tombstone holds the keyed hash, and nothing of the address. */
    char *tombstones = tp_tombstones(fx->admin, "intake");
    assert_string_equal(tombstones, subject.key);
    free(tombstones);
    const char *address[] = {subject.email};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.erasure_tombstone t"
                                   " WHERE t::text ILIKE '%' || $1 || '%'",
                                   1, address),
                     0);

    s_assert_privacy_event("intake", outbox, TP_ENQUIRIES, "request");
    assert_int_equal(
        tp_audit_rows(fx->admin, "intake", "erase", "dpo.alice (unauthenticated)", subject.key), 1);
    s_assert_other_unchanged();
    free(kept_before);
    free(kept_after);
    free(history_before);
    free(history_after);
}

static void test_erasure_in_the_registry_pseudonymises_contacts(void **state)
{
    const char *params[] = {subject.key};
    const char *kept_sql =
        "SELECT string_agg(concat_ws('|', id, partner_id, added_at, email_key), ';' ORDER BY id)"
        " FROM registry.contact WHERE email_key = $1";
    char *kept_before = ts_query_text(fx->admin, kept_sql, 1, params);
    long long outbox = ts_outbox_last_id(fx->admin);

    dp_status_t status;
    Dp__ErasePersonalDataReply *reply =
        tp_erase_registry(fx, SUBJECT_EMAIL, "dpo.alice", "REQ-2026-117", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->erased, TP_CONTACTS);
    assert_string_equal(reply->subject_key, subject.key);
    ts_free(&reply);

    char *kept_after = ts_query_text(fx->admin, kept_sql, 1, params);
    assert_string_equal(kept_after, kept_before);
    char erased_email[64];
    s_erased_email(subject.key, erased_email);
    const char *erased_params[] = {subject.key, erased_email};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.contact WHERE email_key = $1"
                                   " AND name = '[erased]' AND role = '' AND email = $2",
                                   2, erased_params),
                     TP_CONTACTS);
    s_assert_nothing_left_of(&subject);

    /* What the registry shows of the partner: the contact, pseudonymised. */
    Dp__GetPartnerReply *partner = ts_get_partner_by_slug(fx->registry, subject.slugs[1], NULL);
    assert_int_equal(partner->partner->n_contacts, 1);
    assert_string_equal(partner->partner->contacts[0]->name, "[erased]");
    assert_string_equal(partner->partner->contacts[0]->email, erased_email);
    ts_free(&partner);

    char *tombstones = tp_tombstones(fx->admin, "registry");
    assert_string_equal(tombstones, subject.key);
    free(tombstones);
    s_assert_privacy_event("registry", outbox, TP_CONTACTS, "request");
    assert_int_equal(
        tp_audit_rows(fx->admin, "registry", "erase", "dpo.alice (unauthenticated)", subject.key),
        1);
    s_assert_other_unchanged();
    free(kept_before);
    free(kept_after);
}

static void test_erasing_again_finds_nothing_more_to_erase(void **state)
{
    dp_status_t status;
    Dp__ErasePersonalDataReply *reply =
        tp_erase_intake(fx, SUBJECT_EMAIL, "dpo.alice", "REQ-2026-117 again", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->erased, 0);
    ts_free(&reply);
    reply = tp_erase_registry(fx, SUBJECT_EMAIL, "dpo.alice", "REQ-2026-117 again", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->erased, 0);
    ts_free(&reply);
    /* Still one tombstone each. */
    char *tombstones = tp_tombstones(fx->admin, "intake");
    assert_string_equal(tombstones, subject.key);
    free(tombstones);
    tombstones = tp_tombstones(fx->admin, "registry");
    assert_string_equal(tombstones, subject.key);
    free(tombstones);
}

/* ---- after the erasure ------------------------------------------------------------------ */

static void test_the_same_enquiry_imported_again_returns_its_id_and_stores_nothing(void **state)
{
    char *before = tp_digest(fx->admin);
    for (int i = 0; i < TP_ENQUIRIES; i++) {
        dp_status_t status;
        Dp__SubmitEnquiryReply *reply =
            ti_submit_enquiry(fx->intake, &subject.forms[i].request, &status);
        ts_assert_ok(&status);
        assert_int_equal(reply->enquiry_id, subject.enquiry_ids[i]);
        assert_true(reply->already_submitted);
        ts_free(&reply);
    }
    char *after = tp_digest(fx->admin);
    assert_string_equal(after, before);
    s_assert_nothing_left_of(&subject);
    free(before);
    free(after);
}

static void test_a_new_enquiry_of_the_person_is_stored_erased(void **state)
{
    ti_form_t form;
    ti_form_init(&form, "newkey");
    form.enquiry.sender_name = (char *)subject.name;
    form.enquiry.email = SUBJECT_EMAIL_SHOUTED;
    form.enquiry.organisation = (char *)subject.organisation;
    char body[200];
    snprintf(body, sizeof body, "%s again, still curious about %s.", subject.name, subject.word);
    form.enquiry.body = body;
    long long outbox = ti_outbox_last_id(fx->admin);
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, &form);
    assert_false(reply->already_submitted);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);

    char erased_email[64];
    s_erased_email(subject.key, erased_email);
    const char *params[] = {ts_id_text(id), subject.key, erased_email};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE id = $1::bigint"
                                   " AND email_key = $2 AND sender_name = '[erased]'"
                                   " AND email = $3 AND organisation = '' AND subject = '[erased]'"
                                   " AND body = '[erased]' AND erased_at IS NOT NULL"
                                   " AND erasure_reason = 'request'"
                                   " AND kind = 'information-request' AND status = 'triaged'",
                                   3, params),
                     1);
    s_assert_nothing_left_of(&subject);
    /* Its events say what every new enquiry's say, and nothing personal. */
    size_t count = 0;
    ts_event_t **events = ti_events_after(fx->admin, outbox, &count);
    assert_int_equal(count, 2);
    assert_string_equal(events[0]->event_type, "enquiry.received");
    assert_string_equal(events[1]->event_type, "enquiry.triaged");
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(events[i]->aggregate_id, ts_id_text(id));
        assert_false(ts_event_mentions(events[i], "Zephyrine"));
        assert_false(ts_event_mentions(events[i], "uillFeather"));
        assert_false(ts_event_mentions(events[i], subject.word));
    }
    ti_events_free(&events, count);
    s_assert_other_unchanged();
}

static void test_a_contact_added_again_is_stored_erased(void **state)
{
    TS_REF_SLUG(partner, subject.slugs[0]);
    Dp__AddContactRequest request = DP__ADD_CONTACT_REQUEST__INIT;
    request.partner = &partner;
    request.name = (char *)subject.name;
    request.role = "Head of Quillworks";
    request.email = SUBJECT_EMAIL_SHOUTED;
    dp_status_t status;
    Dp__AddContactReply *reply = ts_add_contact(fx->registry, &request, &status);
    ts_assert_ok(&status);
    char erased_email[64];
    s_erased_email(subject.key, erased_email);
    assert_string_equal(reply->contact->name, "[erased]");
    assert_string_equal(reply->contact->role, "");
    assert_string_equal(reply->contact->email, erased_email);
    const char *params[] = {ts_id_text(reply->contact->id), subject.key, erased_email};
    ts_free(&reply);
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.contact WHERE id = $1::bigint"
                                   " AND email_key = $2 AND name = '[erased]' AND role = ''"
                                   " AND email = $3",
                                   3, params),
                     1);
    s_assert_nothing_left_of(&subject);
    s_assert_other_unchanged();
}

/* ---- a restore from a backup older than the erasure --------------------------------------- */

static void test_a_restore_is_erased_again_by_the_privacy_job(void **state)
{
    /* As the operator restoring a backup: the first enquiry comes back as
       it was (with its keyed hash), the second from a backup older than the
       keyed hashes (without one), both with their notes and history. */
    const char *first = ts_id_text(subject.enquiry_ids[0]);
    char second[24];
    snprintf(second, sizeof second, "%s", ts_id_text(subject.enquiry_ids[1]));
    const char *params[] = {first,         second,       subject.name,
                            subject.email, subject.word, subject.organisation};
    PQclear(ts_query(fx->admin, "BEGIN", 0, NULL));
    PQclear(ts_query(fx->admin,
                     "UPDATE intake.enquiry SET sender_name = $3, email = $4, organisation = $6,"
                     " subject = $3 || ' on ' || $5, subject_key = lower($5),"
                     " body = 'Restored words of ' || $3 || ' about ' || $5,"
                     " erased_at = NULL, erasure_reason = '',"
                     " email_key = CASE WHEN id = $2::bigint THEN NULL ELSE email_key END"
                     " WHERE id IN ($1::bigint, $2::bigint)",
                     6, params));
    PQclear(
        ts_query(fx->admin,
                 "UPDATE intake.enquiry_note SET text = 'Restored: called ' || $3 || ' on ' || $4"
                 " WHERE enquiry_id IN ($1::bigint, $2::bigint)",
                 4, params));
    const char *moves[] = {first, second, subject.name, subject.word};
    PQclear(
        ts_query(fx->admin,
                 "UPDATE intake.enquiry_transition SET note = 'Restored: ' || $3 || ' and ' || $4"
                 " WHERE enquiry_id IN ($1::bigint, $2::bigint) AND note = '[erased]'",
                 4, moves));
    PQclear(ts_query(fx->admin, "COMMIT", 0, NULL));
    assert_true(tp_enquiry_mentions(fx->admin, subject.word) >= 2);
    long long outbox = ti_outbox_last_id(fx->admin);

    /* The job (every second here) gives the second its keyed hash and
       applies the tombstone to both. */
    const char *ids[] = {first, second};
    bool erased = tp_wait_value(fx->admin,
                                "SELECT count(*) FROM intake.enquiry WHERE id IN ($1::bigint,"
                                " $2::bigint) AND erased_at IS NOT NULL"
                                " AND erasure_reason = 'request'",
                                2, ids, 2, 15000);
    if (!erased)
        fail_msg("the privacy job did not erase the restored enquiries within 15 s");
    s_assert_nothing_left_of(&subject);
    const char *key_params[] = {second, subject.key};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.enquiry WHERE id = $1::bigint"
                                   " AND email_key = $2",
                                   2, key_params),
                     1);
    assert_int_equal(tp_audit_rows(fx->admin, "intake", "erase", "intake", NULL), 1);
    /* One event for the two, without the address (subject_key "": the job
       erases whoever has a tombstone). */
    ts_event_t *event = ti_expect_one_event(fx->admin, outbox, "privacy.erased", NULL);
    Dp__PrivacyEvent *decoded = (Dp__PrivacyEvent *)dp_message_decode(
        &dp__privacy_event__descriptor, event->payload, event->payload_size, 1 << 20);
    assert_non_null(decoded);
    assert_int_equal(decoded->erased, 2);
    assert_string_equal(decoded->reason, "request");
    assert_false(ts_event_mentions(event, subject.email));
    ts_free(&decoded);
    ts_event_free(&event);
    s_assert_other_unchanged();
}

static void test_a_restore_of_contacts_is_erased_again_when_the_registry_starts(void **state)
{
    /* The registry has no periodic job: what it does at start (after a
       restore the services are started again) must apply the tombstones. */
    const char *params[] = {ts_id_text(subject.contact_ids[0]), subject.name, subject.email};
    char second[24];
    snprintf(second, sizeof second, "%s", ts_id_text(subject.contact_ids[1]));
    const char *both[] = {params[0], second, subject.name, subject.email};
    PQclear(ts_query(fx->admin,
                     "UPDATE registry.contact SET name = $3, role = 'restored', email = $4,"
                     " email_key = CASE WHEN id = $2::bigint THEN NULL ELSE email_key END"
                     " WHERE id IN ($1::bigint, $2::bigint)",
                     4, both));
    assert_int_equal(tp_contact_mentions(fx->admin, subject.name), 2);
    tp_fixture_restart_registry(fx);
    bool erased = tp_wait_value(fx->admin,
                                "SELECT count(*) FROM registry.contact WHERE id IN ($1::bigint,"
                                " $2::bigint) AND name = '[erased]'",
                                2, both, 2, 5000);
    if (!erased)
        fail_msg("contacts restored from a backup keep the personal data of an erased person "
                 "(%lld of 2 still hold the name after the registry started again)",
                 tp_contact_mentions(fx->admin, subject.name));
    s_assert_nothing_left_of(&subject);
    s_assert_other_unchanged();
}

int main(void)
{
    fx = tp_fixture_new("privacy_erasure");
    tp_people_init(fx, &subject, &other);
    const char *settings[] = {"DP_INTAKE_PRIVACY_JOB_MS", "1000", NULL};
    tp_fixture_start_intake(fx, settings);
    tp_person_add_enquiries(fx, &subject);
    tp_person_add_enquiries(fx, &other);
    other_before = s_rows_of(&other);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_subject_is_stored_and_linked_before_erasure),
        cmocka_unit_test(test_erasure_in_the_intake_pseudonymises_every_personal_field),
        cmocka_unit_test(test_erasure_in_the_registry_pseudonymises_contacts),
        cmocka_unit_test(test_erasing_again_finds_nothing_more_to_erase),
        cmocka_unit_test(test_the_same_enquiry_imported_again_returns_its_id_and_stores_nothing),
        cmocka_unit_test(test_a_new_enquiry_of_the_person_is_stored_erased),
        cmocka_unit_test(test_a_contact_added_again_is_stored_erased),
        cmocka_unit_test(test_a_restore_is_erased_again_by_the_privacy_job),
        cmocka_unit_test(test_a_restore_of_contacts_is_erased_again_when_the_registry_starts),
    };
    int failed = cmocka_run_group_tests_name("privacy erasure", tests, NULL, NULL);
    free(other_before);
    ti_fixture_destroy(&fx);
    return failed;
}
