#include "dp_db.h"

#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_log.h"

enum { MAX_ATTEMPTS = 3 };

struct _dp_db_t {
    char *conninfo;                   /* as configured; "" for PG* variables */
    char *application_name;           /* shown in pg_stat_activity */
    const dp_statement_t *statements; /* the service's SQL, borrowed */
    size_t statement_count;           /* rows in statements */
    bool *prepared;                   /* which statements this connection has prepared */
    PGconn *conn;                     /* NULL until connected */
    dp_db_failure_t failure;          /* classification of the last failure */
    char sqlstate[6];                 /* SQLSTATE of the last failure, or "" */
    char message[512];                /* message of the last failure */
    char constraint[64];              /* constraint named by the last failure */
    unsigned long reconnects;         /* successful reconnections after a loss */
    unsigned long retries;            /* transactions run again (dp_db_retry_count) */
    bool was_connected;               /* a connection has been made before */
    int64_t login_refused_at;         /* zclock_mono of the last refused login, 0 when none */
    char login_sqlstate[6];           /* its SQLSTATE, answered until DP_DB_LOGIN_RETRY_MS */
    char login_message[512];          /* its message */
};

dp_db_t *dp_db_new(const char *conninfo, const char *application_name,
                   const dp_statement_t *statements, size_t statement_count)
{
    dp_db_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->conninfo = strdup(conninfo ? conninfo : "");
    self->application_name = strdup(application_name ? application_name : "dp");
    self->statements = statements;
    self->statement_count = statement_count;
    self->prepared = calloc(statement_count ? statement_count : 1, sizeof(bool));
    if (!self->conninfo || !self->application_name || !self->prepared)
        dp_db_destroy(&self);
    return self;
}

void dp_db_destroy(dp_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dp_db_t *self = *self_p;
    if (self->conn)
        PQfinish(self->conn);
    free(self->conninfo);
    free(self->application_name);
    free(self->prepared);
    free(self);
    *self_p = NULL;
}

dp_db_failure_t dp_db_classify_sqlstate(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5)
        return DP_DB_CONNECTION;
    if (strcmp(sqlstate, "23505") == 0)
        return DP_DB_UNIQUE_VIOLATION;
    if (strcmp(sqlstate, "23503") == 0)
        return DP_DB_FOREIGN_KEY;
    if (strncmp(sqlstate, "23", 2) == 0)
        return DP_DB_CHECK_VIOLATION;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
        return DP_DB_RETRYABLE;
    /* 28: invalid authorization (wrong password, unknown role, no pg_hba
       entry); 3D000: no such database. Waiting does not fix them. */
    if (strncmp(sqlstate, "28", 2) == 0 || strcmp(sqlstate, "3D000") == 0)
        return DP_DB_LOGIN;
    /* A protocol violation is a defect on one side, not a lost connection:
       reconnecting and running the same thing again would repeat it. */
    if (strcmp(sqlstate, "08P01") == 0)
        return DP_DB_OTHER;
    /* 08: connection exception; 57P01..57P03: admin shutdown, crash shutdown, cannot connect now */
    if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
        strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0)
        return DP_DB_CONNECTION;
    if (strncmp(sqlstate, "22", 2) == 0)
        return DP_DB_INVALID_INPUT;
    if (strcmp(sqlstate, "25006") == 0)
        return DP_DB_READ_ONLY;
    if (strcmp(sqlstate, "42501") == 0)
        return DP_DB_PERMISSION;
    if (strcmp(sqlstate, "57014") == 0)
        return DP_DB_TIMEOUT;
    if (strncmp(sqlstate, "53", 2) == 0)
        return DP_DB_RESOURCES;
    return DP_DB_OTHER;
}

void dp_db_connect_sqlstate(const char *message, char sqlstate[6])
{
    /* The server's texts (backend/libpq/auth.c, postinit.c) in its default
       language; a server set to another lc_messages falls back to 08006,
       a connection failure, which is what every failure was before. */
    static const struct {
        const char *text;
        const char *sqlstate;
    } known[] = {
        {"password authentication failed", "28P01"},
        {"authentication failed", "28000"},
        {"no pg_hba.conf entry", "28000"},
        {"pg_hba.conf rejects connection", "28000"},
        {"SCRAM authentication", "28000"},
        {"SSL authentication", "28000"},
        {"fe_sendauth: no password supplied", "28P01"},
        {"is not permitted to log in", "28000"},
        {"\" does not exist", ""}, /* role or database: told apart below */
        {"too many clients already", "53300"},
        {"remaining connection slots are reserved", "53300"},
        {"the database system is starting up", "57P03"},
        {"the database system is shutting down", "57P03"},
        {"the database system is in recovery mode", "57P03"},
    };
    snprintf(sqlstate, 6, "08006");
    if (!message)
        return;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!strstr(message, known[i].text))
            continue;
        if (*known[i].sqlstate)
            snprintf(sqlstate, 6, "%s", known[i].sqlstate);
        else if (strstr(message, "FATAL:  database \"") || strstr(message, "FATAL: database \""))
            snprintf(sqlstate, 6, "3D000");
        else if (strstr(message, "FATAL:  role \"") || strstr(message, "FATAL: role \""))
            snprintf(sqlstate, 6, "28000");
        else
            continue;
        return;
    }
}

