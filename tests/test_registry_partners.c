/* The registry's partners: create, get, list (filters and pages), update,
   partner domains and health, against the real service and PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_fixture_t *fx;

/* Areas every test here may use. */
#define AREA_A "cybercrime"
#define AREA_B "data-protection"

/* A complete, valid request; domains and areas point at static storage. */
static void s_full_request(Dp__CreatePartnerRequest *request, const char *slug, const char *name,
                           char **domains, size_t domain_count)
{
    static char *areas[] = {AREA_A, AREA_B};
    *request = (Dp__CreatePartnerRequest)DP__CREATE_PARTNER_REQUEST__INIT;
    request->slug = (char *)slug;
    request->name = (char *)name;
    request->kind = DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION;
    request->website = "https://www.example.org/about";
    request->n_domains = domain_count;
    request->domains = domains;
    request->joined_on = "2018-05-23";
    request->joined_precision = DP__DATE_PRECISION__DATE_PRECISION_DAY;
    request->instrument = "memorandum of understanding";
    request->n_areas = 2;
    request->areas = areas;
    request->note = "a note";
}

/* A valid request with only the required fields, for validation tests. */
static void s_minimal_request(Dp__CreatePartnerRequest *request, const char *slug)
{
    *request = (Dp__CreatePartnerRequest)DP__CREATE_PARTNER_REQUEST__INIT;
    request->slug = (char *)slug;
    request->name = "Valid Name";
    request->kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    request->joined_on = "2019-03-10";
}

static bool s_has_string(char **list, size_t count, const char *wanted)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i], wanted) == 0)
            return true;
    return false;
}

/* ---- health ---------------------------------------------------------------- */

/* Each value in turn in the field of a minimal request (its slug
   "<stem>-<n>"): every one refused INVALID_ARGUMENT naming the field, with
   no row changed. */
static void s_expect_each_invalid(const char *stem, const char *field, const char *const *bad,
                                  size_t count)
{
    for (size_t i = 0; i < count; i++) {
        Dp__CreatePartnerRequest request;
        s_minimal_request(&request, ts_unique(stem));
        ts_set_text(&request.base, field, bad[i]);
        ts_expect_error(fx, &request, INVALID_ARGUMENT, field);
    }
}

static void test_health_reports_service_and_database(void **state)
{
    Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
    dp_status_t status;
    Dp__HealthReply *reply = ts_health(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    assert_string_equal(reply->service, "registry");
    assert_true(reply->database_ok);
    assert_true(strlen(reply->version) > 0);
    assert_true(reply->uptime_seconds >= 0);
    uint64_t served = reply->requests_served;
    ts_free(&reply);
    reply = ts_health(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_true(reply->requests_served > served);
    ts_free(&reply);
}

/* ---- create and get -------------------------------------------------------- */

static void test_create_returns_the_stored_partner(void **state)
{
    const char *slug = ts_unique("full");
    char *domains[] = {"full-one.example", "full-two.example"};
    Dp__CreatePartnerRequest request;
    s_full_request(&request, slug, "Full Partner Association", domains, 2);
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    Dp__Partner *partner = reply->partner;
    assert_non_null(partner);
    assert_true(partner->id > 0);
    assert_string_equal(partner->slug, slug);
    assert_string_equal(partner->name, "Full Partner Association");
    assert_int_equal(partner->kind, DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION);
    assert_string_equal(partner->website, "https://www.example.org/about");
    assert_int_equal(partner->n_domains, 2);
    assert_true(s_has_string(partner->domains, partner->n_domains, "full-one.example"));
    assert_true(s_has_string(partner->domains, partner->n_domains, "full-two.example"));
    assert_string_equal(partner->joined_on, "2018-05-23");
    assert_int_equal(partner->joined_precision, DP__DATE_PRECISION__DATE_PRECISION_DAY);
    assert_string_equal(partner->instrument, "memorandum of understanding");
    assert_int_equal(partner->status, DP__PARTNER_STATUS__PARTNER_STATUS_ACTIVE);
    assert_string_equal(partner->withdrawn_on, "");
    assert_int_equal(partner->n_areas, 2);
    assert_true(s_has_string(partner->areas, partner->n_areas, AREA_A));
    assert_true(s_has_string(partner->areas, partner->n_areas, AREA_B));
    assert_int_equal(partner->n_names, 1);
    assert_string_equal(partner->names[0]->name, "Full Partner Association");
    assert_string_equal(partner->note, "a note");
    assert_int_equal(partner->version, 1);
    assert_string_equal(partner->former_names, "");

    /* It is stored: one partner row, one name, two domains, two areas. */
    const char *id = ts_id_text(partner->id);
    const char *params[] = {id};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.partner WHERE id = $1::bigint", 1,
                                   params),
                     1);
    assert_int_equal(
        ts_query_long(fx->admin,
                      "SELECT count(*) FROM registry.partner_name WHERE partner_id = $1::bigint", 1,
                      params),
        1);
    assert_int_equal(
        ts_query_long(fx->admin,
                      "SELECT count(*) FROM registry.partner_domain WHERE partner_id = $1::bigint",
                      1, params),
        2);
    assert_int_equal(
        ts_query_long(fx->admin,
                      "SELECT count(*) FROM registry.partner_area WHERE partner_id = $1::bigint", 1,
                      params),
        2);
    ts_free(&reply);
}

