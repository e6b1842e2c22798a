#include "test_support.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_client.h"
#include "dp_config.h"
#include "dp_server.h"

extern char **environ;

/* ---- Environment --------------------------------------------------------- */

const char *ts_require_env(const char *name)
{
    const char *value = getenv(name);
    if (!value || !*value) {
        fprintf(stderr,
                "FATAL: the environment variable %s is not set. This test needs the test "
                "PostgreSQL cluster and build that scripts/test prepares; run it through "
                "scripts/test, or export %s (and the other DP_TEST_* variables) yourself.\n",
                name, name);
        exit(1);
    }
    return value;
}

/* ---- URLs ------------------------------------------------------------------ */

/* Appends text to a growing string, percent-encoding what a URL may not hold. */
static void s_append(char **buffer, size_t *length, const char *text, bool encode)
{
    size_t extra = strlen(text) * 3 + 1;
    *buffer = realloc(*buffer, *length + extra);
    assert_non_null(*buffer);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (!encode || plain)
            (*buffer)[(*length)++] = (char)*p;
        else
            *length += (size_t)sprintf(*buffer + *length, "%%%02X", *p);
    }
    (*buffer)[*length] = 0;
}

char *ts_url_with_dbname(const char *url, const char *dbname)
{
    char *error = NULL;
    PQconninfoOption *options = PQconninfoParse(url, &error);
    if (!options) {
        fprintf(stderr, "cannot parse the database URL: %s\n", error ? error : "out of memory");
        PQfreemem(error);
        return NULL;
    }
    const char *user = NULL, *password = NULL, *host = NULL, *port = NULL;
    for (PQconninfoOption *option = options; option->keyword; option++) {
        if (!option->val || !*option->val)
            continue;
        if (strcmp(option->keyword, "user") == 0)
            user = option->val;
        else if (strcmp(option->keyword, "password") == 0)
            password = option->val;
        else if (strcmp(option->keyword, "host") == 0)
            host = option->val;
        else if (strcmp(option->keyword, "port") == 0)
            port = option->val;
    }
    char *result = NULL;
    size_t length = 0;
    s_append(&result, &length, "postgresql://", false);
    if (user) {
        s_append(&result, &length, user, true);
        if (password) {
            s_append(&result, &length, ":", false);
            s_append(&result, &length, password, true);
        }
        s_append(&result, &length, "@", false);
    }
    /* A socket directory or a host list goes in the query instead. */
    bool host_in_query = host && (host[0] == '/' || strchr(host, ','));
    if (host && !host_in_query) {
        bool ipv6 = strchr(host, ':') != NULL;
        s_append(&result, &length, ipv6 ? "[" : "", false);
        s_append(&result, &length, host, false);
        s_append(&result, &length, ipv6 ? "]" : "", false);
    }
    if (port && !host_in_query) {
        s_append(&result, &length, ":", false);
        s_append(&result, &length, port, true);
    }
    s_append(&result, &length, "/", false);
    s_append(&result, &length, dbname, true);
    char separator = '?';
    for (PQconninfoOption *option = options; option->keyword; option++) {
        const char *keyword = option->keyword;
        if (!option->val || !*option->val || strcmp(keyword, "dbname") == 0 ||
            strcmp(keyword, "user") == 0 || strcmp(keyword, "password") == 0)
            continue;
        if ((strcmp(keyword, "host") == 0 || strcmp(keyword, "port") == 0) && !host_in_query)
            continue;
        char mark[2] = {separator, 0};
        s_append(&result, &length, mark, false);
        s_append(&result, &length, keyword, true);
        s_append(&result, &length, "=", false);
        s_append(&result, &length, option->val, true);
        separator = '&';
    }
    PQconninfoFree(options);
    return result;
}

/* ---- Processes ----------------------------------------------------------- */

static void s_collect(int fd, char **text, size_t *length, bool *open)
{
    char chunk[4096];
    ssize_t got = read(fd, chunk, sizeof chunk);
    if (got <= 0) {
        if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            *open = false;
            close(fd);
        }
        return;
    }
    *text = realloc(*text, *length + (size_t)got + 1);
    assert_non_null(*text);
    memcpy(*text + *length, chunk, (size_t)got);
    *length += (size_t)got;
    (*text)[*length] = 0;
}

