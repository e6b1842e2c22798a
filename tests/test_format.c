/* dp_format: int64 values as libpq text parameters and bytes as hex, the
   one copy the services' database code and signatures use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dp_format.h"

static void test_int64_extremes_fit(void **state)
{
    char buffer[DP_INT64_TEXT];
    assert_string_equal(dp_format_int64(buffer, 0), "0");
    assert_string_equal(dp_format_int64(buffer, INT64_MAX), "9223372036854775807");
    assert_string_equal(dp_format_int64(buffer, INT64_MIN), "-9223372036854775808");
    assert_string_equal(dp_format_uint64(buffer, UINT64_MAX), "18446744073709551615");
    assert_ptr_equal(dp_format_int64(buffer, 42), buffer); /* usable in a params array */
}

static void test_hex_is_lower_case_two_digits_a_byte(void **state)
{
    const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff, 0x5c};
    char hex[sizeof bytes * 2 + 1];
    memset(hex, 'x', sizeof hex);
    dp_format_hex(bytes, sizeof bytes, hex);
    assert_string_equal(hex, "000fa0ff5c");
    dp_format_hex(bytes, 0, hex);
    assert_string_equal(hex, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64_extremes_fit),
        cmocka_unit_test(test_hex_is_lower_case_two_digits_a_byte),
    };
    return cmocka_run_group_tests_name("dp_format", tests, NULL, NULL);
}
