/* The staff console's pages over HTTP, against the console and the four
   services started in process on one test database: the queue (views,
   full-text search, status filters, the overdue count), one enquiry's work
   (assign, note, due date with its reason, reply, close, reopen), merging a
   flagged duplicate, an admin admitting an applicant as a partner, HTML
   escaping, the headers of every answer, /health, 404, 413, and a service
   away (the intake stopped, in the last test): 503 with a message while
   the login page is still served. What the pages did is read back from the
   services themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console_support.h"

#define STATUS(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

static tc_fixture_t *fx;
static tc_browser_t *agent; /* Ana Lopes, agent */
static tc_browser_t *admin; /* Ada Admin, admin */

static const char *const s_settings[] = {"DP_CONSOLE_CALL_TIMEOUT_MS", "1500", NULL};
static const char PASSWORD[] = "correct horse battery";

/* ---- helpers ---------------------------------------------------------------------- */

/* Submits an enquiry received a minute ago (so not yet due) through the
   intake with this subject, body and kind (NULL: the form's own); returns
   its id. */
static int64_t s_enquiry(const char *tag, const char *subject, const char *body, const char *kind)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    form.enquiry.received_at = (char *)tc_minute_ago();
    if (subject)
        form.enquiry.subject = (char *)subject;
    if (body)
        form.enquiry.body = (char *)body;
    if (kind)
        form.enquiry.kind = (char *)kind;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx->base, &form);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    return id;
}

/* A GET that must answer this status; the caller frees. */
static tc_response_t s_page(tc_browser_t *browser, const char *path, long status)
{
    tc_response_t page = tc_get(browser, path);
    tc_assert_status(&page, status, NULL);
    return page;
}

/* Whether the queue page links the enquiry (a row of table#queue). */
static bool s_lists(const tc_response_t *page, int64_t id)
{
    char link[96];
    snprintf(link, sizeof link, "class=\"enquiry-link\" href=\"/enquiries/%lld\"", (long long)id);
    return strstr(page->body, link) != NULL;
}

static void s_assert_listed(tc_browser_t *browser, const char *path, int64_t id, bool listed)
{
    tc_response_t page = s_page(browser, path, 200);
    if (s_lists(&page, id) != listed)
        fail_msg("%s %s enquiry %lld:\n%.4000s", path, listed ? "does not list" : "lists",
                 (long long)id, page.body);
    tc_response_free(&page);
}

static long s_count_overdue(tc_browser_t *browser)
{
    tc_response_t page = s_page(browser, "/queue?view=all", 200);
    char *count = tc_element_text(&page, "count-overdue");
    assert_non_null(count);
    char *end = NULL;
    long value = strtol(count, &end, 10);
    if (end == count || *end)
        fail_msg("#count-overdue reads '%s'", count);
    free(count);
    tc_response_free(&page);
    return value;
}

/* Sends an enquiry's form from its page; it must come back to the page. */
static void s_act(tc_browser_t *browser, int64_t id, const char *action, const char *const *fields)
{
    tc_submit_ok(browser, tc_enquiry_path(id, NULL), tc_enquiry_path(id, action), fields);
}

static Dp__Enquiry *s_get(int64_t id, Dp__GetEnquiryReply **reply)
{
    *reply = ti_get(fx->base, id);
    return (*reply)->enquiry;
}

/* ---- the small pages --------------------------------------------------------------- */

static void test_health_static_and_unknown_paths(void **state)
{
    (void)state;
    tc_browser_t *anyone = tc_browser_new(fx->console, NULL);
    tc_response_t page = s_page(anyone, "/health", 200);
    assert_string_equal(page.body, "ok\n");
    tc_response_free(&page);
    /* A load balancer's HEAD gets the same answer, without a body. */
    char curl[160];
    snprintf(curl, sizeof curl,
             "curl -s -o /dev/null -w '%%{http_code}' --head http://127.0.0.1:%d/health",
             tc_console_port(fx->console));
    FILE *head = popen(curl, "r");
    char code[8] = "";
    assert_non_null(head);
    assert_non_null(fgets(code, sizeof code, head));
    pclose(head);
    assert_string_equal(code, "200");
    page = s_page(anyone, "/static/console.css", 200);
    char *type = tc_header(&page, "Content-Type");
    assert_non_null(strstr(type, "text/css"));
    free(type);
    tc_response_free(&page);
    page = s_page(anyone, "/login", 200);
    tc_response_free(&page);
    tc_browser_destroy(&anyone);

    static const char *const unknown[] = {"/nowhere", "/enquiries/abc", "/enquiries/1/x/y",
                                          "/partners/UPPER", "/queue/more"};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        page = s_page(agent, unknown[i], 404);
        tc_response_free(&page);
    }
}

