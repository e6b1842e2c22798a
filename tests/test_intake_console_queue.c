/* The staff console's queue, against the real intake over its socket and
   the real PostgreSQL: the three orders paged through small pages (no
   enquiry lost or repeated, ties on the sort key included) with the total,
   the views (several statuses, unassigned, overdue and due today in
   Europe/Paris), full-text search over subject and body in English and
   French, the counts beside the views, erasure and retention emptying what
   search finds and the replies' words, and the total's cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake_console_support.h"
#include "privacy_support.h"

static ti_fixture_t *fx;

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name
#define SORT(name) DP__ENQUIRY_SORT__ENQUIRY_SORT_##name

/* ---- helpers ---------------------------------------------------------------------- */

/* Due `days` after today in Europe/Paris (negative: before). */
static void s_due_in(int64_t id, int days)
{
    char days_text[16];
    snprintf(days_text, sizeof days_text, "%d", days);
    const char *params[] = {ts_id_text(id), days_text};
    PQclear(ts_query(fx->admin,
                     "UPDATE intake.enquiry SET due_on = "
                     "(now() AT TIME ZONE 'Europe/Paris')::date + $2::int WHERE id = $1",
                     2, params));
}

/* Submits one enquiry from `source` received at `received_at`, with the body
   given (NULL: the form's); returns its id. */
static int64_t s_submit(const char *tag, const char *source, const char *received_at,
                        const char *subject, const char *body, ti_form_t *form_out)
{
    ti_form_t local;
    ti_form_t *form = form_out ? form_out : &local;
    ti_form_init(form, tag);
    form->enquiry.source = (char *)source;
    if (received_at)
        form->enquiry.received_at = (char *)received_at;
    if (subject)
        form->enquiry.subject = (char *)subject;
    if (body)
        form->enquiry.body = (char *)body;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx, form);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    return id;
}

/* Lists every page of the request (page_size as set), checking the total on
   each page when asked; returns the ids joined by "," (free it) and the
   number of pages. */
static char *s_list_ids(Dp__ListEnquiriesRequest *request, size_t *pages, uint64_t expect_total)
{
    char *ids = zsys_sprintf("%s", "");
    char token[128] = "";
    *pages = 0;
    do {
        request->page_token = token;
        dp_status_t status;
        Dp__ListEnquiriesReply *reply = ti_list_enquiries(fx->intake, request, &status);
        ts_assert_ok(&status);
        (*pages)++;
        assert_true(*pages < 1000);
        if (request->with_total)
            assert_int_equal(reply->total, expect_total);
        else
            assert_int_equal(reply->total, 0);
        for (size_t i = 0; i < reply->n_enquiries; i++) {
            assert_string_equal(reply->enquiries[i]->body, "");
            char *longer =
                zsys_sprintf("%s%s%lld", ids, *ids ? "," : "", (long long)reply->enquiries[i]->id);
            zstr_free(&ids);
            ids = longer;
        }
        /* A short page ends the list, a full one names the next. */
        if (reply->n_enquiries < request->page_size)
            assert_string_equal(reply->next_page_token, "");
        else
            assert_true(*reply->next_page_token);
        assert_true(strlen(reply->next_page_token) < sizeof token);
        snprintf(token, sizeof token, "%s", reply->next_page_token);
        ts_free(&reply);
    } while (*token);
    request->page_token = "";
    return ids;
}

/* The ids of a source's enquiries in an SQL order, joined by ",". */
static char *s_expected(const char *source, const char *order)
{
    char *sql = zsys_sprintf("SELECT COALESCE(string_agg(id::text, ',' ORDER BY %s), '') "
                             "FROM intake.enquiry WHERE source = $1",
                             order);
    const char *params[] = {source};
    char *ids = ts_query_text(fx->admin, sql, 1, params);
    zstr_free(&sql);
    return ids;
}

/* The ids listed with the request (one big page), joined by ",". */
static char *s_list_once(Dp__ListEnquiriesRequest *request)
{
    size_t pages = 0;
    request->page_size = 500;
    return s_list_ids(request, &pages, 0);
}