static void test_create_defaults_precision_and_instrument(void **state)
{
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("defaults"));
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->partner->joined_precision, DP__DATE_PRECISION__DATE_PRECISION_DAY);
    assert_string_equal(reply->partner->instrument, "exchange of letters");
    assert_int_equal(reply->partner->kind, DP__PARTNER_KIND__PARTNER_KIND_COMPANY);
    ts_free(&reply);
}

static void test_get_by_id_and_by_slug_give_the_same_partner(void **state)
{
    const char *slug = ts_unique("getme");
    char *domains[] = {"getme.example"};
    Dp__CreatePartnerRequest create;
    s_full_request(&create, slug, "Get Me", domains, 1);
    dp_status_t status;
    Dp__CreatePartnerReply *created = ts_create_partner(fx->registry, &create, &status);
    ts_assert_ok(&status);
    int64_t id = created->partner->id;
    ts_free(&created);

    TS_REF_ID(by_id, id);
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    request.partner = &by_id;
    Dp__GetPartnerReply *first = ts_get_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    TS_REF_SLUG(by_slug, slug);
    request.partner = &by_slug;
    Dp__GetPartnerReply *second = ts_get_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(first->partner->id, id);
    assert_int_equal(second->partner->id, id);
    assert_string_equal(first->partner->slug, slug);
    assert_string_equal(second->partner->name, "Get Me");
    assert_string_equal(first->partner->joined_on, "2018-05-23");
    assert_int_equal(first->partner->n_domains, 1);
    assert_string_equal(first->partner->domains[0], "getme.example");
    assert_int_equal(first->partner->version, second->partner->version);
    ts_free(&first);
    ts_free(&second);
}

static void test_get_without_reference_is_invalid(void **state)
{
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "partner");
    Dp__PartnerRef empty = DP__PARTNER_REF__INIT;
    request.partner = &empty;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "partner");
}

static void test_get_unknown_partner_is_not_found(void **state)
{
    TS_REF_ID(by_id, 987654321);
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    request.partner = &by_id;
    ts_expect_error(fx, &request, NOT_FOUND, "partner");
    TS_REF_SLUG(by_slug, "no-such-partner");
    request.partner = &by_slug;
    ts_expect_error(fx, &request, NOT_FOUND, "partner");
}

/* ---- create: validation ---------------------------------------------------- */

static void test_create_refuses_bad_slugs(void **state)
{
    char long_slug[80];
    memset(long_slug, 'a', 64);
    long_slug[64] = 0;
    const char *bad[] = {"",       "Upper",  "under_score", "-lead",
                         "trail-", "sp ace", "dot.ted",     long_slug};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Dp__CreatePartnerRequest request;
        s_minimal_request(&request, bad[i]);
        ts_expect_error(fx, &request, INVALID_ARGUMENT, "slug");
    }
}

static void test_create_refuses_taken_slug(void **state)
{
    const char *slug = ts_unique("taken");
    ts_create_partner_id(fx->registry, slug, "First Owner", "2019-01-01");
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, slug);
    request.name = "Second Owner";
    ts_expect_error(fx, &request, ALREADY_EXISTS, "slug");
}

static void test_create_refuses_blank_name(void **state)
{
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("blank"));
    request.name = "";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "name");
    request.name = "   \t ";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "name");
}

