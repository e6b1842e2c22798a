/* Reference lists the organisation extends: areas and forms of cooperation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static ts_fixture_t *fx;

/* Areas and forms are the same kind of list under other names: a slug and
   a label per row, added one at a time. Each case below runs once per list
   (its initial state in main), reaching the messages' fields through
   protobuf-c's descriptors. */
typedef struct {
    const char *field; /* the item's field in the add request and reply: "area" */
    const char *rows;  /* the list reply's repeated field: "areas" */
    const char *count_sql;
    const ProtobufCMessageDescriptor *item;
    const ProtobufCMessageDescriptor *add_request;
    const ProtobufCMessageDescriptor *add_reply;
    const ProtobufCMessageDescriptor *list_request;
    const ProtobufCMessageDescriptor *list_reply;
    void (*make)(ts_registry_t *registry, const char *slug, const char *label);
    const char *label;               /* a label that must come back as sent */
    const char *const *bad_slugs;    /* NULL-terminated */
    const char *const *blank_labels; /* NULL-terminated */
} s_list_t;

static s_list_t s_areas = {
    "area", "areas", "SELECT count(*) FROM registry.area", &dp__area__descriptor,
    &dp__add_area_request__descriptor, &dp__add_area_reply__descriptor,
    &dp__list_areas_request__descriptor, &dp__list_areas_reply__descriptor, ts_make_area,
    /* a label that is more than ASCII */
    "Freedom of expression \xe2\x80\x94 online",
    (const char *const[]){"", "Upper", "-lead", "trail-", "has space", "under_score", NULL},
    (const char *const[]){"", "   ", "bad \xc0\xaf label", NULL}};

static s_list_t s_forms = {
    "form", "forms", "SELECT count(*) FROM registry.form", &dp__form__descriptor,
    &dp__add_form_request__descriptor, &dp__add_form_reply__descriptor,
    &dp__list_forms_request__descriptor, &dp__list_forms_reply__descriptor, ts_make_form,
    /* a label in plain ASCII */
    "Participation in conferences",
    (const char *const[]){"", "UPPER", "-lead", "trail-", "has space", "dot.ted", NULL},
    (const char *const[]){"", "\t", NULL}};

/* Where protobuf-c keeps the field called name in message. */
static const ProtobufCFieldDescriptor *s_descriptor_of(const ProtobufCMessage *message,
                                                       const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(message->descriptor, name);
    assert_non_null(field);
    return field;
}

static void *s_field(const ProtobufCMessage *message, const char *name)
{
    return (char *)message + s_descriptor_of(message, name)->offset;
}

static const char *s_text(const ProtobufCMessage *message, const char *name)
{
    return *(const char **)s_field(message, name);
}

/* The add request for slug and label; without_item: the item left out. */
static const ProtobufCMessage *s_add_init(ts_reference_add_t *add, const s_list_t *list,
                                          const char *slug, const char *label, bool without_item)
{
    return ts_reference_add_init(add, list->field, list->item, list->add_request, slug, label,
                                 without_item);
}

/* The whole list as the registry answers it. Free with ts_free. */
static ProtobufCMessage *s_list(const s_list_t *list)
{
    ProtobufCMessage request;
    protobuf_c_message_init(list->list_request, &request);
    dp_status_t status;
    ProtobufCMessage *reply = ts_call(fx->registry, &request, list->list_reply, &status);
    ts_assert_ok(&status);
    return reply;
}

static size_t s_row_count(const ProtobufCMessage *reply, const s_list_t *list)
{
    return *(size_t *)((char *)reply + s_descriptor_of(reply, list->rows)->quantifier_offset);
}

/* The label listed for slug, or NULL. The reply keeps ownership. */
static const char *s_label(const ProtobufCMessage *reply, const s_list_t *list, const char *slug)
{
    ProtobufCMessage **rows = *(ProtobufCMessage ***)s_field(reply, list->rows);
    for (size_t i = 0; i < s_row_count(reply, list); i++)
        if (strcmp(s_text(rows[i], "slug"), slug) == 0)
            return s_text(rows[i], "label");
    return NULL;
}

/* ---- each list ------------------------------------------------------------ */