static char *s_join(const int64_t *ids, size_t count)
{
    char *text = zsys_sprintf("%s", "");
    for (size_t i = 0; i < count; i++) {
        char *longer = zsys_sprintf("%s%s%lld", text, i ? "," : "", (long long)ids[i]);
        zstr_free(&text);
        text = longer;
    }
    return text;
}

#define ASSERT_IDS(request, ...)                                                                   \
    do {                                                                                           \
        int64_t wanted_[] = {__VA_ARGS__};                                                         \
        char *listed_ = s_list_once(request);                                                      \
        char *expected_ = s_join(wanted_, sizeof wanted_ / sizeof *wanted_);                       \
        assert_string_equal(listed_, expected_);                                                   \
        zstr_free(&listed_);                                                                       \
        zstr_free(&expected_);                                                                     \
    } while (0)

static void s_assert_none(Dp__ListEnquiriesRequest *request)
{
    char *listed = s_list_once(request);
    assert_string_equal(listed, "");
    zstr_free(&listed);
}

/* ---- orders and pages ---------------------------------------------------------------- */

static void test_each_order_pages_without_loss_or_repeat(void **state)
{
    /* Ties on received_at and on due_on, so that the id decides. */
    static const char *received[] = {
        "2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z", "2026-11-21T09:30:00Z",
        "2026-11-19T23:59:59Z", "2026-11-21T09:30:00Z", "2026-11-22T00:00:00Z",
        "2026-11-20T08:00:00Z", "2026-11-18T12:00:00Z", "2026-11-23T07:00:00Z",
        "2026-11-21T09:30:00Z", "2026-11-17T06:00:00Z"};
    enum { COUNT = sizeof received / sizeof *received };
    const char *source = "sorting";
    for (int i = 0; i < COUNT; i++) {
        int64_t id = s_submit("sort", source, received[i], NULL, NULL, NULL);
        s_due_in(id, i % 4);
    }
    static const struct {
        Dp__EnquirySort sort;
        const char *order;
    } orders[] = {
        {SORT(UNSPECIFIED), "received_at DESC, id DESC"},
        {SORT(RECEIVED_ASC), "received_at, id"},
        {SORT(DUE_ASC), "due_on, received_at, id"},
    };
    for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
        char *expected = s_expected(source, orders[o].order);
        for (uint32_t page_size = 1; page_size <= COUNT + 1; page_size += 2) {
            Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
            request.source = (char *)source;
            request.sort = orders[o].sort;
            request.page_size = page_size;
            request.with_total = page_size % 4 == 1;
            size_t pages = 0;
            char *listed = s_list_ids(&request, &pages, COUNT);
            if (strcmp(listed, expected) != 0)
                fail_msg("order %s, pages of %u: listed %s, expected %s", orders[o].order,
                         page_size, listed, expected);
            assert_int_equal(pages, COUNT / page_size + 1);
            zstr_free(&listed);
        }
        zstr_free(&expected);
    }
}

/* A page token is only good for the order that issued it. */
static void test_a_token_of_another_order_is_refused(void **state)
{
    const char *source = "token-orders";
    for (int i = 0; i < 3; i++)
        s_submit("token", source, NULL, NULL, NULL, NULL);
    Dp__EnquirySort sorts[] = {SORT(UNSPECIFIED), SORT(RECEIVED_ASC), SORT(DUE_ASC)};
    for (size_t from = 0; from < 3; from++) {
        Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
        request.source = (char *)source;
        request.sort = sorts[from];
        request.page_size = 1;
        dp_status_t status;
        Dp__ListEnquiriesReply *reply = ti_list_enquiries(fx->intake, &request, &status);
        ts_assert_ok(&status);
        char token[128];
        snprintf(token, sizeof token, "%s", reply->next_page_token);
        ts_free(&reply);
        assert_true(*token);
        for (size_t to = 0; to < 3; to++) {
            if (to == from)
                continue;
            request.sort = sorts[to];
            request.page_token = token;
            ti_expect_error(fx, &request, INVALID_ARGUMENT, "page_token");
        }
    }
}

