/* The staff console's roles and forms over HTTP, against the console and
   the four services started in process on one test database: an agent is
   refused the admin pages and the admin-only changes (the register's edits,
   admitting an applicant, staff accounts) and nothing changes; an admin
   reaches them; every form sent without its CSRF token, or with a wrong
   one, is refused with 403 and changes nothing in the intake, the registry
   or the console's accounts and sessions; staff accounts made through the
   console's ZeroMQ requests are checked there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console_support.h"

static tc_fixture_t *fx;
static tc_browser_t *agent; /* Al Agent */
static tc_browser_t *admin; /* Ad Admin */
static int64_t enquiry;     /* an information request */
static int64_t application; /* a membership application */

static const char PASSWORD[] = "correct horse battery";

/* ---- helpers ---------------------------------------------------------------------- */

static int64_t s_enquiry(const char *tag, const char *kind)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    if (kind)
        form.enquiry.kind = (char *)kind;
    Dp__SubmitEnquiryReply *reply = ti_submit_ok(fx->base, &form);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    return id;
}

/* What a refused form must leave alone: the enquiries with their history,
   notes, replies and audit, the register with its audit, the console's
   accounts, and each account's session count (a session's last_seen_at
   moves with every page, by design; the outboxes empty as notify relays
   them, whatever the console does). */
static char *s_state(void)
{
    static const char *const enquiries[] = {
        "enquiry", "enquiry_transition", "enquiry_note", "outgoing_message", "audit_log", NULL};
    static const char *const register_[] = {
        "partner", "partner_name", "partner_domain", "partner_area",
        "contact", "engagement",   "audit_log",      NULL};
    static const char *const accounts[] = {"staff", "audit", NULL};
    char *intake = ts_tables_fingerprint(fx->base->admin, "intake", enquiries);
    char *registry = ts_tables_fingerprint(fx->base->admin, "registry", register_);
    char *staff = ts_tables_fingerprint(fx->base->admin, "console", accounts);
    char *sessions = ts_query_text(fx->base->admin,
                                   "SELECT coalesce(string_agg(staff_id || ':' || n, ','"
                                   "                           ORDER BY staff_id), '')"
                                   "  FROM (SELECT staff_id, count(*) n FROM console.session"
                                   "         GROUP BY staff_id) s",
                                   0, NULL);
    char *state = zsys_sprintf("%s|%s|%s|%s", intake, registry, staff, sessions);
    assert_non_null(state);
    free(intake);
    free(registry);
    free(staff);
    free(sessions);
    return state;
}

static void s_assert_forbidden(tc_response_t *answer, const char *what)
{
    if (answer->status != 403)
        fail_msg("%s: expected 403, got %ld:\n%.3000s", what, answer->status, answer->body);
    tc_response_free(answer);
}

/* ---- roles ------------------------------------------------------------------------ */

static void test_an_agent_is_refused_the_admin_pages(void **state)
{
    (void)state;
    tc_response_t page = tc_get(agent, "/admin/staff");
    s_assert_forbidden(&page, "GET /admin/staff");
    page = tc_get(agent, "/admin/events");
    s_assert_forbidden(&page, "GET /admin/events");
    /* Nor are they offered. */
    page = tc_get(agent, "/queue?view=all");
    tc_assert_status(&page, 200, NULL);
    tc_assert_lacks(&page, "href=\"/admin/staff\"");
    tc_assert_lacks(&page, "href=\"/admin/events\"");
    tc_response_free(&page);
    page = tc_get(agent, "/partners/acme");
    tc_assert_status(&page, 200, NULL);
    tc_assert_lacks(&page, "id=\"rename-form\"");
    tc_response_free(&page);
}

/* The session's form token, from a page that asks no service for data
   (the queue and a partner's page are audited reads). The caller frees. */
static char *s_token(tc_browser_t *browser)
{
    tc_response_t page = tc_get(browser, "/nowhere");
    tc_assert_status(&page, 404, NULL);
    char *token = tc_csrf(&page);
    tc_response_free(&page);
    return token;
}