char **ts_child_environment(const char *const *env)
{
    size_t inherited = 0, extra = 0;
    while (environ[inherited])
        inherited++;
    while (env && env[extra])
        extra++;
    char **envp = calloc(inherited + extra + 1, sizeof(char *));
    assert_non_null(envp);
    size_t count = 0;
    for (size_t i = 0; i < inherited; i++) {
        bool overridden = false;
        for (size_t j = 0; j < extra && !overridden; j++) {
            size_t name_length = strcspn(env[j], "=");
            overridden = strncmp(environ[i], env[j], name_length + 1) == 0;
        }
        if (!overridden)
            envp[count++] = environ[i];
    }
    for (size_t j = 0; j < extra; j++)
        envp[count++] = (char *)env[j];
    return envp;
}

_Noreturn void ts_child_exec(const char *const *argv, char **envp, const char *who)
{
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0)
        dup2(null_fd, STDIN_FILENO);
    execve(argv[0], (char *const *)argv, envp);
    /* Only async-signal-safe calls here (we are between fork and exec). */
    static const char message[] = ": cannot execute the program\n";
    ssize_t ignored = write(STDERR_FILENO, who, strlen(who));
    ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    _exit(127);
}

ts_process_t ts_run(const char *const *argv, const char *const *env, int timeout_ms)
{
    ts_process_t process = {.exit_code = -1, .out = strdup(""), .err = strdup("")};
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) || pipe(err_pipe)) {
        fprintf(stderr, "pipe: %s\n", strerror(errno));
        return process;
    }
    char **envp = ts_child_environment(env);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        free(envp);
        return process;
    }
    if (pid == 0) {
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        close(out_pipe[0]);
        close(out_pipe[1]);
        close(err_pipe[0]);
        close(err_pipe[1]);
        ts_child_exec(argv, envp, "ts_run");
    }
    free(envp);
    close(out_pipe[1]);
    close(err_pipe[1]);
    size_t out_length = 0, err_length = 0;
    bool out_open = true, err_open = true;
    int64_t deadline = zclock_mono() + timeout_ms;
    bool timed_out = false;
    while (out_open || err_open) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd fds[2];
        nfds_t watched = 0;
        if (out_open)
            fds[watched++] = (struct pollfd){.fd = out_pipe[0], .events = POLLIN};
        if (err_open)
            fds[watched++] = (struct pollfd){.fd = err_pipe[0], .events = POLLIN};
        int ready = poll(fds, watched, (int)left);
        if (ready < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; i < watched && ready > 0; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == out_pipe[0])
                s_collect(out_pipe[0], &process.out, &out_length, &out_open);
            else
                s_collect(err_pipe[0], &process.err, &err_length, &err_open);
        }
    }
    if (timed_out) {
        fprintf(stderr, "%s did not finish within %d ms: killing it\n", argv[0], timeout_ms);
        kill(pid, SIGKILL);
    }
    if (out_open)
        close(out_pipe[0]);
    if (err_open)
        close(err_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!timed_out && WIFEXITED(status))
        process.exit_code = WEXITSTATUS(status);
    return process;
}

