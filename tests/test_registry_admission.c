/* Admitting a partner from a membership application: CreatePartnerRequest
   with from_enquiry makes one partner per enquiry. Asked again (the same
   request after a lost reply, or another request naming the same enquiry)
   it answers with that partner and already_created, and writes neither a
   second partner nor a second partner.joined, also when another replica
   admits the same enquiry at the same moment. The enquiry is read back by
   GetPartner and ListPartners, a negative one is refused, the schema holds
   one partner per enquiry even against a direct INSERT, and the reports
   count the admitted partner in its wave like any other. Against the real
   registry and report services and PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_support.h"

static ts_fixture_t *fx;

/* An application as the console sends it when an admin admits the
   applicant: name, kind, domains and joining date from the enquiry. */
static void s_admission(Dp__CreatePartnerRequest *request, const char *slug, const char *name,
                        char **domains, size_t domain_count, const char *joined_on,
                        int64_t enquiry_id)
{
    *request = (Dp__CreatePartnerRequest)DP__CREATE_PARTNER_REQUEST__INIT;
    request->slug = (char *)slug;
    request->name = (char *)name;
    request->kind = DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION;
    request->domains = domains;
    request->n_domains = domain_count;
    request->joined_on = (char *)joined_on;
    request->joined_precision = DP__DATE_PRECISION__DATE_PRECISION_MONTH;
    request->from_enquiry = enquiry_id;
}

static long long s_partners_from(int64_t enquiry_id)
{
    const char *params[] = {ts_id_text(enquiry_id)};
    return ts_query_long(fx->admin,
                         "SELECT count(*) FROM registry.partner WHERE from_enquiry = $1::bigint", 1,
                         params);
}

/* ---- once per enquiry ----------------------------------------------------------- */

static void test_admission_makes_one_partner_and_one_event(void **state)
{
    char *domains[] = {"admitted-once.example"};
    char slug[64];
    snprintf(slug, sizeof slug, "%s", ts_unique("admitted"));
    Dp__CreatePartnerRequest request;
    s_admission(&request, slug, "Admitted Association", domains, 1, "2024-06-01", 4101);
    long long before = ts_outbox_last_id(fx->admin);
    dp_status_t status;
    Dp__CreatePartnerReply *first = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(first->partner);
    assert_false(first->already_created);
    assert_int_equal(first->partner->from_enquiry, 4101);
    assert_string_equal(first->partner->slug, slug);
    assert_string_equal(first->partner->instrument, "exchange of letters");
    int64_t id = first->partner->id;
    ts_event_t *joined =
        ts_expect_one_event(fx->admin, before, "partner.joined", ts_id_text(first->partner->id));
    ts_event_free(&joined);
    ts_free(&first);

    /* The same request again, as after a lost reply: without from_enquiry
       its slug would be refused as taken; with it, the partner made is the
       answer. */
    long long after_first = ts_outbox_last_id(fx->admin);
    long long partners = ts_query_long(fx->admin, "SELECT count(*) FROM registry.partner", 0, NULL);
    Dp__CreatePartnerReply *again = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_true(again->already_created);
    assert_int_equal(again->partner->id, id);
    assert_int_equal(again->partner->from_enquiry, 4101);
    assert_string_equal(again->partner->name, "Admitted Association");
    assert_int_equal(again->partner->n_domains, 1);
    assert_string_equal(again->partner->domains[0], "admitted-once.example");
    ts_free(&again);

    /* Another admin admitting the same application with other details gets
       the same partner, unchanged. */
    char *other_domains[] = {"admitted-other.example"};
    Dp__CreatePartnerRequest other;
    s_admission(&other, ts_unique("admitted-other"), "Another Name", other_domains, 1, "2024-07-01",
                4101);
    Dp__CreatePartnerReply *second = ts_create_partner(fx->registry, &other, &status);
    ts_assert_ok(&status);
    assert_true(second->already_created);
    assert_int_equal(second->partner->id, id);
    assert_string_equal(second->partner->slug, slug);
    assert_string_equal(second->partner->name, "Admitted Association");
    assert_string_equal(second->partner->joined_on, "2024-06-01");
    assert_int_equal(second->partner->version, 1);
    ts_free(&second);

    assert_int_equal(ts_outbox_count_after(fx->admin, after_first), 0);
    assert_int_equal(ts_query_long(fx->admin, "SELECT count(*) FROM registry.partner", 0, NULL),
                     partners);
    assert_int_equal(s_partners_from(4101), 1);
}

