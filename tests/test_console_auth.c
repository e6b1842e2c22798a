/* The staff console's logins and sessions over HTTP, against the console
   and the four services started in process on one test database: the
   session cookie (HttpOnly, SameSite=Strict) whose id is stored only as
   its SHA-256, Argon2id password hashes, one refusal text for a wrong
   password and an unknown login, the lockout after failed logins (audited)
   and the throttling of an address, the login form's own token, the idle
   time-out, logging out here and everywhere, and a disabled account or a
   new password ending every session. Each person is a cookie jar of its
   own from an address of its own on the loopback network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "console_support.h"

static tc_fixture_t *fx;

/* The console under test locks an account after 2 failures, an address
   after 3 (each attempt costs an Argon2id verification, on purpose). */
#define ACCOUNT_FAILURES 2
#define ADDRESS_FAILURES 3

static const char *const s_settings[] = {"DP_CONSOLE_ACCOUNT_FAILURES", "2",
                                         "DP_CONSOLE_ADDRESS_FAILURES", "3", NULL};

static const char PASSWORD[] = "correct horse battery";
static const char WRONG[] = "wrong horse battery!";

/* A browser of the fixture's console from its own address. */
static tc_browser_t *s_browser(const char *address)
{
    return tc_browser_new(fx->console, address);
}

static long long s_count(const char *sql, const char *param)
{
    const char *params[] = {param};
    return ts_query_long(fx->base->admin, sql, param ? 1 : 0, param ? params : NULL);
}

/* Sessions of an account, as the superuser counts them. */
static long long s_sessions(const char *login)
{
    return s_count("SELECT count(*) FROM console.session s JOIN console.staff st"
                   " ON st.id = s.staff_id WHERE st.login = $1",
                   login);
}

/* The page behind the session must be the queue (200), or a 303 to /login. */
static void s_assert_signed_in(tc_browser_t *browser, bool signed_in)
{
    tc_response_t page = tc_get(browser, "/queue?view=all");
    if (signed_in)
        tc_assert_status(&page, 200, NULL);
    else
        tc_assert_status(&page, 303, "/login");
    tc_response_free(&page);
}

/* The login refusal's text (#login-error) of a 401; the caller frees. */
static char *s_refusal(tc_browser_t *browser, const char *login, const char *password)
{
    tc_response_t answer = tc_try_login(browser, login, password);
    tc_assert_status(&answer, 401, NULL);
    char *text = tc_element_text(&answer, "login-error");
    if (!text)
        fail_msg("a refused login without #login-error: %.2000s", answer.body);
    tc_response_free(&answer);
    return text;
}

static void s_assert_text(const char *actual, const char *expected_part)
{
    if (!strstr(actual, expected_part))
        fail_msg("'%s' does not say '%s'", actual, expected_part);
}

/* ---- the cookie and what is stored ---------------------------------------------------- */

