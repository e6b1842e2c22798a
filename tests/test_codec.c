/* dp_codec: packing, bounded decoding and status names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_codec.h"
#include "registry.pb-c.h"

/* A request with strings, repeated strings and enums, packed. */
static unsigned char *s_pack_sample(size_t *size, const char *note)
{
    static char *domains[] = {"example.org", "example.com"};
    static char *areas[] = {"cybercrime"};
    Dp__CreatePartnerRequest request = DP__CREATE_PARTNER_REQUEST__INIT;
    request.slug = "example";
    request.name = "Example Telef\xc3\xb3nica";
    request.kind = DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION;
    request.website = "https://example.org";
    request.n_domains = 2;
    request.domains = domains;
    request.joined_on = "2020-02-01";
    request.joined_precision = DP__DATE_PRECISION__DATE_PRECISION_MONTH;
    request.n_areas = 1;
    request.areas = areas;
    request.note = (char *)note;
    unsigned char *packed = dp_message_pack(&request.base, size);
    assert_non_null(packed);
    return packed;
}

static void test_round_trip_keeps_every_field(void **state)
{
    size_t size = 0;
    unsigned char *packed = s_pack_sample(&size, "a note");
    assert_true(size > 0);
    Dp__CreatePartnerRequest *decoded = (Dp__CreatePartnerRequest *)dp_message_decode(
        &dp__create_partner_request__descriptor, packed, size, 1 << 20);
    free(packed);
    assert_non_null(decoded);
    assert_string_equal(decoded->slug, "example");
    assert_string_equal(decoded->name, "Example Telef\xc3\xb3nica");
    assert_int_equal(decoded->kind, DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION);
    assert_string_equal(decoded->website, "https://example.org");
    assert_int_equal(decoded->n_domains, 2);
    assert_string_equal(decoded->domains[0], "example.org");
    assert_string_equal(decoded->domains[1], "example.com");
    assert_string_equal(decoded->joined_on, "2020-02-01");
    assert_int_equal(decoded->joined_precision, DP__DATE_PRECISION__DATE_PRECISION_MONTH);
    assert_int_equal(decoded->n_areas, 1);
    assert_string_equal(decoded->areas[0], "cybercrime");
    assert_string_equal(decoded->note, "a note");
    dp_message_free((ProtobufCMessage **)&decoded);
    assert_null(decoded);
}

static void test_empty_message_decodes_to_defaults(void **state)
{
    Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
    size_t size = 99;
    unsigned char *packed = dp_message_pack(&request.base, &size);
    assert_non_null(packed);
    assert_int_equal(size, 0);
    ProtobufCMessage *decoded =
        dp_message_decode(&dp__health_request__descriptor, packed, size, 4096);
    free(packed);
    assert_non_null(decoded);
    dp_message_free(&decoded);
    /* No data at all is an empty message too. */
    decoded = dp_message_decode(&dp__health_request__descriptor, NULL, 0, 4096);
    assert_non_null(decoded);
    dp_message_free(&decoded);
}

