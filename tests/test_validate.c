/* dp_validate: the checks every service applies to text from the network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dp_validate.h"

/* Makes a string of `count` copies of c in buffer (which holds count + 1). */
static char *s_repeat(char *buffer, char c, size_t count)
{
    memset(buffer, c, count);
    buffer[count] = 0;
    return buffer;
}

/* Fails the test naming the first value that check does not judge as
   expected. */
static void s_expect_all(bool (*check)(const char *), const char *const *values, size_t count,
                         bool expected)
{
    for (size_t i = 0; i < count; i++)
        if (check(values[i]) != expected)
            fail_msg("'%s' %s", values[i] ? values[i] : "(null)",
                     expected ? "refused" : "accepted");
}

/* The same for dp_valid_text with this bound. */
static void s_expect_text(const char *const *values, size_t count, size_t bound, bool expected)
{
    for (size_t i = 0; i < count; i++)
        if (dp_valid_text(values[i], bound) != expected)
            fail_msg("'%s' (at most %zu bytes) %s", values[i] ? values[i] : "(null)", bound,
                     expected ? "refused" : "accepted");
}

static void test_date_accepts_calendar_dates(void **state)
{
    const char *const good[] = {"2017-11-08", "1900-01-01", "2999-12-31", "2021-01-31",
                                "2021-04-30"};
    s_expect_all(dp_valid_date, good, sizeof good / sizeof *good, true);
}

static void test_date_knows_leap_years(void **state)
{
    assert_true(dp_valid_date("2020-02-29")); /* divisible by 4 */
    assert_true(dp_valid_date("2000-02-29")); /* divisible by 400 */
    const char *const bad[] = {"2019-02-29",  /* not divisible by 4 */
                               "1900-02-29",  /* divisible by 100, not by 400 */
                               "2100-02-29", "2020-02-30"};
    s_expect_all(dp_valid_date, bad, sizeof bad / sizeof *bad, false);
    assert_true(dp_valid_date("2019-02-28"));
}

static void test_date_rejects_impossible_days_and_months(void **state)
{
    const char *const bad[] = {"2021-04-31", "2021-13-01", "2021-00-10", "2021-01-00",
                               "2021-01-32"};
    s_expect_all(dp_valid_date, bad, sizeof bad / sizeof *bad, false);
}

static void test_date_rejects_years_out_of_range(void **state)
{
    const char *const bad[] = {"1899-12-31", "3000-01-01", "0000-01-01"};
    s_expect_all(dp_valid_date, bad, sizeof bad / sizeof *bad, false);
}

static void test_date_rejects_bad_formats(void **state)
{
    /* Missing or short parts, other separators, anything around the date. */
    const char *const shape[] = {NULL,
                                 "",
                                 "2021-1-01",
                                 "2021-01-1",
                                 "20210101",
                                 "2021/01/01",
                                 "21-01-2021",
                                 "abcd-ef-gh",
                                 "2021-01-01 ",
                                 " 2021-01-01",
                                 "2021-01-01T00:00:00"};
    s_expect_all(dp_valid_date, shape, sizeof shape / sizeof *shape, false);
    /* Signs and blanks where digits belong. */
    const char *const digits[] = {"+021-01-01", "2021-+1-01", "2021-01- 1"};
    s_expect_all(dp_valid_date, digits, sizeof digits / sizeof *digits, false);
}

static void test_slug_accepts_lower_case_with_inner_hyphens(void **state)
{
    char buffer[80];
    const char *const good[] = {"a", "7", "servicenow", "at-t", "child-protection-2"};
    s_expect_all(dp_valid_slug, good, sizeof good / sizeof *good, true);
    assert_true(dp_valid_slug(s_repeat(buffer, 'a', 63)));
}

static void test_slug_rejects_bad_forms(void **state)
{
    char buffer[80];
    const char *const bad[] = {NULL,    "",       "-apple", "apple-", "-",
                               "Apple", "ap_ple", "ap ple", "ap.ple"};
    s_expect_all(dp_valid_slug, bad, sizeof bad / sizeof *bad, false);
    assert_false(dp_valid_slug("t\xc3\xa9l\xc3\xa9"
                               "fonica"));
    assert_false(dp_valid_slug(s_repeat(buffer, 'a', 64)));
}

static void test_domain_accepts_lower_case_dns_names(void **state)
{
    char buffer[300];
    const char *const good[] = {"apple.com", "mail.telekom.de", "xn--bcher-kva.example",
                                "a-b.c0.org"};
    s_expect_all(dp_valid_domain, good, sizeof good / sizeof *good, true);
    /* A label of 63 characters is the longest allowed. */
    s_repeat(buffer, 'a', 63);
    strcat(buffer, ".org");
    assert_true(dp_valid_domain(buffer));
}