static void test_create_bounds_name_in_bytes(void **state)
{
    char name[400] = "";
    /* 67 euro signs are 67 characters but 201 bytes. */
    for (int i = 0; i < 67; i++)
        strcat(name, "\xe2\x82\xac");
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("longname"));
    request.name = name;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "name");
    memset(name, 'n', 201);
    name[201] = 0;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "name");
    /* Exactly 200 bytes is allowed. */
    name[200] = 0;
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(strlen(reply->partner->name), 200);
    ts_free(&reply);
}

static void test_create_refuses_invalid_utf8_name(void **state)
{
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("utf"));
    request.name = "Bad \xff name";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "name");
    request.name = "Overlong \xc0\xaf";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "name");
    request.name = "Control \x01 char";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "name");
}

static void test_create_refuses_unspecified_kind(void **state)
{
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("kind"));
    request.kind = DP__PARTNER_KIND__PARTNER_KIND_UNSPECIFIED;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "kind");
}

static void test_create_refuses_website_not_http(void **state)
{
    const char *bad[] = {"ftp://example.org", "example.org", "javascript:alert(1)",
                         "https://exa mple.org"};
    s_expect_each_invalid("web", "website", bad, sizeof bad / sizeof *bad);
}

static void test_create_refuses_bad_domains(void **state)
{
    const char *bad[] = {"Example.org", "localhost", "exa_mple.org", ".example.org", "a@b.org"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *domains[] = {"fine-domain.example", (char *)bad[i]};
        Dp__CreatePartnerRequest request;
        s_minimal_request(&request, ts_unique("dom"));
        request.n_domains = 2;
        request.domains = domains;
        ts_expect_error(fx, &request, INVALID_ARGUMENT, "domains");
    }
}

static void test_create_refuses_domain_of_another_partner(void **state)
{
    char *domains[] = {"owned-once.example"};
    Dp__CreatePartnerRequest request;
    s_full_request(&request, ts_unique("owner"), "Owner", domains, 1);
    ts_send_ok(fx->registry, &request, &dp__create_partner_reply__descriptor);
    char *again[] = {"free-domain.example", "owned-once.example"};
    s_full_request(&request, ts_unique("thief"), "Thief", again, 2);
    ts_expect_error(fx, &request, ALREADY_EXISTS, "domains");
}

static void test_create_refuses_missing_or_invalid_joined_on(void **state)
{
    const char *bad[] = {"", "2019-02-29", "2019-13-01", "01/02/2019", "2019-1-1"};
    s_expect_each_invalid("joined", "joined_on", bad, sizeof bad / sizeof *bad);
}

static void test_create_refuses_month_precision_not_on_first(void **state)
{
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("month"));
    request.joined_on = "2020-02-15";
    request.joined_precision = DP__DATE_PRECISION__DATE_PRECISION_MONTH;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "joined_precision");
}

static void test_create_refuses_year_precision_not_on_first_of_january(void **state)
{
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("year"));
    request.joined_on = "2020-02-01";
    request.joined_precision = DP__DATE_PRECISION__DATE_PRECISION_YEAR;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "joined_precision");
    request.joined_on = "2020-01-15";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "joined_precision");
}

static void test_create_accepts_month_and_year_precision_on_first_days(void **state)
{
    Dp__CreatePartnerReply *month =
        ts_new_partner(fx->registry, ts_unique("month-ok"), "Month Ok", "2020-02-01", MONTH);
    assert_int_equal(month->partner->joined_precision, DP__DATE_PRECISION__DATE_PRECISION_MONTH);
    Dp__CreatePartnerReply *year =
        ts_new_partner(fx->registry, ts_unique("year-ok"), "Year Ok", "2020-01-01", YEAR);
    assert_int_equal(year->partner->joined_precision, DP__DATE_PRECISION__DATE_PRECISION_YEAR);
    ts_free(&month);
    ts_free(&year);
}

static void test_create_refuses_unknown_area(void **state)
{
    char *areas[] = {AREA_A, "no-such-area"};
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("area"));
    request.n_areas = 2;
    request.areas = areas;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "areas");
}

