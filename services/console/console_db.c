/* All of the console's SQL: staff accounts, sessions, failed logins and
   its audit, in its own schema. Nothing here reads another service's
   tables. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_service.h"
#include "dp_format.h"

enum {
    ACCOUNT,
    FAILURES,
    RECORD_FAILURE,
    FORGET_FAILURES,
    LOCK,
    LOGIN_STAMP,
    SESSION_SWEEP,
    SESSION_NEW,
    SESSION_TOUCH,
    SESSION_END,
    SESSION_END_ALL,
    SESSION_END_LOGIN,
    AUDIT,
    STAFF_ADD,
    STAFF_LIST,
    STAFF_DISABLE,
    STAFF_PASSWORD,
    STAFF_NAMES,
};

#define ACCOUNT_COLUMNS                                                                            \
    "id, login, name, role, disabled, password_hash, coalesce(locked_until > now(), false)"

const dp_statement_t console_statements[] = {
    [ACCOUNT] = {"account", "SELECT " ACCOUNT_COLUMNS " FROM console.staff WHERE login = $1", 1},
    [FAILURES] = {"failures",
                  "SELECT (SELECT count(*) FROM console.login_failure WHERE login = $1"
                  "          AND at > now() - $3::int * interval '1 second'),"
                  "       (SELECT count(*) FROM console.login_failure WHERE address = $2"
                  "          AND at > now() - $3::int * interval '1 second')",
                  3},
    /* Rows older than a day are of no use to any window: they go as new ones come. */
    [RECORD_FAILURE] = {"record_failure",
                        "WITH gone AS (DELETE FROM console.login_failure"
                        "               WHERE at < now() - interval '1 day')"
                        "INSERT INTO console.login_failure (login, address) VALUES ($1, $2)",
                        2},
    [FORGET_FAILURES] = {"forget_failures", "DELETE FROM console.login_failure WHERE login = $1",
                         1},
    [LOCK] = {"lock",
              "UPDATE console.staff SET locked_until = now() + $2::int * interval '1 second'"
              " WHERE login = $1",
              2},
    [LOGIN_STAMP] = {"login_stamp",
                     "UPDATE console.staff SET last_login_at = now(), locked_until = NULL"
                     " WHERE id = $1",
                     1},
    /* Sessions past either time-out are of no use: they go as logins come. */
    [SESSION_SWEEP] = {"session_sweep",
                       "DELETE FROM console.session"
                       " WHERE last_seen_at < now() - $1::int * interval '1 second'"
                       "    OR created_at < now() - $2::int * interval '1 second'",
                       2},
    [SESSION_NEW] = {"session_new",
                     "INSERT INTO console.session (id_hash, staff_id, address)"
                     " VALUES ($1::bytea, $2, $3)",
                     3},
    /* A live session is touched as it is read: one statement per page. */
    [SESSION_TOUCH] = {"session_touch",
                       "UPDATE console.session s SET last_seen_at = now() FROM console.staff st"
                       " WHERE s.id_hash = $1::bytea AND st.id = s.staff_id AND NOT st.disabled"
                       "   AND s.last_seen_at > now() - $2::int * interval '1 second'"
                       "   AND s.created_at > now() - $3::int * interval '1 second'"
                       " RETURNING st.id, st.login, st.name, st.role, st.disabled, '', false",
                       3},
    [SESSION_END] = {"session_end", "DELETE FROM console.session WHERE id_hash = $1::bytea", 1},
    [SESSION_END_ALL] = {"session_end_all", "DELETE FROM console.session WHERE staff_id = $1", 1},
    [SESSION_END_LOGIN] = {"session_end_login",
                           "DELETE FROM console.session WHERE staff_id ="
                           " (SELECT id FROM console.staff WHERE login = $1)",
                           1},
    [AUDIT] = {"audit",
               "INSERT INTO console.audit (actor, action, target, address, detail)"
               " VALUES ($1, $2, $3, $4, $5)",
               5},
    [STAFF_ADD] = {"staff_add",
                   "INSERT INTO console.staff (login, name, role, password_hash)"
                   " VALUES ($1, $2, $3, $4) RETURNING id",
                   4},
    [STAFF_LIST] =
        {"staff_list",
         "SELECT st.id, st.login, st.name, st.disabled,"
         "       to_char(st.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
         "       coalesce(to_char(st.last_login_at AT TIME ZONE 'UTC',"
         "                        'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),"
         "       CASE WHEN st.locked_until > now() THEN to_char(st.locked_until"
         "            AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') ELSE '' END,"
         "       (SELECT count(*) FROM console.session s WHERE s.staff_id = st.id"
         "          AND s.last_seen_at > now() - $2::int * interval '1 second'"
         "          AND s.created_at > now() - $3::int * interval '1 second'),"
         "       st.role"
         "  FROM console.staff st WHERE $1 = '' OR st.login = $1 ORDER BY st.login",
         3},
    [STAFF_DISABLE] = {"staff_disable",
                       "UPDATE console.staff SET disabled = $2::boolean WHERE login = $1", 2},
    /* The failures before it go too: the new password starts a fresh count. */
    [STAFF_PASSWORD] = {"staff_password",
                        "WITH forget AS (DELETE FROM console.login_failure WHERE login = $1) "
                        "UPDATE console.staff SET password_hash = $2, password_changed_at = now(),"
                        "       locked_until = NULL WHERE login = $1",
                        2},
    [STAFF_NAMES] = {"staff_names",
                     "SELECT name FROM console.staff WHERE NOT disabled ORDER BY name", 0},
};
const size_t console_statement_count = sizeof console_statements / sizeof console_statements[0];

