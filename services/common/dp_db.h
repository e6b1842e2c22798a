/* PostgreSQL access for a service: a table of constant, prepared
   statements; parameters always travel apart from the SQL text;
   reconnection after a lost connection; a transaction helper that retries
   what is safe to retry; failures classified by SQLSTATE. */
#ifndef DP_DB_H
#define DP_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "dp_arena.h"
#include "dp_codec.h"

/* One row of a service's statement table. The SQL is a constant. */
typedef struct {
    const char *name; /* prepared statement name, unique in the table */
    const char *sql;  /* constant SQL with $1.. placeholders */
    int param_count;  /* number of placeholders */
} dp_statement_t;

typedef enum {
    DP_DB_OK = 0,
    DP_DB_UNIQUE_VIOLATION, /* 23505: see dp_db_failure_constraint */
    DP_DB_FOREIGN_KEY,      /* 23503 */
    DP_DB_CHECK_VIOLATION,  /* 23514, 23502 and other class 23 */
    DP_DB_RETRYABLE,        /* 40001 serialization failure, 40P01 deadlock */
    DP_DB_CONNECTION,       /* the connection is gone or the server is starting or stopping */
    DP_DB_INVALID_INPUT,    /* class 22: data exception */
    DP_DB_READ_ONLY,        /* 25006 */
    DP_DB_PERMISSION,       /* 42501 */
    DP_DB_LOGIN,            /* class 28, 3D000: the server refused this login (password, role,
                               pg_hba, database); trying again changes nothing until an
                               operator does */
    DP_DB_TIMEOUT,          /* 57014: cancelled, statement_timeout */
    DP_DB_RESOURCES,        /* class 53: disk full, out of memory, too many connections */
    DP_DB_OTHER             /* anything else: a defect or an operator's problem */
} dp_db_failure_t;

typedef struct _dp_db_t dp_db_t;

/* Makes a handle; does not connect yet. conninfo "" lets libpq read PG*
   variables. The statement table is borrowed and must outlive the handle. */
dp_db_t *dp_db_new(const char *conninfo, const char *application_name,
                   const dp_statement_t *statements, size_t statement_count);
void dp_db_destroy(dp_db_t **self_p);

/* Waits up to wait_ms for the server to accept connections (PQpingParams
   with a capped backoff), then connects. Returns 0 or -1. A refused login
   (DP_DB_LOGIN) is final: no wait, and later uses of the handle try again
   at most once per DP_DB_LOGIN_RETRY_MS instead of on every request. */
int dp_db_connect(dp_db_t *self, int wait_ms);

/* True when the last use of the connection succeeded or a reconnect did. */
bool dp_db_is_connected(dp_db_t *self);

/* Asks the server (reconnecting if needed); true when it answered. */
bool dp_db_check(dp_db_t *self);

/* Runs statement `index` of the table with text parameters (NULL is SQL
   NULL). Reconnects first when the connection was lost. Returns the result
   (PQclear it) for PGRES_TUPLES_OK or PGRES_COMMAND_OK, or NULL with the
   failure recorded. */
PGresult *dp_db_run(dp_db_t *self, int index, const char *const *params);
/* The same with explicit lengths and formats, for binary parameters. */
PGresult *dp_db_run_binary(dp_db_t *self, int index, const char *const *params, const int *lengths,
                           const int *formats);

/* Runs a constant script of several statements (a migration) through the
   simple query protocol. Returns 0, or -1 with the failure recorded. */
int dp_db_run_script(dp_db_t *self, const char *script);

/* Packs an event payload and runs `statement`, whose four parameters are
   event type, aggregate type, aggregate id and the payload (bytea). */
int dp_db_append_event(dp_db_t *self, int statement, const char *event_type,
                       const char *aggregate_type, const char *aggregate_id,
                       const ProtobufCMessage *payload);

/* LISTEN support: `listen_sql` is a constant "LISTEN channel". Returns 0
   or -1. Call again after a reconnect (dp_db_reconnect_count changes). */
int dp_db_listen(dp_db_t *self, const char *listen_sql);
/* The connection's socket for polling, or -1 when not connected. */
int dp_db_socket(dp_db_t *self);
/* Reads what arrived on the socket and counts the notifications in it
   (dropping their payloads). Returns -1 when the connection is lost. */
int dp_db_drain_notifications(dp_db_t *self);

/* Outcome of a transaction body. */
typedef enum {
    DP_TXN_COMMIT = 0,   /* commit what was done */
    DP_TXN_ROLLBACK = 1, /* roll back: the body has recorded its own error */
    DP_TXN_FAILED = -1   /* a dp_db_run call failed: roll back, maybe retry */
} dp_txn_outcome_t;

/* A transaction body. It may run more than once, so it must reset what it
   writes to `arg` on entry. */
typedef dp_txn_outcome_t(dp_txn_body_fn)(dp_db_t *db, void *arg);