static void test_create_bounds_note_at_2000_bytes(void **state)
{
    static char note[2002];
    memset(note, 'x', 2001);
    note[2001] = 0;
    Dp__CreatePartnerRequest request;
    s_minimal_request(&request, ts_unique("note"));
    request.note = note;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "note");
    note[2000] = 0;
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(strlen(reply->partner->note), 2000);
    ts_free(&reply);
}

/* ---- list ------------------------------------------------------------------ */

/* Walks every page of a search; fails past max_pages. Returns the number of
   partners seen, their ids in ids[] and the sizes of the pages in sizes[]. */
static size_t s_collect_pages(const char *search, uint32_t page_size, int64_t *ids, size_t capacity,
                              size_t *sizes, size_t *page_count)
{
    enum { MAX_PAGES = 10 };
    char token[512] = "";
    size_t seen = 0;
    *page_count = 0;
    do {
        Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
        request.name_search = (char *)search;
        request.page_size = page_size;
        request.page_token = token;
        dp_status_t status;
        Dp__ListPartnersReply *reply = ts_list_partners(fx->registry, &request, &status);
        ts_assert_ok(&status);
        assert_true(*page_count < MAX_PAGES);
        sizes[(*page_count)++] = reply->n_partners;
        for (size_t i = 0; i < reply->n_partners; i++) {
            assert_true(seen < capacity);
            ids[seen++] = reply->partners[i]->id;
        }
        assert_true(strlen(reply->next_page_token) < sizeof token);
        strcpy(token, reply->next_page_token);
        ts_free(&reply);
    } while (*token);
    return seen;
}

static void test_list_pages_cover_every_partner_once_in_stable_order(void **state)
{
    enum { PARTNERS = 7 };
    int64_t created[PARTNERS];
    for (int i = 0; i < PARTNERS; i++) {
        char name[64];
        snprintf(name, sizeof name, "Pagination Zq%c Partner", 'a' + i);
        created[i] = ts_create_partner_id(fx->registry, ts_unique("page"), name, "2019-06-01");
    }
    int64_t first[16], second[16];
    size_t sizes[16], pages = 0;
    size_t count = s_collect_pages("pagination zq", 3, first, 16, sizes, &pages);
    assert_int_equal(count, PARTNERS);
    assert_int_equal(pages, 3);
    assert_int_equal(sizes[0], 3);
    assert_int_equal(sizes[1], 3);
    assert_int_equal(sizes[2], 1);
    for (int i = 0; i < PARTNERS; i++) {
        int found = 0;
        for (size_t j = 0; j < count; j++)
            found += first[j] == created[i];
        assert_int_equal(found, 1);
    }
    /* The same walk again gives the same sequence. */
    size_t again = s_collect_pages("pagination zq", 3, second, 16, sizes, &pages);
    assert_int_equal(again, count);
    assert_memory_equal(first, second, count * sizeof first[0]);
}

static void test_list_single_page_has_empty_next_token(void **state)
{
    ts_create_partner_id(fx->registry, ts_unique("single"), "Singlepage Qx Partner", "2019-06-01");
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.name_search = "singlepage qx";
    dp_status_t status;
    Dp__ListPartnersReply *reply = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 1);
    assert_string_equal(reply->next_page_token, "");
    ts_free(&reply);
}

static void test_list_refuses_garbage_page_token(void **state)
{
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.page_size = 3;
    request.page_token = "this is not a token !!";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "page_token");
    request.page_token = "\xff\xfe";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "page_token");
}

static void test_list_refuses_page_size_over_500(void **state)
{
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.page_size = 501;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "page_size");
    request.page_size = 500;
    ts_send_ok(fx->registry, &request, &dp__list_partners_reply__descriptor);
}

static void test_list_refuses_invalid_as_of(void **state)
{
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.as_of = "2020-02-30";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "as_of");
}

/* True when the reply lists the partner with this id. */
static bool s_lists(const Dp__ListPartnersReply *reply, int64_t id)
{
    for (size_t i = 0; i < reply->n_partners; i++)
        if (reply->partners[i]->id == id)
            return true;
    return false;
}