static void test_every_answer_carries_a_policy_without_inline_script(void **state)
{
    (void)state;
    /* tc_get checks the headers of every answer; here, one of each kind,
       with the policy in full. */
    static const char *const paths[] = {
        "/health", "/static/console.css", "/queue?view=all",  "/nowhere",
        "/",       "/partners",           "/queue?view=bogus"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        tc_response_t page = tc_get(agent, paths[i]);
        char *policy = tc_header(&page, "Content-Security-Policy");
        assert_non_null(policy);
        assert_non_null(strstr(policy, "default-src 'none'"));
        assert_non_null(strstr(policy, "frame-ancestors 'none'"));
        assert_null(strstr(policy, "script-src"));
        free(policy);
        /* No inline script or handler on any page. */
        tc_assert_lacks(&page, "<script");
        tc_assert_lacks(&page, " onclick=");
        tc_response_free(&page);
    }
}

/* ---- the queue ------------------------------------------------------------------- */

static void test_the_queue_lists_and_searches_the_body(void **state)
{
    (void)state;
    int64_t quokka = s_enquiry("search", NULL, "Our quokka sanctuary would like to join.", NULL);
    int64_t other = s_enquiry("search", NULL, "A plain question about the programme.", NULL);
    s_assert_listed(agent, "/queue?view=all", quokka, true);
    s_assert_listed(agent, "/queue?view=all", other, true);
    s_assert_listed(agent, "/queue?view=all&q=quokka", quokka, true);
    s_assert_listed(agent, "/queue?view=all&q=quokka", other, false);
    /* A word of the subject too. */
    s_assert_listed(agent, "/queue?view=all&q=sanctuary", quokka, true);
    tc_response_t page = s_page(agent, "/queue?view=all&q=quokka", 200);
    tc_assert_has(&page, "<table id=\"queue\">");
    tc_assert_has(&page, "<caption>1 ");
    tc_response_free(&page);
}

static void test_views_and_status_filters(void **state)
{
    (void)state;
    int64_t id = s_enquiry("views", NULL, NULL, NULL);
    s_assert_listed(agent, "/queue?view=mine", id, false);
    s_assert_listed(agent, "/queue?view=unassigned", id, true);
    s_act(agent, id, "assign", TC_FIELDS("assignee", "me", "note", ""));
    s_assert_listed(agent, "/queue?view=mine", id, true);
    s_assert_listed(admin, "/queue?view=mine", id, false);
    s_assert_listed(agent, "/queue?view=unassigned", id, false);
    s_assert_listed(agent, "/queue?view=all&status=assigned", id, true);
    s_assert_listed(agent, "/queue?view=all&status=closed", id, false);
    s_assert_listed(agent, "/queue?view=all&status=closed&status=assigned", id, true);
    s_assert_listed(agent, "/queue?view=all&kind=information-request", id, true);
    s_assert_listed(agent, "/queue?view=all&kind=media", id, false);
}

static void test_an_unknown_view_is_a_bad_request(void **state)
{
    (void)state;
    tc_response_t page = s_page(agent, "/queue?view=everything", 400);
    tc_assert_lacks(&page, "<table id=\"queue\">");
    tc_response_free(&page);
}