/* A form sent with this token. */
static void s_assert_refused(tc_browser_t *browser, const char *token, const char *path,
                             const char *const *fields)
{
    const char *all[32] = {"csrf", token};
    size_t n = 2;
    for (const char *const *field = fields; field && *field && n < 30; field++)
        all[n++] = *field;
    tc_response_t answer = tc_post(browser, path, all);
    char what[160];
    snprintf(what, sizeof what, "POST %s", path);
    s_assert_forbidden(&answer, what);
}

static void test_an_agent_is_refused_admin_changes_and_nothing_changes(void **state)
{
    (void)state;
    /* Forms as an agent could forge them, with the agent's own valid token. */
    char *token = s_token(agent);
    char *before = s_state();
    s_assert_refused(agent, token, "/partners/acme/rename",
                     TC_FIELDS("new_name", "Acme Renamed", "effective_on", "2026-12-01"));
    s_assert_refused(agent, token, "/partners/acme/withdraw",
                     TC_FIELDS("withdrawn_on", "2026-12-01", "note", ""));
    s_assert_refused(agent, token, "/partners/acme/contact",
                     TC_FIELDS("name", "Forged", "role", "", "email", "forged@acme.example"));
    s_assert_refused(agent, token, tc_enquiry_path(application, "admit"),
                     TC_FIELDS("name", "Forged Member", "slug", "forged-member", "kind", "company",
                               "domains", "forged.example", "joined_on", "2026-12-01",
                               "joined_precision", "day"));
    s_assert_refused(agent, token, "/admin/staff",
                     TC_FIELDS("action", "add", "login", "sneaky", "name", "Sneaky", "role",
                               "admin", "password", PASSWORD));
    s_assert_refused(agent, token, "/admin/staff",
                     TC_FIELDS("action", "disable", "login", "ad", "password", ""));
    s_assert_refused(agent, token, "/admin/events", TC_FIELDS("consumer", "anyone", "seq", "1"));
    char *after = s_state();
    assert_string_equal(after, before);
    free(before);
    free(after);
    free(token);
    Dp__GetPartnerReply *partner = ts_get_partner_by_slug(fx->base->registry, "acme", "");
    assert_string_equal(partner->partner->name, "Acme");
    ts_free(&partner);
    /* The admission form is not offered to an agent either. */
    tc_response_t page = tc_get(agent, tc_enquiry_path(application, NULL));
    tc_assert_status(&page, 200, NULL);
    tc_assert_lacks(&page, "id=\"admit-form\"");
    tc_response_free(&page);
}

static void test_an_admin_reaches_the_admin_pages_and_changes(void **state)
{
    (void)state;
    tc_response_t page = tc_get(admin, "/admin/staff");
    tc_assert_status(&page, 200, NULL);
    tc_assert_has(&page, "<table id=\"staff\">");
    tc_assert_has(&page, "Al Agent");
    tc_assert_has(&page, "id=\"staff-add-form\"");
    tc_response_free(&page);
    page = tc_get(admin, "/admin/events");
    tc_assert_status(&page, 200, NULL);
    tc_assert_has(&page, "<table id=\"consumers\">");
    tc_response_free(&page);

    tc_submit_ok(admin, "/partners/acme", "/partners/acme/rename",
                 TC_FIELDS("new_name", "Acme Europe", "effective_on", "2026-12-01"));
    Dp__GetPartnerReply *partner = ts_get_partner_by_slug(fx->base->registry, "acme", "");
    assert_string_equal(partner->partner->name, "Acme Europe");
    ts_free(&partner);

    /* An account made on the page logs in. */
    tc_submit_ok(admin, "/admin/staff", "/admin/staff",
                 TC_FIELDS("action", "add", "login", "new.colleague", "name", "New Colleague",
                           "role", "agent", "password", PASSWORD));
    tc_browser_t *colleague = tc_browser_new(fx->console, "127.0.0.3");
    tc_login(colleague, "new.colleague", PASSWORD);
    /* Disabled on the page, its session ends. */
    tc_submit_ok(admin, "/admin/staff", "/admin/staff",
                 TC_FIELDS("action", "disable", "login", "new.colleague", "password", ""));
    page = tc_get(colleague, "/queue?view=all");
    tc_assert_status(&page, 303, "/login");
    tc_response_free(&page);
    const char *params[] = {"new.colleague"};
    assert_int_equal(ts_query_long(fx->base->admin,
                                   "SELECT count(*) FROM console.audit WHERE actor = 'Ad Admin'"
                                   " AND target = $1 AND action IN ('add account',"
                                   " 'disable account')",
                                   1, params),
                     2);
    tc_browser_destroy(&colleague);
}

