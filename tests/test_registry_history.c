/* A partner over time: renames, answers as of a date, membership on a date
   for day / month / year precision, and withdrawal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_support.h"

static ts_fixture_t *fx;

typedef enum { DAY, MONTH, YEAR } s_precision_t;

#define NOT_MEMBER DP__MEMBERSHIP__MEMBERSHIP_NOT_MEMBER
#define MEMBER DP__MEMBERSHIP__MEMBERSHIP_MEMBER
#define UNCERTAIN DP__MEMBERSHIP__MEMBERSHIP_UNCERTAIN

/* The partner as of a date ("" for now), by slug. */
static Dp__GetPartnerReply *s_as_of(const char *slug, const char *as_of)
{
    return ts_get_partner_by_slug(fx->registry, slug, as_of);
}

static Dp__Membership s_membership(const char *slug, const char *as_of)
{
    Dp__GetPartnerReply *reply = s_as_of(slug, as_of);
    Dp__Membership membership = reply->partner->membership;
    ts_free(&reply);
    return membership;
}

/* A new partner whose slug is "<stem>-<n>" (ts_unique's buffer). */
static const char *s_new_partner(const char *stem, const char *name, const char *joined_on,
                                 s_precision_t precision)
{
    static const Dp__DatePrecision precisions[] = {DP__DATE_PRECISION__DATE_PRECISION_DAY,
                                                   DP__DATE_PRECISION__DATE_PRECISION_MONTH,
                                                   DP__DATE_PRECISION__DATE_PRECISION_YEAR};
    const char *slug = ts_unique(stem);
    Dp__CreatePartnerReply *created = ts_create_partner_at(
        fx->registry, slug, name, joined_on, precisions[precision], __FILE__, __LINE__);
    ts_free(&created);
    return slug;
}

/* What a partner's membership should be on each of some days. */
typedef struct {
    const char *on;
    Dp__Membership membership;
} s_day_t;

static void s_expect_memberships(const char *slug, const s_day_t *days, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        Dp__Membership membership = s_membership(slug, days[i].on);
        if (membership != days[i].membership)
            fail_msg("%s on %s: membership %d, expected %d", slug, days[i].on, (int)membership,
                     (int)days[i].membership);
    }
}

static void s_rename(const char *slug, const char *new_name, const char *effective_on)
{
    TS_REF_SLUG(ref, slug);
    Dp__RenamePartnerRequest request = DP__RENAME_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.new_name = (char *)new_name;
    request.effective_on = (char *)effective_on;
    dp_status_t status;
    Dp__RenamePartnerReply *reply = ts_rename_partner(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->partner->name, new_name);
    ts_free(&reply);
}

static Dp__WithdrawPartnerReply *s_withdraw(const char *slug, const char *withdrawn_on,
                                            dp_status_t *status)
{
    TS_REF_SLUG(ref, slug);
    Dp__WithdrawPartnerRequest request = DP__WITHDRAW_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.withdrawn_on = (char *)withdrawn_on;
    request.note = "by letter";
    return ts_withdraw_partner(fx->registry, &request, status);
}

/* Today and yesterday as the database sees them. */
static void s_database_days(char today[11], char yesterday[11])
{
    char *text = ts_query_text(fx->admin, "SELECT current_date::text", 0, NULL);
    snprintf(today, 11, "%s", text);
    free(text);
    text = ts_query_text(fx->admin, "SELECT (current_date - 1)::text", 0, NULL);
    snprintf(yesterday, 11, "%s", text);
    free(text);
}

/* ---- rename ---------------------------------------------------------------- */

static void test_rename_changes_name_and_keeps_history(void **state)
{
    const char *slug = ts_unique("ren");
    Dp__CreatePartnerReply *created =
        ts_new_partner(fx->registry, slug, "Old Name Ltd", "2018-01-10", DAY);
    int64_t id = created->partner->id;
    ts_free(&created);
    s_rename(slug, "New Name Ltd", "2020-06-15");

    Dp__GetPartnerReply *now = s_as_of(slug, "");
    Dp__Partner *partner = now->partner;
    assert_int_equal(partner->id, id);
    assert_string_equal(partner->slug, slug); /* the slug is stable */
    assert_string_equal(partner->name, "New Name Ltd");
    assert_int_equal(partner->n_names, 2);
    assert_string_equal(partner->names[0]->name, "Old Name Ltd");
    assert_string_equal(partner->names[0]->valid_to, "2020-06-15");
    assert_string_equal(partner->names[1]->name, "New Name Ltd");
    assert_string_equal(partner->names[1]->valid_from, "2020-06-15");
    assert_string_equal(partner->names[1]->valid_to, "");
    assert_string_equal(partner->former_names, "Old Name Ltd");
    assert_int_equal(partner->version, 2);
    ts_free(&now);
}