static void test_domain_rejects_bad_names(void **state)
{
    char buffer[300];
    const char *const bad[] = {
        NULL,         "",           "localhost",  "Apple.com",     "APPLE.COM",
        ".apple.com", "apple.com.", "apple..com", "-apple.com",    "apple-.com",
        "apple.-com", "app_le.com", "app le.com", "jane@apple.com"};
    s_expect_all(dp_valid_domain, bad, sizeof bad / sizeof *bad, false);
    s_repeat(buffer, 'a', 64);
    strcat(buffer, ".org");
    assert_false(dp_valid_domain(buffer));
    /* Longer than 253 characters in all, though every label is short. */
    buffer[0] = 0;
    for (int i = 0; i < 64; i++)
        strcat(buffer, "abc.");
    strcat(buffer, "org");
    assert_false(dp_valid_domain(buffer));
}

static void test_email_accepts_plausible_addresses(void **state)
{
    const char *const good[] = {"jane.doe@example.org", "Jane.Doe@Example.ORG",
                                "j+tag@mail.example.co.uk", "a@b.cd"};
    s_expect_all(dp_valid_email, good, sizeof good / sizeof *good, true);
}

static void test_email_rejects_bad_addresses(void **state)
{
    char buffer[120];
    /* Missing parts. */
    const char *const parts[] = {NULL, "", "jane.example.org", "@example.org", "jane@"};
    s_expect_all(dp_valid_email, parts, sizeof parts / sizeof *parts, false);
    /* A local part with blanks, dots out of place or brackets. */
    const char *const local[] = {"jane doe@example.org", "jane..doe@example.org",
                                 ".jane@example.org", "jane.@example.org", "<jane>@example.org"};
    s_expect_all(dp_valid_email, local, sizeof local / sizeof *local, false);
    /* A domain that is none, or more after it. */
    const char *const domain[] = {"jane@localhost", "jane@doe@example.org", "jane@exa_mple.org",
                                  "jane@example.org\n"};
    s_expect_all(dp_valid_email, domain, sizeof domain / sizeof *domain, false);
    /* The local part may hold at most 64 characters. */
    s_repeat(buffer, 'j', 65);
    strcat(buffer, "@example.org");
    assert_false(dp_valid_email(buffer));
    s_repeat(buffer, 'j', 64);
    strcat(buffer, "@example.org");
    assert_true(dp_valid_email(buffer));
}

static void test_url_accepts_http_and_https_and_empty(void **state)
{
    const char *const good[] = {"", "https://www.coe.int", "http://example.org/path?q=1&r=2#top",
                                "https://example.org:8443/"};
    s_expect_all(dp_valid_url, good, sizeof good / sizeof *good, true);
}

static void test_url_rejects_other_schemes_and_bad_text(void **state)
{
    char buffer[600];
    /* Another scheme, or none. */
    const char *const scheme[] = {NULL, "ftp://example.org", "javascript:alert(1)", "example.org"};
    s_expect_all(dp_valid_url, scheme, sizeof scheme / sizeof *scheme, false);
    /* No host, or blanks, control characters or non-ASCII in it. */
    const char *const text[] = {"https://",
                                "https:///path",
                                "https://exa mple.org",
                                "https://example.org/\x01",
                                "https://ex\xc3\xa4mple.org",
                                "https://example.org/a b"};
    s_expect_all(dp_valid_url, text, sizeof text / sizeof *text, false);
    strcpy(buffer, "https://example.org/");
    s_repeat(buffer + strlen(buffer), 'a', 490);
    assert_false(dp_valid_url(buffer));
}

static void test_text_accepts_well_formed_utf8(void **state)
{
    assert_true(dp_valid_text("", 10));
    assert_true(dp_valid_text("plain", 10));
    const char *const good[] = {
        "tab\tnewline\ncarriage\r",
        "Telef\xc3\xb3nica", /* two-byte */
        "\xe2\x82\xac",      /* euro sign, three bytes */
        "\xf0\x9f\x98\x80",  /* emoji, four bytes */
        "\xed\x9f\xbf",      /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",      /* U+E000, just above them */
        "\xf4\x8f\xbf\xbf",  /* U+10FFFF, the last code point */
    };
    s_expect_text(good, sizeof good / sizeof *good, 100, true);
}

static void test_text_rejects_overlong_encodings(void **state)
{
    /* '/' in two, three and four bytes, and the largest overlong of each. */
    const char *const bad[] = {"\xc0\xaf",     "\xc1\xbf",         "\xe0\x80\xaf",
                               "\xe0\x9f\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf"};
    s_expect_text(bad, sizeof bad / sizeof *bad, 100, false);
}

static void test_text_rejects_surrogates_and_out_of_range(void **state)
{
    /* U+D800 and U+DFFF, U+110000, then lead bytes no code point has. */
    const char *const bad[] = {"\xed\xa0\x80",
                               "\xed\xbf\xbf",
                               "\xf4\x90\x80\x80",
                               "\xf5\x80\x80\x80",
                               "\xf8\x88\x80\x80\x80",
                               "\xff",
                               "\xfe"};
    s_expect_text(bad, sizeof bad / sizeof *bad, 100, false);
}

