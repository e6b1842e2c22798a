/* dpctl staff end to end: the real dpctl program against the real
   dp-console program, on a database of its own. Accounts are added with a
   password made by dpctl (printed once, 20 characters) or read from
   standard input; each password printed or given is checked against the
   Argon2id hash the console stored, so that what the operator is shown is
   what the person logs in with. The list shows every column (role,
   disabled, last login, a lockout, sessions) as text and as JSON; disable
   ends the sessions and enable undoes it; reset-password replaces the
   hash and lifts a lockout; refusals of the console (a taken login, an
   unknown one) and of dpctl itself (a password on the command line, a
   short one, an unknown role) exit 1 and 2, the latter without a request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>

#include "notify_support.h"
#include "test_support.h"

/* How long one dpctl run may take: an Argon2id hash costs a moment. */
#define RUN_TIMEOUT_MS 30000

static ts_database_t *database;
static PGconn *admin;
static pid_t console = -1;
static char *dpctl;

/* ---- the programs ------------------------------------------------------------------- */

/* The test cluster's address from the admin URL, with this database and
   the console's own role. */
static char *s_console_url(void)
{
    char *error = NULL;
    PQconninfoOption *options = PQconninfoParse(ts_require_env("DP_TEST_ADMIN_URL"), &error);
    if (!options) {
        fprintf(stderr, "FATAL: DP_TEST_ADMIN_URL does not parse: %s\n", error ? error : "");
        exit(1);
    }
    const char *host = "127.0.0.1", *port = "5432";
    for (PQconninfoOption *option = options; option->keyword; option++) {
        if (strcmp(option->keyword, "host") == 0 && option->val)
            host = option->val;
        if (strcmp(option->keyword, "port") == 0 && option->val)
            port = option->val;
    }
    char *url = zsys_sprintf("host=%s port=%s dbname=%s user=dp_console", host, port,
                             ts_database_name(database));
    PQconninfoFree(options);
    return url;
}