/* Ends the text before its first DETAIL line: PostgreSQL puts row data
   there ("Key (email)=(...) already exists", the failing row of a check),
   and the message goes to logs and, for staff, into replies. What follows
   DETAIL (HINT, CONTEXT) may quote data too, so it goes as well. */
static void s_cut_detail(char *message)
{
    char *detail = strstr(message, "DETAIL:");
    while (detail && detail != message && detail[-1] != '\n')
        detail = strstr(detail + 1, "DETAIL:");
    if (detail)
        *detail = '\0';
}

static void s_set_failure(dp_db_t *self, dp_db_failure_t failure, const char *sqlstate,
                          const char *message, const char *constraint)
{
    self->failure = failure;
    snprintf(self->sqlstate, sizeof self->sqlstate, "%s", sqlstate ? sqlstate : "");
    snprintf(self->message, sizeof self->message, "%s", message ? message : "");
    s_cut_detail(self->message);
    size_t length = strlen(self->message);
    while (length && (self->message[length - 1] == '\n' || self->message[length - 1] == ' '))
        self->message[--length] = 0;
    snprintf(self->constraint, sizeof self->constraint, "%s", constraint ? constraint : "");
}

static void s_record_result_failure(dp_db_t *self, const PGresult *result)
{
    const char *sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    const char *message = result ? PQresultErrorMessage(result) : PQerrorMessage(self->conn);
    dp_db_failure_t failure = dp_db_classify_sqlstate(sqlstate);
    if (PQstatus(self->conn) != CONNECTION_OK)
        failure = DP_DB_CONNECTION;
    s_set_failure(self, failure, sqlstate, message,
                  result ? PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME) : NULL);
}

static void s_disconnect(dp_db_t *self)
{
    if (self->conn)
        PQfinish(self->conn);
    self->conn = NULL;
    memset(self->prepared, 0, self->statement_count * sizeof(bool));
}

/* Server notices ("relation already exists, skipping") go to the debug log. */
static void s_notice(void *arg, const char *message)
{
    char text[1024];
    snprintf(text, sizeof text, "%s", message ? message : "");
    s_cut_detail(text);
    dp_debug("PostgreSQL: %s", text);
}

/* Records why a connection attempt failed. A refused login is kept and
   answered for DP_DB_LOGIN_RETRY_MS (a service whose password is wrong
   does not knock on every request); anything else is a connection that
   is not there yet. */
static void s_record_connect_failure(dp_db_t *self, const char *message)
{
    char sqlstate[6];
    dp_db_connect_sqlstate(message, sqlstate);
    dp_db_failure_t failure = dp_db_classify_sqlstate(sqlstate);
    if (failure != DP_DB_LOGIN) {
        s_set_failure(self, DP_DB_CONNECTION, sqlstate, message, NULL);
        return;
    }
    s_set_failure(self, DP_DB_LOGIN, sqlstate, message, NULL);
    if (!self->login_refused_at)
        dp_error("PostgreSQL refused the login (%s): %s", self->sqlstate, self->message);
    self->login_refused_at = zclock_mono();
    memcpy(self->login_sqlstate, self->sqlstate, sizeof self->login_sqlstate);
    memcpy(self->login_message, self->message, sizeof self->login_message);
}

/* One attempt to open a connection, bounded by a short connect_timeout. */
static int s_open(dp_db_t *self)
{
    s_disconnect(self);
    if (self->login_refused_at && zclock_mono() - self->login_refused_at < DP_DB_LOGIN_RETRY_MS) {
        s_set_failure(self, DP_DB_LOGIN, self->login_sqlstate, self->login_message, NULL);
        return -1;
    }
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *values[] = {self->conninfo, self->application_name, "3", NULL};
    /* expand_dbname lets conninfo be a full connection string or URI. */
    self->conn = PQconnectdbParams(keys, values, 1);
    if (!self->conn || PQstatus(self->conn) != CONNECTION_OK) {
        s_record_connect_failure(self, self->conn ? PQerrorMessage(self->conn) : "out of memory");
        s_disconnect(self);
        return -1;
    }
    self->login_refused_at = 0;
    PQsetNoticeProcessor(self->conn, s_notice, NULL);
    if (self->was_connected) {
        self->reconnects++;
        dp_info("reconnected to PostgreSQL");
    }
    self->was_connected = true;
    /* Durability is not a per-session choice: every commit waits for the WAL flush. */
    PGresult *result = PQexec(self->conn, "SET synchronous_commit = on; SET TimeZone = 'UTC'");
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!ok) {
        s_record_result_failure(self, NULL);
        s_disconnect(self);
        return -1;
    }
    return 0;
}

