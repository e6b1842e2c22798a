/* dp_config: one table of settings, defaults, environment, bounds. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_config.h"

/* Variable names of this test only, so that nothing in the caller's
   environment can change the outcome. */
static const dp_setting_t s_settings[] = {
    {"DPTEST_CFG_ENDPOINT", "tcp://127.0.0.1:7101", "where to listen", false, 0, 0},
    {"DPTEST_CFG_TIMEOUT_MS", "3000", "wait per request", true, 1, 60000},
    {"DPTEST_CFG_OFFSET", "-5", "a signed number", true, -10, 10},
    {"DPTEST_CFG_EMPTY", NULL, "no default", false, 0, 0},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof s_settings[0] };

static int s_setup(void **state)
{
    for (size_t i = 0; i < SETTING_COUNT; i++)
        unsetenv(s_settings[i].name);
    dp_config_t *config = dp_config_new("test-config", "a test", s_settings, SETTING_COUNT);
    if (!config)
        return -1;
    *state = config;
    return 0;
}

static int s_teardown(void **state)
{
    dp_config_t *config = *state;
    dp_config_destroy(&config);
    assert_null(config);
    dp_config_destroy(&config); /* safe twice */
    for (size_t i = 0; i < SETTING_COUNT; i++)
        unsetenv(s_settings[i].name);
    return 0;
}

static int s_load(dp_config_t *config)
{
    char *argv[] = {"test-config", NULL};
    return dp_config_load(config, 1, argv);
}

static void test_new_config_holds_defaults(void **state)
{
    dp_config_t *config = *state;
    assert_string_equal(dp_config_get(config, "DPTEST_CFG_ENDPOINT"), "tcp://127.0.0.1:7101");
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 3000);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_OFFSET"), -5);
    assert_string_equal(dp_config_get(config, "DPTEST_CFG_EMPTY"), "");
}

static void test_load_without_environment_keeps_defaults(void **state)
{
    dp_config_t *config = *state;
    assert_int_equal(s_load(config), 0);
    assert_string_equal(dp_config_get(config, "DPTEST_CFG_ENDPOINT"), "tcp://127.0.0.1:7101");
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 3000);
}

static void test_environment_overrides_defaults(void **state)
{
    dp_config_t *config = *state;
    setenv("DPTEST_CFG_ENDPOINT", "tcp://0.0.0.0:9999", 1);
    setenv("DPTEST_CFG_TIMEOUT_MS", "250", 1);
    setenv("DPTEST_CFG_OFFSET", "10", 1);
    assert_int_equal(s_load(config), 0);
    assert_string_equal(dp_config_get(config, "DPTEST_CFG_ENDPOINT"), "tcp://0.0.0.0:9999");
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 250);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_OFFSET"), 10);
}

static void test_empty_environment_value_means_default(void **state)
{
    dp_config_t *config = *state;
    setenv("DPTEST_CFG_ENDPOINT", "", 1);
    setenv("DPTEST_CFG_TIMEOUT_MS", "", 1);
    assert_int_equal(s_load(config), 0);
    assert_string_equal(dp_config_get(config, "DPTEST_CFG_ENDPOINT"), "tcp://127.0.0.1:7101");
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 3000);
}

static void test_environment_integer_out_of_bounds_is_refused(void **state)
{
    dp_config_t *config = *state;
    setenv("DPTEST_CFG_TIMEOUT_MS", "60001", 1);
    assert_int_equal(s_load(config), -1);
    setenv("DPTEST_CFG_TIMEOUT_MS", "0", 1);
    assert_int_equal(s_load(config), -1);
    setenv("DPTEST_CFG_TIMEOUT_MS", "12abc", 1);
    assert_int_equal(s_load(config), -1);
}

static void test_set_accepts_bounds_inclusive(void **state)
{
    dp_config_t *config = *state;
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "1"), 0);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "60000"), 0);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 60000);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_OFFSET", "-10"), 0);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_OFFSET"), -10);
}

static void test_set_refuses_out_of_bounds_and_keeps_value(void **state)
{
    dp_config_t *config = *state;
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "500"), 0);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "60001"), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "0"), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "-1"), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_OFFSET", "-11"), -1);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 500);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_OFFSET"), -5);
}

