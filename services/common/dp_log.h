/* Logging to standard error: one line per event, with time, level and service. */
#ifndef DP_LOG_H
#define DP_LOG_H

#include <stddef.h>

typedef enum { DP_LOG_DEBUG = 0, DP_LOG_INFO, DP_LOG_WARNING, DP_LOG_ERROR } dp_log_level_t;

/* Sets the name printed on each line and the lowest level printed
   ("debug", "info", "warning" or "error"). Returns -1 for an unknown level. */
int dp_log_init(const char *ident, const char *level);
/* "text" (the default) or "json": one JSON object per line. Returns -1 for
   anything else. */
int dp_log_set_format(const char *format);
/* Copies text to out (size bytes, always terminated) with every control
   character escaped: a line feed as a backslash and 'n', any other C0 or
   C1 control byte and DEL as a backslash, 'x' and two hex digits. Stops
   early rather than cut an escape in two. Returns the length written.
   Text lines of dp_log go through it (the JSON encoder escapes JSON
   lines). */
size_t dp_log_escape(const char *text, char *out, size_t size);
void dp_log(dp_log_level_t level, const char *format, ...) __attribute__((format(printf, 2, 3)));

#define dp_debug(...) dp_log(DP_LOG_DEBUG, __VA_ARGS__)
#define dp_info(...) dp_log(DP_LOG_INFO, __VA_ARGS__)
#define dp_warning(...) dp_log(DP_LOG_WARNING, __VA_ARGS__)
#define dp_error(...) dp_log(DP_LOG_ERROR, __VA_ARGS__)

#endif