static void test_text_rejects_broken_sequences(void **state)
{
    assert_false(dp_valid_text("\x80", 100)); /* lone continuation byte */
    assert_false(dp_valid_text("a\xbf"
                               "b",
                               100));
    /* Truncated at the end. */
    const char *const bad[] = {"\xc3", "\xe2\x82", "\xf0\x9f\x98"};
    s_expect_text(bad, sizeof bad / sizeof *bad, 100, false);
    assert_false(dp_valid_text("\xc3"
                               "a",
                               100)); /* lead byte without continuation */
    assert_false(dp_valid_text("\xe2\x82"
                               "a",
                               100));
    assert_false(dp_valid_text(NULL, 100));
}

static void test_text_rejects_c0_control_characters(void **state)
{
    const char *const bad[] = {"bell\x07", "\x01", "escape\x1b[31m", "\x1f", "delete\x7f"};
    s_expect_text(bad, sizeof bad / sizeof *bad, 100, false);
}

/* The header promises "no control characters other than tab, CR and LF";
   U+0080..U+009F (C1, e.g. NEL and CSI) are control characters too. */
static void test_text_rejects_c1_control_characters(void **state)
{
    assert_false(dp_valid_text("\xc2\x85", 100)); /* U+0085 NEXT LINE */
    assert_false(dp_valid_text("\xc2\x9b"
                               "31m",
                               100)); /* U+009B CSI */
    assert_false(dp_valid_text("\xc2\x80", 100));
    assert_false(dp_valid_text("\xc2\x9f", 100));
    assert_true(dp_valid_text("\xc2\xa0", 100)); /* U+00A0 is not a control character */
}

static void test_text_counts_bytes_against_the_bound(void **state)
{
    assert_true(dp_valid_text("abc", 3));
    assert_false(dp_valid_text("abcd", 3));
    assert_true(dp_valid_text("\xc3\xb3", 2));
    assert_false(dp_valid_text("\xc3\xb3", 1));
    assert_true(dp_valid_text("\xf0\x9f\x98\x80", 4));
    assert_false(dp_valid_text("a\xf0\x9f\x98\x80", 4));
    assert_true(dp_valid_text("", 0));
    assert_false(dp_valid_text("a", 0));
}

static void test_required_text_refuses_blank(void **state)
{
    assert_false(dp_valid_required_text(NULL, 10));
    assert_false(dp_valid_required_text("", 10));
    assert_false(dp_valid_required_text("   ", 10));
    assert_false(dp_valid_required_text(" \t\r\n", 10));
    assert_true(dp_valid_required_text(" a ", 10));
    assert_true(dp_valid_required_text("\xc3\xb3", 10));
}

static void test_required_text_applies_bound_and_encoding(void **state)
{
    char buffer[300];
    assert_true(dp_valid_required_text(s_repeat(buffer, 'n', 200), 200));
    assert_false(dp_valid_required_text(s_repeat(buffer, 'n', 201), 200));
    assert_false(dp_valid_required_text("name\xff", 200));
    assert_false(dp_valid_required_text("name\x01", 200));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_accepts_calendar_dates),
        cmocka_unit_test(test_date_knows_leap_years),
        cmocka_unit_test(test_date_rejects_impossible_days_and_months),
        cmocka_unit_test(test_date_rejects_years_out_of_range),
        cmocka_unit_test(test_date_rejects_bad_formats),
        cmocka_unit_test(test_slug_accepts_lower_case_with_inner_hyphens),
        cmocka_unit_test(test_slug_rejects_bad_forms),
        cmocka_unit_test(test_domain_accepts_lower_case_dns_names),
        cmocka_unit_test(test_domain_rejects_bad_names),
        cmocka_unit_test(test_email_accepts_plausible_addresses),
        cmocka_unit_test(test_email_rejects_bad_addresses),
        cmocka_unit_test(test_url_accepts_http_and_https_and_empty),
        cmocka_unit_test(test_url_rejects_other_schemes_and_bad_text),
        cmocka_unit_test(test_text_accepts_well_formed_utf8),
        cmocka_unit_test(test_text_rejects_overlong_encodings),
        cmocka_unit_test(test_text_rejects_surrogates_and_out_of_range),
        cmocka_unit_test(test_text_rejects_broken_sequences),
        cmocka_unit_test(test_text_rejects_c0_control_characters),
        cmocka_unit_test(test_text_rejects_c1_control_characters),
        cmocka_unit_test(test_text_counts_bytes_against_the_bound),
        cmocka_unit_test(test_required_text_refuses_blank),
        cmocka_unit_test(test_required_text_applies_bound_and_encoding),
    };
    return cmocka_run_group_tests_name("dp_validate", tests, NULL, NULL);
}
