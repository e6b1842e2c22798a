#include "dp_validate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool dp_valid_text(const char *text, size_t max_bytes)
{
    if (!text)
        return false;
    const unsigned char *p = (const unsigned char *)text;
    size_t length = 0;
    while (*p) {
        unsigned char c = *p;
        size_t extra;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return false;
            if (c == 0x7f)
                return false;
            extra = 0;
        } else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
            extra = 1;
        else if ((c & 0xf0) == 0xe0)
            extra = 2;
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
            extra = 3;
        else
            return false;
        for (size_t i = 1; i <= extra; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        /* U+0080..U+009F are control characters too (C1). */
        if (extra == 1 && c == 0xc2 && p[1] < 0xa0)
            return false;
        /* Reject overlong three-byte forms and UTF-16 surrogates. */
        if (extra == 2 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
            return false;
        if (extra == 3 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
            return false;
        p += extra + 1;
        length += extra + 1;
        if (length > max_bytes)
            return false;
    }
    return true;
}

bool dp_valid_required_text(const char *text, size_t max_bytes)
{
    if (!dp_valid_text(text, max_bytes))
        return false;
    for (const char *p = text; *p; p++)
        if (!isspace((unsigned char)*p))
            return true;
    return false;
}

bool dp_valid_date(const char *text)
{
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)text[i]))
            return false;
    int year = 0, month = 0, day = 0;
    if (sscanf(text, "%4d-%2d-%2d", &year, &month, &day) != 3)
        return false;
    if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1)
        return false;
    static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int last = days_in_month[month - 1];
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && leap)
        last = 29;
    return day <= last;
}

bool dp_valid_slug(const char *text)
{
    if (!text)
        return false;
    size_t length = strlen(text);
    if (length < 1 || length > 63 || text[0] == '-' || text[length - 1] == '-')
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static bool s_valid_domain(const char *text, bool any_case)
{
    if (!text)
        return false;
    size_t length = strlen(text);
    if (length < 3 || length > 253 || !strchr(text, '.'))
        return false;
    size_t label = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (any_case)
            c = (char)tolower((unsigned char)c);
        if (c == '.') {
            if (label == 0 || text[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0 && text[length - 1] != '-';
}

bool dp_valid_domain(const char *text)
{
    return s_valid_domain(text, false);
}

bool dp_valid_email(const char *text)
{
    if (!text || strlen(text) > 254)
        return false;
    const char *at = strchr(text, '@');
    if (!at || at == text || strchr(at + 1, '@') || at - text > 64)
        return false;
    for (const char *p = text; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f || strchr("()<>[]:;,\\\"", c))
            return false;
    }
    if (text[0] == '.' || at[-1] == '.' || strstr(text, ".."))
        return false;
    return s_valid_domain(at + 1, true);
}

bool dp_valid_url(const char *text)
{
    if (!text)
        return false;
    if (!*text)
        return true;
    if (strncmp(text, "https://", 8) != 0 && strncmp(text, "http://", 7) != 0)
        return false;
    if (strlen(text) > 500)
        return false;
    const char *host = strstr(text, "://") + 3;
    if (!*host || *host == '/')
        return false;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}
