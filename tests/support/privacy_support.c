#include "privacy_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_codec.h"

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

enum { MAX_SETTINGS = 40 };

/* ---- The fixture ------------------------------------------------------------------ */

static const char *const s_registry_settings[] = {"DP_PRIVACY_KEY", TP_PRIVACY_KEY,
                                                  "DP_METRICS_PORT", "-1", NULL};

ti_fixture_t *tp_fixture_new(const char *label)
{
    return ti_fixture_new_with(label, s_registry_settings);
}

void tp_fixture_start_intake(ti_fixture_t *fixture, const char *const *settings)
{
    const char *all[MAX_SETTINGS + 1] = {
        "DP_PRIVACY_KEY",  TP_PRIVACY_KEY, "DP_INTAKE_RETENTION_MONTHS", "24",
        "DP_METRICS_PORT", "-1",           "DP_NOTIFY_PUB_ENDPOINT",     ""};
    size_t used = 8;
    for (const char *const *pair = settings; pair && pair[0]; pair += 2) {
        assert_true(used + 2 <= MAX_SETTINGS);
        all[used++] = pair[0];
        all[used++] = pair[1];
    }
    all[used] = NULL;
    fixture->intake = ti_intake_start(ts_database_url(fixture->database, TS_ROLE_INTAKE),
                                      ts_registry_endpoint(fixture->registry), all);
    if (!fixture->intake) {
        fprintf(stderr, "FATAL: cannot start the intake on %s\n",
                ts_database_name(fixture->database));
        exit(1);
    }
}

void tp_fixture_restart_registry(ti_fixture_t *fixture)
{
    ts_registry_stop(&fixture->registry);
    fixture->registry = ts_registry_start(ts_database_url(fixture->database, TS_ROLE_REGISTRY),
                                          s_registry_settings);
    assert_non_null(fixture->registry);
}

void tp_subject_key(const char *email, char key[DP_PRIVACY_KEY_HEX])
{
    dp_privacy_subject_key(TP_PRIVACY_KEY, email, key);
}

/* ---- A person ----------------------------------------------------------------- */

void tp_person_init(tp_person_t *person, const char *tag, const char *name, const char *email,
                    const char *organisation, const char *word, const char *domain)
{
    memset(person, 0, sizeof *person);
    person->name = name;
    person->email = email;
    person->organisation = organisation;
    person->word = word;
    person->domain = domain;
    tp_subject_key(email, person->key);
    for (int i = 0; i < TP_CONTACTS; i++)
        snprintf(person->slugs[i], sizeof person->slugs[i], "%s-partner-%d", tag, i + 1);
    for (int i = 0; i < TP_ENQUIRIES; i++) {
        ti_form_t *form = &person->forms[i];
        ti_form_init(form, tag);
        form->enquiry.sender_name = (char *)name;
        form->enquiry.email = (char *)email;
        form->enquiry.organisation = (char *)organisation;
        snprintf(form->subject, sizeof form->subject, "%s asks about %s (%d)", name, word, i + 1);
        snprintf(person->bodies[i], sizeof person->bodies[i],
                 "Dear Division, this is %s of %s. My question %d concerns %s. "
                 "Please answer to %s.",
                 name, organisation, i + 1, word, email);
        form->enquiry.body = person->bodies[i];
    }
}

void tp_person_add_partners(ti_fixture_t *fixture, tp_person_t *person)
{
    for (int i = 0; i < TP_CONTACTS; i++) {
        person->partner_ids[i] =
            i == 0
                ? ti_create_partner_with_domain(fixture->registry, person->slugs[i], person->domain)
                : ts_create_partner_id(fixture->registry, person->slugs[i], person->slugs[i],
                                       "2021-03-01");
        char role[160];
        snprintf(role, sizeof role, "%s liaison %d", person->word, i + 1);
        TS_REF_ID(partner, person->partner_ids[i]);
        Dp__AddContactRequest request = DP__ADD_CONTACT_REQUEST__INIT;
        request.partner = &partner;
        request.name = (char *)person->name;
        request.role = role;
        request.email = (char *)person->email;
        dp_status_t status;
        Dp__AddContactReply *reply = ts_add_contact(fixture->registry, &request, &status);
        ts_assert_ok(&status);
        assert_non_null(reply);
        assert_non_null(reply->contact);
        person->contact_ids[i] = reply->contact->id;
        ts_free(&reply);
    }
}