int dp_db_connect(dp_db_t *self, int wait_ms)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *values[] = {self->conninfo, "3", NULL};
    int64_t deadline = zclock_mono() + wait_ms;
    int backoff_ms = 50;
    while (true) {
        PGPing ping = PQpingParams(keys, values, 1);
        if (ping == PQPING_OK || ping == PQPING_NO_ATTEMPT)
            return s_open(self);
        if (zclock_mono() + backoff_ms > deadline) {
            s_set_failure(self, DP_DB_CONNECTION, "08006", "PostgreSQL did not accept connections",
                          NULL);
            return -1;
        }
        zclock_sleep(backoff_ms);
        backoff_ms = backoff_ms * 2 > 1000 ? 1000 : backoff_ms * 2;
    }
}

bool dp_db_is_connected(dp_db_t *self)
{
    return self->conn && PQstatus(self->conn) == CONNECTION_OK;
}

bool dp_db_check(dp_db_t *self)
{
    if (!dp_db_is_connected(self) && s_open(self) != 0)
        return false;
    PGresult *result = PQexec(self->conn, "SELECT 1");
    bool ok = PQresultStatus(result) == PGRES_TUPLES_OK;
    if (!ok) {
        s_record_result_failure(self, result);
        if (self->failure == DP_DB_CONNECTION)
            s_disconnect(self);
    }
    PQclear(result);
    return ok;
}

static int s_ensure_prepared(dp_db_t *self, int index)
{
    if (self->prepared[index])
        return 0;
    const dp_statement_t *statement = &self->statements[index];
    PGresult *result =
        PQprepare(self->conn, statement->name, statement->sql, statement->param_count, NULL);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        s_record_result_failure(self, result);
        dp_error("cannot prepare %s: %s", statement->name, self->message);
        PQclear(result);
        return -1;
    }
    PQclear(result);
    self->prepared[index] = true;
    return 0;
}

PGresult *dp_db_run_binary(dp_db_t *self, int index, const char *const *params, const int *lengths,
                           const int *formats)
{
    if (index < 0 || (size_t)index >= self->statement_count) {
        s_set_failure(self, DP_DB_OTHER, "", "no such statement", NULL);
        return NULL;
    }
    if (!dp_db_is_connected(self) && s_open(self) != 0)
        return NULL;
    if (s_ensure_prepared(self, index) != 0)
        return NULL;
    const dp_statement_t *statement = &self->statements[index];
    PGresult *result = PQexecPrepared(self->conn, statement->name, statement->param_count, params,
                                      lengths, formats, 0);
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        self->failure = DP_DB_OK;
        return result;
    }
    s_record_result_failure(self, result);
    PQclear(result);
    if (self->failure == DP_DB_CONNECTION)
        s_disconnect(self);
    return NULL;
}

PGresult *dp_db_run(dp_db_t *self, int index, const char *const *params)
{
    return dp_db_run_binary(self, index, params, NULL, NULL);
}

int dp_db_run_count(dp_db_t *self, int index, const char *const *params)
{
    PGresult *result = dp_db_run(self, index, params);
    if (!result)
        return -1;
    int rows =
        PQresultStatus(result) == PGRES_TUPLES_OK ? PQntuples(result) : atoi(PQcmdTuples(result));
    PQclear(result);
    return rows;
}

char *dp_db_text(dp_arena_t *arena, const PGresult *result, int row, int column)
{
    return dp_arena_strdup(arena, PQgetvalue(result, row, column));
}

int64_t dp_db_int64(const PGresult *result, int row, int column)
{
    return strtoll(PQgetvalue(result, row, column), NULL, 10);
}

uint64_t dp_db_uint64(const PGresult *result, int row, int column)
{
    return strtoull(PQgetvalue(result, row, column), NULL, 10);
}