static void s_copy(char *to, size_t size, const PGresult *result, int row, int column)
{
    snprintf(to, size, "%s", PQgetvalue(result, row, column));
}

static void s_account_of(const PGresult *result, console_account_t *account)
{
    memset(account, 0, sizeof *account);
    account->id = dp_db_int64(result, 0, 0);
    s_copy(account->login, sizeof account->login, result, 0, 1);
    s_copy(account->name, sizeof account->name, result, 0, 2);
    s_copy(account->role, sizeof account->role, result, 0, 3);
    account->disabled = strcmp(PQgetvalue(result, 0, 4), "t") == 0;
    s_copy(account->password_hash, sizeof account->password_hash, result, 0, 5);
    account->locked = strcmp(PQgetvalue(result, 0, 6), "t") == 0;
}

/* Runs a statement that returns at most one account. */
static int s_one_account(dp_db_t *db, int index, const char *const *params,
                         console_account_t *account)
{
    PGresult *result = dp_db_run(db, index, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    if (found)
        s_account_of(result, account);
    PQclear(result);
    return found;
}

int console_db_account(dp_db_t *db, const char *login, console_account_t *account)
{
    const char *params[] = {login};
    return s_one_account(db, ACCOUNT, params, account);
}

int console_db_failures(dp_db_t *db, const char *login, const char *address, unsigned window_s,
                        long *for_login, long *for_address)
{
    char window[16];
    snprintf(window, sizeof window, "%u", window_s);
    const char *params[] = {login, address, window};
    PGresult *result = dp_db_run(db, FAILURES, params);
    if (!result)
        return -1;
    *for_login = (long)dp_db_int64(result, 0, 0);
    *for_address = (long)dp_db_int64(result, 0, 1);
    PQclear(result);
    return 0;
}

int console_db_record_failure(dp_db_t *db, const char *login, const char *address)
{
    const char *params[] = {login, address};
    return dp_db_run_count(db, RECORD_FAILURE, params) < 0 ? -1 : 0;
}

int console_db_lock(dp_db_t *db, const char *login, unsigned lockout_s)
{
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%u", lockout_s);
    const char *params[] = {login, seconds};
    return dp_db_run_count(db, LOCK, params) < 0 ? -1 : 0;
}

typedef struct {
    const char *id;
    const char *login;
    const char *session_hash;
    const char *address;
    char idle[16];
    char absolute[16];
} login_t;

static dp_txn_outcome_t s_login(dp_db_t *db, void *arg)
{
    const login_t *login = arg;
    const char *stamp[] = {login->id};
    const char *forget[] = {login->login};
    const char *session[] = {login->session_hash, login->id, login->address};
    const char *sweep[] = {login->idle, login->absolute};
    if (dp_db_run_count(db, SESSION_SWEEP, sweep) < 0 ||
        dp_db_run_count(db, LOGIN_STAMP, stamp) < 0 ||
        dp_db_run_count(db, FORGET_FAILURES, forget) < 0 ||
        dp_db_run_count(db, SESSION_NEW, session) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

int console_db_login(dp_db_t *db, int64_t staff_id, const char *login, const char *session_hash,
                     const char *address, const console_policy_t *policy)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, staff_id);
    login_t arg = {id, login, session_hash, address, "", ""};
    snprintf(arg.idle, sizeof arg.idle, "%u", policy->idle_timeout_s);
    snprintf(arg.absolute, sizeof arg.absolute, "%u", policy->absolute_timeout_s);
    return dp_db_transaction(db, s_login, &arg) == 0 ? 0 : -1;
}

int console_db_session(dp_db_t *db, const char *session_hash, const console_policy_t *policy,
                       console_account_t *account)
{
    char idle[16], absolute[16];
    snprintf(idle, sizeof idle, "%u", policy->idle_timeout_s);
    snprintf(absolute, sizeof absolute, "%u", policy->absolute_timeout_s);
    const char *params[] = {session_hash, idle, absolute};
    return s_one_account(db, SESSION_TOUCH, params, account);
}

int console_db_logout(dp_db_t *db, const char *session_hash)
{
    const char *params[] = {session_hash};
    return dp_db_run_count(db, SESSION_END, params) < 0 ? -1 : 0;
}

int console_db_logout_everywhere(dp_db_t *db, int64_t staff_id)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, staff_id);
    const char *params[] = {id};
    return dp_db_run_count(db, SESSION_END_ALL, params) < 0 ? -1 : 0;
}