static void test_a_new_due_date_counts_as_overdue(void **state)
{
    (void)state;
    int64_t id = s_enquiry("due", NULL, NULL, NULL);
    long before = s_count_overdue(agent);
    s_assert_listed(agent, "/queue?view=overdue", id, false);
    s_act(agent, id, "due",
          TC_FIELDS("due_on", "2026-01-15", "reason", "waiting for the partner's letter"));
    assert_int_equal(s_count_overdue(agent), before + 1);
    s_assert_listed(agent, "/queue?view=overdue", id, true);
    Dp__GetEnquiryReply *reply;
    Dp__Enquiry *enquiry = s_get(id, &reply);
    assert_string_equal(enquiry->due_on, "2026-01-15");
    bool noted = false;
    for (size_t i = 0; i < enquiry->n_history; i++)
        noted = noted || strstr(enquiry->history[i]->note, "waiting for the partner's letter");
    assert_true(noted);
    ts_free(&reply);
    /* The page shows the date and the reason in the history. */
    tc_response_t page = s_page(agent, tc_enquiry_path(id, NULL), 200);
    tc_assert_has(&page, "2026-01-15");
    tc_assert_has(&page, "waiting for the partner&#39;s letter");
    tc_response_free(&page);
}

/* ---- one enquiry ------------------------------------------------------------------ */

static void test_a_days_work_on_one_enquiry(void **state)
{
    (void)state;
    int64_t id = s_enquiry("work", NULL, NULL, NULL);
    Dp__GetEnquiryReply *reply;

    s_act(agent, id, "assign", TC_FIELDS("assignee", "me", "note", "mine now"));
    Dp__Enquiry *enquiry = s_get(id, &reply);
    assert_int_equal(enquiry->status, STATUS(ASSIGNED));
    assert_string_equal(enquiry->assignee, "Ana Lopes");
    ts_free(&reply);

    s_act(agent, id, "note", TC_FIELDS("text", "Called them back; they will write."));
    enquiry = s_get(id, &reply);
    assert_int_equal(enquiry->n_notes, 1);
    assert_string_equal(enquiry->notes[0]->text, "Called them back; they will write.");
    assert_non_null(strstr(enquiry->notes[0]->actor, "Ana Lopes"));
    ts_free(&reply);

    s_act(agent, id, "reply",
          TC_FIELDS("subject", "Re: your question", "body", "Dear Ada, here is our answer."));
    enquiry = s_get(id, &reply);
    assert_int_equal(enquiry->status, STATUS(ANSWERED));
    assert_int_equal(enquiry->n_messages, 1);
    assert_string_equal(enquiry->messages[0]->status, "queued");
    assert_string_equal(enquiry->messages[0]->body, "Dear Ada, here is our answer.");
    ts_free(&reply);
    tc_response_t page = s_page(agent, tc_enquiry_path(id, NULL), 200);
    tc_assert_has(&page, "<span class=\"message-status\">queued</span>");
    tc_assert_has(&page, "Called them back; they will write.");
    tc_response_free(&page);

    s_act(agent, id, "transition", TC_FIELDS("to", "closed", "note", "done"));
    enquiry = s_get(id, &reply);
    assert_int_equal(enquiry->status, STATUS(CLOSED));
    ts_free(&reply);

    s_act(agent, id, "transition", TC_FIELDS("to", "triaged", "note", "they wrote again"));
    enquiry = s_get(id, &reply);
    assert_int_equal(enquiry->status, STATUS(TRIAGED));
    /* Every step in the history, by the person. */
    size_t by_ana = 0;
    for (size_t i = 0; i < enquiry->n_history; i++)
        by_ana += strstr(enquiry->history[i]->actor, "Ana Lopes") != NULL;
    assert_true(by_ana >= 4);
    ts_free(&reply);
    page = s_page(agent, tc_enquiry_path(id, NULL), 200);
    tc_assert_has(&page, "<ol id=\"history\">");
    tc_assert_has(&page, "they wrote again");
    tc_response_free(&page);
}

/* The options of form#transition-form ("" when the page has none). */
static char *s_moves(int64_t id)
{
    tc_response_t page = s_page(agent, tc_enquiry_path(id, NULL), 200);
    char *moves = calloc(1, 256);
    assert_non_null(moves);
    const char *form = strstr(page.body, "id=\"transition-form\"");
    const char *end = form ? strstr(form, "</form>") : NULL;
    for (const char *at = form; at && at < end; at++) {
        static const char option[] = "<option value=\"";
        if (strncmp(at, option, strlen(option)) != 0)
            continue;
        at += strlen(option);
        size_t length = strcspn(at, "\"");
        snprintf(moves + strlen(moves), 256 - strlen(moves), "%s%.*s", *moves ? "," : "",
                 (int)length, at);
    }
    tc_response_free(&page);
    return moves;
}