/* ---- CSRF ------------------------------------------------------------------------ */

typedef struct {
    const char *path;
    const char *const *fields; /* a form that would change something */
} form_t;

static void test_every_form_without_its_token_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)enquiry);
    char path[7][64];
    static const char *const actions[] = {"assign", "transition", "note", "due",
                                          "merge",  "reply",      "admit"};
    for (size_t i = 0; i < 7; i++)
        snprintf(path[i], sizeof path[i], "%s",
                 tc_enquiry_path(i == 6 ? application : enquiry, actions[i]));
    const form_t forms[] = {
        {"/logout", NULL},
        {"/logout-everywhere", NULL},
        {path[0], TC_FIELDS("assignee", "me", "note", "forged")},
        {path[1], TC_FIELDS("to", "rejected", "note", "forged")},
        {path[2], TC_FIELDS("text", "a forged note")},
        {path[3], TC_FIELDS("due_on", "2026-01-15", "reason", "forged")},
        {path[4], TC_FIELDS("into", id, "note", "forged")},
        {path[5], TC_FIELDS("subject", "Forged", "body", "A forged reply.")},
        {path[6],
         TC_FIELDS("name", "Forged", "slug", "forged", "kind", "company", "domains",
                   "forged.example", "joined_on", "2026-12-01", "joined_precision", "day")},
        {"/partners/acme/rename", TC_FIELDS("new_name", "Forged Name", "effective_on", "")},
        {"/partners/acme/contact",
         TC_FIELDS("name", "Forged", "role", "", "email", "forged@acme.example")},
        {"/partners/acme/engagement",
         TC_FIELDS("title", "Forged", "form", "pilot", "area", "ai", "starts_on", "2026-12-01")},
        {"/partners/acme/withdraw", TC_FIELDS("withdrawn_on", "2026-12-01", "note", "forged")},
        {"/admin/staff", TC_FIELDS("action", "disable", "login", "al", "password", "")},
        {"/admin/events", TC_FIELDS("consumer", "anyone", "seq", "1")},
    };
    /* A wrong token: the admin's other session's, which is a real token of
       the same person, and one of the right shape that is no one's. */
    tc_browser_t *other = tc_browser_new(fx->console, "127.0.0.4");
    tc_login(other, "ad", PASSWORD);
    char *other_token = s_token(other);
    char *before = s_state();
    const char *tokens[] = {NULL, "", other_token, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++)
        for (size_t t = 0; t < sizeof tokens / sizeof *tokens; t++) {
            const char *fields[32] = {NULL};
            size_t n = 0;
            if (tokens[t]) {
                fields[n++] = "csrf";
                fields[n++] = tokens[t];
            }
            for (const char *const *pair = forms[f].fields; pair && *pair && n < 30; pair++)
                fields[n++] = *pair;
            tc_response_t answer = tc_post(admin, forms[f].path, fields);
            char what[160];
            snprintf(what, sizeof what, "POST %s with token %zu", forms[f].path, t);
            if (answer.status == 403 && !strstr(answer.body, "security token"))
                fail_msg("%s: a 403 that does not name the token:\n%.2000s", what, answer.body);
            s_assert_forbidden(&answer, what);
        }
    char *after = s_state();
    assert_string_equal(after, before);
    /* Still signed in, both of them. */
    tc_response_t page = tc_get(admin, "/queue?view=all");
    tc_assert_status(&page, 200, NULL);
    tc_response_free(&page);
    page = tc_get(other, "/queue?view=all");
    tc_assert_status(&page, 200, NULL);
    tc_response_free(&page);
    free(before);
    free(after);
    free(other_token);
    tc_browser_destroy(&other);
}