static void test_a_login_sets_a_strict_cookie_and_stores_only_its_hash(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "ana", "Ana Lopes", AGENT, PASSWORD);
    char *hash = ts_query_text(
        fx->base->admin, "SELECT password_hash FROM console.staff WHERE login = 'ana'", 0, NULL);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_null(strstr(hash, PASSWORD));
    free(hash);

    tc_browser_t *browser = s_browser("127.0.0.1");
    tc_response_t answer = tc_try_login(browser, "ana", PASSWORD);
    tc_assert_status(&answer, 303, "/queue?view=mine");
    char *set_cookie = tc_header(&answer, "Set-Cookie");
    assert_non_null(set_cookie);
    assert_int_equal(strncmp(set_cookie, "dp_session=", 11), 0);
    assert_non_null(strstr(set_cookie, "; HttpOnly"));
    assert_non_null(strstr(set_cookie, "; SameSite=Strict"));
    assert_non_null(strstr(set_cookie, "; Path=/"));
    assert_null(strstr(set_cookie, "Secure")); /* not configured */
    free(set_cookie);
    tc_response_free(&answer);

    /* 256 bits as base64url without padding. */
    char *cookie = tc_cookie(browser, "dp_session");
    assert_non_null(cookie);
    assert_int_equal(strlen(cookie), 43);
    assert_int_equal(s_sessions("ana"), 1);
    /* Stored: the 32 bytes of its SHA-256, neither its text nor its bytes. */
    const char *params[] = {cookie};
    assert_int_equal(ts_query_long(fx->base->admin,
                                   "SELECT count(*) FROM console.session"
                                   " WHERE length(id_hash) = 32"
                                   "   AND id_hash = sha256(convert_to($1, 'UTF8'))",
                                   1, params),
                     1);
    assert_int_equal(ts_query_long(fx->base->admin,
                                   "SELECT count(*) FROM console.session s"
                                   " WHERE id_hash = decode(translate($1, '-_', '+/') || '=',"
                                   "                        'base64')"
                                   "    OR position($1 in s::text) > 0"
                                   "    OR position(convert_to($1, 'UTF8') in id_hash) > 0",
                                   1, params),
                     0);
    free(cookie);
    s_assert_signed_in(browser, true);
    tc_browser_destroy(&browser);
}

static void test_the_login_form_sets_its_own_strict_cookie(void **state)
{
    (void)state;
    tc_browser_t *browser = s_browser("127.0.0.1");
    tc_response_t form = tc_get(browser, "/login");
    tc_assert_status(&form, 200, NULL);
    char *set_cookie = tc_header(&form, "Set-Cookie");
    assert_non_null(set_cookie);
    assert_int_equal(strncmp(set_cookie, "dp_login=", 9), 0);
    assert_non_null(strstr(set_cookie, "; HttpOnly"));
    assert_non_null(strstr(set_cookie, "; SameSite=Strict"));
    free(set_cookie);
    tc_assert_has(&form, "id=\"login-form\"");
    tc_response_free(&form);
    tc_browser_destroy(&browser);
}

/* ---- refusals ---------------------------------------------------------------------- */

static void test_a_wrong_password_reads_as_an_unknown_login(void **state)
{
    (void)state;
    tc_browser_t *browser = s_browser("127.0.0.2");
    char *wrong = s_refusal(browser, "ana", WRONG);
    char *unknown = s_refusal(browser, "no.such.login", WRONG);
    assert_string_equal(wrong, unknown);
    assert_true(strlen(wrong) > 0);
    assert_null(tc_cookie(browser, "dp_session"));
    free(wrong);
    free(unknown);
    tc_browser_destroy(&browser);
}

/* Locks the account with ACCOUNT_FAILURES wrong passwords from browser;
   returns the refusal text of a wrong password (the caller frees). */
static char *s_lock(tc_browser_t *browser, const char *login)
{
    char *failed = NULL;
    for (int i = 0; i < ACCOUNT_FAILURES; i++) {
        free(failed);
        failed = s_refusal(browser, login, WRONG);
    }
    return failed;
}

static void test_failed_logins_lock_the_account_and_the_lock_is_audited(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "bea", "Bea Locke", AGENT, PASSWORD);
    tc_browser_t *browser = s_browser("127.0.0.3");
    char *failed = s_lock(browser, "bea");
    /* The right password is now refused, with the lockout's text. */
    char *locked = s_refusal(browser, "bea", PASSWORD);
    assert_string_not_equal(locked, failed);
    s_assert_text(locked, "locked");
    assert_null(tc_cookie(browser, "dp_session"));
    assert_int_equal(s_sessions("bea"), 0);
    /* From another address too: the account is locked, not the address. */
    tc_browser_t *elsewhere = s_browser("127.0.0.13");
    char *there = s_refusal(elsewhere, "bea", PASSWORD);
    assert_string_equal(there, locked);
    assert_int_equal(s_count("SELECT count(*) FROM console.audit WHERE action = 'lock account'"
                             " AND target = $1",
                             "bea"),
                     1);
    assert_int_equal(s_count("SELECT count(*) FROM console.staff WHERE login = $1"
                             " AND locked_until > now()",
                             "bea"),
                     1);
    free(failed);
    free(locked);
    free(there);
    tc_browser_destroy(&elsewhere);
    tc_browser_destroy(&browser);
}