/* BEGIN; body; COMMIT. Retries up to 3 times when the body fails with a
   serialization failure or deadlock, or when the connection was lost before
   COMMIT was sent. Returns 0 when committed, 1 when the body chose to roll
   back, -1 on a database failure (see dp_db_failure). */
int dp_db_transaction(dp_db_t *self, dp_txn_body_fn *body, void *arg);

/* The last failure, its SQLSTATE, message and constraint (borrowed, "" when none). */
dp_db_failure_t dp_db_failure(const dp_db_t *self);
const char *dp_db_failure_sqlstate(const dp_db_t *self);
const char *dp_db_failure_message(const dp_db_t *self);
const char *dp_db_failure_constraint(const dp_db_t *self);

/* Maps a failure to a reply status a client can act on: UNAVAILABLE for a
   lost connection, ABORTED when retries ran out, PERMISSION_DENIED,
   FAILED_PRECONDITION for a refused login (the service's configuration),
   DEADLINE_EXCEEDED for a cancelled statement, RESOURCE_EXHAUSTED for the
   server's resources, INTERNAL for the rest. */
Dp__Code dp_db_failure_code(const dp_db_t *self);
Dp__Code dp_db_failure_code_of(dp_db_failure_t failure);

/* Classifies an SQLSTATE (exposed for unit tests). */
dp_db_failure_t dp_db_classify_sqlstate(const char *sqlstate);

/* The SQLSTATE of a failed connection attempt, from libpq's message (libpq
   keeps the server's SQLSTATE of a refused login to itself): 28P01 for a
   wrong password, 28000 for another refused authentication or an unknown
   role, 3D000 for an unknown database, 53300 for too many connections,
   57P03 for a server starting or stopping, else 08006. Writes 6 bytes. */
void dp_db_connect_sqlstate(const char *message, char sqlstate[6]);

/* After a refused login, how long uses of the handle answer with that
   failure before trying to log in again. */
enum { DP_DB_LOGIN_RETRY_MS = 5000 };

/* Runs a statement and returns the rows it returned or touched, or -1. */
int dp_db_run_count(dp_db_t *self, int index, const char *const *params);

/* Reading result cells: text copied into the arena, numbers, and a
   comma-separated list of slugs split into an arena array. */
char *dp_db_text(dp_arena_t *arena, const PGresult *result, int row, int column);
int64_t dp_db_int64(const PGresult *result, int row, int column);
uint64_t dp_db_uint64(const PGresult *result, int row, int column);
char **dp_db_split_list(dp_arena_t *arena, const char *text, size_t *count);

/* Row `row` of result as a message of `type` in the arena: column i sets
   the field named fields[i] (the list ends with NULL), read as that field's
   type (text; signed or unsigned numbers of 32 or 64 bits; bool from "t").
   For rows whose columns are the message's plain fields; a field of another
   type, or a name the message lacks, is a programming error. NULL when the
   arena is full. */
void *dp_db_message(dp_arena_t *arena, const ProtobufCMessageDescriptor *type,
                    const char *const *fields, const PGresult *result, int row);

/* Makes one object in the arena from row `row` of result; NULL when the
   arena is full. */
typedef void *(dp_db_row_fn)(dp_arena_t *arena, const PGresult *result, int row);
/* Runs statement `index` and makes an arena array of one object per row
   (*items, *count). Returns 1, or -1 on a database failure or when the
   arena is full. */
int dp_db_run_rows(dp_db_t *self, int index, const char *const *params, dp_arena_t *arena,
                   dp_db_row_fn *make, void ***items, size_t *count);
/* The same over a result in hand, which it clears. */
int dp_db_rows(PGresult *result, dp_arena_t *arena, dp_db_row_fn *make, void ***items,
               size_t *count);

/* The object made from a result of at most one row (which it clears): 1
   with *item set, 0 with *item NULL when there is no row, -1 when the
   arena is full. */
int dp_db_one(PGresult *result, dp_arena_t *arena, dp_db_row_fn *make, void **item);
/* The same after running statement `index`; -1 on a database failure too. */
int dp_db_run_one(dp_db_t *self, int index, const char *const *params, dp_arena_t *arena,
                  dp_db_row_fn *make, void **item);

/* Runs statement `index` and copies the first `count` cells of its one row
   into the arena, cell i to *texts[i]: 1, 0 when it returned no row (the
   texts untouched), -1 on a database failure. */
int dp_db_run_texts(dp_db_t *self, int index, const char *const *params, dp_arena_t *arena,
                    char **const *texts, int count);

/* Counters for health and metrics: reconnections after a lost connection,
   and transactions run again after a serialization failure, a deadlock or
   a connection lost before COMMIT. */
unsigned long dp_db_reconnect_count(const dp_db_t *self);
unsigned long dp_db_retry_count(const dp_db_t *self);

#endif