pid_t ts_spawn(const char *const *argv, const char *const *env)
{
    char **envp = ts_child_environment(env);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        free(envp);
        return -1;
    }
    if (pid == 0) {
        /* Dies with the test, even when the test itself is killed. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        ts_child_exec(argv, envp, "ts_spawn");
    }
    free(envp);
    return pid;
}

int ts_child_stop(pid_t pid, int signal_number, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    if (kill(pid, signal_number) != 0 && errno != ESRCH)
        return -1;
    int64_t deadline = zclock_mono() + timeout_ms;
    bool killed = false;
    while (true) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return killed ? -1 : status;
        if (done < 0 && errno != EINTR)
            return -1;
        if (zclock_mono() >= deadline) {
            if (killed)
                return -1;
            fprintf(stderr, "process %d did not stop within %d ms: killing it\n", (int)pid,
                    timeout_ms);
            kill(pid, SIGKILL);
            killed = true;
            deadline = zclock_mono() + 5000;
        }
        zclock_sleep(10);
    }
}

ts_process_t ts_run_shell(const char *command, int timeout_ms)
{
    const char *argv[] = {"/bin/sh", "-c", command, NULL};
    return ts_run(argv, NULL, timeout_ms);
}

void ts_process_free(ts_process_t *process)
{
    free(process->out);
    free(process->err);
    process->out = process->err = NULL;
}

ts_process_t ts_run_migrate(const char *url)
{
    char *program = zsys_sprintf("%s/services/migrate/dp-migrate", ts_require_env("DP_BUILD_DIR"));
    char *variable = zsys_sprintf("DP_DATABASE_URL=%s", url);
    const char *argv[] = {program, "up", NULL};
    const char *env[] = {variable, NULL};
    ts_process_t process = ts_run(argv, env, 120000);
    zstr_free(&program);
    zstr_free(&variable);
    return process;
}

/* ---- A fresh database ---------------------------------------------------- */

struct _ts_database_t {
    char *name;                /* the database's name */
    char *urls[TS_ROLE_COUNT]; /* one URL per role, for this database */
};

static const char *s_role_variables[TS_ROLE_COUNT] = {"DP_TEST_ADMIN_URL", "DP_TEST_REGISTRY_URL",
                                                      "DP_TEST_INTAKE_URL", "DP_TEST_NOTIFY_URL",
                                                      "DP_TEST_REPORT_URL"};

PGconn *ts_connect_or_exit(const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "FATAL: cannot connect to the test database: %s", PQerrorMessage(conn));
        PQfinish(conn);
        exit(1);
    }
    PQsetNoticeProcessor(conn, NULL, NULL);
    return conn;
}

/* Runs "<verb> <name><suffix>" on conn, the name quoted by libpq. SQL text
   is built only here: CREATE / DROP DATABASE take an identifier, which
   cannot travel as a parameter. */
static int s_database_command(PGconn *conn, const char *verb, const char *name, const char *suffix)
{
    char *quoted = PQescapeIdentifier(conn, name, strlen(name));
    if (!quoted) {
        fprintf(stderr, "cannot quote %s: %s", name, PQerrorMessage(conn));
        return -1;
    }
    char *sql = zsys_sprintf("%s %s%s", verb, quoted, suffix);
    PQfreemem(quoted);
    PGresult *result = PQexec(conn, sql);
    int rc = PQresultStatus(result) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(result));
    PQclear(result);
    zstr_free(&sql);
    return rc;
}

/* Test programs run in parallel, and the first migration changes roles,
   which are shared by the whole cluster: two runs at once fail with "tuple
   concurrently updated". A session advisory lock on the cluster's own
   database makes the programs create and migrate one at a time. */
static const char *s_setup_lock_key = "7368100021";

static void s_setup_lock(PGconn *conn, bool take)
{
    const char *params[] = {s_setup_lock_key};
    PGresult *result = PQexecParams(conn,
                                    take ? "SELECT pg_advisory_lock($1::bigint)"
                                         : "SELECT pg_advisory_unlock($1::bigint)",
                                    1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        fprintf(stderr, "FATAL: advisory lock: %s", PQresultErrorMessage(result));
        exit(1);
    }
    PQclear(result);
}