static void test_a_new_password_ends_sessions_and_lifts_a_lockout(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "cy", "Cy Reset", AGENT, PASSWORD);
    tc_browser_t *working = s_browser("127.0.0.4");
    tc_login(working, "cy", PASSWORD);
    tc_browser_t *attacker = s_browser("127.0.0.14");
    char *failed = s_lock(attacker, "cy");
    char *locked = s_refusal(attacker, "cy", PASSWORD);
    s_assert_text(locked, "locked");

    static const char fresh[] = "a brand new passphrase";
    tc_reset_password(fx->console, "cy", fresh);
    assert_int_equal(s_sessions("cy"), 0);
    s_assert_signed_in(working, false);
    /* The lockout is lifted: the new password works, the old one no more. */
    tc_login(working, "cy", fresh);
    s_assert_signed_in(working, true);
    char *old = s_refusal(attacker, "cy", PASSWORD);
    assert_string_equal(old, failed);
    free(failed);
    free(locked);
    free(old);
    tc_browser_destroy(&attacker);
    tc_browser_destroy(&working);
}

static void test_after_a_new_password_failures_lock_the_account_again(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "dee", "Dee Again", AGENT, PASSWORD);
    tc_browser_t *attacker = s_browser("127.0.0.15");
    char *failed = s_lock(attacker, "dee");
    static const char fresh[] = "another new passphrase";
    tc_reset_password(fx->console, "dee", fresh);
    /* Before the owner logs in, the same number of guesses locks it again. */
    char *again = s_lock(attacker, "dee");
    tc_browser_t *owner = s_browser("127.0.0.5");
    char *locked = s_refusal(owner, "dee", fresh);
    s_assert_text(locked, "locked");
    assert_int_equal(s_sessions("dee"), 0);
    free(failed);
    free(again);
    free(locked);
    tc_browser_destroy(&owner);
    tc_browser_destroy(&attacker);
}

static void test_failed_logins_sent_at_once_lock_the_account(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "kim", "Kim Parallel", AGENT, PASSWORD);
    /* Four at once, as many as the web threads: each verifies, records its
       failure and counts, interleaved with the others. */
    long statuses[4];
    tc_logins_at_once(fx->console, "127.0.0.18", "kim", WRONG, 4, statuses);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(statuses[i], 401);
    tc_browser_t *owner = s_browser("127.0.0.19");
    char *locked = s_refusal(owner, "kim", PASSWORD);
    s_assert_text(locked, "locked");
    free(locked);
    tc_browser_destroy(&owner);
}

static void test_an_address_with_many_failures_is_refused(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "eve", "Eve Throttle", AGENT, PASSWORD);
    tc_browser_t *noisy = s_browser("127.0.0.6");
    char *failed = NULL;
    /* Unknown logins: no account is locked on the way. */
    for (int i = 0; i < ADDRESS_FAILURES; i++) {
        char login[32];
        snprintf(login, sizeof login, "ghost-%d", i);
        free(failed);
        failed = s_refusal(noisy, login, WRONG);
    }
    char *throttled = s_refusal(noisy, "eve", PASSWORD);
    assert_string_not_equal(throttled, failed);
    s_assert_text(throttled, "address");
    assert_int_equal(s_sessions("eve"), 0);
    /* The account is not locked: from another address it logs in. */
    assert_int_equal(
        s_count("SELECT count(*) FROM console.staff WHERE login = $1 AND locked_until > now()",
                "eve"),
        0);
    tc_browser_t *quiet = s_browser("127.0.0.7");
    tc_login(quiet, "eve", PASSWORD);
    s_assert_signed_in(quiet, true);
    free(failed);
    free(throttled);
    tc_browser_destroy(&quiet);
    tc_browser_destroy(&noisy);
}