static void test_name_as_of_a_date_follows_the_rename(void **state)
{
    const char *slug = s_new_partner("asof", "Before Rename", "2018-01-10", DAY);
    s_rename(slug, "After Rename", "2020-06-15");

    Dp__GetPartnerReply *reply = s_as_of(slug, "2019-01-01");
    assert_string_equal(reply->partner->name, "Before Rename");
    ts_free(&reply);
    reply = s_as_of(slug, "2020-06-14");
    assert_string_equal(reply->partner->name, "Before Rename");
    ts_free(&reply);
    reply = s_as_of(slug, "2020-06-15");
    assert_string_equal(reply->partner->name, "After Rename");
    ts_free(&reply);
    reply = s_as_of(slug, "2024-01-01");
    assert_string_equal(reply->partner->name, "After Rename");
    ts_free(&reply);
}

static void test_rename_with_unknown_date_keeps_old_name_for_the_past(void **state)
{
    /* As ServiceNow: joined as Element AI; the day of the change is not known. */
    const char *slug = s_new_partner("servicenow-like", "Element Zz AI", "2020-02-01", MONTH);
    s_rename(slug, "ServiceNow Zz", "");
    char today[11], yesterday[11];
    s_database_days(today, yesterday);

    Dp__GetPartnerReply *now = s_as_of(slug, "");
    assert_string_equal(now->partner->name, "ServiceNow Zz");
    assert_int_equal(now->partner->n_names, 2);
    assert_string_equal(now->partner->names[1]->name, "ServiceNow Zz");
    assert_string_equal(now->partner->names[1]->valid_from, "");
    assert_string_equal(now->partner->former_names, "Element Zz AI");
    ts_free(&now);

    Dp__GetPartnerReply *past = s_as_of(slug, "2021-03-01");
    assert_string_equal(past->partner->name, "Element Zz AI");
    ts_free(&past);
    past = s_as_of(slug, yesterday);
    assert_string_equal(past->partner->name, "Element Zz AI");
    ts_free(&past);

    /* Searching finds it by its former name as well. */
    Dp__ListPartnersRequest list = DP__LIST_PARTNERS_REQUEST__INIT;
    list.name_search = "element zz";
    dp_status_t status;
    Dp__ListPartnersReply *found = ts_list_partners(fx->registry, &list, &status);
    ts_assert_ok(&status);
    assert_int_equal(found->n_partners, 1);
    assert_string_equal(found->partners[0]->slug, slug);
    assert_string_equal(found->partners[0]->name, "ServiceNow Zz");
    ts_free(&found);
}

static void test_rename_refuses_blank_or_same_name(void **state)
{
    const char *slug = s_new_partner("ren-bad", "Same Name", "2018-01-10", DAY);
    TS_REF_SLUG(ref, slug);
    Dp__RenamePartnerRequest request = DP__RENAME_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.effective_on = "2020-01-01";
    const ts_text_step_t steps[] = {{"new_name", "", "new_name"},
                                    {"new_name", "   ", "new_name"},
                                    {"new_name", "Same Name", "new_name"},
                                    {"new_name", "Bad \xed\xa0\x80 surrogate", "new_name"}};
    ts_expect_text_steps(fx, &request, steps);
}

static void test_rename_refuses_bad_effective_date(void **state)
{
    const char *slug = s_new_partner("ren-date", "Dated Name", "2018-01-10", DAY);
    TS_REF_SLUG(ref, slug);
    Dp__RenamePartnerRequest request = DP__RENAME_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.new_name = "Other Name";
    const ts_text_step_t steps[] = {{"effective_on", "2020-02-31", "effective_on"},
                                    {"effective_on", "June 2020", "effective_on"},
                                    /* the day before joining */
                                    {"effective_on", "2018-01-09", "effective_on"}};
    ts_expect_text_steps(fx, &request, steps);
}

static void test_rename_unknown_partner(void **state)
{
    Dp__RenamePartnerRequest request = DP__RENAME_PARTNER_REQUEST__INIT;
    request.new_name = "Whoever";
    TS_REF_ID(unknown, 99999999);
    ts_expect_unknown_partner(fx, &request, &unknown);
}

/* ---- as of ----------------------------------------------------------------- */