ts_database_t *ts_database_new(const char *label)
{
    for (int role = 0; role < TS_ROLE_COUNT; role++)
        ts_require_env(s_role_variables[role]);
    ts_require_env("DP_BUILD_DIR");

    ts_database_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    self->name =
        zsys_sprintf("dpt_%s_%d_%lx", label, (int)getpid(),
                     (unsigned long)(now.tv_sec * 1000 + now.tv_nsec / 1000000) & 0xffffff);
    for (char *p = self->name; *p; p++)
        if (*p == '-')
            *p = '_';
    for (int role = 0; role < TS_ROLE_COUNT; role++) {
        self->urls[role] = ts_url_with_dbname(getenv(s_role_variables[role]), self->name);
        if (!self->urls[role]) {
            fprintf(stderr, "FATAL: %s is not a database URL\n", s_role_variables[role]);
            exit(1);
        }
    }
    PGconn *cluster = ts_connect_or_exit(ts_require_env("DP_TEST_ADMIN_URL"));
    s_setup_lock(cluster, true);
    if (s_database_command(cluster, "CREATE DATABASE", self->name, "")) {
        fprintf(stderr, "FATAL: cannot create the test database %s\n", self->name);
        exit(1);
    }
    ts_process_t migrate = ts_run_migrate(self->urls[TS_ROLE_ADMIN]);
    s_setup_lock(cluster, false);
    PQfinish(cluster);
    if (migrate.exit_code != 0) {
        fprintf(stderr, "FATAL: dp-migrate up failed on %s (exit %d):\n%s%s\n", self->name,
                migrate.exit_code, migrate.out, migrate.err);
        ts_database_destroy(&self);
        exit(1);
    }
    ts_process_free(&migrate);
    return self;
}

void ts_database_destroy(ts_database_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_database_t *self = *self_p;
    PGconn *cluster = ts_connect_or_exit(ts_require_env("DP_TEST_ADMIN_URL"));
    if (s_database_command(cluster, "DROP DATABASE IF EXISTS", self->name, " WITH (FORCE)"))
        fprintf(stderr, "warning: could not drop the test database %s\n", self->name);
    PQfinish(cluster);
    for (int role = 0; role < TS_ROLE_COUNT; role++)
        free(self->urls[role]);
    zstr_free(&self->name);
    free(self);
    *self_p = NULL;
}

const char *ts_database_name(const ts_database_t *self)
{
    return self->name;
}

const char *ts_database_url(const ts_database_t *self, ts_role_t role)
{
    return self->urls[role];
}

/* ---- Admin queries ------------------------------------------------------- */

PGresult *ts_query(PGconn *conn, const char *sql, int param_count, const char *const *params)
{
    PGresult *result = PQexecParams(conn, sql, param_count, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        char message[1024];
        snprintf(message, sizeof message, "%s", PQresultErrorMessage(result));
        PQclear(result);
        fail_msg("query failed: %s\n  %s", message, sql);
    }
    return result;
}

char *ts_query_error(PGconn *conn, const char *sql, int param_count, const char *const *params)
{
    PGresult *result = PQexecParams(conn, sql, param_count, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(result);
    const char *sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    char *copy = strdup(
        (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || !sqlstate) ? "" : sqlstate);
    PQclear(result);
    return copy;
}

char *ts_query_text(PGconn *conn, const char *sql, int param_count, const char *const *params)
{
    PGresult *result = ts_query(conn, sql, param_count, params);
    if (PQntuples(result) < 1 || PQnfields(result) < 1) {
        PQclear(result);
        fail_msg("query returned no value: %s", sql);
    }
    char *text = strdup(PQgetvalue(result, 0, 0));
    PQclear(result);
    return text;
}

long long ts_query_long(PGconn *conn, const char *sql, int param_count, const char *const *params)
{
    char *text = ts_query_text(conn, sql, param_count, params);
    char *end = NULL;
    long long value = strtoll(text, &end, 10);
    bool numeric = *text && end && !*end;
    free(text);
    if (!numeric)
        fail_msg("query did not return a number: %s", sql);
    return value;
}

char *ts_tables_fingerprint(PGconn *conn, const char *schema, const char *const *tables)
{
    /* One digest per table, of its rows as text in text order (so equal
       contents give equal digests whatever the physical order). The tables
       are named by a parameter; query_to_xml runs the query per table. */
    static const char *sql =
        "SELECT string_agg(t.name || '=' || (xpath('//h/text()', query_to_xml(format("
        "  'SELECT md5(coalesce(string_agg(r::text, ''|'' ORDER BY r::text), '''')) AS h"
        "   FROM %I.%I r', $1::text, t.name), false, false, '')))[1]::text, '/' ORDER BY t.n)"
        " FROM unnest($2::text[]) WITH ORDINALITY AS t(name, n)";
    char list[1024] = "{";
    for (const char *const *table = tables; *table; table++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", table == tables ? "" : ",", *table);
    }
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "}");
    const char *params[] = {schema, list};
    return ts_query_text(conn, sql, 2, params);
}

