/* dp-migrate: applies the embedded schema migrations in order, each once,
   each in its own transaction, and records them in dp_meta.schema_migrations.
   Several copies may start at once (replicas): an advisory lock makes them
   take turns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_config.h"
#include "dp_db.h"
#include "dp_log.h"
#include "dp_migrations.h"

enum { LOCK, UNLOCK, IS_APPLIED, RECORD, LIST_APPLIED, SET_PASSWORD, STATEMENT_COUNT };

/* Any constant distinguishes this lock from others in the database. */
#define MIGRATION_LOCK_KEY "7101001"

static const dp_statement_t s_statements[] = {
    [LOCK] = {"lock", "SELECT pg_advisory_lock($1::bigint)", 1},
    [UNLOCK] = {"unlock", "SELECT pg_advisory_unlock($1::bigint)", 1},
    [IS_APPLIED] = {"is_applied", "SELECT 1 FROM dp_meta.schema_migrations WHERE version = $1", 1},
    [RECORD] = {"record", "INSERT INTO dp_meta.schema_migrations (version, name) VALUES ($1, $2)",
                2},
    [LIST_APPLIED] = {"list_applied",
                      "SELECT version, name, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS') "
                      "FROM dp_meta.schema_migrations ORDER BY version",
                      0},
    [SET_PASSWORD] = {"set_password", "SELECT dp_meta.set_login_password($1, $2)", 2},
};

static const char *s_bookkeeping = "CREATE SCHEMA IF NOT EXISTS dp_meta;"
                                   "CREATE TABLE IF NOT EXISTS dp_meta.schema_migrations ("
                                   "  version int PRIMARY KEY,"
                                   "  name text NOT NULL,"
                                   "  applied_at timestamptz NOT NULL DEFAULT now())";

static const dp_setting_t s_settings[] = {
    {"DP_DATABASE_URL", "", "connection as the database owner (empty: libpq's PG* variables)"},
    {"DP_DB_WAIT_MS", "30000", "how long to wait for PostgreSQL", true, 0, 3600000},
    {"DP_DB_PASSWORD_REGISTRY", "", "if set, the password of role dp_registry"},
    {"DP_DB_PASSWORD_INTAKE", "", "if set, the password of role dp_intake"},
    {"DP_DB_PASSWORD_NOTIFY", "", "if set, the password of role dp_notify"},
    {"DP_DB_PASSWORD_REPORT", "", "if set, the password of role dp_report"},
    {"DP_DB_PASSWORD_CONSOLE", "", "if set, the password of role dp_console"},
    {"DP_LOG_LEVEL", "info", "debug, info, warning or error"},
};

typedef struct {
    const dp_migration_t *migration; /* the one being applied */
    bool applied;                    /* it was applied by this run */
} apply_t;

static dp_txn_outcome_t s_apply_body(dp_db_t *db, void *arg)
{
    apply_t *apply = arg;
    apply->applied = false;
    char version[16];
    snprintf(version, sizeof version, "%d", apply->migration->version);
    const char *params[] = {version, apply->migration->name};
    PGresult *result = dp_db_run(db, IS_APPLIED, params);
    if (!result)
        return DP_TXN_FAILED;
    bool done = PQntuples(result) > 0;
    PQclear(result);
    if (done)
        return DP_TXN_COMMIT;
    if (dp_db_run_script(db, apply->migration->sql) != 0)
        return DP_TXN_FAILED;
    result = dp_db_run(db, RECORD, params);
    if (!result)
        return DP_TXN_FAILED;
    PQclear(result);
    apply->applied = true;
    return DP_TXN_COMMIT;
}