static void test_list_filters_by_kind_area_and_joining_dates(void **state)
{
    const char *search = "filterable wv";
    Dp__CreatePartnerRequest request;
    char *none[] = {NULL};
    s_full_request(&request, ts_unique("flt"), "Filterable Wv Early", none, 0);
    request.joined_on = "2010-05-01";
    request.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    dp_status_t status;
    Dp__CreatePartnerReply *early = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    char *only_a[] = {AREA_A};
    s_full_request(&request, ts_unique("flt"), "Filterable Wv Middle", none, 0);
    request.joined_on = "2011-05-01";
    request.n_areas = 1;
    request.areas = only_a;
    Dp__CreatePartnerReply *middle = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);

    Dp__ListPartnersRequest list = DP__LIST_PARTNERS_REQUEST__INIT;
    list.name_search = (char *)search;
    list.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    Dp__ListPartnersReply *reply = ts_list_partners(fx->registry, &list, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 1);
    assert_true(s_lists(reply, early->partner->id));
    ts_free(&reply);

    list.kind = DP__PARTNER_KIND__PARTNER_KIND_UNSPECIFIED;
    list.area = AREA_B;
    reply = ts_list_partners(fx->registry, &list, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 1);
    assert_true(s_lists(reply, early->partner->id));
    ts_free(&reply);

    list.area = "";
    list.joined_from = "2011-01-01";
    list.joined_to = "2011-05-01";
    reply = ts_list_partners(fx->registry, &list, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 1);
    assert_true(s_lists(reply, middle->partner->id));
    ts_free(&reply);

    list.joined_from = "2010-05-01";
    list.joined_to = "";
    list.status = DP__PARTNER_STATUS__PARTNER_STATUS_ACTIVE;
    reply = ts_list_partners(fx->registry, &list, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 2);
    ts_free(&reply);

    list.status = DP__PARTNER_STATUS__PARTNER_STATUS_WITHDRAWN;
    reply = ts_list_partners(fx->registry, &list, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 0);
    ts_free(&reply);
    ts_free(&early);
    ts_free(&middle);
}

static void test_list_name_search_is_case_insensitive_substring(void **state)
{
    int64_t id = ts_create_partner_id(fx->registry, ts_unique("case"), "CaseFold Yy Industries",
                                      "2019-06-01");
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.name_search = "SEFOLD YY IND";
    dp_status_t status;
    Dp__ListPartnersReply *reply = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 1);
    assert_int_equal(reply->partners[0]->id, id);
    ts_free(&reply);
}

/* ---- update ---------------------------------------------------------------- */

/* Creates a partner for update tests and returns its id. */
static int64_t s_partner_to_update(const char *slug, char **domains, size_t domain_count)
{
    Dp__CreatePartnerRequest request;
    s_full_request(&request, slug, "Updatable", domains, domain_count);
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    int64_t id = reply->partner->id;
    ts_free(&reply);
    return id;
}

static void test_update_changes_only_the_masked_fields(void **state)
{
    const char *slug = ts_unique("upd");
    int64_t id = s_partner_to_update(slug, NULL, 0);
    TS_REF_ID(ref, id);
    char *mask[] = {"website", "note", "areas"};
    char *areas[] = {AREA_B};
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.n_update_mask = 3;
    request.update_mask = mask;
    request.website = "https://changed.example";
    request.note = "changed note";
    request.n_areas = 1;
    request.areas = areas;
    request.instrument = "not in the mask";
    request.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY; /* not in the mask either */
    dp_status_t status;
    Dp__UpdatePartnerReply *reply = ts_update_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    Dp__Partner *partner = reply->partner;
    assert_string_equal(partner->website, "https://changed.example");
    assert_string_equal(partner->note, "changed note");
    assert_int_equal(partner->n_areas, 1);
    assert_string_equal(partner->areas[0], AREA_B);
    assert_string_equal(partner->instrument, "memorandum of understanding");
    assert_int_equal(partner->kind, DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION);
    assert_int_equal(partner->version, 2);
    ts_free(&reply);

    /* A later read sees the same. */
    Dp__GetPartnerReply *got = ts_get_partner_by_slug(fx->registry, slug, NULL);
    assert_string_equal(got->partner->website, "https://changed.example");
    assert_string_equal(got->partner->instrument, "memorandum of understanding");
    assert_int_equal(got->partner->version, 2);
    ts_free(&got);
}