char *ts_registry_fingerprint(PGconn *conn)
{
    static const char *const tables[] = {
        "partner",    "partner_name", "partner_domain", "partner_area", "contact",
        "engagement", "area",         "form",           "outbox",       NULL};
    return ts_tables_fingerprint(conn, "registry", tables);
}

long long ts_schema_outbox_last_id(PGconn *conn, const char *schema)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM %s.outbox", schema);
    return ts_query_long(conn, sql, 0, NULL);
}

long long ts_schema_outbox_count_after(PGconn *conn, const char *schema, long long after_id)
{
    char sql[128], after[32];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.outbox WHERE id > $1::bigint", schema);
    snprintf(after, sizeof after, "%lld", after_id);
    const char *params[] = {after};
    return ts_query_long(conn, sql, 1, params);
}

long long ts_outbox_last_id(PGconn *conn)
{
    return ts_schema_outbox_last_id(conn, "registry");
}

long long ts_outbox_count_after(PGconn *conn, long long after_id)
{
    return ts_schema_outbox_count_after(conn, "registry", after_id);
}

ts_event_t **ts_schema_events_after(PGconn *conn, const char *schema, long long after_id,
                                    size_t *count)
{
    char sql[256], after[32];
    snprintf(sql, sizeof sql,
             "SELECT event_type, aggregate_type, aggregate_id, payload FROM %s.outbox"
             " WHERE id > $1::bigint ORDER BY id",
             schema);
    snprintf(after, sizeof after, "%lld", after_id);
    const char *params[] = {after};
    /* Binary results, so that the payload arrives as raw bytes. */
    PGresult *result = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 1);
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", PQresultErrorMessage(result));
        PQclear(result);
        fail_msg("reading the %s outbox failed: %s", schema, message);
    }
    int rows = PQntuples(result);
    ts_event_t **events = calloc((size_t)rows + 1, sizeof *events);
    assert_non_null(events);
    for (int row = 0; row < rows; row++) {
        ts_event_t *event = calloc(1, sizeof *event);
        assert_non_null(event);
        event->event_type = strdup(PQgetvalue(result, row, 0));
        event->aggregate_type = strdup(PQgetvalue(result, row, 1));
        event->aggregate_id = strdup(PQgetvalue(result, row, 2));
        event->payload_size = (size_t)PQgetlength(result, row, 3);
        event->payload = malloc(event->payload_size + 1);
        assert_non_null(event->payload);
        memcpy(event->payload, PQgetvalue(result, row, 3), event->payload_size);
        events[row] = event;
    }
    PQclear(result);
    *count = (size_t)rows;
    return events;
}

void ts_events_free(ts_event_t ***events_p, size_t count)
{
    if (!events_p || !*events_p)
        return;
    for (size_t i = 0; i < count; i++)
        ts_event_free(&(*events_p)[i]);
    free(*events_p);
    *events_p = NULL;
}

ts_event_t *ts_expect_one_event_in_at(PGconn *conn, const char *schema, long long after_id,
                                      const char *event_type, const char *aggregate_type,
                                      const char *aggregate_id, const char *file, int line)
{
    size_t count = 0;
    ts_event_t **events = ts_schema_events_after(conn, schema, after_id, &count);
    bool matches = count == 1 && strcmp(events[0]->event_type, event_type) == 0 &&
                   (!aggregate_type || strcmp(events[0]->aggregate_type, aggregate_type) == 0) &&
                   (!aggregate_id || strcmp(events[0]->aggregate_id, aggregate_id) == 0);
    if (!matches) {
        print_error("expected exactly one %s outbox row %s for %s, found %zu:\n", schema,
                    event_type, aggregate_id ? aggregate_id : "(any)", count);
        for (size_t i = 0; i < count; i++)
            print_error("  %s %s %s\n", events[i]->event_type, events[i]->aggregate_type,
                        events[i]->aggregate_id);
        ts_events_free(&events, count);
        _fail(file, line);
    }
    ts_event_t *event = events[0];
    events[0] = NULL;
    ts_events_free(&events, count);
    return event;
}