static void test_the_page_offers_only_the_allowed_moves(void **state)
{
    (void)state;
    int64_t id = s_enquiry("moves", NULL, NULL, NULL);
    s_act(agent, id, "assign", TC_FIELDS("assignee", "me", "note", ""));
    s_act(agent, id, "reply", TC_FIELDS("subject", "Re: moves", "body", "Our answer."));
    /* Answered: closed (assigned again goes through the assign form). */
    char *moves = s_moves(id);
    assert_string_equal(moves, "closed");
    free(moves);
    s_act(agent, id, "transition", TC_FIELDS("to", "closed", "note", ""));
    /* Closed: only reopening. */
    moves = s_moves(id);
    assert_string_equal(moves, "triaged");
    free(moves);
}

static void test_a_refused_change_says_why_and_changes_nothing(void **state)
{
    (void)state;
    int64_t id = s_enquiry("refused", NULL, NULL, NULL);
    Dp__GetEnquiryReply *reply;
    Dp__Enquiry *enquiry = s_get(id, &reply);
    char *due_on = strdup(enquiry->due_on);
    size_t steps = enquiry->n_history;
    ts_free(&reply);
    tc_response_t answer = tc_submit(agent, tc_enquiry_path(id, NULL), tc_enquiry_path(id, "due"),
                                     TC_FIELDS("due_on", "1999-01-01", "reason", "too early"));
    tc_assert_status(&answer, 400, NULL);
    char *why = tc_element_text(&answer, "failure");
    assert_non_null(why);
    assert_non_null(strstr(why, "due_on"));
    free(why);
    tc_response_free(&answer);
    enquiry = s_get(id, &reply);
    assert_string_equal(enquiry->due_on, due_on);
    assert_int_equal(enquiry->n_history, steps);
    ts_free(&reply);
    free(due_on);
    /* An enquiry that does not exist: 404. */
    answer = tc_get(agent, "/enquiries/999999");
    tc_assert_status(&answer, 404, NULL);
    tc_response_free(&answer);
}

static void test_a_flagged_duplicate_is_merged_into_its_original(void **state)
{
    (void)state;
    ti_form_t original, duplicate;
    ti_form_init(&original, "merge");
    original.enquiry.received_at = "2026-11-28T10:00:00Z";
    Dp__SubmitEnquiryReply *submitted = ti_submit_ok(fx->base, &original);
    int64_t original_id = submitted->enquiry_id;
    ts_free(&submitted);
    ti_form_init(&duplicate, "merge");
    memcpy(duplicate.email, original.email, sizeof duplicate.email);
    /* "Re: " and the same words: the same subject once normalised. */
    snprintf(duplicate.subject, sizeof duplicate.subject, "Re: %.100s", original.subject);
    duplicate.enquiry.received_at = "2026-11-28T11:00:00Z";
    submitted = ti_submit_ok(fx->base, &duplicate);
    int64_t duplicate_id = submitted->enquiry_id;
    ts_free(&submitted);

    tc_response_t page = s_page(agent, tc_enquiry_path(duplicate_id, NULL), 200);
    char link[96];
    snprintf(link, sizeof link, "<a id=\"duplicate-of\" href=\"/enquiries/%lld\"",
             (long long)original_id);
    tc_assert_has(&page, link);
    tc_assert_has(&page, "id=\"merge-form\"");
    tc_response_free(&page);

    char into[24];
    snprintf(into, sizeof into, "%lld", (long long)original_id);
    s_act(agent, duplicate_id, "merge", TC_FIELDS("into", into, "note", "same question"));
    Dp__GetEnquiryReply *reply;
    Dp__Enquiry *enquiry = s_get(duplicate_id, &reply);
    assert_int_equal(enquiry->status, STATUS(CLOSED));
    assert_int_equal(enquiry->merged_into, original_id);
    ts_free(&reply);
    page = s_page(agent, tc_enquiry_path(duplicate_id, NULL), 200);
    tc_assert_lacks(&page, "id=\"merge-form\"");
    tc_response_free(&page);
}