static void test_decode_refuses_garbage(void **state)
{
    /* Each is malformed protobuf: an invalid wire type, a length past the
       end, a truncated varint, a field number 0. */
    static const unsigned char wire_type_7[] = {0x0f, 0x01};
    static const unsigned char length_past_end[] = {0x0a, 0x7f, 'a', 'b'};
    static const unsigned char huge_length[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    static const unsigned char truncated_varint[] = {0x18, 0xff, 0xff};
    static const unsigned char field_zero[] = {0x02, 0x01, 'x'};
    const struct {
        const unsigned char *data;
        size_t size;
    } cases[] = {{wire_type_7, sizeof wire_type_7},
                 {length_past_end, sizeof length_past_end},
                 {huge_length, sizeof huge_length},
                 {truncated_varint, sizeof truncated_varint},
                 {field_zero, sizeof field_zero}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ProtobufCMessage *decoded = dp_message_decode(&dp__create_partner_request__descriptor,
                                                      cases[i].data, cases[i].size, 1 << 20);
        if (decoded)
            fail_msg("garbage case %zu decoded", i);
    }
}

static void test_decode_refuses_truncated_message(void **state)
{
    size_t size = 0;
    unsigned char *packed = s_pack_sample(&size, "a note that makes the message longer");
    ProtobufCMessage *decoded =
        dp_message_decode(&dp__create_partner_request__descriptor, packed, size - 3, 1 << 20);
    free(packed);
    assert_null(decoded);
}

static void test_decode_refuses_data_pointer_null_with_size(void **state)
{
    assert_null(dp_message_decode(&dp__create_partner_request__descriptor, NULL, 10, 1 << 20));
}

static void test_decode_refuses_when_budget_too_small(void **state)
{
    char note[4001];
    memset(note, 'n', 4000);
    note[4000] = 0;
    size_t size = 0;
    unsigned char *packed = s_pack_sample(&size, note);
    /* The note alone needs more than 4000 bytes of decoded memory. */
    ProtobufCMessage *decoded =
        dp_message_decode(&dp__create_partner_request__descriptor, packed, size, 2048);
    assert_null(decoded);
    decoded = dp_message_decode(&dp__create_partner_request__descriptor, packed, size, 0);
    assert_null(decoded);
    free(packed);
}

static void test_decode_accepts_when_budget_large_enough(void **state)
{
    char note[4001];
    memset(note, 'n', 4000);
    note[4000] = 0;
    size_t size = 0;
    unsigned char *packed = s_pack_sample(&size, note);
    Dp__CreatePartnerRequest *decoded = (Dp__CreatePartnerRequest *)dp_message_decode(
        &dp__create_partner_request__descriptor, packed, size, 64 * 1024);
    free(packed);
    assert_non_null(decoded);
    assert_int_equal(strlen(decoded->note), 4000);
    dp_message_free((ProtobufCMessage **)&decoded);
}

/* The budget counts what the decoder holds, so decoding the same message
   twice with the same budget gives the same verdict (nothing leaks into it). */
static void test_budget_verdict_is_repeatable_at_the_edge(void **state)
{
    size_t size = 0;
    unsigned char *packed = s_pack_sample(&size, "edge");
    size_t smallest = 0;
    for (size_t budget = 0; budget <= 8192 && !smallest; budget += 8) {
        ProtobufCMessage *decoded =
            dp_message_decode(&dp__create_partner_request__descriptor, packed, size, budget);
        if (decoded) {
            smallest = budget;
            dp_message_free(&decoded);
        }
    }
    assert_true(smallest > 0);
    for (int i = 0; i < 3; i++) {
        ProtobufCMessage *decoded =
            dp_message_decode(&dp__create_partner_request__descriptor, packed, size, smallest);
        assert_non_null(decoded);
        dp_message_free(&decoded);
        assert_null(
            dp_message_decode(&dp__create_partner_request__descriptor, packed, size, smallest - 8));
    }
    free(packed);
}

static void test_message_free_is_safe_on_null(void **state)
{
    ProtobufCMessage *message = NULL;
    dp_message_free(&message);
    dp_message_free(NULL);
    assert_null(message);
}

static void test_code_name_names_every_code(void **state)
{
    assert_string_equal(dp_code_name(DP__CODE__CODE_OK), "OK");
    assert_string_equal(dp_code_name(DP__CODE__CODE_INVALID_ARGUMENT), "INVALID_ARGUMENT");
    assert_string_equal(dp_code_name(DP__CODE__CODE_NOT_FOUND), "NOT_FOUND");
    assert_string_equal(dp_code_name(DP__CODE__CODE_ALREADY_EXISTS), "ALREADY_EXISTS");
    assert_string_equal(dp_code_name(DP__CODE__CODE_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
    assert_string_equal(dp_code_name(DP__CODE__CODE_FAILED_PRECONDITION), "FAILED_PRECONDITION");
    assert_string_equal(dp_code_name(DP__CODE__CODE_UNIMPLEMENTED), "UNIMPLEMENTED");
    assert_string_equal(dp_code_name(DP__CODE__CODE_UNAVAILABLE), "UNAVAILABLE");
    assert_string_equal(dp_code_name(DP__CODE__CODE_UNAUTHENTICATED), "UNAUTHENTICATED");
    /* Every code of the enum has its own name, the enum's name without CODE_. */
    for (unsigned i = 0; i < dp__code__descriptor.n_values; i++) {
        const ProtobufCEnumValue *value = &dp__code__descriptor.values[i];
        assert_string_equal(dp_code_name((Dp__Code)value->value), value->name + strlen("CODE_"));
    }
}

static void test_code_name_of_unknown_code(void **state)
{
    assert_string_equal(dp_code_name((Dp__Code)17), "UNKNOWN");
    assert_string_equal(dp_code_name((Dp__Code)-1), "UNKNOWN");
    assert_string_equal(dp_code_name((Dp__Code)1000), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_keeps_every_field),
        cmocka_unit_test(test_empty_message_decodes_to_defaults),
        cmocka_unit_test(test_decode_refuses_garbage),
        cmocka_unit_test(test_decode_refuses_truncated_message),
        cmocka_unit_test(test_decode_refuses_data_pointer_null_with_size),
        cmocka_unit_test(test_decode_refuses_when_budget_too_small),
        cmocka_unit_test(test_decode_accepts_when_budget_large_enough),
        cmocka_unit_test(test_budget_verdict_is_repeatable_at_the_edge),
        cmocka_unit_test(test_message_free_is_safe_on_null),
        cmocka_unit_test(test_code_name_names_every_code),
        cmocka_unit_test(test_code_name_of_unknown_code),
    };
    return cmocka_run_group_tests_name("dp_codec", tests, NULL, NULL);
}