char **dp_db_split_list(dp_arena_t *arena, const char *text, size_t *count)
{
    *count = 0;
    if (!*text)
        return NULL;
    size_t parts = 1;
    for (const char *p = text; *p; p++)
        parts += *p == ',';
    char **items = (char **)dp_arena_array(arena, parts);
    char *copy = dp_arena_strdup(arena, text);
    if (!items || !copy)
        return NULL;
    char *saveptr = NULL;
    for (char *item = strtok_r(copy, ",", &saveptr); item; item = strtok_r(NULL, ",", &saveptr))
        items[(*count)++] = item;
    return items;
}

void *dp_db_message(dp_arena_t *arena, const ProtobufCMessageDescriptor *type,
                    const char *const *fields, const PGresult *result, int row)
{
    ProtobufCMessage *message = dp_arena_alloc(arena, type->sizeof_message);
    if (!message)
        return NULL;
    protobuf_c_message_init(type, message);
    for (int column = 0; fields[column]; column++) {
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name(type, fields[column]);
        assert(field && field->label != PROTOBUF_C_LABEL_REPEATED);
        void *member = (char *)message + field->offset;
        const char *value = PQgetvalue(result, row, column);
        switch (field->type) {
        case PROTOBUF_C_TYPE_STRING:
            *(char **)member = dp_arena_strdup(arena, value);
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            *(int64_t *)member = strtoll(value, NULL, 10);
            break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            *(uint64_t *)member = strtoull(value, NULL, 10);
            break;
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            *(int32_t *)member = (int32_t)strtoll(value, NULL, 10);
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            *(uint32_t *)member = (uint32_t)strtoull(value, NULL, 10);
            break;
        case PROTOBUF_C_TYPE_BOOL:
            *(protobuf_c_boolean *)member = strcmp(value, "t") == 0;
            break;
        default:
            assert(!"dp_db_message: a field of a type it does not read");
        }
    }
    return message;
}

int dp_db_rows(PGresult *result, dp_arena_t *arena, dp_db_row_fn *make, void ***items,
               size_t *count)
{
    int rows = PQntuples(result);
    *count = 0;
    *items = dp_arena_array(arena, (size_t)rows);
    for (int row = 0; *items && row < rows; row++) {
        void *item = make(arena, result, row);
        if (!item)
            break;
        (*items)[(*count)++] = item;
    }
    PQclear(result);
    return *count == (size_t)rows ? 1 : -1;
}

int dp_db_run_rows(dp_db_t *self, int index, const char *const *params, dp_arena_t *arena,
                   dp_db_row_fn *make, void ***items, size_t *count)
{
    PGresult *result = dp_db_run(self, index, params);
    if (!result)
        return -1;
    return dp_db_rows(result, arena, make, items, count);
}

int dp_db_one(PGresult *result, dp_arena_t *arena, dp_db_row_fn *make, void **item)
{
    int found = PQntuples(result) == 1;
    *item = found ? make(arena, result, 0) : NULL;
    PQclear(result);
    return found && !*item ? -1 : found;
}

int dp_db_run_one(dp_db_t *self, int index, const char *const *params, dp_arena_t *arena,
                  dp_db_row_fn *make, void **item)
{
    PGresult *result = dp_db_run(self, index, params);
    return result ? dp_db_one(result, arena, make, item) : -1;
}

