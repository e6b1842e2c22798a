/* Logging in and out. A login is throttled per account (a lockout after
   DP_CONSOLE_ACCOUNT_FAILURES failures within DP_CONSOLE_LOCKOUT_S) and
   per address; every refusal says the same thing whether or not the
   account exists, and costs the same time. The login form has its own
   token (a cookie and a hidden field that must match), since there is no
   session yet. */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "console_html.h"
#include "dp_log.h"

static const char LOGIN_COOKIE[] = "dp_login";
static const char SESSION_COOKIE[] = "dp_session";
/* base64url without padding: what console_token_new writes. */
static const char s_token_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

console_result_t console_page_login(console_request_t *request, const char *error, unsigned status)
{
    /* One login token per browser while it lasts: a page the browser asks
       for by itself (an icon, a second tab) must not replace the token of
       the form already shown. */
    const char *kept =
        MHD_lookup_connection_value(request->connection, MHD_COOKIE_KIND, LOGIN_COOKIE);
    if (kept && strlen(kept) == CONSOLE_TOKEN_TEXT - 1 &&
        strspn(kept, s_token_alphabet) == strlen(kept))
        snprintf(request->csrf, sizeof request->csrf, "%s", kept);
    else
        console_token_new(request->csrf);
    console_set_cookie(request, LOGIN_COOKIE, request->csrf, 3600);
    console_page_t page;
    if (!console_page_begin(&page, request, TXT->login_title, ""))
        return MHD_NO;
    if (error) {
        console_put(&page, "<p id=\"login-error\" role=\"alert\" class=\"notice error\">");
        console_esc(&page, error);
        console_put(&page, "</p>\n");
    }
    console_form_begin(&page, "/login", "login-form");
    console_input(&page, "login", TXT->login_name, "text", console_field(request, "login"), true);
    console_input(&page, "password", TXT->password, "password", "", true);
    console_form_end(&page, TXT->log_in);
    return console_page_end(&page, status);
}

static console_result_t s_refuse(console_request_t *request, const char *login, const char *message,
                                 const char *why)
{
    dp_warning("audit: refused login '%s' from %s: %s", login, request->address, why);
    return console_page_login(request, message, MHD_HTTP_UNAUTHORIZED);
}

/* Counts a failure and locks the account when it reaches the limit. */
static void s_failed(console_request_t *request, const char *login, bool account_exists)
{
    const console_policy_t *policy = &request->console->policy;
    dp_db_t *db = request->worker->db;
    long for_login = 0, for_address = 0;
    if (console_db_record_failure(db, login, request->address) < 0 ||
        console_db_failures(db, login, request->address, policy->lockout_s, &for_login,
                            &for_address) < 0)
        return;
    /* At or past the limit: failures that race each other may count past it together. */
    if (account_exists && for_login >= (long)policy->account_failures) {
        console_db_lock(db, login, policy->lockout_s);
        console_db_audit(db, "console", "lock account", login, request->address,
                         "too many failed logins");
        dp_warning("audit: account '%s' locked for %u s after %ld failed logins (last from %s)",
                   login, policy->lockout_s, for_login, request->address);
    }
}

console_result_t console_post_login(console_request_t *request)
{
    const char *login = console_field(request, "login");
    const char *password = console_field(request, "password");
    const char *cookie =
        MHD_lookup_connection_value(request->connection, MHD_COOKIE_KIND, LOGIN_COOKIE);
    if (!cookie || !console_same_text(cookie, console_field(request, "csrf")))
        return s_refuse(request, login, TXT->login_form_expired, "form token");
    if (!*login || !*password || strlen(login) > 64 || strlen(password) > CONSOLE_MAX_PASSWORD)
        return s_refuse(request, login, TXT->login_failed, "empty or oversized");

    const console_policy_t *policy = &request->console->policy;
    dp_db_t *db = request->worker->db;
    long for_login = 0, for_address = 0;
    if (console_db_failures(db, login, request->address, policy->lockout_s, &for_login,
                            &for_address) < 0)
        return console_page_failure(request, NULL);
    if (for_address >= (long)policy->address_failures)
        return s_refuse(request, login, TXT->login_address_throttled, "address throttled");

    console_account_t account;
    int found = console_db_account(db, login, &account);
    if (found < 0)
        return console_page_failure(request, NULL);
    if (found == 1 && account.locked)
        return s_refuse(request, login, TXT->login_locked, "account locked");
    bool right = found == 1 ? console_password_verify(account.password_hash, password)
                            : (console_password_dummy_verify(password), false);
    if (!right || account.disabled) {
        s_failed(request, login, found == 1);
        return s_refuse(request, login, TXT->login_failed,
                        right ? "account disabled" : "wrong login or password");
    }

    char token[CONSOLE_TOKEN_TEXT], hash[CONSOLE_HASH_HEX];
    console_token_new(token);
    console_token_hash(token, hash);
    if (console_db_login(db, account.id, account.login, hash, request->address, policy) < 0)
        return console_page_failure(request, NULL);
    console_db_audit(db, account.name, "log in", account.login, request->address, "");
    dp_info("audit: %s logged in from %s", account.login, request->address);
    console_set_cookie(request, SESSION_COOKIE, token, (long)policy->absolute_timeout_s);
    return console_redirect(request, "/queue?view=mine");
}

console_result_t console_post_logout(console_request_t *request, bool everywhere)
{
    dp_db_t *db = request->worker->db;
    char hash[CONSOLE_HASH_HEX];
    console_token_hash(request->session_token, hash);
    int outcome = everywhere ? console_db_logout_everywhere(db, request->account.id)
                             : console_db_logout(db, hash);
    if (outcome < 0)
        return console_page_failure(request, NULL);
    console_db_audit(db, request->account.name, everywhere ? "log out everywhere" : "log out",
                     request->account.login, request->address, "");
    console_set_cookie(request, SESSION_COOKIE, "", 0);
    return console_redirect(request, "/login?done=logged-out");
}