static int s_set_passwords(dp_db_t *db, const dp_config_t *config)
{
    static const char *roles[][2] = {{"dp_registry", "DP_DB_PASSWORD_REGISTRY"},
                                     {"dp_intake", "DP_DB_PASSWORD_INTAKE"},
                                     {"dp_notify", "DP_DB_PASSWORD_NOTIFY"},
                                     {"dp_report", "DP_DB_PASSWORD_REPORT"},
                                     {"dp_console", "DP_DB_PASSWORD_CONSOLE"}};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        const char *password = dp_config_get(config, roles[i][1]);
        if (!*password)
            continue;
        const char *params[] = {roles[i][0], password};
        PGresult *result = dp_db_run(db, SET_PASSWORD, params);
        if (!result) {
            dp_error("cannot set the password of %s: %s", roles[i][0], dp_db_failure_message(db));
            return -1;
        }
        PQclear(result);
        dp_info("password of %s set", roles[i][0]);
    }
    return 0;
}

static int s_up(dp_db_t *db, const dp_config_t *config)
{
    const char *key[] = {MIGRATION_LOCK_KEY};
    PGresult *result = dp_db_run(db, LOCK, key);
    if (!result)
        return -1;
    PQclear(result);
    int applied = 0, failed = 0;
    if (dp_db_run_script(db, s_bookkeeping) != 0)
        failed = 1;
    for (size_t i = 0; !failed && i < dp_migration_count; i++) {
        apply_t apply = {.migration = &dp_migrations[i]};
        if (dp_db_transaction(db, s_apply_body, &apply) != 0) {
            dp_error("migration %s failed: %s", dp_migrations[i].name, dp_db_failure_message(db));
            failed = 1;
        } else if (apply.applied) {
            dp_info("applied %s", dp_migrations[i].name);
            applied++;
        }
    }
    if (!failed && s_set_passwords(db, config) != 0)
        failed = 1;
    result = dp_db_run(db, UNLOCK, key);
    PQclear(result);
    if (!failed)
        dp_info("schema up to date: %d migration%s applied now, %zu known", applied,
                applied == 1 ? "" : "s", dp_migration_count);
    return failed ? -1 : 0;
}

static int s_status(dp_db_t *db)
{
    if (dp_db_run_script(db, s_bookkeeping) != 0)
        return -1;
    PGresult *result = dp_db_run(db, LIST_APPLIED, NULL);
    if (!result)
        return -1;
    for (size_t i = 0; i < dp_migration_count; i++) {
        const char *applied_at = "pending";
        for (int row = 0; row < PQntuples(result); row++)
            if (atoi(PQgetvalue(result, row, 0)) == dp_migrations[i].version)
                applied_at = PQgetvalue(result, row, 2);
        printf("%-40s %s\n", dp_migrations[i].name, applied_at);
    }
    PQclear(result);
    return 0;
}

int main(int argc, char **argv)
{
    dp_config_t *config = dp_config_new("dp-migrate", "applies the database migrations", s_settings,
                                        sizeof s_settings / sizeof s_settings[0]);
    if (!config)
        return 1;
    const char *command = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    int loaded = dp_config_load(config, command ? 1 : argc, argv);
    if (loaded != 0 || !command || (strcmp(command, "up") && strcmp(command, "status"))) {
        if (loaded == 0 || loaded == 1)
            printf("\nCommands:\n  up       apply every pending migration (idempotent)\n"
                   "  status   list migrations and when each was applied\n");
        dp_config_destroy(&config);
        return loaded == 1 ? 0 : 2;
    }
    dp_log_init("migrate", dp_config_get(config, "DP_LOG_LEVEL"));
    dp_db_t *db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-migrate", s_statements,
                            STATEMENT_COUNT);
    int outcome = -1;
    if (db && dp_db_connect(db, (int)dp_config_get_int(config, "DP_DB_WAIT_MS")) == 0)
        outcome = strcmp(command, "up") == 0 ? s_up(db, config) : s_status(db);
    else
        dp_error("cannot connect: %s", db ? dp_db_failure_message(db) : "out of memory");
    if (outcome != 0 && db && dp_db_failure(db) != DP_DB_OK)
        dp_error("%s", dp_db_failure_message(db));
    dp_db_destroy(&db);
    dp_config_destroy(&config);
    return outcome == 0 ? 0 : 1;
}
