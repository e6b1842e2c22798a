#include "dp_log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

static char s_ident[64] = "dp";
static dp_log_level_t s_level = DP_LOG_INFO;
static const char *s_level_names[] = {"debug", "info", "warning", "error"};
static int s_json;

int dp_log_set_format(const char *format)
{
    if (!format || !*format || strcmp(format, "text") == 0)
        s_json = 0;
    else if (strcmp(format, "json") == 0)
        s_json = 1;
    else
        return -1;
    return 0;
}

int dp_log_init(const char *ident, const char *level)
{
    if (ident)
        snprintf(s_ident, sizeof s_ident, "%s", ident);
    if (!level || !*level)
        return 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(level, s_level_names[i]) == 0) {
            s_level = (dp_log_level_t)i;
            return 0;
        }
    return -1;
}

size_t dp_log_escape(const char *text, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t used = 0;
    if (!size)
        return 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        unsigned char c = *p;
        /* C1 controls (U+0080..U+009F, e.g. CSI) as UTF-8: C2 80..C2 9F. */
        bool c1 = c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
        char piece[9];
        size_t length = 0;
        if (c == '\n') {
            piece[length++] = '\\';
            piece[length++] = 'n';
        } else if (c < 0x20 || c == 0x7f || c1) {
            for (int i = 0; i <= (c1 ? 1 : 0); i++) {
                unsigned char byte = p[i];
                piece[length++] = '\\';
                piece[length++] = 'x';
                piece[length++] = hex[byte >> 4];
                piece[length++] = hex[byte & 15];
            }
            p += c1;
        } else
            piece[length++] = (char)c;
        if (used + length >= size)
            break;
        memcpy(out + used, piece, length);
        used += length;
    }
    out[used] = '\0';
    return used;
}

/* JSON strings must be UTF-8, or jansson refuses the whole line: a byte
   that starts no valid sequence (from a client, or a sequence cut by the
   buffer's end) becomes '?', so that no input can suppress a line. */
static void s_repair_utf8(char *text)
{
    unsigned char *p = (unsigned char *)text;
    while (*p) {
        size_t extra = *p < 0x80                           ? 0
                       : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 1
                       : (*p & 0xf0) == 0xe0               ? 2
                       : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 3
                                                           : 4;
        bool valid = extra < 4;
        for (size_t i = 1; valid && i <= extra; i++)
            valid = (p[i] & 0xc0) == 0x80;
        /* Overlong three-byte forms and UTF-16 surrogates are not UTF-8 either. */
        if (valid && extra == 2)
            valid = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0);
        if (valid && extra == 3)
            valid = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90);
        if (!valid) {
            *p++ = '?';
            continue;
        }
        p += extra + 1;
    }
}

void dp_log(dp_log_level_t level, const char *format, ...)
{
    if (level < s_level)
        return;
    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);

    char stamp_ms[40];
    snprintf(stamp_ms, sizeof stamp_ms, "%s.%03dZ", stamp, (int)(now.tv_usec / 1000));
    if (s_json) {
        char message[1900];
        va_list args;
        va_start(args, format);
        vsnprintf(message, sizeof message, format, args);
        va_end(args);
        s_repair_utf8(message);
        json_t *line = json_pack("{s:s, s:s, s:s, s:s}", "time", stamp_ms, "service", s_ident,
                                 "level", s_level_names[level], "message", message);
        char *text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(line);
        if (text) {
            size_t length = strlen(text);
            text[length] = '\n';
            fwrite(text, 1, length + 1, stderr);
        }
        free(text);
        return;
    }
    /* The message may carry text from a request: control characters are
       escaped so that nothing a client sends can end this line and start a
       forged one, or move a terminal's cursor. One write per line, so
       that lines from several threads do not interleave. */
    char message[1900];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (length < 0)
        return;
    char line[2048 + 4 * sizeof message];
    int used = snprintf(line, sizeof line, "%s.%03dZ %s %s: ", stamp, (int)(now.tv_usec / 1000),
                        s_ident, s_level_names[level]);
    if (used < 0)
        return;
    used += (int)dp_log_escape(message, line + used, sizeof line - (size_t)used - 1);
    line[used++] = '\n';
    fwrite(line, 1, (size_t)used, stderr);
}
