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

static void test_date_accepts_calendar_dates(void **state)
{
    assert_true(dp_valid_date("2017-11-08"));
    assert_true(dp_valid_date("1900-01-01"));
    assert_true(dp_valid_date("2999-12-31"));
    assert_true(dp_valid_date("2021-01-31"));
    assert_true(dp_valid_date("2021-04-30"));
}

static void test_date_knows_leap_years(void **state)
{
    assert_true(dp_valid_date("2020-02-29"));  /* divisible by 4 */
    assert_true(dp_valid_date("2000-02-29"));  /* divisible by 400 */
    assert_false(dp_valid_date("2019-02-29")); /* not divisible by 4 */
    assert_false(dp_valid_date("1900-02-29")); /* divisible by 100, not by 400 */
    assert_false(dp_valid_date("2100-02-29"));
    assert_false(dp_valid_date("2020-02-30"));
    assert_true(dp_valid_date("2019-02-28"));
}

static void test_date_rejects_impossible_days_and_months(void **state)
{
    assert_false(dp_valid_date("2021-04-31"));
    assert_false(dp_valid_date("2021-13-01"));
    assert_false(dp_valid_date("2021-00-10"));
    assert_false(dp_valid_date("2021-01-00"));
    assert_false(dp_valid_date("2021-01-32"));
}

static void test_date_rejects_years_out_of_range(void **state)
{
    assert_false(dp_valid_date("1899-12-31"));
    assert_false(dp_valid_date("3000-01-01"));
    assert_false(dp_valid_date("0000-01-01"));
}

static void test_date_rejects_bad_formats(void **state)
{
    assert_false(dp_valid_date(NULL));
    assert_false(dp_valid_date(""));
    assert_false(dp_valid_date("2021-1-01"));
    assert_false(dp_valid_date("2021-01-1"));
    assert_false(dp_valid_date("20210101"));
    assert_false(dp_valid_date("2021/01/01"));
    assert_false(dp_valid_date("2021-01-01 "));
    assert_false(dp_valid_date(" 2021-01-01"));
    assert_false(dp_valid_date("2021-01-01T00:00:00"));
    assert_false(dp_valid_date("+021-01-01"));
    assert_false(dp_valid_date("2021-+1-01"));
    assert_false(dp_valid_date("2021-01- 1"));
    assert_false(dp_valid_date("21-01-2021"));
    assert_false(dp_valid_date("abcd-ef-gh"));
}

static void test_slug_accepts_lower_case_with_inner_hyphens(void **state)
{
    char buffer[80];
    assert_true(dp_valid_slug("a"));
    assert_true(dp_valid_slug("7"));
    assert_true(dp_valid_slug("servicenow"));
    assert_true(dp_valid_slug("at-t"));
    assert_true(dp_valid_slug("child-protection-2"));
    assert_true(dp_valid_slug(s_repeat(buffer, 'a', 63)));
}

static void test_slug_rejects_bad_forms(void **state)
{
    char buffer[80];
    assert_false(dp_valid_slug(NULL));
    assert_false(dp_valid_slug(""));
    assert_false(dp_valid_slug("-apple"));
    assert_false(dp_valid_slug("apple-"));
    assert_false(dp_valid_slug("-"));
    assert_false(dp_valid_slug("Apple"));
    assert_false(dp_valid_slug("ap_ple"));
    assert_false(dp_valid_slug("ap ple"));
    assert_false(dp_valid_slug("ap.ple"));
    assert_false(dp_valid_slug("t\xc3\xa9l\xc3\xa9"
                               "fonica"));
    assert_false(dp_valid_slug(s_repeat(buffer, 'a', 64)));
}

static void test_domain_accepts_lower_case_dns_names(void **state)
{
    char buffer[300];
    assert_true(dp_valid_domain("apple.com"));
    assert_true(dp_valid_domain("mail.telekom.de"));
    assert_true(dp_valid_domain("xn--bcher-kva.example"));
    assert_true(dp_valid_domain("a-b.c0.org"));
    /* A label of 63 characters is the longest allowed. */
    s_repeat(buffer, 'a', 63);
    strcat(buffer, ".org");
    assert_true(dp_valid_domain(buffer));
}

static void test_domain_rejects_bad_names(void **state)
{
    char buffer[300];
    assert_false(dp_valid_domain(NULL));
    assert_false(dp_valid_domain(""));
    assert_false(dp_valid_domain("localhost"));
    assert_false(dp_valid_domain("Apple.com"));
    assert_false(dp_valid_domain("APPLE.COM"));
    assert_false(dp_valid_domain(".apple.com"));
    assert_false(dp_valid_domain("apple.com."));
    assert_false(dp_valid_domain("apple..com"));
    assert_false(dp_valid_domain("-apple.com"));
    assert_false(dp_valid_domain("apple-.com"));
    assert_false(dp_valid_domain("apple.-com"));
    assert_false(dp_valid_domain("app_le.com"));
    assert_false(dp_valid_domain("app le.com"));
    assert_false(dp_valid_domain("jane@apple.com"));
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
    assert_true(dp_valid_email("jane.doe@example.org"));
    assert_true(dp_valid_email("Jane.Doe@Example.ORG"));
    assert_true(dp_valid_email("j+tag@mail.example.co.uk"));
    assert_true(dp_valid_email("a@b.cd"));
}

