/* The shared decoder refuses text that is not UTF-8 in any string field of
   the message, top-level, repeated or nested in repeated messages, and
   says which (the field's own name, and its path in the message); valid
   text of one to four bytes per character passes, bytes fields are not
   text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_codec.h"
#include "registry.pb-c.h"

/* A partner with two names and one contact, each string set to `good`
   except the one `bad_at` names ("slug", "domains", "names", "contacts"),
   which gets `bad`. Packed; free with free(). */
static unsigned char *s_pack_partner(const char *bad_at, const char *bad, size_t *size)
{
    const char *good = "Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x8c\x8d";
    Dp__PartnerName first = DP__PARTNER_NAME__INIT, second = DP__PARTNER_NAME__INIT;
    first.name = (char *)good;
    second.name = (char *)(strcmp(bad_at, "names") == 0 ? bad : good);
    Dp__PartnerName *names[] = {&first, &second};
    Dp__Contact contact = DP__CONTACT__INIT;
    contact.name = (char *)good;
    contact.email = (char *)(strcmp(bad_at, "contacts") == 0 ? bad : "a@example.org");
    Dp__Contact *contacts[] = {&contact};
    char *domains[] = {"example.org", "example.com",
                       (char *)(strcmp(bad_at, "domains") == 0 ? bad : "example.net")};
    Dp__Partner partner = DP__PARTNER__INIT;
    partner.slug = (char *)(strcmp(bad_at, "slug") == 0 ? bad : "example");
    partner.name = (char *)good;
    partner.n_domains = 3;
    partner.domains = domains;
    partner.n_names = 2;
    partner.names = names;
    partner.n_contacts = 1;
    partner.contacts = contacts;
    Dp__GetPartnerReply reply = DP__GET_PARTNER_REPLY__INIT;
    reply.partner = &partner;
    unsigned char *packed = dp_message_pack(&reply.base, size);
    assert_non_null(packed);
    return packed;
}

static void s_expect_refused(const char *bad_at, const char *bad, const char *field,
                             const char *path)
{
    size_t size = 0;
    unsigned char *packed = s_pack_partner(bad_at, bad, &size);
    dp_decode_problem_t problem;
    ProtobufCMessage *decoded = dp_message_decode_checked(&dp__get_partner_reply__descriptor,
                                                          packed, size, 1 << 20, &problem);
    assert_null(decoded);
    assert_string_equal(problem.field, field);
    char message[200];
    snprintf(message, sizeof message, "%s must be valid UTF-8", path);
    assert_string_equal(problem.message, message);
    /* The plain decoder refuses it as well. */
    assert_null(dp_message_decode(&dp__get_partner_reply__descriptor, packed, size, 1 << 20));
    free(packed);
}

static void test_valid_text_passes(void **state)
{
    size_t size = 0;
    unsigned char *packed = s_pack_partner("", "", &size);
    dp_decode_problem_t problem;
    ProtobufCMessage *decoded = dp_message_decode_checked(&dp__get_partner_reply__descriptor,
                                                          packed, size, 1 << 20, &problem);
    free(packed);
    assert_non_null(decoded);
    assert_string_equal(problem.field, "");
    dp_message_free(&decoded);
}

static void test_each_place_is_named(void **state)
{
    s_expect_refused("slug", "ex\xc3\x28mple", "slug", "partner.slug");
    s_expect_refused("domains", "bad\xff.example.org", "domains", "partner.domains[2]");
    s_expect_refused("names", "Name \xe2\x82", "name", "partner.names[1].name");
    s_expect_refused("contacts", "a\xc0\xaf@example.org", "email", "partner.contacts[0].email");
}

static void test_every_kind_of_malformed_sequence_is_refused(void **state)
{
    const char *bad[] = {"\x80",             /* a lone continuation byte */
                         "\xc3",             /* cut short at the end */
                         "\xc1\xbf",         /* overlong two bytes */
                         "\xe0\x80\xaf",     /* overlong three bytes */
                         "\xed\xa0\x80",     /* a UTF-16 surrogate */
                         "\xf0\x80\x80\xaf", /* overlong four bytes */
                         "\xf4\x90\x80\x80", /* above U+10FFFF */
                         "\xf8\x88\x80\x80\x80",
                         "\xfe",
                         "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        s_expect_refused("slug", bad[i], "slug", "partner.slug");
}

static void test_bytes_fields_are_not_text(void **state)
{
    static uint8_t binary[] = {0xff, 0xfe, 0x00, 0xc3};
    Dp__Request request = DP__REQUEST__INIT;
    request.type = "dp.HealthRequest";
    request.body.data = binary;
    request.body.len = sizeof binary;
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&request.base, &size);
    ProtobufCMessage *decoded = dp_message_decode(&dp__request__descriptor, packed, size, 1 << 20);
    free(packed);
    assert_non_null(decoded);
    dp_message_free(&decoded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_text_passes),
        cmocka_unit_test(test_each_place_is_named),
        cmocka_unit_test(test_every_kind_of_malformed_sequence_is_refused),
        cmocka_unit_test(test_bytes_fields_are_not_text),
    };
    return cmocka_run_group_tests_name("codec UTF-8", tests, NULL, NULL);
}
