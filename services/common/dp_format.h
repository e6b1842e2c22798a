/* Numbers and bytes as text: int64 values as libpq text parameters (and
   aggregate ids), bytes as lower-case hex. */
#ifndef DP_FORMAT_H
#define DP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any int64 or uint64 in decimal, with its NUL. */
enum { DP_INT64_TEXT = 24 };

/* Writes value in decimal; returns buffer (for a params array). */
const char *dp_format_int64(char buffer[DP_INT64_TEXT], int64_t value);
const char *dp_format_uint64(char buffer[DP_INT64_TEXT], uint64_t value);
/* Writes 2 * size hex digits and a NUL into hex (2 * size + 1 bytes). */
void dp_format_hex(const unsigned char *bytes, size_t size, char *hex);

#endif
