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

/* The label listed for slug, or NULL. The reply keeps ownership. */
static const char *s_area_label(const Dp__ListAreasReply *reply, const char *slug)
{
    for (size_t i = 0; i < reply->n_areas; i++)
        if (strcmp(reply->areas[i]->slug, slug) == 0)
            return reply->areas[i]->label;
    return NULL;
}

static const char *s_form_label(const Dp__ListFormsReply *reply, const char *slug)
{
    for (size_t i = 0; i < reply->n_forms; i++)
        if (strcmp(reply->forms[i]->slug, slug) == 0)
            return reply->forms[i]->label;
    return NULL;
}

static Dp__ListAreasReply *s_list_areas(void)
{
    Dp__ListAreasRequest request = DP__LIST_AREAS_REQUEST__INIT;
    dp_status_t status;
    Dp__ListAreasReply *reply = ts_list_areas(fx->registry, &request, &status);
    ts_assert_ok(&status);
    return reply;
}

static Dp__ListFormsReply *s_list_forms(void)
{
    Dp__ListFormsRequest request = DP__LIST_FORMS_REQUEST__INIT;
    dp_status_t status;
    Dp__ListFormsReply *reply = ts_list_forms(fx->registry, &request, &status);
    ts_assert_ok(&status);
    return reply;
}

/* ---- areas ----------------------------------------------------------------- */

static void test_add_area_returns_it_and_lists_it(void **state)
{
    const char *slug = ts_unique("area");
    Dp__Area area = DP__AREA__INIT;
    area.slug = (char *)slug;
    area.label = "Freedom of expression \xe2\x80\x94 online";
    Dp__AddAreaRequest request = DP__ADD_AREA_REQUEST__INIT;
    request.area = &area;
    dp_status_t status;
    Dp__AddAreaReply *reply = ts_add_area(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->area->slug, slug);
    assert_string_equal(reply->area->label, "Freedom of expression \xe2\x80\x94 online");
    ts_free(&reply);

    Dp__ListAreasReply *list = s_list_areas();
    const char *label = s_area_label(list, slug);
    assert_non_null(label);
    assert_string_equal(label, "Freedom of expression \xe2\x80\x94 online");
    assert_int_equal(list->n_areas,
                     ts_query_long(fx->admin, "SELECT count(*) FROM registry.area", 0, NULL));
    ts_free(&list);
}

static void test_add_area_refuses_bad_slug(void **state)
{
    Dp__Area area = DP__AREA__INIT;
    area.label = "Some label";
    Dp__AddAreaRequest request = DP__ADD_AREA_REQUEST__INIT;
    request.area = &area;
    const char *bad[] = {"", "Upper", "-lead", "trail-", "has space", "under_score"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        area.slug = (char *)bad[i];
        ts_expect_error(fx, &request, INVALID_ARGUMENT, "slug");
    }
}

static void test_add_area_refuses_blank_label(void **state)
{
    Dp__Area area = DP__AREA__INIT;
    area.slug = (char *)ts_unique("area");
    Dp__AddAreaRequest request = DP__ADD_AREA_REQUEST__INIT;
    request.area = &area;
    area.label = "";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "label");
    area.label = "   ";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "label");
    area.label = "bad \xc0\xaf label";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "label");
}

static void test_add_area_refuses_existing_slug(void **state)
{
    const char *slug = ts_unique("area");
    ts_make_area(fx->registry, slug, "First label");
    Dp__Area area = DP__AREA__INIT;
    area.slug = (char *)slug;
    area.label = "Second label";
    Dp__AddAreaRequest request = DP__ADD_AREA_REQUEST__INIT;
    request.area = &area;
    ts_expect_error(fx, &request, ALREADY_EXISTS, "slug");
    Dp__ListAreasReply *list = s_list_areas();
    assert_string_equal(s_area_label(list, slug), "First label");
    ts_free(&list);
}

static void test_add_area_without_area_is_invalid(void **state)
{
    Dp__AddAreaRequest request = DP__ADD_AREA_REQUEST__INIT;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, NULL);
}

/* ---- forms ----------------------------------------------------------------- */