static void test_get_refuses_invalid_as_of(void **state)
{
    const char *slug = s_new_partner("asof-bad", "As Of Bad", "2018-01-10", DAY);
    TS_REF_SLUG(ref, slug);
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    const char *bad[] = {"2019-02-29", "yesterday", "2019-1-01", "1899-12-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request.as_of = (char *)bad[i];
        ts_expect_error(fx, &request, INVALID_ARGUMENT, "as_of");
    }
}

static void test_membership_with_day_precision(void **state)
{
    const char *slug = s_new_partner("day", "Day Member", "2019-03-10", DAY);
    const s_day_t days[] = {
        {"2019-03-09", NOT_MEMBER}, {"2019-03-10", MEMBER}, {"2023-01-01", MEMBER}};
    s_expect_memberships(slug, days, sizeof days / sizeof *days);
}

static void test_membership_with_month_precision(void **state)
{
    const char *slug = s_new_partner("month", "Month Member", "2020-02-01", MONTH);
    const s_day_t days[] = {{"2020-01-31", NOT_MEMBER},
                            {"2020-02-01", UNCERTAIN},
                            {"2020-02-15", UNCERTAIN},
                            {"2020-02-28", UNCERTAIN},
                            {"2020-03-01", MEMBER}};
    s_expect_memberships(slug, days, sizeof days / sizeof *days);
}

static void test_membership_with_year_precision(void **state)
{
    const char *slug = s_new_partner("year", "Year Member", "2020-01-01", YEAR);
    const s_day_t days[] = {{"2019-12-31", NOT_MEMBER},
                            {"2020-01-01", UNCERTAIN},
                            {"2020-07-01", UNCERTAIN},
                            {"2020-12-30", UNCERTAIN},
                            {"2021-01-01", MEMBER}};
    s_expect_memberships(slug, days, sizeof days / sizeof *days);
}

static void test_membership_ends_with_withdrawal(void **state)
{
    const char *slug = s_new_partner("gone", "Gone Member", "2019-03-10", DAY);
    dp_status_t status;
    Dp__WithdrawPartnerReply *withdrawn = s_withdraw(slug, "2023-05-01", &status);
    ts_assert_ok(&status);
    ts_free(&withdrawn);
    const s_day_t days[] = {{"2023-04-30", MEMBER},
                            {"2023-05-02", NOT_MEMBER},
                            {"2025-01-01", NOT_MEMBER},
                            {"2019-03-09", NOT_MEMBER}};
    s_expect_memberships(slug, days, sizeof days / sizeof *days);
}

/* The membership given for the partner with this slug in a list, or UNSPECIFIED when absent. */
static Dp__Membership s_listed(const Dp__ListPartnersReply *reply, const char *slug)
{
    for (size_t i = 0; i < reply->n_partners; i++)
        if (strcmp(reply->partners[i]->slug, slug) == 0)
            return reply->partners[i]->membership;
    return DP__MEMBERSHIP__MEMBERSHIP_UNSPECIFIED;
}

static void test_list_as_of_includes_only_possible_members(void **state)
{
    char day[64], month[64], year[64], later[64], gone[64];
    snprintf(day, sizeof day, "%s", ts_unique("wave-day"));
    snprintf(month, sizeof month, "%s", ts_unique("wave-month"));
    snprintf(year, sizeof year, "%s", ts_unique("wave-year"));
    snprintf(later, sizeof later, "%s", ts_unique("wave-later"));
    snprintf(gone, sizeof gone, "%s", ts_unique("wave-gone"));
    Dp__CreatePartnerReply *created[5] = {
        ts_new_partner(fx->registry, day, "Wavelist Kq Day", "2019-03-10", DAY),
        ts_new_partner(fx->registry, month, "Wavelist Kq Month", "2020-02-01", MONTH),
        ts_new_partner(fx->registry, year, "Wavelist Kq Year", "2020-01-01", YEAR),
        ts_new_partner(fx->registry, later, "Wavelist Kq Later", "2021-06-01", DAY),
        ts_new_partner(fx->registry, gone, "Wavelist Kq Gone", "2017-11-08", DAY)};
    for (int i = 0; i < 5; i++)
        ts_free(&created[i]);
    dp_status_t status;
    Dp__WithdrawPartnerReply *withdrawn = s_withdraw(gone, "2019-12-31", &status);
    ts_assert_ok(&status);
    ts_free(&withdrawn);

    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.name_search = "wavelist kq";
    request.as_of = "2020-02-15";
    Dp__ListPartnersReply *reply = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 3);
    assert_int_equal(s_listed(reply, day), DP__MEMBERSHIP__MEMBERSHIP_MEMBER);
    assert_int_equal(s_listed(reply, month), DP__MEMBERSHIP__MEMBERSHIP_UNCERTAIN);
    assert_int_equal(s_listed(reply, year), DP__MEMBERSHIP__MEMBERSHIP_UNCERTAIN);
    assert_int_equal(s_listed(reply, later), DP__MEMBERSHIP__MEMBERSHIP_UNSPECIFIED);
    assert_int_equal(s_listed(reply, gone), DP__MEMBERSHIP__MEMBERSHIP_UNSPECIFIED);
    ts_free(&reply);

    /* Before the month and year periods begin only the sure members remain. */
    request.as_of = "2019-12-01";
    reply = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 2);
    assert_int_equal(s_listed(reply, day), DP__MEMBERSHIP__MEMBERSHIP_MEMBER);
    assert_int_equal(s_listed(reply, gone), DP__MEMBERSHIP__MEMBERSHIP_MEMBER);
    ts_free(&reply);

    /* Without as_of every partner is listed, withdrawn or not. */
    request.as_of = "";
    reply = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 5);
    ts_free(&reply);
}