static void test_list_arguments_are_validated(void **state)
{
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    Dp__EnquiryStatus statuses[] = {STATUS(TRIAGED), (Dp__EnquiryStatus)42};
    request.statuses = statuses;
    request.n_statuses = 2;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "statuses");
    request.n_statuses = 0;
    request.sort = (Dp__EnquirySort)7;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "sort");
    request.sort = SORT(UNSPECIFIED);
    char search[202];
    memset(search, 'w', 201);
    search[201] = 0;
    request.search = search;
    ti_expect_error(fx, &request, INVALID_ARGUMENT, "search");
    request.search = "";
    const char *tokens[] = {"12",
                            "abc",
                            "n_",
                            "n_2026-11-20T08:00:00.000000Z_",
                            "n_2026-13-20T08:00:00.000000Z_5",
                            "n_2026-11-20T25:00:00.000000Z_5",
                            "n_2026-11-20T08:00:00.000000_5",
                            "n_2026-11-20T08:00:00.000000Z_0",
                            "n_2026-11-20T08:00:00.000000Z_5x",
                            "n_2026-11-20T08:00:00.000000Z_-5",
                            "n_2026-11-20T08:00:00.000000Z_12345678901234567890",
                            "x_2026-11-20T08:00:00.000000Z_5"};
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++) {
        request.page_token = (char *)tokens[i];
        print_message("  page_token '%s'\n", tokens[i]);
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "page_token");
    }
    request.sort = SORT(DUE_ASC);
    const char *due_tokens[] = {"d_2026-11-20T08:00:00.000000Z_5",
                                "d_2026-02-30_2026-11-20T08:00:00.000000Z_5",
                                "d_2026-12-01-2026-11-20T08:00:00.000000Z_5"};
    for (size_t i = 0; i < sizeof due_tokens / sizeof *due_tokens; i++) {
        request.page_token = (char *)due_tokens[i];
        print_message("  page_token '%s'\n", due_tokens[i]);
        ti_expect_error(fx, &request, INVALID_ARGUMENT, "page_token");
    }
    /* A well-formed cursor the service could have issued is accepted. */
    request.page_token = "d_2026-12-01_2026-11-20T08:00:00.000000Z_5";
    dp_status_t status;
    Dp__ListEnquiriesReply *reply = ti_list_enquiries(fx->intake, &request, &status);
    ts_assert_ok(&status);
    ts_free(&reply);
}

/* ---- the views ------------------------------------------------------------------------- */

static void test_views_by_statuses_assignment_and_due_dates(void **state)
{
    const char *source = "views";
    int64_t a = s_submit("view", source, NULL, NULL, NULL, NULL); /* triaged, overdue */
    int64_t b = s_submit("view", source, NULL, NULL, NULL, NULL); /* assigned, due today */
    int64_t c = s_submit("view", source, NULL, NULL, NULL, NULL); /* answered, due before */
    int64_t d = s_submit("view", source, NULL, NULL, NULL, NULL); /* quarantined, tomorrow */
    int64_t e = s_submit("view", source, NULL, NULL, NULL, NULL); /* closed, due today */
    tq_assign(fx, b, "alice");
    tq_assign(fx, c, "alice");
    tq_move(fx, c, STATUS(ANSWERED));
    tq_move(fx, d, STATUS(QUARANTINED));
    tq_assign(fx, e, "carol");
    tq_move(fx, e, STATUS(ANSWERED));
    tq_move(fx, e, STATUS(CLOSED));
    int days[] = {-1, 0, -1, 1, 0};
    int64_t ids[] = {a, b, c, d, e};
    for (size_t i = 0; i < 5; i++)
        s_due_in(ids[i], days[i]);

    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.source = (char *)source;
    request.sort = SORT(RECEIVED_ASC); /* all received alike: by id */
    Dp__EnquiryStatus waiting[] = {STATUS(TRIAGED), STATUS(QUARANTINED)};
    request.statuses = waiting;
    request.n_statuses = 2;
    ASSERT_IDS(&request, a, d);
    Dp__EnquiryStatus taken[] = {STATUS(ASSIGNED), STATUS(ANSWERED), STATUS(CLOSED)};
    request.statuses = taken;
    request.n_statuses = 3;
    ASSERT_IDS(&request, b, c, e);
    /* status and statuses both narrow. */
    request.status = STATUS(ANSWERED);
    ASSERT_IDS(&request, c);
    request.status = STATUS(TRIAGED);
    s_assert_none(&request);
    request.status = STATUS(UNSPECIFIED);
    request.n_statuses = 0;

    request.unassigned = true;
    ASSERT_IDS(&request, a, d);
    request.overdue = true;
    ASSERT_IDS(&request, a);
    request.unassigned = false;
    ASSERT_IDS(&request, a); /* c is due before today too, but answered */
    request.overdue = false;
    request.due_today = true;
    ASSERT_IDS(&request, b); /* e is due today too, but closed */
    request.due_today = false;

    /* The open ones by due date: yesterday, today, tomorrow. */
    Dp__EnquiryStatus open[] = {STATUS(RECEIVED), STATUS(TRIAGED), STATUS(ASSIGNED),
                                STATUS(QUARANTINED)};
    request.statuses = open;
    request.n_statuses = 4;
    request.sort = SORT(DUE_ASC);
    ASSERT_IDS(&request, a, b, d);
    request.with_total = true;
    request.page_size = 1;
    size_t pages = 0;
    char *listed = s_list_ids(&request, &pages, 3);
    zstr_free(&listed);
    assert_int_equal(pages, 4);
}