static void test_update_replaces_domains_and_joining_date(void **state)
{
    char *before[] = {"upd-old.example"};
    int64_t id = s_partner_to_update(ts_unique("upd"), before, 1);
    TS_REF_ID(ref, id);
    char *mask[] = {"domains", "joined_on"};
    char *after[] = {"upd-new.example", "upd-other.example"};
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.n_update_mask = 2;
    request.update_mask = mask;
    request.n_domains = 2;
    request.domains = after;
    request.joined_on = "2017-11-01";
    request.joined_precision = DP__DATE_PRECISION__DATE_PRECISION_MONTH;
    dp_status_t status;
    Dp__UpdatePartnerReply *reply = ts_update_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->partner->n_domains, 2);
    assert_true(s_has_string(reply->partner->domains, 2, "upd-new.example"));
    assert_false(s_has_string(reply->partner->domains, 2, "upd-old.example"));
    assert_string_equal(reply->partner->joined_on, "2017-11-01");
    assert_int_equal(reply->partner->joined_precision, DP__DATE_PRECISION__DATE_PRECISION_MONTH);
    ts_free(&reply);
    /* The old domain is free again. */
    const char *params[] = {"upd-old.example"};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM registry.partner_domain WHERE domain = $1",
                                   1, params),
                     0);
}

static void test_update_refuses_empty_or_unknown_mask(void **state)
{
    int64_t id = s_partner_to_update(ts_unique("upd"), NULL, 0);
    TS_REF_ID(ref, id);
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.website = "https://never.example";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "update_mask");
    char *unknown[] = {"website", "colour"};
    request.n_update_mask = 2;
    request.update_mask = unknown;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "update_mask");
    char *slug_mask[] = {"slug"}; /* the slug is stable: not updatable */
    request.n_update_mask = 1;
    request.update_mask = slug_mask;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "update_mask");
}

static void test_update_checks_expected_version(void **state)
{
    int64_t id = s_partner_to_update(ts_unique("upd"), NULL, 0);
    TS_REF_ID(ref, id);
    char *mask[] = {"note"};
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.n_update_mask = 1;
    request.update_mask = mask;
    request.note = "stale";
    request.expected_version = 2; /* the partner is at version 1 */
    ts_expect_error(fx, &request, FAILED_PRECONDITION, "expected_version");
    request.note = "fresh";
    request.expected_version = 1;
    dp_status_t status;
    Dp__UpdatePartnerReply *reply = ts_update_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->partner->version, 2);
    assert_string_equal(reply->partner->note, "fresh");
    ts_free(&reply);
    /* Now version 1 is stale. */
    request.note = "stale again";
    ts_expect_error(fx, &request, FAILED_PRECONDITION, "expected_version");
}

static void test_update_validates_the_new_values(void **state)
{
    char *mine[] = {"upd-mine.example"};
    int64_t id = s_partner_to_update(ts_unique("upd"), mine, 1);
    char *theirs[] = {"upd-theirs.example"};
    s_partner_to_update(ts_unique("upd"), theirs, 1);
    TS_REF_ID(ref, id);
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    char *website_mask[] = {"website"};
    request.n_update_mask = 1;
    request.update_mask = website_mask;
    request.website = "gopher://old.example";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "website");

    char *domains_mask[] = {"domains"};
    request.update_mask = domains_mask;
    char *taken[] = {"upd-mine.example", "upd-theirs.example"};
    request.n_domains = 2;
    request.domains = taken;
    ts_expect_error(fx, &request, ALREADY_EXISTS, "domains");
    char *bad[] = {"NotLower.example"};
    request.n_domains = 1;
    request.domains = bad;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "domains");

    char *kind_mask[] = {"kind"};
    request.update_mask = kind_mask;
    request.kind = DP__PARTNER_KIND__PARTNER_KIND_UNSPECIFIED;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "kind");

    char *areas_mask[] = {"areas"};
    char *unknown_area[] = {"no-such-area"};
    request.update_mask = areas_mask;
    request.n_areas = 1;
    request.areas = unknown_area;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "areas");

    static char note[2002];
    memset(note, 'x', 2001);
    char *note_mask[] = {"note"};
    request.update_mask = note_mask;
    request.note = note;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "note");

    char *joined_mask[] = {"joined_on"};
    request.update_mask = joined_mask;
    request.joined_on = "2019-02-30";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "joined_on");
    request.joined_on = "2019-02-15";
    request.joined_precision = DP__DATE_PRECISION__DATE_PRECISION_MONTH;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "joined_precision");
}