/* ---- staff accounts over ZeroMQ --------------------------------------------------------- */

static void test_staff_requests_check_their_fields(void **state)
{
    (void)state;
    static const struct {
        const char *login, *name, *password, *field;
    } refused[] = {
        {"Upper", "Name", "long enough password", "login"},
        {"x", "Name", "long enough password", "login"},
        {"short.pw", "Name", "too short", "password"},
        {"no.name", "", "long enough password", "name"},
        {"al", "Al Again", "long enough password", "login"},    /* exists */
        {"al.two", "Al Agent", "long enough password", "name"}, /* the same person's name */
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        Dp__AddStaffRequest request = DP__ADD_STAFF_REQUEST__INIT;
        request.login = (char *)refused[i].login;
        request.name = (char *)refused[i].name;
        request.role = DP__STAFF_ROLE__STAFF_ROLE_AGENT;
        request.password = (char *)refused[i].password;
        dp_status_t status;
        ProtobufCMessage *reply =
            tc_call(fx->console, &request.base, &dp__add_staff_reply__descriptor, &status);
        assert_null(reply);
        assert_int_not_equal(status.code, DP__CODE__CODE_OK);
        assert_string_equal(status.field, refused[i].field);
    }
    Dp__ListStaffRequest list = DP__LIST_STAFF_REQUEST__INIT;
    dp_status_t status;
    Dp__ListStaffReply *accounts = (Dp__ListStaffReply *)tc_call(
        fx->console, &list.base, &dp__list_staff_reply__descriptor, &status);
    ts_assert_ok(&status);
    bool al = false;
    for (size_t i = 0; i < accounts->n_accounts; i++) {
        const Dp__StaffAccount *account = accounts->accounts[i];
        assert_string_not_equal(account->login, "short.pw");
        if (strcmp(account->login, "al") == 0) {
            al = true;
            assert_string_equal(account->name, "Al Agent");
            assert_int_equal(account->role, DP__STAFF_ROLE__STAFF_ROLE_AGENT);
            assert_true(account->active_sessions >= 1);
        }
    }
    assert_true(al);
    ts_free(&accounts);
}

static int s_setup(void **state)
{
    (void)state;
    agent = tc_person(fx, "al", "Al Agent", AGENT, PASSWORD, "127.0.0.1");
    admin = tc_person(fx, "ad", "Ad Admin", ADMIN, PASSWORD, "127.0.0.2");
    Dp__CreatePartnerReply *acme =
        ts_new_partner(fx->base->registry, "acme", "Acme", "2020-01-01", DAY);
    ts_free(&acme);
    enquiry = s_enquiry("forms", NULL);
    application = s_enquiry("apply", "membership-application");
    return 0;
}

int main(void)
{
    fx = tc_fixture_new("console_staff", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_agent_is_refused_the_admin_pages),
        cmocka_unit_test(test_an_agent_is_refused_admin_changes_and_nothing_changes),
        cmocka_unit_test(test_every_form_without_its_token_is_refused_and_changes_nothing),
        cmocka_unit_test(test_an_admin_reaches_the_admin_pages_and_changes),
        cmocka_unit_test(test_staff_requests_check_their_fields),
    };
    return tc_fixture_run(&fx, "console staff", tests, sizeof tests / sizeof *tests, s_setup);
}