static void test_another_enquiry_makes_another_partner(void **state)
{
    Dp__CreatePartnerRequest first, second;
    s_admission(&first, ts_unique("applicant-a"), "Applicant A", NULL, 0, "2024-08-01", 4201);
    s_admission(&second, ts_unique("applicant-b"), "Applicant B", NULL, 0, "2024-08-01", 4202);
    dp_status_t status;
    Dp__CreatePartnerReply *a = ts_create_partner(fx->registry, &first, &status);
    ts_assert_ok(&status);
    Dp__CreatePartnerReply *b = ts_create_partner(fx->registry, &second, &status);
    ts_assert_ok(&status);
    assert_false(a->already_created);
    assert_false(b->already_created);
    assert_true(a->partner->id != b->partner->id);
    assert_int_equal(b->partner->from_enquiry, 4202);
    ts_free(&a);
    ts_free(&b);
}

/* Two replicas admitting the same application at once: the other one's
   partner is written but not yet committed when this registry looks, so
   it finds none and inserts; its insert waits for the other transaction
   and then answers with that partner instead of failing on the unique
   constraint. The other replica is played by an admin session that holds
   its transaction open for a second. */
static void test_a_concurrent_admission_answers_with_its_partner(void **state)
{
    PGconn *other = ts_connect_or_exit(ts_database_url(fx->database, TS_ROLE_ADMIN));
    assert_int_equal(PQsendQuery(other, "BEGIN; "
                                        "INSERT INTO registry.partner (slug, kind, joined_on, "
                                        "  joined_precision, from_enquiry) "
                                        "VALUES ('raced-first', 'association', '2024-10-01', "
                                        "  'month', 4601); "
                                        "INSERT INTO registry.partner_name (partner_id, position, "
                                        "  name) SELECT id, 1, 'Raced First' FROM registry.partner "
                                        "  WHERE slug = 'raced-first'; "
                                        "SELECT pg_sleep(1); COMMIT"),
                     1);
    /* Wait until the other session sleeps, its rows written. */
    long long sleeping = 0;
    for (int i = 0; i < 100 && !sleeping; i++) {
        sleeping = ts_query_long(fx->admin,
                                 "SELECT count(*) FROM pg_stat_activity "
                                 "WHERE wait_event = 'PgSleep' AND datname = current_database()",
                                 0, NULL);
        if (!sleeping)
            zclock_sleep(20);
    }
    assert_int_equal(sleeping, 1);

    long long before = ts_outbox_last_id(fx->admin);
    Dp__CreatePartnerRequest request;
    s_admission(&request, "raced-second", "Raced Second", NULL, 0, "2024-10-01", 4601);
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_true(reply->already_created);
    assert_string_equal(reply->partner->slug, "raced-first");
    assert_string_equal(reply->partner->name, "Raced First");
    assert_int_equal(reply->partner->from_enquiry, 4601);
    ts_free(&reply);
    for (PGresult *result = PQgetResult(other); result; result = PQgetResult(other)) {
        assert_true(PQresultStatus(result) == PGRES_COMMAND_OK ||
                    PQresultStatus(result) == PGRES_TUPLES_OK);
        PQclear(result);
    }
    PQfinish(other);
    assert_int_equal(ts_outbox_count_after(fx->admin, before), 0);
    assert_int_equal(s_partners_from(4601), 1);
}

/* ---- reads ----------------------------------------------------------------------- */

static void test_get_and_list_show_the_enquiry(void **state)
{
    char slug[64];
    snprintf(slug, sizeof slug, "%s", ts_unique("read-back"));
    Dp__CreatePartnerRequest request;
    s_admission(&request, slug, "Read Back Association", NULL, 0, "2024-09-01", 4301);
    dp_status_t status;
    Dp__CreatePartnerReply *created = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    int64_t id = created->partner->id;
    ts_free(&created);

    TS_REF_ID(by_id, id);
    Dp__GetPartnerRequest get = DP__GET_PARTNER_REQUEST__INIT;
    get.partner = &by_id;
    Dp__GetPartnerReply *got = ts_get_partner(fx->registry, &get, &status);
    ts_assert_ok(&status);
    assert_int_equal(got->partner->from_enquiry, 4301);
    ts_free(&got);
    /* As of a date too: the enquiry does not change over time. */
    Dp__GetPartnerReply *as_of = ts_get_partner_by_slug(fx->registry, slug, "2024-12-31");
    assert_int_equal(as_of->partner->from_enquiry, 4301);
    ts_free(&as_of);

    /* A partner registered any other way was admitted from no enquiry. */
    int64_t plain =
        ts_create_partner_id(fx->registry, ts_unique("plain"), "Plain Company", "2024-09-02");
    Dp__ListPartnersRequest list = DP__LIST_PARTNERS_REQUEST__INIT;
    list.page_size = 500;
    Dp__ListPartnersReply *listed = ts_list_partners(fx->registry, &list, &status);
    ts_assert_ok(&status);
    int seen = 0;
    for (size_t i = 0; i < listed->n_partners; i++) {
        if (listed->partners[i]->id == id) {
            assert_int_equal(listed->partners[i]->from_enquiry, 4301);
            seen++;
        }
        if (listed->partners[i]->id == plain) {
            assert_int_equal(listed->partners[i]->from_enquiry, 0);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    ts_free(&listed);
    const char *params[] = {ts_id_text(plain)};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.partner "
                                   "WHERE id = $1::bigint AND from_enquiry IS NULL",
                                   1, params),
                     1);
}