static void test_update_unknown_partner(void **state)
{
    char *mask[] = {"note"};
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.n_update_mask = 1;
    request.update_mask = mask;
    request.note = "x";
    TS_REF_SLUG(unknown, "no-such-partner");
    ts_expect_unknown_partner(fx, &request, &unknown);
}

/* ---- partner domains ------------------------------------------------------- */

static void test_list_partner_domains_names_the_owner(void **state)
{
    const char *slug = ts_unique("doms");
    char *domains[] = {"doms-a.example", "doms-b.example"};
    int64_t id = s_partner_to_update(slug, domains, 2);
    Dp__ListPartnerDomainsRequest request = DP__LIST_PARTNER_DOMAINS_REQUEST__INIT;
    dp_status_t status;
    Dp__ListPartnerDomainsReply *reply = ts_list_partner_domains(fx->registry, &request, &status);
    ts_assert_ok(&status);
    int found = 0;
    for (size_t i = 0; i < reply->n_domains; i++) {
        Dp__PartnerDomain *domain = reply->domains[i];
        if (strcmp(domain->domain, "doms-a.example") && strcmp(domain->domain, "doms-b.example"))
            continue;
        assert_int_equal(domain->partner_id, id);
        assert_string_equal(domain->partner_slug, slug);
        found++;
    }
    assert_int_equal(found, 2);
    /* Every domain in the table is listed, once. */
    long long rows =
        ts_query_long(fx->admin, "SELECT count(*) FROM registry.partner_domain", 0, NULL);
    assert_int_equal(reply->n_domains, rows);
    ts_free(&reply);
}

int main(void)
{
    fx = ts_fixture_new_with_lists(
        "partners",
        (const char *const[]){AREA_A, "Combating cybercrime", AREA_B, "Data protection", NULL},
        NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_reports_service_and_database),
        cmocka_unit_test(test_create_returns_the_stored_partner),
        cmocka_unit_test(test_create_defaults_precision_and_instrument),
        cmocka_unit_test(test_get_by_id_and_by_slug_give_the_same_partner),
        cmocka_unit_test(test_get_without_reference_is_invalid),
        cmocka_unit_test(test_get_unknown_partner_is_not_found),
        cmocka_unit_test(test_create_refuses_bad_slugs),
        cmocka_unit_test(test_create_refuses_taken_slug),
        cmocka_unit_test(test_create_refuses_blank_name),
        cmocka_unit_test(test_create_bounds_name_in_bytes),
        cmocka_unit_test(test_create_refuses_invalid_utf8_name),
        cmocka_unit_test(test_create_refuses_unspecified_kind),
        cmocka_unit_test(test_create_refuses_website_not_http),
        cmocka_unit_test(test_create_refuses_bad_domains),
        cmocka_unit_test(test_create_refuses_domain_of_another_partner),
        cmocka_unit_test(test_create_refuses_missing_or_invalid_joined_on),
        cmocka_unit_test(test_create_refuses_month_precision_not_on_first),
        cmocka_unit_test(test_create_refuses_year_precision_not_on_first_of_january),
        cmocka_unit_test(test_create_accepts_month_and_year_precision_on_first_days),
        cmocka_unit_test(test_create_refuses_unknown_area),
        cmocka_unit_test(test_create_bounds_note_at_2000_bytes),
        cmocka_unit_test(test_list_pages_cover_every_partner_once_in_stable_order),
        cmocka_unit_test(test_list_single_page_has_empty_next_token),
        cmocka_unit_test(test_list_refuses_garbage_page_token),
        cmocka_unit_test(test_list_refuses_page_size_over_500),
        cmocka_unit_test(test_list_refuses_invalid_as_of),
        cmocka_unit_test(test_list_filters_by_kind_area_and_joining_dates),
        cmocka_unit_test(test_list_name_search_is_case_insensitive_substring),
        cmocka_unit_test(test_update_changes_only_the_masked_fields),
        cmocka_unit_test(test_update_replaces_domains_and_joining_date),
        cmocka_unit_test(test_update_refuses_empty_or_unknown_mask),
        cmocka_unit_test(test_update_checks_expected_version),
        cmocka_unit_test(test_update_validates_the_new_values),
        cmocka_unit_test(test_update_unknown_partner),
        cmocka_unit_test(test_list_partner_domains_names_the_owner),
    };
    return ts_fixture_run(&fx, "registry partners", tests, sizeof tests / sizeof *tests);
}