ts_event_t *ts_expect_one_event_at(PGconn *conn, long long after_id, const char *event_type,
                                   const char *aggregate_id, const char *file, int line)
{
    return ts_expect_one_event_in_at(conn, "registry", after_id, event_type, NULL, aggregate_id,
                                     file, line);
}

void ts_event_free(ts_event_t **event_p)
{
    if (!event_p || !*event_p)
        return;
    ts_event_t *event = *event_p;
    free(event->event_type);
    free(event->aggregate_type);
    free(event->aggregate_id);
    free(event->payload);
    free(event);
    *event_p = NULL;
}

bool ts_event_mentions(const ts_event_t *event, const char *needle)
{
    size_t length = strlen(needle);
    if (!length || length > event->payload_size)
        return false;
    for (size_t i = 0; i + length <= event->payload_size; i++)
        if (memcmp(event->payload + i, needle, length) == 0)
            return true;
    return false;
}

/* ---- The registry service ------------------------------------------------ */

/* The generic fixture (service_support.h) does the work. */
ts_registry_t *ts_registry_start(const char *database_url, const char *const *settings)
{
    return tf_service_start(TF_REGISTRY, database_url, settings);
}

void ts_registry_stop(ts_registry_t **self_p)
{
    tf_service_stop(self_p);
}

const char *ts_registry_endpoint(const ts_registry_t *self)
{
    return tf_service_endpoint(self);
}

void ts_registry_set_timeout(ts_registry_t *self, int timeout_ms)
{
    tf_service_set_timeout(self, timeout_ms);
}

ProtobufCMessage *ts_call(ts_registry_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status)
{
    return tf_call(self, request, reply_type, status);
}

#define TS_DEFINE_CALL(Camel, snake) TF_DEFINE_CALL(ts_, Camel, snake)
TS_REGISTRY_CALLS(TS_DEFINE_CALL)
#undef TS_DEFINE_CALL

void ts_free(void *message_p)
{
    dp_message_free((ProtobufCMessage **)message_p);
}

/* ---- Fixture ------------------------------------------------------------- */

ts_fixture_t *ts_fixture_new(const char *label, const char *const *settings)
{
    ts_fixture_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->database = ts_database_new(label);
    self->admin = ts_connect_or_exit(ts_database_url(self->database, TS_ROLE_ADMIN));
    self->registry = ts_registry_start(ts_database_url(self->database, TS_ROLE_REGISTRY), settings);
    if (!self->registry) {
        fprintf(stderr, "FATAL: cannot start the registry service on %s\n",
                ts_database_name(self->database));
        ts_fixture_destroy(&self);
        exit(1);
    }
    return self;
}

ts_fixture_t *ts_fixture_new_with_lists(const char *label, const char *const *areas,
                                        const char *const *forms)
{
    ts_fixture_t *self = ts_fixture_new(label, NULL);
    for (const char *const *area = areas; area && *area; area += 2)
        ts_make_area(self->registry, area[0], area[1]);
    for (const char *const *form = forms; form && *form; form += 2)
        ts_make_form(self->registry, form[0], form[1]);
    return self;
}

void ts_fixture_destroy(ts_fixture_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_fixture_t *self = *self_p;
    ts_registry_stop(&self->registry);
    if (self->admin)
        PQfinish(self->admin);
    ts_database_destroy(&self->database);
    free(self);
    *self_p = NULL;
}

int ts_fixture_run(ts_fixture_t **self_p, const char *name, const struct CMUnitTest *tests,
                   size_t count)
{
    int failed = _cmocka_run_group_tests(name, tests, count, NULL, NULL);
    ts_fixture_destroy(self_p);
    return failed;
}

/* ---- Assertions ---------------------------------------------------------- */