static void test_an_admin_admits_an_applicant_as_a_partner(void **state)
{
    (void)state;
    ti_form_t form;
    ti_form_init(&form, "apply");
    form.enquiry.kind = "membership-application";
    form.enquiry.organisation = "Quokka Systems";
    snprintf(form.email, sizeof form.email, "director@quokka-systems.example");
    Dp__SubmitEnquiryReply *submitted = ti_submit_ok(fx->base, &form);
    int64_t id = submitted->enquiry_id;
    ts_free(&submitted);

    /* Offered to admins only. */
    tc_response_t page = s_page(agent, tc_enquiry_path(id, NULL), 200);
    tc_assert_lacks(&page, "id=\"admit-form\"");
    tc_response_free(&page);
    page = s_page(admin, tc_enquiry_path(id, NULL), 200);
    tc_assert_has(&page, "id=\"admit-form\"");
    tc_assert_has(&page, "value=\"Quokka Systems\"");
    tc_assert_has(&page, "value=\"quokka-systems.example\"");
    tc_response_free(&page);

    s_act(admin, id, "admit",
          TC_FIELDS("name", "Quokka Systems", "slug", "quokka-systems", "kind", "company",
                    "domains", "quokka-systems.example", "joined_on", "2026-12-01",
                    "joined_precision", "month"));
    Dp__GetPartnerReply *partner = ts_get_partner_by_slug(fx->base->registry, "quokka-systems", "");
    assert_int_equal(partner->partner->from_enquiry, id);
    assert_string_equal(partner->partner->name, "Quokka Systems");
    assert_string_equal(partner->partner->instrument, "exchange of letters");
    assert_int_equal(partner->partner->joined_precision, DP__DATE_PRECISION__DATE_PRECISION_MONTH);
    assert_int_equal(partner->partner->n_domains, 1);
    assert_string_equal(partner->partner->domains[0], "quokka-systems.example");
    Dp__GetEnquiryReply *reply;
    Dp__Enquiry *enquiry = s_get(id, &reply);
    assert_int_equal(enquiry->status, STATUS(CLOSED));
    assert_int_equal(enquiry->partner_id, partner->partner->id);
    assert_non_null(strstr(enquiry->outcome, "quokka-systems"));
    ts_free(&reply);
    ts_free(&partner);

    page = s_page(agent, "/partners", 200);
    tc_assert_has(&page, "href=\"/partners/quokka-systems\"");
    tc_response_free(&page);
    page = s_page(agent, "/partners/quokka-systems", 200);
    char link[64];
    snprintf(link, sizeof link, "href=\"/enquiries/%lld\"", (long long)id);
    tc_assert_has(&page, link);
    tc_response_free(&page);
}