static void test_list_as_of_shows_the_name_then(void **state)
{
    const char *slug = s_new_partner("listname", "Listname Jv Before", "2018-01-10", DAY);
    s_rename(slug, "Listname Jv After", "2021-01-01");
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    request.name_search = "listname jv";
    request.as_of = "2020-01-01";
    dp_status_t status;
    Dp__ListPartnersReply *reply = ts_list_partners(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->n_partners, 1);
    assert_string_equal(reply->partners[0]->name, "Listname Jv Before");
    ts_free(&reply);
}

/* ---- withdrawal ------------------------------------------------------------ */

static void test_withdraw_sets_status_and_date_and_deletes_nothing(void **state)
{
    const char *slug = ts_unique("wd");
    Dp__CreatePartnerReply *created =
        ts_new_partner(fx->registry, slug, "Withdrawing Partner", "2018-01-10", DAY);
    const char *id = ts_id_text(created->partner->id);
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%s", id);
    ts_free(&created);
    /* Give it a contact, so that there is more to keep. */
    TS_REF_SLUG(ref, slug);
    Dp__AddContactRequest contact = DP__ADD_CONTACT_REQUEST__INIT;
    contact.partner = &ref;
    contact.name = "Kept Contact";
    contact.email = "kept@example.org";
    dp_status_t status;
    Dp__AddContactReply *added = ts_add_contact(fx->registry, &contact, &status);
    ts_assert_ok(&status);
    ts_free(&added);

    static const char *counts =
        "SELECT (SELECT count(*) FROM registry.partner WHERE id = $1::bigint)"
        " + 10 * (SELECT count(*) FROM registry.partner_name WHERE partner_id = $1::bigint)"
        " + 100 * (SELECT count(*) FROM registry.contact WHERE partner_id = $1::bigint)";
    const char *params[] = {id_text};
    long long before = ts_query_long(fx->admin, counts, 1, params);
    assert_int_equal(before, 111);

    Dp__WithdrawPartnerReply *reply = s_withdraw(slug, "2023-05-01", &status);
    ts_assert_ok(&status);
    assert_int_equal(reply->partner->status, DP__PARTNER_STATUS__PARTNER_STATUS_WITHDRAWN);
    assert_string_equal(reply->partner->withdrawn_on, "2023-05-01");
    ts_free(&reply);
    assert_int_equal(ts_query_long(fx->admin, counts, 1, params), before);

    Dp__GetPartnerReply *got = s_as_of(slug, "");
    assert_int_equal(got->partner->status, DP__PARTNER_STATUS__PARTNER_STATUS_WITHDRAWN);
    assert_string_equal(got->partner->withdrawn_on, "2023-05-01");
    assert_string_equal(got->partner->name, "Withdrawing Partner");
    ts_free(&got);
}

static void test_withdraw_twice_is_a_failed_precondition(void **state)
{
    const char *slug = s_new_partner("wd2", "Twice Withdrawn", "2018-01-10", DAY);
    dp_status_t status;
    Dp__WithdrawPartnerReply *reply = s_withdraw(slug, "2022-01-01", &status);
    ts_assert_ok(&status);
    ts_free(&reply);
    TS_REF_SLUG(ref, slug);
    Dp__WithdrawPartnerRequest again = DP__WITHDRAW_PARTNER_REQUEST__INIT;
    again.partner = &ref;
    again.withdrawn_on = "2022-02-01";
    ts_expect_error(fx, &again, FAILED_PRECONDITION, "partner");
}