static void test_set_refuses_non_integers_for_integer_settings(void **state)
{
    dp_config_t *config = *state;
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", ""), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "ten"), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "10ms"), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "1.5"), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "99999999999999999999"), -1);
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", NULL), -1);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 3000);
}

static void test_set_changes_text_settings(void **state)
{
    dp_config_t *config = *state;
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_ENDPOINT", "tcp://127.0.0.1:*"), 0);
    assert_string_equal(dp_config_get(config, "DPTEST_CFG_ENDPOINT"), "tcp://127.0.0.1:*");
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_EMPTY", "now set"), 0);
    assert_string_equal(dp_config_get(config, "DPTEST_CFG_EMPTY"), "now set");
}

static void test_set_refuses_unknown_setting(void **state)
{
    dp_config_t *config = *state;
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_NO_SUCH", "1"), -1);
}

static void test_set_value_wins_over_nothing_but_environment_wins_on_load(void **state)
{
    dp_config_t *config = *state;
    assert_int_equal(dp_config_set(config, "DPTEST_CFG_TIMEOUT_MS", "42"), 0);
    assert_int_equal(s_load(config), 0); /* no variable set: the value stays */
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 42);
    setenv("DPTEST_CFG_TIMEOUT_MS", "43", 1);
    assert_int_equal(s_load(config), 0);
    assert_int_equal(dp_config_get_int(config, "DPTEST_CFG_TIMEOUT_MS"), 43);
}

static void test_help_and_version_ask_to_exit(void **state)
{
    dp_config_t *config = *state;
    char *help[] = {"test-config", "--help", NULL};
    char *version[] = {"test-config", "--version", NULL};
    assert_int_equal(dp_config_load(config, 2, help), 1);
    assert_int_equal(dp_config_load(config, 2, version), 1);
}

static void test_unknown_argument_is_an_error(void **state)
{
    dp_config_t *config = *state;
    char *argv[] = {"test-config", "--port=7", NULL};
    assert_int_equal(dp_config_load(config, 2, argv), -1);
}

/* Reads `name` in a child process; returns how the child ended. */
static int s_get_in_child(dp_config_t *config, const char *name, bool as_int)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (as_int)
            dp_config_get_int(config, name);
        else
            dp_config_get(config, name);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_get_of_a_name_not_in_the_table_aborts(void **state)
{
    dp_config_t *config = *state;
    /* A misspelt name used to read as "" (and 0): now the program stops. */
    int status = s_get_in_child(config, "DPTEST_CFG_ENDPIONT", false);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    status = s_get_in_child(config, "DPTEST_CFG_TIMEOUT", true);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    /* The names in the table are read as before. */
    status = s_get_in_child(config, "DPTEST_CFG_ENDPOINT", false);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    status = s_get_in_child(config, "DPTEST_CFG_TIMEOUT_MS", true);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

#define CONFIG_TEST(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CONFIG_TEST(test_new_config_holds_defaults),
        CONFIG_TEST(test_load_without_environment_keeps_defaults),
        CONFIG_TEST(test_environment_overrides_defaults),
        CONFIG_TEST(test_empty_environment_value_means_default),
        CONFIG_TEST(test_environment_integer_out_of_bounds_is_refused),
        CONFIG_TEST(test_set_accepts_bounds_inclusive),
        CONFIG_TEST(test_set_refuses_out_of_bounds_and_keeps_value),
        CONFIG_TEST(test_set_refuses_non_integers_for_integer_settings),
        CONFIG_TEST(test_set_changes_text_settings),
        CONFIG_TEST(test_set_refuses_unknown_setting),
        CONFIG_TEST(test_set_value_wins_over_nothing_but_environment_wins_on_load),
        CONFIG_TEST(test_help_and_version_ask_to_exit),
        CONFIG_TEST(test_unknown_argument_is_an_error),
        CONFIG_TEST(test_get_of_a_name_not_in_the_table_aborts),
    };
    return cmocka_run_group_tests_name("dp_config", tests, NULL, NULL);
}