static Dp__CountEnquiriesReply *s_counts(const char *assignee)
{
    Dp__CountEnquiriesRequest request = DP__COUNT_ENQUIRIES_REQUEST__INIT;
    request.assignee = (char *)assignee;
    dp_status_t status;
    Dp__CountEnquiriesReply *reply = tq_count_enquiries(fx->intake, &request, &status);
    ts_assert_ok(&status);
    return reply;
}

static void test_counts_beside_the_views(void **state)
{
    const char *me = "counter.one";
    Dp__CountEnquiriesReply *before = s_counts(me);
    assert_int_equal(before->mine, 0);
    const char *source = "counts";
    int64_t x = s_submit("count", source, NULL, NULL, NULL, NULL); /* open, unassigned, overdue */
    int64_t y = s_submit("count", source, NULL, NULL, NULL, NULL); /* mine, due today */
    int64_t z = s_submit("count", source, NULL, NULL, NULL, NULL); /* mine but answered */
    int64_t w = s_submit("count", source, NULL, NULL, NULL, NULL); /* rejected */
    tq_assign(fx, y, me);
    tq_assign(fx, z, me);
    tq_move(fx, z, STATUS(ANSWERED));
    tq_move(fx, w, STATUS(REJECTED));
    s_due_in(x, -3);
    s_due_in(y, 0);
    s_due_in(z, -1);
    s_due_in(w, 0);

    Dp__CountEnquiriesReply *after = s_counts(me);
    assert_int_equal(after->mine, 1);
    assert_int_equal(after->unassigned, before->unassigned + 1);
    assert_int_equal(after->overdue, before->overdue + 1);
    assert_int_equal(after->due_today, before->due_today + 1);
    assert_int_equal(after->open, before->open + 2);
    /* No one's "mine" without an assignee; the rest the same. */
    Dp__CountEnquiriesReply *nobody = s_counts("");
    assert_int_equal(nobody->mine, 0);
    assert_int_equal(nobody->open, after->open);
    /* The counts agree with the lists. */
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.overdue = true;
    request.with_total = true;
    request.page_size = 1;
    dp_status_t status;
    Dp__ListEnquiriesReply *listed = ti_list_enquiries(fx->intake, &request, &status);
    ts_assert_ok(&status);
    assert_int_equal(listed->total, after->overdue);
    ts_free(&listed);
    ts_free(&before);
    ts_free(&after);
    ts_free(&nobody);

    Dp__CountEnquiriesRequest bad = DP__COUNT_ENQUIRIES_REQUEST__INIT;
    char long_name[102];
    memset(long_name, 'n', 101);
    long_name[101] = 0;
    bad.assignee = long_name;
    ti_expect_error(fx, &bad, INVALID_ARGUMENT, "assignee");
}