void ts_assert_status_at(const dp_status_t *status, Dp__Code code, const char *field,
                         const char *file, int line)
{
    bool code_ok = status->code == code;
    bool field_ok = !field || strcmp(status->field, field) == 0;
    if (code_ok && field_ok)
        return;
    print_error("expected %s%s%s, got %s field '%s': %s\n", dp_code_name(code),
                field ? " field " : "", field ? field : "", dp_code_name(status->code),
                status->field, status->message);
    _fail(file, line);
}

ProtobufCMessage *ts_call_ok_at(tf_service_t *service, const ProtobufCMessage *request,
                                const ProtobufCMessageDescriptor *reply_type, const char *file,
                                int line)
{
    dp_status_t status;
    ProtobufCMessage *reply = tf_call(service, request, reply_type, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    return reply;
}

void ts_assert_healthy_at(tf_service_t *service, const char *file, int line)
{
    Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
    Dp__HealthReply *reply = (Dp__HealthReply *)ts_call_ok_at(
        service, &request.base, &dp__health_reply__descriptor, file, line);
    bool healthy = strcmp(reply->service, tf_service_name(service)) == 0 && reply->database_ok;
    if (!healthy)
        print_error("health of %s: service '%s', database %s\n", tf_service_name(service),
                    reply->service, reply->database_ok ? "reachable" : "not reachable");
    ts_free(&reply);
    if (!healthy)
        _fail(file, line);
}

void ts_send_ok_at(tf_service_t *service, const ProtobufCMessage *request,
                   const ProtobufCMessageDescriptor *reply_type, const char *file, int line)
{
    ProtobufCMessage *reply = ts_call_ok_at(service, request, reply_type, file, line);
    ts_free(&reply);
}

void ts_set_text(ProtobufCMessage *message, const char *name, const char *value)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(message->descriptor, name);
    if (!field || field->type != PROTOBUF_C_TYPE_STRING ||
        field->label == PROTOBUF_C_LABEL_REPEATED)
        fail_msg("%s has no text field '%s'", message->descriptor->name, name);
    *(const char **)((char *)message + field->offset) = value;
}

void ts_expect_unknown_partner_at(ts_fixture_t *fixture, ProtobufCMessage *request,
                                  Dp__PartnerRef *unknown, const char *file, int line)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(request->descriptor, "partner");
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE)
        fail_msg("%s has no partner field", request->descriptor->name);
    Dp__PartnerRef **partner = (Dp__PartnerRef **)((char *)request + field->offset);
    *partner = NULL;
    ts_expect_error_at(fixture, request, DP__CODE__CODE_INVALID_ARGUMENT, "partner", file, line);
    *partner = unknown;
    ts_expect_error_at(fixture, request, DP__CODE__CODE_NOT_FOUND, "partner", file, line);
}

void ts_expect_text_steps_at(ts_fixture_t *fixture, ProtobufCMessage *request,
                             const ts_text_step_t *steps, size_t count, const char *file, int line)
{
    for (size_t i = 0; i < count; i++) {
        ts_set_text(request, steps[i].field, steps[i].value);
        if (steps[i].refused)
            ts_expect_error_at(fixture, request, DP__CODE__CODE_INVALID_ARGUMENT, steps[i].refused,
                               file, line);
    }
}

void ts_expect_refusal_at(tf_service_t *service, PGconn *admin, char *(*digest)(PGconn *),
                          const ProtobufCMessage *request, Dp__Code code, const char *field,
                          const char *file, int line)
{
    char *before = digest(admin);
    dp_status_t status;
    /* The reply type does not matter: a refusal carries no body. */
    ProtobufCMessage *reply = tf_call(service, request, &dp__health_reply__descriptor, &status);
    dp_message_free(&reply);
    char *after = digest(admin);
    bool unchanged = strcmp(before, after) == 0;
    free(before);
    free(after);
    ts_assert_status_at(&status, code, field, file, line);
    if (!unchanged) {
        print_error("the refused %s changed rows of the %s or wrote to its outbox\n",
                    request->descriptor->name, tf_service_name(service));
        _fail(file, line);
    }
}