int dp_db_run_texts(dp_db_t *self, int index, const char *const *params, dp_arena_t *arena,
                    char **const *texts, int count)
{
    PGresult *result = dp_db_run(self, index, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    for (int i = 0; found && i < count; i++)
        *texts[i] = dp_db_text(arena, result, 0, i);
    PQclear(result);
    return found;
}

int dp_db_append_event(dp_db_t *self, int statement, const char *event_type,
                       const char *aggregate_type, const char *aggregate_id,
                       const ProtobufCMessage *payload)
{
    size_t size = 0;
    unsigned char *packed = dp_message_pack(payload, &size);
    if (!packed) {
        s_set_failure(self, DP_DB_OTHER, "", "out of memory", NULL);
        return -1;
    }
    const char *params[] = {event_type, aggregate_type, aggregate_id, (const char *)packed};
    const int lengths[] = {0, 0, 0, (int)size};
    const int formats[] = {0, 0, 0, 1};
    PGresult *result = dp_db_run_binary(self, statement, params, lengths, formats);
    free(packed);
    if (!result)
        return -1;
    PQclear(result);
    return 0;
}

static int s_command(dp_db_t *self, const char *command);

int dp_db_listen(dp_db_t *self, const char *listen_sql)
{
    return s_command(self, listen_sql);
}

int dp_db_socket(dp_db_t *self)
{
    return dp_db_is_connected(self) ? PQsocket(self->conn) : -1;
}

int dp_db_drain_notifications(dp_db_t *self)
{
    if (!dp_db_is_connected(self))
        return -1;
    if (!PQconsumeInput(self->conn)) {
        s_set_failure(self, DP_DB_CONNECTION, "08006", PQerrorMessage(self->conn), NULL);
        s_disconnect(self);
        return -1;
    }
    int count = 0;
    PGnotify *notification;
    while ((notification = PQnotifies(self->conn)) != NULL) {
        PQfreemem(notification);
        count++;
    }
    return count;
}

/* Runs a transaction-control command; 0 on success. */
static int s_command(dp_db_t *self, const char *command)
{
    if (!dp_db_is_connected(self) && s_open(self) != 0)
        return -1;
    PGresult *result = PQexec(self->conn, command);
    if (PQresultStatus(result) == PGRES_COMMAND_OK) {
        PQclear(result);
        return 0;
    }
    s_record_result_failure(self, result);
    PQclear(result);
    if (self->failure == DP_DB_CONNECTION)
        s_disconnect(self);
    return -1;
}

int dp_db_run_script(dp_db_t *self, const char *script)
{
    return s_command(self, script);
}

static void s_rollback(dp_db_t *self)
{
    if (!dp_db_is_connected(self))
        return;
    /* Keep the body's failure: the rollback's own outcome is not the news. */
    PGresult *result = PQexec(self->conn, "ROLLBACK");
    PQclear(result);
}

int dp_db_transaction(dp_db_t *self, dp_txn_body_fn *body, void *arg)
{
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        if (s_command(self, "BEGIN") != 0) {
            if (self->failure == DP_DB_CONNECTION && attempt < MAX_ATTEMPTS) {
                self->retries++;
                continue;
            }
            return -1;
        }
        dp_txn_outcome_t outcome = body(self, arg);
        if (outcome == DP_TXN_ROLLBACK) {
            s_rollback(self);
            self->failure = DP_DB_OK;
            return 1;
        }
        if (outcome == DP_TXN_FAILED) {
            dp_db_failure_t failure = self->failure;
            s_rollback(self);
            /* Nothing was committed, so a retry cannot write anything twice. */
            if ((failure == DP_DB_RETRYABLE || failure == DP_DB_CONNECTION) &&
                attempt < MAX_ATTEMPTS) {
                dp_warning("transaction attempt %d failed (%s), retrying", attempt, self->sqlstate);
                self->retries++;
                continue;
            }
            return -1;
        }
        if (s_command(self, "COMMIT") == 0)
            return 0;
        /* A serialization failure at COMMIT rolled back; a lost connection
           leaves the outcome unknown, so it is reported, not retried. */
        if (self->failure == DP_DB_RETRYABLE && attempt < MAX_ATTEMPTS) {
            self->retries++;
            continue;
        }
        if (self->failure == DP_DB_CONNECTION)
            snprintf(self->message, sizeof self->message,
                     "connection lost during COMMIT: the outcome is not known");
        return -1;
    }
    return -1;
}

dp_db_failure_t dp_db_failure(const dp_db_t *self)
{
    return self->failure;
}

const char *dp_db_failure_sqlstate(const dp_db_t *self)
{
    return self->sqlstate;
}

const char *dp_db_failure_message(const dp_db_t *self)
{
    return self->message;
}

const char *dp_db_failure_constraint(const dp_db_t *self)
{
    return self->constraint;
}

Dp__Code dp_db_failure_code_of(dp_db_failure_t failure)
{
    switch (failure) {
    case DP_DB_CONNECTION:
        return DP__CODE__CODE_UNAVAILABLE;
    case DP_DB_RETRYABLE:
        return DP__CODE__CODE_ABORTED;
    case DP_DB_PERMISSION:
        return DP__CODE__CODE_PERMISSION_DENIED;
    case DP_DB_LOGIN:
        /* Not UNAUTHENTICATED: the caller authenticated fine; it is this
           service's own login that an operator must fix. */
        return DP__CODE__CODE_FAILED_PRECONDITION;
    case DP_DB_TIMEOUT:
        return DP__CODE__CODE_DEADLINE_EXCEEDED;
    case DP_DB_RESOURCES:
        return DP__CODE__CODE_RESOURCE_EXHAUSTED;
    default:
        return DP__CODE__CODE_INTERNAL;
    }
}

Dp__Code dp_db_failure_code(const dp_db_t *self)
{
    return dp_db_failure_code_of(self->failure);
}

unsigned long dp_db_reconnect_count(const dp_db_t *self)
{
    return self->reconnects;
}

unsigned long dp_db_retry_count(const dp_db_t *self)
{
    return self->retries;
}
