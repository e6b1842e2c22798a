/* The seed through the real command-line client: dpctl talks to the registry
   actor running in this process, against this program's own database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "test_support.h"

static ts_fixture_t *fx;
static bool s_seeded; /* the first seed run succeeded */

enum { DPCTL_TIMEOUT_MS = 60000 };

/* Runs dpctl with these arguments (NULL-terminated) against the registry. */
static ts_process_t s_dpctl(const char *const *args)
{
    char *program = zsys_sprintf("%s/services/dpctl/dpctl", ts_require_env("DP_BUILD_DIR"));
    char *endpoint = zsys_sprintf("DP_REGISTRY_ENDPOINT=%s", ts_registry_endpoint(fx->registry));
    const char *argv[16] = {program};
    size_t count = 1;
    for (const char *const *arg = args; *arg && count < 15; arg++)
        argv[count++] = *arg;
    argv[count] = NULL;
    const char *env[] = {endpoint, NULL};
    ts_process_t process = ts_run(argv, env, DPCTL_TIMEOUT_MS);
    zstr_free(&program);
    zstr_free(&endpoint);
    return process;
}

/* Runs dpctl and fails the test unless it exits 0. */
static ts_process_t s_dpctl_ok(const char *const *args)
{
    ts_process_t process = s_dpctl(args);
    if (process.exit_code != 0) {
        print_error("dpctl %s ... exited %d\nstdout:\n%s\nstderr:\n%s\n", args[0],
                    process.exit_code, process.out, process.err);
        ts_process_free(&process);
        fail();
    }
    return process;
}

static void s_seed(void)
{
    const char *args[] = {"seed", ts_require_env("DP_SEED_DIR"), NULL};
    ts_process_t process = s_dpctl_ok(args);
    ts_process_free(&process);
}

static void s_seed_once(void)
{
    if (!s_seeded) {
        s_seed();
        s_seeded = true;
    }
}

/* The partners of `dpctl partner list --json`: a JSON array, or an object
   holding one under "partners". The caller json_decrefs the root. */
static json_t *s_list_json(json_t **root_out)
{
    const char *args[] = {"partner", "list", "--json", NULL};
    ts_process_t process = s_dpctl_ok(args);
    json_error_t error;
    json_t *root = json_loads(process.out, 0, &error);
    if (!root) {
        print_error("not JSON (%s at line %d):\n%s\n", error.text, error.line, process.out);
        ts_process_free(&process);
        fail();
    }
    ts_process_free(&process);
    json_t *partners = json_is_array(root) ? root : json_object_get(root, "partners");
    if (!json_is_array(partners)) {
        json_decref(root);
        fail_msg("dpctl partner list --json gave neither an array nor {\"partners\": [...]}");
    }
    *root_out = root;
    return partners;
}

static const char *s_text(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text ? text : "";
}

/* True when an enum's JSON label names this value: "company",
   "COMPANY" or "PARTNER_KIND_COMPANY" all name company. */
static bool s_enum_is(const json_t *object, const char *key, const char *value)
{
    const char *label = s_text(object, key);
    size_t length = strlen(label), wanted = strlen(value);
    if (length < wanted || strcasecmp(label + length - wanted, value) != 0)
        return false;
    return length == wanted || label[length - wanted - 1] == '_';
}

static const json_t *s_find(const json_t *partners, const char *key, const char *value)
{
    size_t index;
    const json_t *partner;
    json_array_foreach(partners, index, partner)
    {
        if (strcmp(s_text(partner, key), value) == 0)
            return partner;
    }
    return NULL;
}

/* True when the partner lists `name` among its former names. */
static bool s_has_former_name(const json_t *partner, const char *name)
{
    if (strstr(s_text(partner, "former_names"), name))
        return true;
    const json_t *names = json_object_get(partner, "names");
    size_t index;
    const json_t *entry;
    json_array_foreach(names, index, entry)
    {
        if (index + 1 < json_array_size(names) && strcmp(s_text(entry, "name"), name) == 0)
            return true;
    }
    return false;
}