static void test_add_returns_it_and_lists_it(void **state)
{
    const s_list_t *list = *state;
    const char *slug = ts_unique(list->field);
    ts_reference_add_t add;
    const ProtobufCMessage *request = s_add_init(&add, list, slug, list->label, false);
    dp_status_t status;
    ProtobufCMessage *reply = ts_call(fx->registry, request, list->add_reply, &status);
    ts_assert_ok(&status);
    const ProtobufCMessage *added = *(ProtobufCMessage **)s_field(reply, list->field);
    assert_string_equal(s_text(added, "slug"), slug);
    assert_string_equal(s_text(added, "label"), list->label);
    ts_free(&reply);

    ProtobufCMessage *listed = s_list(list);
    const char *label = s_label(listed, list, slug);
    assert_non_null(label);
    assert_string_equal(label, list->label);
    assert_int_equal(s_row_count(listed, list), ts_query_long(fx->admin, list->count_sql, 0, NULL));
    ts_free(&listed);
}

static void test_add_refuses_bad_slug(void **state)
{
    const s_list_t *list = *state;
    for (const char *const *bad = list->bad_slugs; *bad; bad++) {
        ts_reference_add_t add;
        const ProtobufCMessage *request = s_add_init(&add, list, *bad, "Some label", false);
        ts_expect_error_at(fx, request, DP__CODE__CODE_INVALID_ARGUMENT, "slug", __FILE__,
                           __LINE__);
    }
}

static void test_add_refuses_blank_label(void **state)
{
    const s_list_t *list = *state;
    const char *slug = ts_unique(list->field);
    for (const char *const *blank = list->blank_labels; *blank; blank++) {
        ts_reference_add_t add;
        const ProtobufCMessage *request = s_add_init(&add, list, slug, *blank, false);
        ts_expect_error_at(fx, request, DP__CODE__CODE_INVALID_ARGUMENT, "label", __FILE__,
                           __LINE__);
    }
}

static void test_add_refuses_existing_slug(void **state)
{
    const s_list_t *list = *state;
    const char *slug = ts_unique(list->field);
    list->make(fx->registry, slug, "First label");
    ts_reference_add_t add;
    const ProtobufCMessage *request = s_add_init(&add, list, slug, "Second label", false);
    ts_expect_error_at(fx, request, DP__CODE__CODE_ALREADY_EXISTS, "slug", __FILE__, __LINE__);
    ProtobufCMessage *listed = s_list(list);
    assert_string_equal(s_label(listed, list, slug), "First label");
    ts_free(&listed);
}

static void test_add_without_item_is_invalid(void **state)
{
    const s_list_t *list = *state;
    ts_reference_add_t add;
    const ProtobufCMessage *request = s_add_init(&add, list, NULL, NULL, true);
    ts_expect_error_at(fx, request, DP__CODE__CODE_INVALID_ARGUMENT, NULL, __FILE__, __LINE__);
}

static void test_lists_hold_every_row_of_the_tables(void **state)
{
    ProtobufCMessage *areas = s_list(&s_areas);
    ProtobufCMessage *forms = s_list(&s_forms);
    assert_int_equal(s_row_count(areas, &s_areas),
                     ts_query_long(fx->admin, s_areas.count_sql, 0, NULL));
    assert_int_equal(s_row_count(forms, &s_forms),
                     ts_query_long(fx->admin, s_forms.count_sql, 0, NULL));
    ts_free(&areas);
    ts_free(&forms);
}

int main(void)
{
    fx = ts_fixture_new("reference", NULL);
    /* Each case once per list, named for it. */
    const struct CMUnitTest tests[] = {
        {"test_add_area_returns_it_and_lists_it", test_add_returns_it_and_lists_it, NULL, NULL,
         &s_areas},
        {"test_add_area_refuses_bad_slug", test_add_refuses_bad_slug, NULL, NULL, &s_areas},
        {"test_add_area_refuses_blank_label", test_add_refuses_blank_label, NULL, NULL, &s_areas},
        {"test_add_area_refuses_existing_slug", test_add_refuses_existing_slug, NULL, NULL,
         &s_areas},
        {"test_add_area_without_area_is_invalid", test_add_without_item_is_invalid, NULL, NULL,
         &s_areas},
        {"test_add_form_returns_it_and_lists_it", test_add_returns_it_and_lists_it, NULL, NULL,
         &s_forms},
        {"test_add_form_refuses_bad_slug", test_add_refuses_bad_slug, NULL, NULL, &s_forms},
        {"test_add_form_refuses_blank_label", test_add_refuses_blank_label, NULL, NULL, &s_forms},
        {"test_add_form_refuses_existing_slug", test_add_refuses_existing_slug, NULL, NULL,
         &s_forms},
        {"test_add_form_without_form_is_invalid", test_add_without_item_is_invalid, NULL, NULL,
         &s_forms},
        cmocka_unit_test(test_lists_hold_every_row_of_the_tables),
    };
    return ts_fixture_run(&fx, "registry reference lists", tests, sizeof tests / sizeof *tests);
}