void ts_expect_error_at(ts_fixture_t *fixture, const ProtobufCMessage *request, Dp__Code code,
                        const char *field, const char *file, int line)
{
    ts_expect_refusal_at(fixture->registry, fixture->admin, ts_registry_fingerprint, request, code,
                         field, file, line);
}

/* ---- Test data ------------------------------------------------------------ */

const char *ts_unique(const char *prefix)
{
    static char ring[16][80];
    static unsigned counter;
    char *slot = ring[counter % 16];
    snprintf(slot, sizeof ring[0], "%s-%u", prefix, ++counter);
    return slot;
}

const char *ts_id_text(int64_t id)
{
    static char ring[8][24];
    static unsigned counter;
    char *slot = ring[counter++ % 8];
    snprintf(slot, sizeof ring[0], "%lld", (long long)id);
    return slot;
}

Dp__CreatePartnerReply *ts_create_partner_at(ts_registry_t *registry, const char *slug,
                                             const char *name, const char *joined_on,
                                             Dp__DatePrecision precision, const char *file,
                                             int line)
{
    Dp__CreatePartnerRequest request = DP__CREATE_PARTNER_REQUEST__INIT;
    request.slug = (char *)slug;
    request.name = (char *)name;
    request.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    request.joined_on = (char *)joined_on;
    request.joined_precision = precision;
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(registry, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    if (!reply || !reply->partner || reply->partner->id <= 0) {
        ts_free(&reply);
        print_error("CreatePartner answered OK without a partner with an id\n");
        _fail(file, line);
    }
    return reply;
}

int64_t ts_create_partner_id(ts_registry_t *registry, const char *slug, const char *name,
                             const char *joined_on)
{
    Dp__CreatePartnerReply *reply =
        ts_create_partner_at(registry, slug, name, joined_on,
                             DP__DATE_PRECISION__DATE_PRECISION_DAY, __FILE__, __LINE__);
    int64_t id = reply->partner->id;
    ts_free(&reply);
    return id;
}

const ProtobufCMessage *ts_reference_add_init(ts_reference_add_t *add, const char *list,
                                              const ProtobufCMessageDescriptor *item_type,
                                              const ProtobufCMessageDescriptor *request_type,
                                              const char *slug, const char *label,
                                              bool without_item)
{
    protobuf_c_message_init(item_type, &add->item);
    protobuf_c_message_init(request_type, &add->request);
    ts_set_text(&add->item.base, "slug", slug);
    ts_set_text(&add->item.base, "label", label);
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(request_type, list);
    assert_non_null(field);
    if (!without_item)
        *(ProtobufCMessage **)((char *)&add->request + field->offset) = &add->item.base;
    return &add->request.base;
}

/* Adds a row to a reference list (see ts_reference_add_init). */
static void s_make_reference(ts_registry_t *registry, const char *list,
                             const ProtobufCMessageDescriptor *item_type,
                             const ProtobufCMessageDescriptor *request_type,
                             const ProtobufCMessageDescriptor *reply_type, const char *slug,
                             const char *label)
{
    ts_reference_add_t add;
    const ProtobufCMessage *request =
        ts_reference_add_init(&add, list, item_type, request_type, slug, label, false);
    ts_send_ok_at(registry, request, reply_type, __FILE__, __LINE__);
}

void ts_make_area(ts_registry_t *registry, const char *slug, const char *label)
{
    s_make_reference(registry, "area", &dp__area__descriptor, &dp__add_area_request__descriptor,
                     &dp__add_area_reply__descriptor, slug, label);
}

void ts_make_form(ts_registry_t *registry, const char *slug, const char *label)
{
    s_make_reference(registry, "form", &dp__form__descriptor, &dp__add_form_request__descriptor,
                     &dp__add_form_reply__descriptor, slug, label);
}

Dp__GetPartnerReply *ts_get_partner_by_slug(ts_registry_t *registry, const char *slug,
                                            const char *as_of)
{
    TS_REF_SLUG(ref, slug);
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.as_of = (char *)(as_of ? as_of : "");
    dp_status_t status;
    Dp__GetPartnerReply *reply = ts_get_partner(registry, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    assert_non_null(reply->partner);
    return reply;
}
