/* dp_validate against references written apart from it, from the rules
   its header states. The first input byte picks the check, the second is
   max_bytes for the text checks, the rest is the text (up to a NUL). Any
   disagreement aborts, with the text escaped. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_validate.h"
#include "fuzz_support.h"

/* ---- references ---------------------------------------------------------------- */

/* Well-formed UTF-8 without C0 controls (but tab, LF, CR), DEL or C1 controls. */
static bool s_text(const char *text, size_t max_bytes)
{
    if (strlen(text) > max_bytes)
        return false;
    uint32_t point;
    for (size_t length; *text; text += length) {
        length = fuzz_utf8_next(text, &point);
        if (!length)
            return false;
        if ((point < 0x20 && point != '\t' && point != '\n' && point != '\r') ||
            (point >= 0x7f && point <= 0x9f))
            return false;
    }
    return true;
}

static bool s_required_text(const char *text, size_t max_bytes)
{
    return s_text(text, max_bytes) && strspn(text, " \t\n\v\f\r") < strlen(text);
}

/* YYYY-MM-DD from 1900-01-01 to 2999-12-31 that the calendar has:
   timegm would move a day that does not exist. */
static bool s_date(const char *text)
{
    if (strlen(text) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? text[i] != '-' : !isdigit((unsigned char)text[i]))
            return false;
    int year = atoi(text), month = atoi(text + 5), day = atoi(text + 8);
    if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1)
        return false;
    struct tm date = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = 12};
    time_t seconds = timegm(&date);
    struct tm back;
    gmtime_r(&seconds, &back);
    return back.tm_year == year - 1900 && back.tm_mon == month - 1 && back.tm_mday == day;
}

static bool s_label_char(char c, bool any_case)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           (any_case && c >= 'A' && c <= 'Z');
}

static bool s_slug(const char *text)
{
    size_t length = strlen(text);
    if (length < 1 || length > 63 || text[0] == '-' || text[length - 1] == '-')
        return false;
    for (size_t i = 0; i < length; i++)
        if (!s_label_char(text[i], false))
            return false;
    return true;
}

/* Two or more dot-separated labels of 1 to 63 letters, digits or inner
   hyphens, 253 bytes at most. */
static bool s_domain(const char *text, bool any_case)
{
    if (strlen(text) > 253)
        return false;
    size_t labels = 0;
    for (const char *label = text;; label++) {
        size_t size = strcspn(label, ".");
        if (size < 1 || size > 63 || label[0] == '-' || label[size - 1] == '-')
            return false;
        for (size_t i = 0; i < size; i++)
            if (!s_label_char(label[i], any_case))
                return false;
        labels++;
        label += size;
        if (!*label)
            break;
    }
    return labels >= 2;
}

static bool s_email(const char *text)
{
    const char *at = strchr(text, '@');
    if (strlen(text) > 254 || !at || strchr(at + 1, '@'))
        return false;
    size_t local = (size_t)(at - text);
    if (local < 1 || local > 64 || text[0] == '.' || at[-1] == '.' || strstr(text, ".."))
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x21 || c > 0x7e || strchr("()<>[]:;,\\\"", c))
            return false;
    }
    return s_domain(at + 1, true);
}

static bool s_url(const char *text)
{
    if (!*text)
        return true;
    const char *host = strncmp(text, "https://", 8) == 0  ? text + 8
                       : strncmp(text, "http://", 7) == 0 ? text + 7
                                                          : NULL;
    if (!host || strlen(text) > 500 || !*host || *host == '/')
        return false;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return false;
    return true;
}

/* ---- the target ------------------------------------------------------------------ */

/* The checks, in the order the first input byte picks them. */
typedef enum { TEXT, REQUIRED_TEXT, DATE, SLUG, DOMAIN, EMAIL, URL, CHECKS } check_t;

static const char *s_names[CHECKS] = {"dp_valid_text", "dp_valid_required_text", "dp_valid_date",
                                      "dp_valid_slug", "dp_valid_domain",        "dp_valid_email",
                                      "dp_valid_url"};

static bool s_checked(check_t check, const char *text, size_t max_bytes)
{
    switch (check) {
    case TEXT:
        return dp_valid_text(text, max_bytes);
    case REQUIRED_TEXT:
        return dp_valid_required_text(text, max_bytes);
    case DATE:
        return dp_valid_date(text);
    case SLUG:
        return dp_valid_slug(text);
    case DOMAIN:
        return dp_valid_domain(text);
    case EMAIL:
        return dp_valid_email(text);
    default:
        return dp_valid_url(text);
    }
}

static bool s_reference(check_t check, const char *text, size_t max_bytes)
{
    switch (check) {
    case TEXT:
        return s_text(text, max_bytes);
    case REQUIRED_TEXT:
        return s_required_text(text, max_bytes);
    case DATE:
        return s_date(text);
    case SLUG:
        return s_slug(text);
    case DOMAIN:
        return s_domain(text, false);
    case EMAIL:
        return s_email(text);
    default:
        return s_url(text);
    }
}

/* The text with every byte outside printable ASCII as \xHH. */
static void s_escape(const char *text, char *out, size_t size)
{
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && used + 5 < size; p++)
        used += (size_t)snprintf(out + used, size - used,
                                 *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
    out[used] = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FUZZ_ASSERT(!dp_valid_text(NULL, 10) && !dp_valid_date(NULL) && !dp_valid_slug(NULL) &&
                    !dp_valid_domain(NULL) && !dp_valid_email(NULL) && !dp_valid_url(NULL) &&
                    !dp_valid_required_text(NULL, 10),
                "a check accepted NULL");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    check_t check = (check_t)(data[0] % CHECKS);
    size_t max_bytes = data[1];
    char *text = malloc(size - 1);
    FUZZ_ASSERT(text, "out of memory");
    memcpy(text, data + 2, size - 2);
    text[size - 2] = 0;
    bool checked = s_checked(check, text, max_bytes);
    bool reference = s_reference(check, text, max_bytes);
    if (checked != reference) {
        char escaped[2048];
        s_escape(text, escaped, sizeof escaped);
        FUZZ_ASSERT(false, "%s(\"%s\", %zu) says %s, the reference %s", s_names[check], escaped,
                    max_bytes, checked ? "valid" : "invalid", reference ? "valid" : "invalid");
    }
    free(text);
    return 0;
}