static void test_add_form_returns_it_and_lists_it(void **state)
{
    const char *slug = ts_unique("form");
    Dp__Form form = DP__FORM__INIT;
    form.slug = (char *)slug;
    form.label = "Participation in conferences";
    Dp__AddFormRequest request = DP__ADD_FORM_REQUEST__INIT;
    request.form = &form;
    dp_status_t status;
    Dp__AddFormReply *reply = ts_add_form(fx->registry, &request, &status);
    ts_assert_ok(&status);
    assert_string_equal(reply->form->slug, slug);
    assert_string_equal(reply->form->label, "Participation in conferences");
    ts_free(&reply);

    Dp__ListFormsReply *list = s_list_forms();
    const char *label = s_form_label(list, slug);
    assert_non_null(label);
    assert_string_equal(label, "Participation in conferences");
    assert_int_equal(list->n_forms,
                     ts_query_long(fx->admin, "SELECT count(*) FROM registry.form", 0, NULL));
    ts_free(&list);
}

static void test_add_form_refuses_bad_slug(void **state)
{
    Dp__Form form = DP__FORM__INIT;
    form.label = "Some label";
    Dp__AddFormRequest request = DP__ADD_FORM_REQUEST__INIT;
    request.form = &form;
    const char *bad[] = {"", "UPPER", "-lead", "trail-", "has space", "dot.ted"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        form.slug = (char *)bad[i];
        ts_expect_error(fx, &request, INVALID_ARGUMENT, "slug");
    }
}

static void test_add_form_refuses_blank_label(void **state)
{
    Dp__Form form = DP__FORM__INIT;
    form.slug = (char *)ts_unique("form");
    Dp__AddFormRequest request = DP__ADD_FORM_REQUEST__INIT;
    request.form = &form;
    form.label = "";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "label");
    form.label = "\t";
    ts_expect_error(fx, &request, INVALID_ARGUMENT, "label");
}

static void test_add_form_refuses_existing_slug(void **state)
{
    const char *slug = ts_unique("form");
    ts_make_form(fx->registry, slug, "First label");
    Dp__Form form = DP__FORM__INIT;
    form.slug = (char *)slug;
    form.label = "Second label";
    Dp__AddFormRequest request = DP__ADD_FORM_REQUEST__INIT;
    request.form = &form;
    ts_expect_error(fx, &request, ALREADY_EXISTS, "slug");
    Dp__ListFormsReply *list = s_list_forms();
    assert_string_equal(s_form_label(list, slug), "First label");
    ts_free(&list);
}

static void test_add_form_without_form_is_invalid(void **state)
{
    Dp__AddFormRequest request = DP__ADD_FORM_REQUEST__INIT;
    ts_expect_error(fx, &request, INVALID_ARGUMENT, NULL);
}

static void test_lists_hold_every_row_of_the_tables(void **state)
{
    Dp__ListAreasReply *areas = s_list_areas();
    Dp__ListFormsReply *forms = s_list_forms();
    assert_int_equal(areas->n_areas,
                     ts_query_long(fx->admin, "SELECT count(*) FROM registry.area", 0, NULL));
    assert_int_equal(forms->n_forms,
                     ts_query_long(fx->admin, "SELECT count(*) FROM registry.form", 0, NULL));
    ts_free(&areas);
    ts_free(&forms);
}

int main(void)
{
    fx = ts_fixture_new("reference", NULL);
    const struct CMUnitTest tests[] = {

        cmocka_unit_test(test_add_area_returns_it_and_lists_it),
        cmocka_unit_test(test_add_area_refuses_bad_slug),
        cmocka_unit_test(test_add_area_refuses_blank_label),
        cmocka_unit_test(test_add_area_refuses_existing_slug),
        cmocka_unit_test(test_add_area_without_area_is_invalid),
        cmocka_unit_test(test_add_form_returns_it_and_lists_it),
        cmocka_unit_test(test_add_form_refuses_bad_slug),
        cmocka_unit_test(test_add_form_refuses_blank_label),
        cmocka_unit_test(test_add_form_refuses_existing_slug),
        cmocka_unit_test(test_add_form_without_form_is_invalid),
        cmocka_unit_test(test_lists_hold_every_row_of_the_tables),
    };
    int failed = cmocka_run_group_tests_name("registry reference lists", tests, NULL, NULL);
    ts_fixture_destroy(&fx);
    return failed;
}