static void test_email_rejects_bad_addresses(void **state)
{
    char buffer[120];
    assert_false(dp_valid_email(NULL));
    assert_false(dp_valid_email(""));
    assert_false(dp_valid_email("jane.example.org"));
    assert_false(dp_valid_email("@example.org"));
    assert_false(dp_valid_email("jane@"));
    assert_false(dp_valid_email("jane@localhost"));
    assert_false(dp_valid_email("jane@doe@example.org"));
    assert_false(dp_valid_email("jane doe@example.org"));
    assert_false(dp_valid_email("jane..doe@example.org"));
    assert_false(dp_valid_email(".jane@example.org"));
    assert_false(dp_valid_email("jane.@example.org"));
    assert_false(dp_valid_email("<jane>@example.org"));
    assert_false(dp_valid_email("jane@exa_mple.org"));
    assert_false(dp_valid_email("jane@example.org\n"));
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
    assert_true(dp_valid_url(""));
    assert_true(dp_valid_url("https://www.coe.int"));
    assert_true(dp_valid_url("http://example.org/path?q=1&r=2#top"));
    assert_true(dp_valid_url("https://example.org:8443/"));
}

static void test_url_rejects_other_schemes_and_bad_text(void **state)
{
    char buffer[600];
    assert_false(dp_valid_url(NULL));
    assert_false(dp_valid_url("ftp://example.org"));
    assert_false(dp_valid_url("javascript:alert(1)"));
    assert_false(dp_valid_url("example.org"));
    assert_false(dp_valid_url("https://"));
    assert_false(dp_valid_url("https:///path"));
    assert_false(dp_valid_url("https://exa mple.org"));
    assert_false(dp_valid_url("https://example.org/\x01"));
    assert_false(dp_valid_url("https://ex\xc3\xa4mple.org"));
    assert_false(dp_valid_url("https://example.org/a b"));
    strcpy(buffer, "https://example.org/");
    s_repeat(buffer + strlen(buffer), 'a', 490);
    assert_false(dp_valid_url(buffer));
}

static void test_text_accepts_well_formed_utf8(void **state)
{
    assert_true(dp_valid_text("", 10));
    assert_true(dp_valid_text("plain", 10));
    assert_true(dp_valid_text("tab\tnewline\ncarriage\r", 100));
    assert_true(dp_valid_text("Telef\xc3\xb3nica", 100)); /* two-byte */
    assert_true(dp_valid_text("\xe2\x82\xac", 100));      /* euro sign, three bytes */
    assert_true(dp_valid_text("\xf0\x9f\x98\x80", 100));  /* emoji, four bytes */
    assert_true(dp_valid_text("\xed\x9f\xbf", 100));      /* U+D7FF, just below the surrogates */
    assert_true(dp_valid_text("\xee\x80\x80", 100));      /* U+E000, just above them */
    assert_true(dp_valid_text("\xf4\x8f\xbf\xbf", 100));  /* U+10FFFF, the last code point */
}

static void test_text_rejects_overlong_encodings(void **state)
{
    assert_false(dp_valid_text("\xc0\xaf", 100)); /* '/' in two bytes */
    assert_false(dp_valid_text("\xc1\xbf", 100));
    assert_false(dp_valid_text("\xe0\x80\xaf", 100)); /* '/' in three bytes */
    assert_false(dp_valid_text("\xe0\x9f\xbf", 100));
    assert_false(dp_valid_text("\xf0\x80\x80\xaf", 100)); /* '/' in four bytes */
    assert_false(dp_valid_text("\xf0\x8f\xbf\xbf", 100));
}

static void test_text_rejects_surrogates_and_out_of_range(void **state)
{
    assert_false(dp_valid_text("\xed\xa0\x80", 100));     /* U+D800 */
    assert_false(dp_valid_text("\xed\xbf\xbf", 100));     /* U+DFFF */
    assert_false(dp_valid_text("\xf4\x90\x80\x80", 100)); /* U+110000 */
    assert_false(dp_valid_text("\xf5\x80\x80\x80", 100));
    assert_false(dp_valid_text("\xf8\x88\x80\x80\x80", 100));
    assert_false(dp_valid_text("\xff", 100));
    assert_false(dp_valid_text("\xfe", 100));
}

static void test_text_rejects_broken_sequences(void **state)
{
    assert_false(dp_valid_text("\x80", 100)); /* lone continuation byte */
    assert_false(dp_valid_text("a\xbf"
                               "b",
                               100));
    assert_false(dp_valid_text("\xc3", 100)); /* truncated at the end */
    assert_false(dp_valid_text("\xe2\x82", 100));
    assert_false(dp_valid_text("\xf0\x9f\x98", 100));
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
    assert_false(dp_valid_text("bell\x07", 100));
    assert_false(dp_valid_text("\x01", 100));
    assert_false(dp_valid_text("escape\x1b[31m", 100));
    assert_false(dp_valid_text("\x1f", 100));
    assert_false(dp_valid_text("delete\x7f", 100));
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