/* ---- refusals and the schema ------------------------------------------------------ */

static void test_negative_enquiry_is_refused(void **state)
{
    Dp__CreatePartnerRequest request;
    s_admission(&request, ts_unique("negative"), "Negative", NULL, 0, "2024-06-01", -5);
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "from_enquiry");
}

static void test_schema_holds_one_partner_per_enquiry(void **state)
{
    Dp__CreatePartnerRequest request;
    s_admission(&request, ts_unique("schema"), "Schema Association", NULL, 0, "2024-06-01", 4401);
    ts_send_ok(fx->registry, &request, &dp__create_partner_reply__descriptor);
    /* Past the service too: a second row for the enquiry, or an enquiry
       that cannot be one, is refused by PostgreSQL. */
    const char *insert = "INSERT INTO registry.partner (slug, kind, joined_on, joined_precision, "
                         "from_enquiry) VALUES ($1, 'company', '2024-06-01', 'day', $2::bigint)";
    const char *twice[] = {"schema-twice", "4401"};
    char *sqlstate = ts_query_error(fx->admin, insert, 2, twice);
    assert_string_equal(sqlstate, "23505");
    free(sqlstate);
    const char *zero[] = {"schema-zero", "0"};
    sqlstate = ts_query_error(fx->admin, insert, 2, zero);
    assert_string_equal(sqlstate, "23514");
    free(sqlstate);
}

/* ---- the reports ------------------------------------------------------------------ */

/* The wave of 2023-10 holds a partner registered as before and one
   admitted from an application; as of the end of 2023 (before every other
   partner of this program joined) the overview counts both. */
static void test_reports_count_the_admitted_partner_in_its_wave(void **state)
{
    Dp__CreatePartnerRequest registered;
    s_admission(&registered, ts_unique("wave-registered"), "Alder Company", NULL, 0, "2023-10-01",
                0);
    registered.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &registered, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->partner->from_enquiry, 0);
    ts_free(&reply);
    tr_report_t *report = tr_report_start(ts_database_url(fx->database, TS_ROLE_REPORT));
    assert_non_null(report);
    Dp__ReportReply *before = tr_overview_ok(report, "2023-12-31");
    tr_assert_rows(tr_table(before->report, "by_wave"), "2023-10|1|1|0|Alder Company");
    ts_free(&before);

    Dp__CreatePartnerRequest admitted;
    s_admission(&admitted, ts_unique("wave-admitted"), "Birch Association", NULL, 0, "2023-10-01",
                4501);
    reply = ts_create_partner(fx->registry, &admitted, &status);
    ts_assert_ok(&status);
    assert_false(reply->already_created);
    ts_free(&reply);
    Dp__ReportReply *after = tr_overview_ok(report, "2023-12-31");
    tr_assert_rows(tr_table(after->report, "by_wave"),
                   "2023-10|2|1|1|Alder Company; Birch Association");
    tr_assert_rows(tr_table(after->report, "by_kind"), "association|1|0|1", "company|1|0|1",
                   "total|2|0|2");
    ts_free(&after);

    /* Asked again, the admission does not count twice. */
    reply = ts_create_partner(fx->registry, &admitted, &status);
    ts_assert_ok(&status);
    assert_true(reply->already_created);
    ts_free(&reply);
    Dp__ReportReply *again = tr_overview_ok(report, "2023-12-31");
    tr_assert_rows(tr_table(again->report, "by_wave"),
                   "2023-10|2|1|1|Alder Company; Birch Association");
    ts_free(&again);
    tr_report_stop(&report);
}

int main(void)
{
    fx = ts_fixture_new("registry_admission", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admission_makes_one_partner_and_one_event),
        cmocka_unit_test(test_another_enquiry_makes_another_partner),
        cmocka_unit_test(test_a_concurrent_admission_answers_with_its_partner),
        cmocka_unit_test(test_get_and_list_show_the_enquiry),
        cmocka_unit_test(test_negative_enquiry_is_refused),
        cmocka_unit_test(test_schema_holds_one_partner_per_enquiry),
        cmocka_unit_test(test_reports_count_the_admitted_partner_in_its_wave),
    };
    return ts_fixture_run(&fx, "registry admission", tests, sizeof tests / sizeof *tests);
}