static void test_a_login_without_the_forms_token_is_refused(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "fay", "Fay Token", AGENT, PASSWORD);
    /* No cookie, no field. */
    tc_browser_t *bare = s_browser("127.0.0.8");
    tc_response_t answer = tc_post(bare, "/login", TC_FIELDS("login", "fay", "password", PASSWORD));
    tc_assert_status(&answer, 401, NULL);
    char *expired = tc_element_text(&answer, "login-error");
    assert_non_null(expired);
    tc_response_free(&answer);

    /* The cookie of the form, and a field that is not its token. */
    tc_browser_t *forged = s_browser("127.0.0.8");
    tc_response_t form = tc_get(forged, "/login");
    char *token = tc_csrf(&form);
    tc_response_free(&form);
    answer = tc_post(forged, "/login",
                     TC_FIELDS("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "login",
                               "fay", "password", PASSWORD));
    tc_assert_status(&answer, 401, NULL);
    char *text = tc_element_text(&answer, "login-error");
    assert_non_null(text);
    assert_string_equal(text, expired);
    free(text);
    tc_response_free(&answer);

    /* The token of someone else's form, without its cookie. */
    answer =
        tc_post(bare, "/login", TC_FIELDS("csrf", token, "login", "fay", "password", PASSWORD));
    tc_assert_status(&answer, 401, NULL);
    text = tc_element_text(&answer, "login-error");
    assert_non_null(text);
    assert_string_equal(text, expired);
    free(text);
    tc_response_free(&answer);

    assert_null(tc_cookie(bare, "dp_session"));
    assert_null(tc_cookie(forged, "dp_session"));
    assert_int_equal(s_sessions("fay"), 0);
    /* And the form as sent by the page works. */
    tc_login(forged, "fay", PASSWORD);
    free(token);
    free(expired);
    tc_browser_destroy(&forged);
    tc_browser_destroy(&bare);
}

/* ---- sessions ---------------------------------------------------------------------- */

static void test_an_idle_session_ends(void **state)
{
    (void)state;
    const char *settings[] = {"DP_CONSOLE_IDLE_TIMEOUT_S", "2", NULL};
    tc_peers_t peers = tc_fixture_peers(fx);
    tc_console_t *hasty = tc_console_start(fx->base->database, &peers, settings);
    assert_non_null(hasty);
    tc_browser_t *browser = tc_browser_new(hasty, "127.0.0.9");
    tc_login(browser, "ana", PASSWORD);
    s_assert_signed_in(browser, true);
    sleep(3);
    s_assert_signed_in(browser, false);
    tc_browser_destroy(&browser);
    tc_console_stop(&hasty);
}

static void test_logging_out_ends_the_session(void **state)
{
    (void)state;
    tc_browser_t *browser = s_browser("127.0.0.10");
    tc_login(browser, "ana", PASSWORD);
    long long others = s_sessions("ana") - 1;
    char *cookie = tc_cookie(browser, "dp_session");
    assert_non_null(cookie);
    tc_response_t answer = tc_submit(browser, "/queue?view=all", "/logout", NULL);
    tc_assert_status(&answer, 303, "/login");
    tc_response_free(&answer);
    assert_int_equal(s_sessions("ana"), others);
    s_assert_signed_in(browser, false);
    /* The old cookie, kept and sent again, opens nothing. */
    tc_set_cookie(browser, "dp_session", cookie);
    s_assert_signed_in(browser, false);
    free(cookie);
    tc_browser_destroy(&browser);
}