int console_db_audit(dp_db_t *db, const char *actor, const char *action, const char *target,
                     const char *address, const char *detail)
{
    const char *params[] = {actor, action, target ? target : "", address ? address : "",
                            detail ? detail : ""};
    return dp_db_run_count(db, AUDIT, params) < 0 ? -1 : 0;
}

int console_db_add_staff(dp_db_t *db, const char *login, const char *name, const char *role,
                         const char *password_hash, int64_t *id_out)
{
    const char *params[] = {login, name, role, password_hash};
    PGresult *result = dp_db_run(db, STAFF_ADD, params);
    if (!result)
        return -1;
    *id_out = dp_db_int64(result, 0, 0);
    PQclear(result);
    return 0;
}

/* The role, an enum, is the last column, read by name. */
static void *s_staff_row(dp_arena_t *arena, const PGresult *result, int row)
{
    static const char *const fields[] = {"id",           "login",           "name",
                                         "disabled",     "created_at",      "last_login_at",
                                         "locked_until", "active_sessions", NULL};
    Dp__StaffAccount *account =
        dp_db_message(arena, &dp__staff_account__descriptor, fields, result, row);
    if (account)
        account->role = strcmp(PQgetvalue(result, row, 8), "admin") == 0
                            ? DP__STAFF_ROLE__STAFF_ROLE_ADMIN
                            : DP__STAFF_ROLE__STAFF_ROLE_AGENT;
    return account;
}

int console_db_list_staff(dp_db_t *db, dp_arena_t *arena, const char *login,
                          const console_policy_t *policy, Dp__StaffAccount ***accounts,
                          size_t *count)
{
    char idle[16], absolute[16];
    snprintf(idle, sizeof idle, "%u", policy->idle_timeout_s);
    snprintf(absolute, sizeof absolute, "%u", policy->absolute_timeout_s);
    const char *params[] = {login ? login : "", idle, absolute};
    return dp_db_run_rows(db, STAFF_LIST, params, arena, s_staff_row, (void ***)accounts, count);
}

/* Changes one account and ends its sessions, in one transaction. */
typedef struct {
    int index;
    const char *const *params;
    const char *login;
    int changed;
} account_change_t;

static dp_txn_outcome_t s_change(dp_db_t *db, void *arg)
{
    account_change_t *change = arg;
    const char *login[] = {change->login};
    change->changed = dp_db_run_count(db, change->index, change->params);
    if (change->changed < 0 || dp_db_run_count(db, SESSION_END_LOGIN, login) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

static int s_change_account(dp_db_t *db, int index, const char *const *params, const char *login)
{
    account_change_t change = {index, params, login, 0};
    if (dp_db_transaction(db, s_change, &change) != 0)
        return -1;
    return change.changed > 0 ? 1 : 0;
}

int console_db_set_disabled(dp_db_t *db, const char *login, bool disabled)
{
    const char *params[] = {login, disabled ? "true" : "false"};
    return s_change_account(db, STAFF_DISABLE, params, login);
}

int console_db_set_password(dp_db_t *db, const char *login, const char *password_hash)
{
    const char *params[] = {login, password_hash};
    return s_change_account(db, STAFF_PASSWORD, params, login);
}

static void *s_name_row(dp_arena_t *arena, const PGresult *result, int row)
{
    return dp_db_text(arena, result, row, 0);
}

int console_db_staff_names(dp_db_t *db, dp_arena_t *arena, char ***names, size_t *count)
{
    return dp_db_run_rows(db, STAFF_NAMES, NULL, arena, s_name_row, (void ***)names, count);
}