static void test_html_in_an_enquiry_is_escaped(void **state)
{
    (void)state;
    int64_t id = s_enquiry("escape", "<script>alert(1)</script> & \"quotes\"",
                           "<img src=x onerror=alert(2)> body", NULL);
    tc_response_t page = s_page(agent, "/queue?view=all", 200);
    tc_assert_has(&page, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;");
    tc_assert_lacks(&page, "<script>");
    tc_response_free(&page);
    page = s_page(agent, tc_enquiry_path(id, NULL), 200);
    tc_assert_has(&page, "&lt;script&gt;alert(1)&lt;/script&gt;");
    tc_assert_has(&page, "&lt;img src=x onerror=alert(2)&gt; body");
    tc_assert_lacks(&page, "<script>");
    tc_assert_lacks(&page, "<img");
    tc_response_free(&page);
    /* A search term is shown back escaped too. */
    page = s_page(agent, "/queue?view=all&q=%22%3E%3Cscript%3E", 200);
    tc_assert_lacks(&page, "\"><script>");
    tc_response_free(&page);
}

static void test_an_oversized_form_is_refused(void **state)
{
    (void)state;
    int64_t id = s_enquiry("large", NULL, NULL, NULL);
    size_t size = 300 * 1024;
    char *text = malloc(size + 1);
    assert_non_null(text);
    memset(text, 'a', size);
    text[size] = '\0';
    tc_response_t answer = tc_submit(agent, tc_enquiry_path(id, NULL), tc_enquiry_path(id, "note"),
                                     TC_FIELDS("text", text));
    tc_assert_status(&answer, 413, NULL);
    tc_response_free(&answer);
    /* One field over 64 KiB, the form under 256 KiB. */
    text[70 * 1024] = '\0';
    answer = tc_submit(agent, tc_enquiry_path(id, NULL), tc_enquiry_path(id, "note"),
                       TC_FIELDS("text", text));
    tc_assert_status(&answer, 413, NULL);
    tc_response_free(&answer);
    free(text);
    Dp__GetEnquiryReply *reply;
    Dp__Enquiry *enquiry = s_get(id, &reply);
    assert_int_equal(enquiry->n_notes, 0);
    ts_free(&reply);
    /* The console still serves. */
    tc_response_t page = s_page(agent, "/queue?view=all", 200);
    tc_response_free(&page);
}

/* Last: the intake is stopped for good. */
static void test_with_the_intake_away_the_queue_says_so_and_login_works(void **state)
{
    (void)state;
    int64_t id = s_enquiry("away", NULL, NULL, NULL);
    ti_intake_stop(&fx->base->intake);
    tc_response_t page = s_page(agent, "/queue?view=all", 503);
    char *message = tc_element_text(&page, "flash");
    assert_non_null(message);
    assert_true(strlen(message) > 0);
    free(message);
    tc_assert_lacks(&page, "<table id=\"queue\">");
    tc_response_free(&page);
    page = s_page(agent, tc_enquiry_path(id, NULL), 503);
    message = tc_element_text(&page, "failure");
    assert_non_null(message);
    assert_true(strlen(message) > 0);
    free(message);
    tc_response_free(&page);
    /* A change is refused the same way, and the rest is served. */
    page = s_page(agent, "/partners", 200);
    char *csrf = tc_csrf(&page);
    tc_response_free(&page);
    tc_response_t answer =
        tc_post(agent, tc_enquiry_path(id, "note"), TC_FIELDS("csrf", csrf, "text", "while away"));
    tc_assert_status(&answer, 503, NULL);
    tc_response_free(&answer);
    free(csrf);
    tc_browser_t *anyone = tc_browser_new(fx->console, "127.0.0.20");
    page = s_page(anyone, "/login", 200);
    tc_assert_has(&page, "id=\"login-form\"");
    tc_response_free(&page);
    page = s_page(anyone, "/health", 200);
    tc_response_free(&page);
    tc_browser_destroy(&anyone);
}

static int s_setup(void **state)
{
    (void)state;
    agent = tc_person(fx, "ana", "Ana Lopes", AGENT, PASSWORD, "127.0.0.1");
    admin = tc_person(fx, "ada", "Ada Admin", ADMIN, PASSWORD, "127.0.0.2");
    return 0;
}

int main(void)
{
    fx = tc_fixture_new("console_pages", s_settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_static_and_unknown_paths),
        cmocka_unit_test(test_every_answer_carries_a_policy_without_inline_script),
        cmocka_unit_test(test_the_queue_lists_and_searches_the_body),
        cmocka_unit_test(test_views_and_status_filters),
        cmocka_unit_test(test_an_unknown_view_is_a_bad_request),
        cmocka_unit_test(test_a_new_due_date_counts_as_overdue),
        cmocka_unit_test(test_a_days_work_on_one_enquiry),
        cmocka_unit_test(test_the_page_offers_only_the_allowed_moves),
        cmocka_unit_test(test_a_refused_change_says_why_and_changes_nothing),
        cmocka_unit_test(test_a_flagged_duplicate_is_merged_into_its_original),
        cmocka_unit_test(test_an_admin_admits_an_applicant_as_a_partner),
        cmocka_unit_test(test_html_in_an_enquiry_is_escaped),
        cmocka_unit_test(test_an_oversized_form_is_refused),
        cmocka_unit_test(test_with_the_intake_away_the_queue_says_so_and_login_works),
    };
    return tc_fixture_run(&fx, "console pages", tests, sizeof tests / sizeof *tests, s_setup);
}