static void s_note(ti_fixture_t *fixture, int64_t id, const char *text)
{
    Dp__AddEnquiryNoteRequest request = DP__ADD_ENQUIRY_NOTE_REQUEST__INIT;
    request.id = id;
    request.actor = "officer.two";
    request.text = (char *)text;
    ts_send_ok(fixture->intake, &request, &dp__add_enquiry_note_reply__descriptor);
}

void tp_people_init(ti_fixture_t *fixture, tp_person_t *subject, tp_person_t *other)
{
    tp_person_init(subject, "zq", "Zephyrine Quillfeather", TP_SUBJECT_EMAIL,
                   "Quillfeather Consulting", "xylokrambit", "quillworks.example");
    tp_person_init(other, "bi", "Bartholomew Inkwell", "b.inkwell@inkwell-trust.example",
                   "Inkwell Trust", "quorvantine", "inkwell-trust.example");
    tp_person_add_partners(fixture, subject);
    tp_person_add_partners(fixture, other);
}

void tp_person_add_enquiries(ti_fixture_t *fixture, tp_person_t *person)
{
    char text[400];
    for (int i = 0; i < TP_ENQUIRIES; i++) {
        Dp__SubmitEnquiryReply *reply = ti_submit_ok(fixture, &person->forms[i]);
        assert_false(reply->already_submitted);
        assert_int_equal(reply->status, STATUS(TRIAGED));
        person->enquiry_ids[i] = reply->enquiry_id;
        ts_free(&reply);
        snprintf(text, sizeof text, "Phoned %s about %s; call back on %s", person->name,
                 person->word, person->email);
        s_note(fixture, person->enquiry_ids[i], text);
    }
    int64_t first = person->enquiry_ids[0];
    snprintf(text, sizeof text, "%s needs an expert on %s", person->name, person->word);
    ti_assign_ok(fixture, first, text);
    snprintf(text, sizeof text, "Answered %s by mail to %s", person->name, person->email);
    ti_move_ok(fixture, first, STATUS(ANSWERED), text);
    snprintf(text, sizeof text, "%s is satisfied with the %s answer", person->name, person->word);
    ti_move_ok(fixture, first, STATUS(CLOSED), text);
    snprintf(text, sizeof text, "%s asked about %s twice", person->name, person->word);
    ti_move_ok(fixture, person->enquiry_ids[1], STATUS(REJECTED), text);
}

/* ---- Privacy requests ------------------------------------------------------------ */

/* The privacy requests go to the intake and the registry alike. */
static Dp__ErasePersonalDataReply *s_erase(tf_service_t *service, const char *email,
                                           const char *actor, const char *reason,
                                           dp_status_t *status)
{
    Dp__ErasePersonalDataRequest request = DP__ERASE_PERSONAL_DATA_REQUEST__INIT;
    request.email = (char *)email;
    request.actor = (char *)actor;
    request.reason = (char *)reason;
    return (Dp__ErasePersonalDataReply *)tf_call(
        service, &request.base, &dp__erase_personal_data_reply__descriptor, status);
}

static Dp__ExportPersonalDataReply *s_export(tf_service_t *service, const char *email,
                                             const char *actor, dp_status_t *status)
{
    Dp__ExportPersonalDataRequest request = DP__EXPORT_PERSONAL_DATA_REQUEST__INIT;
    request.email = (char *)email;
    request.actor = (char *)actor;
    return (Dp__ExportPersonalDataReply *)tf_call(
        service, &request.base, &dp__export_personal_data_reply__descriptor, status);
}

static Dp__ListAuditReply *s_list_audit(tf_service_t *service, const char *email,
                                        dp_status_t *status)
{
    Dp__ListAuditRequest request = DP__LIST_AUDIT_REQUEST__INIT;
    request.email = (char *)email;
    request.limit = 1000;
    return (Dp__ListAuditReply *)tf_call(service, &request.base, &dp__list_audit_reply__descriptor,
                                         status);
}

Dp__ErasePersonalDataReply *tp_erase_intake(ti_fixture_t *fixture, const char *email,
                                            const char *actor, const char *reason,
                                            dp_status_t *status)
{
    return s_erase(fixture->intake, email, actor, reason, status);
}

Dp__ErasePersonalDataReply *tp_erase_registry(ti_fixture_t *fixture, const char *email,
                                              const char *actor, const char *reason,
                                              dp_status_t *status)
{
    return s_erase(fixture->registry, email, actor, reason, status);
}