/* A result of dpctl: exit code, standard output and error. */
static ts_process_t s_run(const char *input, const char *const *args)
{
    const char *argv[16] = {dpctl};
    size_t argc = 1;
    for (size_t i = 0; args[i] && argc < 15; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    if (!input)
        return ts_run(argv, NULL, RUN_TIMEOUT_MS);
    /* Standard input from a file: ts_run's children read /dev/null. */
    char path[] = "/tmp/test_console_staff_cli.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, input, strlen(input)), (ssize_t)strlen(input));
    close(fd);
    char *command = zsys_sprintf("'%s'", dpctl);
    for (size_t i = 1; i < argc; i++) {
        assert_null(strchr(argv[i], '\''));
        char *longer = zsys_sprintf("%s '%s'", command, argv[i]);
        zstr_free(&command);
        command = longer;
    }
    char *line = zsys_sprintf("%s < %s", command, path);
    ts_process_t process = ts_run_shell(line, RUN_TIMEOUT_MS);
    unlink(path);
    zstr_free(&command);
    zstr_free(&line);
    return process;
}

#define DPCTL(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Fails the test (showing the run) unless dpctl exited with code. */
static void s_expect_exit_at(const ts_process_t *process, int code, const char *file, int line)
{
    if (process->exit_code == code)
        return;
    fprintf(stderr, "dpctl exited %d, not %d\nstdout:\n%s\nstderr:\n%s\n", process->exit_code, code,
            process->out, process->err);
    _fail(file, line);
}
#define s_expect_exit(process, code) s_expect_exit_at(process, code, __FILE__, __LINE__)

static void s_expect_text_at(const char *text, const char *wanted, bool present, const char *file,
                             int line)
{
    if ((strstr(text, wanted) != NULL) == present)
        return;
    fprintf(stderr, "expected %s'%s' in:\n%s\n", present ? "" : "no ", wanted, text);
    _fail(file, line);
}
#define s_expect_has(text, wanted) s_expect_text_at(text, wanted, true, __FILE__, __LINE__)
#define s_expect_lacks(text, wanted) s_expect_text_at(text, wanted, false, __FILE__, __LINE__)

/* ---- the console's table --------------------------------------------------------------- */

static char *s_hash(const char *login)
{
    const char *params[] = {login};
    return ts_query_text(admin, "SELECT password_hash FROM console.staff WHERE login = $1", 1,
                         params);
}

/* True when the console stored an Argon2id hash of exactly this password. */
static bool s_password_is(const char *login, const char *password)
{
    char *hash = s_hash(login);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    bool same = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    free(hash);
    return same;
}

static long long s_count(const char *sql, const char *login)
{
    const char *params[] = {login};
    return ts_query_long(admin, sql, 1, params);
}

static long long s_accounts(const char *login)
{
    return s_count("SELECT count(*) FROM console.staff WHERE login = $1", login);
}

static long long s_sessions(const char *login)
{
    return s_count("SELECT count(*) FROM console.session s JOIN console.staff st "
                   "ON st.id = s.staff_id WHERE st.login = $1",
                   login);
}

/* A session of the account, as a login makes one (32 bytes of id hash). */
static void s_open_session(const char *login)
{
    const char *params[] = {login};
    PQclear(ts_query(admin,
                     "INSERT INTO console.session (id_hash, staff_id) "
                     "SELECT sha256(gen_random_uuid()::text::bytea), id "
                     "FROM console.staff WHERE login = $1",
                     1, params));
}

/* The value after "label:" on its line of dpctl's text output (the caller frees). */
static char *s_field(const char *text, const char *label)
{
    char *wanted = zsys_sprintf("\n%s:", label);
    char *with_newline = zsys_sprintf("\n%s", text);
    const char *at = strstr(with_newline, wanted);
    char *value = NULL;
    if (at) {
        at += strlen(wanted);
        at += strspn(at, " ");
        value = strndup(at, strcspn(at, "\n"));
    }
    zstr_free(&wanted);
    zstr_free(&with_newline);
    if (!value)
        fail_msg("no '%s:' line in:\n%s", label, text);
    return value;
}

/* A password as dpctl makes one: 20 letters and digits, no look-alikes. */
static void s_assert_generated(const char *password)
{
    assert_int_equal(strlen(password), 20);
    for (const char *c = password; *c; c++)
        assert_non_null(strchr("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", *c));
}

/* ---- add ------------------------------------------------------------------------------ */

static void test_add_makes_a_password_and_shows_it_once(void **state)
{
    ts_process_t run = s_run(NULL, DPCTL("staff", "add", "ann.agent", "--name", "Ann Agent"));
    s_expect_exit(&run, 0);
    char *login = s_field(run.out, "login"), *role = s_field(run.out, "role");
    char *password = s_field(run.out, "password");
    assert_string_equal(login, "ann.agent");
    assert_string_equal(role, "agent");
    s_assert_generated(password);
    /* Once: on its own line, nowhere else, and never on standard error. */
    s_expect_lacks(strstr(run.out, password) + 1, password);
    s_expect_lacks(run.err, password);
    assert_true(s_password_is("ann.agent", password));
    assert_false(s_password_is("ann.agent", "a different password"));

    /* Another account gets another password. */
    ts_process_t other =
        s_run(NULL, DPCTL("--json", "staff", "add", "cem.agent", "--name", "Cem Agent"));
    s_expect_exit(&other, 0);
    json_t *document = json_loads(other.out, 0, NULL);
    assert_non_null(document);
    assert_string_equal(json_string_value(json_object_get(document, "login")), "cem.agent");
    assert_string_equal(json_string_value(json_object_get(document, "role")), "agent");
    const char *second = json_string_value(json_object_get(document, "generated_password"));
    assert_non_null(second);
    s_assert_generated(second);
    assert_string_not_equal(second, password);
    assert_true(s_password_is("cem.agent", second));
    json_decref(document);
    free(login);
    free(role);
    free(password);
    ts_process_free(&run);
    ts_process_free(&other);
}

static void test_add_reads_the_password_from_standard_input(void **state)
{
    ts_process_t run = s_run("correct horse battery staple\n",
                             DPCTL("staff", "add", "bob.admin", "--name", "Bob Admin", "--role",
                                   "admin", "--password-stdin"));
    s_expect_exit(&run, 0);
    char *role = s_field(run.out, "role"), *name = s_field(run.out, "name");
    assert_string_equal(role, "admin");
    assert_string_equal(name, "Bob Admin");
    /* Given, so not shown: the line break is not part of it. */
    s_expect_lacks(run.out, "password:");
    s_expect_lacks(run.out, "correct horse");
    assert_true(s_password_is("bob.admin", "correct horse battery staple"));
    free(role);
    free(name);
    ts_process_free(&run);
}

/* ---- list ------------------------------------------------------------------------------ */

static void test_list_shows_every_column(void **state)
{
    const char *params[] = {"bob.admin"};
    PQclear(ts_query(admin,
                     "UPDATE console.staff SET last_login_at = '2026-01-02 03:04:05+00', "
                     "locked_until = '2999-01-01 00:00:00+00' WHERE login = $1",
                     1, params));
    s_open_session("bob.admin");

    ts_process_t run = s_run(NULL, DPCTL("staff", "list"));
    s_expect_exit(&run, 0);
    const char *header = run.out;
    const char *columns[] = {"LOGIN",      "NAME",         "ROLE",    "DISABLED",
                             "LAST LOGIN", "LOCKED UNTIL", "SESSIONS"};
    for (size_t i = 0; i < sizeof columns / sizeof *columns; i++) {
        const char *at = strstr(header, columns[i]);
        assert_non_null(at);
        assert_true(at < strchr(run.out, '\n'));
        header = at;
    }
    /* Rows in login order; an account never logged in, never locked. */
    const char *ann = strstr(run.out, "\nann.agent "), *bob = strstr(run.out, "\nbob.admin ");
    assert_non_null(ann);
    assert_non_null(bob);
    assert_true(ann < bob);
    char *ann_row = strndup(ann + 1, strcspn(ann + 1, "\n"));
    char *bob_row = strndup(bob + 1, strcspn(bob + 1, "\n"));
    s_expect_has(ann_row, "Ann Agent");
    s_expect_has(ann_row, " agent ");
    s_expect_has(ann_row, " never ");
    s_expect_has(ann_row, " no ");
    s_expect_has(bob_row, "Bob Admin");
    s_expect_has(bob_row, " admin ");
    s_expect_has(bob_row, " 2026-01-02T03:04:05Z ");
    s_expect_has(bob_row, " 2999-01-01T00:00:00Z ");
    assert_true(bob_row[strlen(bob_row) - 1] == '1');
    assert_true(ann_row[strlen(ann_row) - 1] == '0');
    s_expect_has(run.out, "\n3 accounts\n");
    s_expect_lacks(run.out, "argon2");
    free(ann_row);
    free(bob_row);
    ts_process_free(&run);

    ts_process_t json = s_run(NULL, DPCTL("--json", "staff", "list"));
    s_expect_exit(&json, 0);
    s_expect_lacks(json.out, "argon2");
    json_t *document = json_loads(json.out, 0, NULL);
    assert_true(json_is_array(document));
    assert_int_equal(json_array_size(document), 3);
    json_t *account = json_array_get(document, 1);
    assert_string_equal(json_string_value(json_object_get(account, "login")), "bob.admin");
    assert_string_equal(json_string_value(json_object_get(account, "role")), "admin");
    assert_string_equal(json_string_value(json_object_get(account, "last_login_at")),
                        "2026-01-02T03:04:05Z");
    assert_string_equal(json_string_value(json_object_get(account, "locked_until")),
                        "2999-01-01T00:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(account, "active_sessions")), 1);
    assert_false(json_is_true(json_object_get(account, "disabled")));
    json_decref(document);
    ts_process_free(&json);
}

/* ---- disable | enable ------------------------------------------------------------------- */

static void test_disable_ends_the_sessions_and_enable_undoes_it(void **state)
{
    s_open_session("ann.agent");
    assert_int_equal(s_sessions("ann.agent"), 1);
    ts_process_t run = s_run(NULL, DPCTL("staff", "disable", "ann.agent"));
    s_expect_exit(&run, 0);
    char *disabled = s_field(run.out, "disabled"), *sessions = s_field(run.out, "sessions");
    assert_string_equal(disabled, "yes");
    assert_string_equal(sessions, "0");
    assert_int_equal(s_sessions("ann.agent"), 0);
    assert_int_equal(
        s_count("SELECT count(*) FROM console.staff WHERE login = $1 AND disabled", "ann.agent"),
        1);
    free(disabled);
    free(sessions);
    ts_process_free(&run);

    ts_process_t enable = s_run(NULL, DPCTL("--json", "staff", "enable", "ann.agent"));
    s_expect_exit(&enable, 0);
    json_t *document = json_loads(enable.out, 0, NULL);
    assert_non_null(document);
    assert_false(json_is_true(json_object_get(document, "disabled")));
    assert_null(json_object_get(document, "generated_password"));
    json_decref(document);
    assert_int_equal(s_count("SELECT count(*) FROM console.staff WHERE login = $1 AND NOT disabled",
                             "ann.agent"),
                     1);
    ts_process_free(&enable);
}

/* ---- reset-password ----------------------------------------------------------------------- */

static void test_reset_password_replaces_the_hash_and_lifts_the_lockout(void **state)
{
    /* bob.admin is locked out and has a session (test_list_shows_every_column). */
    assert_int_equal(s_sessions("bob.admin"), 1);
    ts_process_t run = s_run(NULL, DPCTL("staff", "reset-password", "bob.admin"));
    s_expect_exit(&run, 0);
    char *password = s_field(run.out, "password"), *locked = s_field(run.out, "locked until");
    s_assert_generated(password);
    assert_string_equal(locked, "-");
    assert_true(s_password_is("bob.admin", password));
    assert_false(s_password_is("bob.admin", "correct horse battery staple"));
    assert_int_equal(s_sessions("bob.admin"), 0);
    free(password);
    free(locked);
    ts_process_free(&run);

    /* From standard input, a line ended CR LF as on Windows. */
    ts_process_t given = s_run("a second long password\r\n",
                               DPCTL("staff", "reset-password", "bob.admin", "--password-stdin"));
    s_expect_exit(&given, 0);
    s_expect_lacks(given.out, "password:");
    assert_true(s_password_is("bob.admin", "a second long password"));
    ts_process_free(&given);
}

/* ---- refusals ------------------------------------------------------------------------------- */

static void test_refusals(void **state)
{
    /* The console's: a login taken, an unknown one (exit 1, its code). */
    ts_process_t taken = s_run(NULL, DPCTL("staff", "add", "ann.agent", "--name", "Other Ann"));
    s_expect_exit(&taken, 1);
    s_expect_has(taken.err, "ALREADY_EXISTS");
    s_expect_lacks(taken.out, "password");
    ts_process_t unknown = s_run(NULL, DPCTL("staff", "disable", "nobody"));
    s_expect_exit(&unknown, 1);
    s_expect_has(unknown.err, "NOT_FOUND");
    ts_process_free(&taken);
    ts_process_free(&unknown);

    /* dpctl's own (exit 2): nothing reaches the console. */
    char *before = ts_tables_fingerprint(admin, "console", (const char *const[]){"staff", NULL});
    ts_process_t on_line = s_run(NULL, DPCTL("staff", "add", "dan.agent", "--name", "Dan",
                                             "--password", "on the command line"));
    s_expect_exit(&on_line, 2);
    ts_process_t short_one =
        s_run("short\n", DPCTL("staff", "add", "dan.agent", "--name", "Dan", "--password-stdin"));
    s_expect_exit(&short_one, 2);
    s_expect_has(short_one.err, "12 to 256 bytes");
    s_expect_lacks(short_one.err, "short\n");
    ts_process_t empty =
        s_run(NULL, DPCTL("staff", "reset-password", "ann.agent", "--password-stdin"));
    s_expect_exit(&empty, 2);
    ts_process_t role =
        s_run(NULL, DPCTL("staff", "add", "dan.agent", "--name", "Dan", "--role", "root"));
    s_expect_exit(&role, 2);
    s_expect_has(role.err, "agent|admin");
    ts_process_t nameless = s_run(NULL, DPCTL("staff", "add", "dan.agent"));
    s_expect_exit(&nameless, 2);
    char *after = ts_tables_fingerprint(admin, "console", (const char *const[]){"staff", NULL});
    assert_string_equal(before, after);
    assert_int_equal(s_accounts("dan.agent"), 0);
    free(before);
    free(after);
    ts_process_free(&on_line);
    ts_process_free(&short_one);
    ts_process_free(&empty);
    ts_process_free(&role);
    ts_process_free(&nameless);
}

/* ---- setup ------------------------------------------------------------------------------- */

/* Starts dp-console on free ports and waits until `dpctl status --service
   console` says it and its database are well. */
static int s_setup(void **state)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "FATAL: libsodium does not start\n");
        exit(1);
    }
    database = ts_database_new("console_staff_cli");
    admin = ts_connect_or_exit(ts_database_url(database, TS_ROLE_ADMIN));
    const char *build = ts_require_env("DP_BUILD_DIR");
    dpctl = zsys_sprintf("%s/services/dpctl/dpctl", build);
    char *program = zsys_sprintf("%s/services/console/dp-console", build);
    char *url = s_console_url();
    char *endpoint = zsys_sprintf("tcp://127.0.0.1:%d", tn_free_port());
    /* dpctl and the console find each other through this; nothing of the
       caller's environment may point dpctl elsewhere or turn CURVE on. */
    setenv("DP_CONSOLE_ENDPOINT", endpoint, 1);
    unsetenv("DP_CURVE_DIR");
    unsetenv("DP_CURVE_CLIENT_CERT");
    setenv("DP_TIMEOUT_MS", "20000", 1);
    setenv("DP_ATTEMPTS", "1", 1);
    char *database_url = zsys_sprintf("DP_DATABASE_URL=%s", url);
    /* The peers are ports where nothing listens: accounts need none of them. */
    char *peers[4];
    const char *names[] = {"DP_REGISTRY_ENDPOINT", "DP_INTAKE_ENDPOINT", "DP_NOTIFY_ENDPOINT",
                           "DP_REPORT_ENDPOINT"};
    for (size_t i = 0; i < 4; i++)
        peers[i] = zsys_sprintf("%s=tcp://127.0.0.1:%d", names[i], tn_free_port());
    const char *argv[] = {program, NULL};
    const char *env[] = {database_url,
                         peers[0],
                         peers[1],
                         peers[2],
                         peers[3],
                         "DP_CONSOLE_HTTP_PORT=0",
                         "DP_METRICS_PORT=-1",
                         "DP_LOG_LEVEL=warning",
                         NULL};
    console = ts_spawn(argv, env);
    for (size_t i = 0; i < 4; i++)
        zstr_free(&peers[i]);
    zstr_free(&database_url);
    zstr_free(&program);
    zstr_free(&url);
    zstr_free(&endpoint);
    if (console <= 0) {
        fprintf(stderr, "FATAL: cannot start dp-console\n");
        exit(1);
    }
    const char *status[] = {dpctl, "status", "--service", "console", NULL};
    const char *quick[] = {"DP_TIMEOUT_MS=500", NULL};
    for (int attempt = 0; attempt < 60; attempt++) {
        ts_process_t run = ts_run(status, quick, 5000);
        int code = run.exit_code;
        ts_process_free(&run);
        if (code == 0)
            return 0;
        if (kill(console, 0) != 0)
            break;
    }
    fprintf(stderr, "FATAL: dp-console does not answer 'dpctl status --service console'\n");
    exit(1);
}

static int s_teardown(void **state)
{
    if (console > 0)
        ts_child_stop(console, SIGTERM, 10000);
    if (admin)
        PQfinish(admin);
    ts_database_destroy(&database);
    zstr_free(&dpctl);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_makes_a_password_and_shows_it_once),
        cmocka_unit_test(test_add_reads_the_password_from_standard_input),
        cmocka_unit_test(test_list_shows_every_column),
        cmocka_unit_test(test_disable_ends_the_sessions_and_enable_undoes_it),
        cmocka_unit_test(test_reset_password_replaces_the_hash_and_lifts_the_lockout),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("dpctl staff", tests, s_setup, s_teardown);
}