static void test_seed_creates_the_partnership(void **state)
{
    s_seed_once();
    assert_int_equal(ts_query_long(fx->admin, "SELECT count(*) FROM registry.partner", 0, NULL),
                     28);
    assert_true(ts_query_long(fx->admin, "SELECT count(*) FROM registry.area", 0, NULL) > 0);
    assert_true(ts_query_long(fx->admin, "SELECT count(*) FROM registry.form", 0, NULL) > 0);
}

static void test_seed_again_creates_nothing(void **state)
{
    s_seed_once();
    char *before = ts_registry_fingerprint(fx->admin);
    s_seed();
    char *after = ts_registry_fingerprint(fx->admin);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(ts_query_long(fx->admin, "SELECT count(*) FROM registry.partner", 0, NULL),
                     28);
}

static void test_list_json_counts_companies_and_associations(void **state)
{
    s_seed_once();
    json_t *root = NULL;
    json_t *partners = s_list_json(&root);
    assert_int_equal(json_array_size(partners), 28);
    int companies = 0, associations = 0;
    size_t index;
    json_t *partner;
    json_array_foreach(partners, index, partner)
    {
        companies += s_enum_is(partner, "kind", "company");
        associations += s_enum_is(partner, "kind", "association");
    }
    assert_int_equal(companies, 16);
    assert_int_equal(associations, 12);
    json_decref(root);
}

static void test_list_json_shows_names_over_time_and_precision(void **state)
{
    s_seed_once();
    json_t *root = NULL;
    json_t *partners = s_list_json(&root);

    const json_t *servicenow = s_find(partners, "slug", "servicenow");
    if (!servicenow)
        fail_msg("no partner with slug servicenow");
    assert_string_equal(s_text(servicenow, "name"), "ServiceNow");
    assert_true(s_has_former_name(servicenow, "Element AI"));

    const json_t *ibm = s_find(partners, "name", "IBM");
    const json_t *intel = s_find(partners, "name", "Intel");
    const json_t *apple = s_find(partners, "name", "Apple");
    assert_non_null(ibm);
    assert_non_null(intel);
    assert_non_null(apple);
    assert_true(s_enum_is(ibm, "joined_precision", "year"));
    assert_string_equal(s_text(ibm, "joined_on"), "2020-01-01");
    assert_true(s_enum_is(intel, "joined_precision", "month"));
    assert_string_equal(s_text(intel, "joined_on"), "2020-02-01");
    assert_true(s_enum_is(apple, "joined_precision", "day"));
    assert_string_equal(s_text(apple, "joined_on"), "2017-11-08");
    json_decref(root);
}

static void test_show_unknown_partner_fails_with_not_found(void **state)
{
    const char *args[] = {"partner", "show", "nosuch", NULL};
    ts_process_t process = s_dpctl(args);
    int exit_code = process.exit_code;
    bool says_not_found = strstr(process.err, "NOT_FOUND") != NULL;
    if (exit_code == 0 || !says_not_found)
        print_error("dpctl partner show nosuch: exit %d\nstderr:\n%s\n", exit_code, process.err);
    ts_process_free(&process);
    assert_int_not_equal(exit_code, 0);
    assert_true(says_not_found);
}

int main(void)
{
    ts_require_env("DP_SEED_DIR");
    fx = ts_fixture_new("seed", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_creates_the_partnership),
        cmocka_unit_test(test_seed_again_creates_nothing),
        cmocka_unit_test(test_list_json_counts_companies_and_associations),
        cmocka_unit_test(test_list_json_shows_names_over_time_and_precision),
        cmocka_unit_test(test_show_unknown_partner_fails_with_not_found),
    };
    return ts_fixture_run(&fx, "seed through dpctl", tests, sizeof tests / sizeof *tests);
}