static void test_withdraw_refuses_date_before_joining_or_invalid(void **state)
{
    const char *slug = s_new_partner("wd3", "Early Withdrawal", "2018-01-10", DAY);
    TS_REF_SLUG(ref, slug);
    Dp__WithdrawPartnerRequest request = DP__WITHDRAW_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.withdrawn_on = "2018-01-09";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "withdrawn_on");
    request.withdrawn_on = "2022-02-30";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "withdrawn_on");
}

static void test_withdraw_without_date_means_today(void **state)
{
    const char *slug = s_new_partner("wd4", "Today Withdrawn", "2018-01-10", DAY);
    char before[11], unused[11];
    s_database_days(before, unused);
    dp_status_t status;
    Dp__WithdrawPartnerReply *reply = s_withdraw(slug, "", &status);
    ts_assert_ok(&status);
    char after[11];
    s_database_days(after, unused);
    /* Today by the database's clock (a midnight in between allows either day). */
    assert_true(strcmp(reply->partner->withdrawn_on, before) == 0 ||
                strcmp(reply->partner->withdrawn_on, after) == 0);
    ts_free(&reply);
}

static void test_withdraw_unknown_partner(void **state)
{
    Dp__WithdrawPartnerRequest request = DP__WITHDRAW_PARTNER_REQUEST__INIT;
    request.withdrawn_on = "2022-01-01";
    TS_REF_SLUG(unknown, "no-such-partner");
    ts_expect_unknown_partner(fx, &request, &unknown);
}

static void test_version_grows_by_one_per_change(void **state)
{
    const char *slug = ts_unique("ver");
    Dp__CreatePartnerReply *created =
        ts_new_partner(fx->registry, slug, "Versioned", "2018-01-10", DAY);
    assert_int_equal(created->partner->version, 1);
    ts_free(&created);

    TS_REF_SLUG(ref, slug);
    char *mask[] = {"note"};
    Dp__UpdatePartnerRequest update = DP__UPDATE_PARTNER_REQUEST__INIT;
    update.partner = &ref;
    update.n_update_mask = 1;
    update.update_mask = mask;
    update.note = "first change";
    dp_status_t status;
    Dp__UpdatePartnerReply *updated = ts_update_partner(fx->registry, &update, &status);
    ts_assert_ok(&status);
    assert_int_equal(updated->partner->version, 2);
    ts_free(&updated);

    s_rename(slug, "Versioned Again", "2019-01-01");
    Dp__GetPartnerReply *got = s_as_of(slug, "");
    assert_int_equal(got->partner->version, 3);
    ts_free(&got);

    Dp__WithdrawPartnerReply *withdrawn = s_withdraw(slug, "2022-01-01", &status);
    ts_assert_ok(&status);
    assert_int_equal(withdrawn->partner->version, 4);
    ts_free(&withdrawn);

    /* A refused change leaves the version alone. */
    Dp__WithdrawPartnerReply *again = s_withdraw(slug, "2022-01-02", &status);
    ts_assert_status(&status, FAILED_PRECONDITION, "partner");
    ts_free(&again);
    got = s_as_of(slug, "");
    assert_int_equal(got->partner->version, 4);
    ts_free(&got);
}

int main(void)
{
    fx = ts_fixture_new("history", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rename_changes_name_and_keeps_history),
        cmocka_unit_test(test_name_as_of_a_date_follows_the_rename),
        cmocka_unit_test(test_rename_with_unknown_date_keeps_old_name_for_the_past),
        cmocka_unit_test(test_rename_refuses_blank_or_same_name),
        cmocka_unit_test(test_rename_refuses_bad_effective_date),
        cmocka_unit_test(test_rename_unknown_partner),
        cmocka_unit_test(test_get_refuses_invalid_as_of),
        cmocka_unit_test(test_membership_with_day_precision),
        cmocka_unit_test(test_membership_with_month_precision),
        cmocka_unit_test(test_membership_with_year_precision),
        cmocka_unit_test(test_membership_ends_with_withdrawal),
        cmocka_unit_test(test_list_as_of_includes_only_possible_members),
        cmocka_unit_test(test_list_as_of_shows_the_name_then),
        cmocka_unit_test(test_withdraw_sets_status_and_date_and_deletes_nothing),
        cmocka_unit_test(test_withdraw_twice_is_a_failed_precondition),
        cmocka_unit_test(test_withdraw_refuses_date_before_joining_or_invalid),
        cmocka_unit_test(test_withdraw_without_date_means_today),
        cmocka_unit_test(test_withdraw_unknown_partner),
        cmocka_unit_test(test_version_grows_by_one_per_change),
    };
    return ts_fixture_run(&fx, "registry history", tests, sizeof tests / sizeof *tests);
}