/* ---- search ------------------------------------------------------------------------------ */

static void test_search_over_subject_and_body_in_english_and_french(void **state)
{
    const char *source = "search";
    int64_t french = s_submit("search", source, NULL, "Atelier à Strasbourg",
                              "Nous souhaitons organiser un atelier sur la protection des "
                              "données personnelles dans les écoles.",
                              NULL);
    int64_t english = s_submit("search", source, NULL, "Workshop proposal",
                               "We propose a workshop on data protection for schools.", NULL);
    int64_t other = s_submit("search", source, NULL, "Media request",
                             "A journalist asks about elections.", NULL);
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.source = (char *)source;
    request.sort = SORT(RECEIVED_ASC);
    request.search = "données";
    ASSERT_IDS(&request, french);
    request.search = "STRASBOURG"; /* in the subject, any case */
    ASSERT_IDS(&request, french);
    request.search = "workshop";
    ASSERT_IDS(&request, english);
    request.search = "protection";
    ASSERT_IDS(&request, french, english);
    request.search = "\"protection des données\""; /* a phrase */
    ASSERT_IDS(&request, french);
    request.search = "protection -atelier"; /* web-search syntax: without */
    ASSERT_IDS(&request, english);
    request.search = "atelier or elections";
    ASSERT_IDS(&request, french, other);
    request.search = "unicorns";
    s_assert_none(&request);
    /* With the other filters. */
    request.search = "protection";
    request.status = STATUS(ASSIGNED);
    s_assert_none(&request);
    tq_assign(fx, english, "alice");
    ASSERT_IDS(&request, english);
}

/* Puts a reply on an enquiry (assigning it first). */
static int64_t s_reply(int64_t id, const char *body)
{
    tq_assign(fx, id, "bob");
    Dp__ReplyToEnquiryRequest request = DP__REPLY_TO_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.subject = "Your enquiry";
    request.body = (char *)body;
    request.actor = "bob";
    dp_status_t status;
    Dp__ReplyToEnquiryReply *reply = tq_reply_to_enquiry(fx->intake, &request, &status);
    ts_assert_ok(&status);
    int64_t message = reply->message->id;
    ts_free(&reply);
    return message;
}

/* Fails unless the reply's words are gone and, if it was queued, it is parked. */
static void s_assert_reply_erased(int64_t message, const char *word)
{
    const char *params[] = {ts_id_text(message)};
    char *row = ts_query_text(fx->admin,
                              "SELECT subject || '|' || body || '|' || status || '|' || "
                              "(reason <> '')::text FROM intake.outgoing_message WHERE id = $1",
                              1, params);
    assert_string_equal(row, "[erased]|[erased]|parked|true");
    free(row);
    const char *word_params[] = {word};
    assert_int_equal(ts_query_long(fx->admin,
                                   "SELECT count(*) FROM intake.outgoing_message "
                                   "WHERE body ILIKE '%' || $1 || '%'",
                                   1, word_params),
                     0);
}

/* The search column of an enquiry, as text. */
static char *s_search_words(int64_t id)
{
    const char *params[] = {ts_id_text(id)};
    return ts_query_text(fx->admin, "SELECT search::text FROM intake.enquiry WHERE id = $1", 1,
                         params);
}

static void test_an_erased_enquiry_is_no_longer_found(void **state)
{
    ti_form_t form;
    int64_t id = s_submit("erase-search", "erasure", NULL, NULL,
                          "Please call me about the quillfeather project.", &form);
    int64_t message = s_reply(id, "Dear Ada, about quillfeather: see you on Monday.");
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.search = "quillfeather";
    ASSERT_IDS(&request, id);

    dp_status_t status;
    Dp__ErasePersonalDataReply *erased =
        tp_erase_intake(fx, form.email, "dpo", "request 2026-17", &status);
    ts_assert_ok(&status);
    assert_int_equal(erased->erased, 1);
    ts_free(&erased);

    s_assert_none(&request);
    char *words = s_search_words(id);
    assert_null(strstr(words, "quillfeather"));
    free(words);
    s_assert_reply_erased(message, "quillfeather");
    /* And no reply goes to an erased address. */
    Dp__ReplyToEnquiryRequest again = DP__REPLY_TO_ENQUIRY_REQUEST__INIT;
    again.id = id;
    again.subject = "Hello";
    again.body = "Anyone there?";
    again.actor = "bob";
    ti_expect_error(fx, &again, FAILED_PRECONDITION, "id");
}