static void test_logging_out_everywhere_ends_every_session(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "ida", "Ida Everywhere", AGENT, PASSWORD);
    tc_browser_t *desk = s_browser("127.0.0.11");
    tc_browser_t *laptop = s_browser("127.0.0.12");
    tc_browser_t *colleague = s_browser("127.0.0.12");
    tc_login(desk, "ida", PASSWORD);
    tc_login(laptop, "ida", PASSWORD);
    tc_login(colleague, "ana", PASSWORD);
    assert_int_equal(s_sessions("ida"), 2);
    /* Every page offers it, to agents too. */
    tc_response_t page = tc_get(desk, "/queue?view=all");
    tc_assert_has(&page, "action=\"/logout-everywhere\"");
    tc_response_free(&page);
    tc_response_t answer = tc_submit(desk, "/queue?view=all", "/logout-everywhere", NULL);
    tc_assert_status(&answer, 303, "/login");
    tc_response_free(&answer);
    assert_int_equal(s_sessions("ida"), 0);
    s_assert_signed_in(laptop, false);
    s_assert_signed_in(desk, false);
    /* Someone else's session stays. */
    s_assert_signed_in(colleague, true);
    tc_browser_destroy(&colleague);
    tc_browser_destroy(&laptop);
    tc_browser_destroy(&desk);
}

static void test_disabling_an_account_ends_its_sessions(void **state)
{
    (void)state;
    tc_add_staff(fx->console, "jo", "Jo Disabled", AGENT, PASSWORD);
    tc_browser_t *browser = s_browser("127.0.0.16");
    tc_login(browser, "jo", PASSWORD);
    s_assert_signed_in(browser, true);
    tc_disable_staff(fx->console, "jo");
    assert_int_equal(s_sessions("jo"), 0);
    s_assert_signed_in(browser, false);
    /* Refused like a wrong password: nothing tells the account exists. */
    char *refused = s_refusal(browser, "jo", PASSWORD);
    char *unknown = s_refusal(browser, "no.such.person", PASSWORD);
    assert_string_equal(refused, unknown);
    assert_int_equal(s_sessions("jo"), 0);
    free(refused);
    free(unknown);
    tc_browser_destroy(&browser);
}

static void test_pages_without_a_session_lead_to_the_login(void **state)
{
    (void)state;
    tc_browser_t *browser = s_browser("127.0.0.17");
    static const char *const pages[] = {"/",         "/queue",       "/enquiries/1",
                                        "/partners", "/admin/staff", "/admin/events"};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        tc_response_t page = tc_get(browser, pages[i]);
        tc_assert_status(&page, 303, "/login");
        tc_response_free(&page);
    }
    /* A made-up cookie of the right length is no session either. */
    tc_set_cookie(browser, "dp_session", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    s_assert_signed_in(browser, false);
    tc_browser_destroy(&browser);
}

int main(void)
{
    fx = tc_fixture_new("console_auth", s_settings);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_login_sets_a_strict_cookie_and_stores_only_its_hash),
        cmocka_unit_test(test_the_login_form_sets_its_own_strict_cookie),
        cmocka_unit_test(test_a_wrong_password_reads_as_an_unknown_login),
        cmocka_unit_test(test_failed_logins_lock_the_account_and_the_lock_is_audited),
        cmocka_unit_test(test_a_new_password_ends_sessions_and_lifts_a_lockout),
        cmocka_unit_test(test_after_a_new_password_failures_lock_the_account_again),
        cmocka_unit_test(test_failed_logins_sent_at_once_lock_the_account),
        cmocka_unit_test(test_an_address_with_many_failures_is_refused),
        cmocka_unit_test(test_a_login_without_the_forms_token_is_refused),
        cmocka_unit_test(test_an_idle_session_ends),
        cmocka_unit_test(test_logging_out_ends_the_session),
        cmocka_unit_test(test_logging_out_everywhere_ends_every_session),
        cmocka_unit_test(test_disabling_an_account_ends_its_sessions),
        cmocka_unit_test(test_pages_without_a_session_lead_to_the_login),
    };
    return tc_fixture_run(&fx, "console auth", tests, sizeof tests / sizeof *tests, NULL);
}