Dp__ExportPersonalDataReply *tp_export_intake(ti_fixture_t *fixture, const char *email,
                                              const char *actor, dp_status_t *status)
{
    return s_export(fixture->intake, email, actor, status);
}

Dp__ExportPersonalDataReply *tp_export_registry(ti_fixture_t *fixture, const char *email,
                                                const char *actor, dp_status_t *status)
{
    return s_export(fixture->registry, email, actor, status);
}

Dp__RunRetentionReply *tp_run_retention(ti_fixture_t *fixture, bool dry_run, const char *actor,
                                        dp_status_t *status)
{
    Dp__RunRetentionRequest request = DP__RUN_RETENTION_REQUEST__INIT;
    request.dry_run = dry_run;
    request.actor = (char *)actor;
    return (Dp__RunRetentionReply *)ti_call(fixture->intake, &request.base,
                                            &dp__run_retention_reply__descriptor, status);
}

Dp__ListAuditReply *tp_list_audit_intake(ti_fixture_t *fixture, const char *email,
                                         dp_status_t *status)
{
    return s_list_audit(fixture->intake, email, status);
}

Dp__ListAuditReply *tp_list_audit_registry(ti_fixture_t *fixture, const char *email,
                                           dp_status_t *status)
{
    return s_list_audit(fixture->registry, email, status);
}

/* ---- Reading back as the superuser --------------------------------------------- */

/* The schema of a service that keeps privacy records: "intake" or "registry". */
static const char *s_schema(const char *service)
{
    if (strcmp(service, "intake") != 0)
        assert_string_equal(service, "registry");
    return service;
}

long long tp_audit_rows(PGconn *admin, const char *service, const char *action, const char *actor,
                        const char *subject_key)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM %s.audit_log WHERE action = $1"
             " AND ($2::text IS NULL OR actor = $2)"
             " AND ($3::text IS NULL OR subject_key = $3)",
             s_schema(service));
    const char *params[] = {action, actor, subject_key};
    return ts_query_long(admin, sql, 3, params);
}

char *tp_tombstones(PGconn *admin, const char *service)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(string_agg(email_key, ',' ORDER BY email_key), '')"
             " FROM %s.erasure_tombstone",
             s_schema(service));
    return ts_query_text(admin, sql, 0, NULL);
}

char *tp_digest(PGconn *admin)
{
    char *registry = ts_registry_fingerprint(admin);
    char *intake = ti_fingerprint(admin);
    char *privacy =
        ts_query_text(admin,
                      "SELECT concat_ws('/',"
                      " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
                      "    FROM intake.audit_log t),"
                      " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
                      "    FROM registry.audit_log t),"
                      " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.email_key), ''))"
                      "    FROM intake.erasure_tombstone t),"
                      " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.email_key), ''))"
                      "    FROM registry.erasure_tombstone t))",
                      0, NULL);
    size_t size = strlen(registry) + strlen(intake) + strlen(privacy) + 3;
    char *digest = malloc(size);
    assert_non_null(digest);
    snprintf(digest, size, "%s/%s/%s", registry, intake, privacy);
    free(registry);
    free(intake);
    free(privacy);
    return digest;
}

long long tp_enquiry_mentions(PGconn *admin, const char *needle)
{
    const char *params[] = {needle};
    return ts_query_long(
        admin,
        "SELECT (SELECT count(*) FROM intake.enquiry e WHERE concat_ws(' ', e.sender_name,"
        "          e.email, e.organisation, e.subject, e.subject_key, e.body) ILIKE"
        "          '%' || $1 || '%')"
        "     + (SELECT count(*) FROM intake.enquiry_note n WHERE n.text ILIKE '%' || $1 || '%')"
        "     + (SELECT count(*) FROM intake.enquiry_transition s"
        "          WHERE s.note ILIKE '%' || $1 || '%')",
        1, params);
}

long long tp_contact_mentions(PGconn *admin, const char *needle)
{
    const char *params[] = {needle};
    return ts_query_long(admin,
                         "SELECT count(*) FROM registry.contact c"
                         " WHERE concat_ws(' ', c.name, c.role, c.email) ILIKE '%' || $1 || '%'",
                         1, params);
}

bool tp_wait_value(PGconn *conn, const char *sql, int param_count, const char *const *params,
                   long long expected, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (true) {
        if (ts_query_long(conn, sql, param_count, params) == expected)
            return true;
        if (zclock_mono() >= deadline)
            return false;
        zclock_sleep(50);
    }
}