static void test_retention_empties_search_and_replies(void **state)
{
    int64_t id = s_submit("retain-search", "retention", NULL, NULL,
                          "An old question about the marblewing archive.", NULL);
    int64_t message = s_reply(id, "The marblewing archive is open on Fridays.");
    tq_move(fx, id, STATUS(CLOSED));
    const char *params[] = {ts_id_text(id)};
    PQclear(ts_query(fx->admin,
                     "UPDATE intake.enquiry SET resolved_at = now() - interval '30 months' "
                     "WHERE id = $1",
                     1, params));
    Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
    request.search = "marblewing";
    ASSERT_IDS(&request, id);

    dp_status_t status;
    Dp__RunRetentionReply *run = tp_run_retention(fx, false, "dpo", &status);
    ts_assert_ok(&status);
    assert_true(run->enquiries >= 1);
    ts_free(&run);

    s_assert_none(&request);
    char *words = s_search_words(id);
    assert_null(strstr(words, "marblewing"));
    free(words);
    s_assert_reply_erased(message, "marblewing");
}

/* Broad views are counted up to 10,000: 10,001 says "more". */
static void test_the_total_is_counted_up_to_ten_thousand(void **state)
{
    const char *source = "many";
    for (int round = 0; round < 2; round++) {
        /* 9,999 closed enquiries, then 2 more: 10,000 exactly, then above. */
        const char *params[] = {source, round ? "2" : "9999", round ? "b" : "a"};
        PQclear(ts_query(fx->admin,
                         "INSERT INTO intake.enquiry (source, idempotency_key, content_hash, "
                         "  sender_name, email, kind, subject, subject_key, body, received_at, "
                         "  status, due_on) "
                         "SELECT $1, $3 || i, md5(i::text), 'Someone', 'many@example.org', "
                         "  'other', 'Many', 'many', 'Many', timestamptz '2026-01-01' + "
                         "  i * interval '1 second', 'closed', date '2026-01-06' "
                         "FROM generate_series(1, $2::int) AS i",
                         3, params));
        Dp__ListEnquiriesRequest request = DP__LIST_ENQUIRIES_REQUEST__INIT;
        request.source = (char *)source;
        request.with_total = true;
        request.page_size = 2;
        dp_status_t status;
        Dp__ListEnquiriesReply *reply = ti_list_enquiries(fx->intake, &request, &status);
        ts_assert_ok(&status);
        assert_int_equal(reply->total, round ? 10001 : 9999);
        assert_int_equal(reply->n_enquiries, 2);
        ts_free(&reply);
    }
}

int main(void)
{
    fx = tp_fixture_new("intake_console_queue");
    const char *settings[] = {"DP_INTAKE_SENDER_LIMIT_PER_HOUR", "0", NULL};
    tp_fixture_start_intake(fx, settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_order_pages_without_loss_or_repeat),
        cmocka_unit_test(test_a_token_of_another_order_is_refused),
        cmocka_unit_test(test_list_arguments_are_validated),
        cmocka_unit_test(test_views_by_statuses_assignment_and_due_dates),
        cmocka_unit_test(test_counts_beside_the_views),
        cmocka_unit_test(test_search_over_subject_and_body_in_english_and_french),
        cmocka_unit_test(test_an_erased_enquiry_is_no_longer_found),
        cmocka_unit_test(test_retention_empties_search_and_replies),
        cmocka_unit_test(test_the_total_is_counted_up_to_ten_thousand),
    };
    return ti_fixture_run(&fx, "intake console queue", tests, sizeof tests / sizeof *tests);
}
