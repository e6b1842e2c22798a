#include "dp_format.h"

#include <inttypes.h>
#include <stdio.h>

const char *dp_format_int64(char buffer[DP_INT64_TEXT], int64_t value)
{
    snprintf(buffer, DP_INT64_TEXT, "%" PRId64, value);
    return buffer;
}

const char *dp_format_uint64(char buffer[DP_INT64_TEXT], uint64_t value)
{
    snprintf(buffer, DP_INT64_TEXT, "%" PRIu64, value);
    return buffer;
}

void dp_format_hex(const unsigned char *bytes, size_t size, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        hex[i * 2] = digits[bytes[i] >> 4];
        hex[i * 2 + 1] = digits[bytes[i] & 15];
    }
    hex[size * 2] = 0;
}
