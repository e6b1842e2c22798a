/* Test support: the environment that scripts/test exports, a fresh database
   per test program, the registry actor started inside the test process, a
   typed call per request type, admin queries and subprocesses.

   Every helper that cannot do its job fails loudly: the ones used before the
   tests run print what is missing and exit(1); the ones used inside a cmocka
   test fail that test. Nothing is skipped. */
#ifndef TEST_SUPPORT_H
#define TEST_SUPPORT_H

#include <czmq.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dp_codec.h"
#include "envelope.pb-c.h"
#include "events.pb-c.h"
#include "registry.pb-c.h"
#include "service_support.h"

/* ---- Environment --------------------------------------------------------- */

/* The value of a variable that scripts/test exports; prints which one is
   missing and exits 1 when it is unset or empty. */
const char *ts_require_env(const char *name);

/* ---- A fresh database ---------------------------------------------------- */

/* The roles a database URL can be made for. */
typedef enum {
    TS_ROLE_ADMIN = 0, /* superuser, from DP_TEST_ADMIN_URL */
    TS_ROLE_REGISTRY,  /* dp_registry, from DP_TEST_REGISTRY_URL */
    TS_ROLE_INTAKE,    /* dp_intake, from DP_TEST_INTAKE_URL */
    TS_ROLE_NOTIFY,    /* dp_notify, from DP_TEST_NOTIFY_URL */
    TS_ROLE_REPORT,    /* dp_report, from DP_TEST_REPORT_URL */
    TS_ROLE_COUNT
} ts_role_t;

typedef struct _ts_database_t ts_database_t;

/* Creates a database with a unique name (from `label`, e.g. "partners") on
   the test cluster and migrates it with dp-migrate. Exits 1 on failure. */
ts_database_t *ts_database_new(const char *label);
/* Drops the database (closing its sessions); safe to call twice. */
void ts_database_destroy(ts_database_t **self_p);
const char *ts_database_name(const ts_database_t *self);
/* A postgresql:// URL for the role on this database (borrowed). */
const char *ts_database_url(const ts_database_t *self, ts_role_t role);

/* Returns url with its database replaced by dbname, as a postgresql:// URL;
   NULL when url does not parse. The caller frees. */
char *ts_url_with_dbname(const char *url, const char *dbname);

/* ---- Processes ----------------------------------------------------------- */

/* The output of a finished subprocess. */
typedef struct {
    int exit_code; /* exit status, or -1 when it was killed or timed out */
    char *out;     /* everything it wrote to stdout (NUL-terminated) */
    char *err;     /* everything it wrote to stderr (NUL-terminated) */
} ts_process_t;

/* The environment of a child: ours, with env's "NAME=value" strings added
   or replacing ours. Build it before fork: between fork and exec in a
   threaded process only async-signal-safe calls are allowed. Free the
   array (not the strings). */
char **ts_child_environment(const char *const *env);
/* In a child after fork: standard input from /dev/null, then argv run
   with envp; when it cannot be run, says so on standard error (naming
   who) and exits 127. Never returns. */
_Noreturn void ts_child_exec(const char *const *argv, char **envp, const char *who);
/* Runs argv[0] (a path) with extra environment "NAME=value" strings (NULL-
   terminated list, may be NULL), kills it after timeout_ms. */
ts_process_t ts_run(const char *const *argv, const char *const *env, int timeout_ms);
/* Starts argv[0] in the background with the extra environment (as ts_run);
   it shares our stdout and stderr and is killed when this process dies.
   Returns its pid, or -1. */
pid_t ts_spawn(const char *const *argv, const char *const *env);
/* Sends signal_number to a child from ts_spawn and reaps it, waiting at
   most timeout_ms (then SIGKILL). Returns its waitpid status, or -1 when it
   had to be killed or could not be reaped. */
int ts_child_stop(pid_t pid, int signal_number, int timeout_ms);
/* Runs a shell command line with /bin/sh -c. */
ts_process_t ts_run_shell(const char *command, int timeout_ms);
void ts_process_free(ts_process_t *process);

/* Runs $DP_BUILD_DIR/services/migrate/dp-migrate up against url. */
ts_process_t ts_run_migrate(const char *url);

/* ---- Admin queries ------------------------------------------------------- */

/* Connects or exits 1 (used during setup). */
PGconn *ts_connect_or_exit(const char *url);
/* Runs constant SQL with text parameters; fails the current test unless the
   result is TUPLES_OK or COMMAND_OK. The caller PQclears. */
PGresult *ts_query(PGconn *conn, const char *sql, int param_count, const char *const *params);
/* Runs constant SQL that must fail, and returns its SQLSTATE ("" if it did
   not fail). */
char *ts_query_error(PGconn *conn, const char *sql, int param_count, const char *const *params);
/* First column of the first row as a number; fails the test otherwise. */
long long ts_query_long(PGconn *conn, const char *sql, int param_count, const char *const *params);
/* First column of the first row as text (the caller frees). */
char *ts_query_text(PGconn *conn, const char *sql, int param_count, const char *const *params);

/* A digest of every row of these tables (NULL-terminated names) of the
   schema; equal before and after a request exactly when it changed none
   of their rows. The caller frees. */
char *ts_tables_fingerprint(PGconn *conn, const char *schema, const char *const *tables);
/* A digest of every row of every registry table; equal before and after a
   request exactly when the request changed nothing. The caller frees. */
char *ts_registry_fingerprint(PGconn *conn);
/* The highest id in the outbox of schema ("registry", "intake"; 0 when
   empty), and the rows there with id > after_id. */
long long ts_schema_outbox_last_id(PGconn *conn, const char *schema);
long long ts_schema_outbox_count_after(PGconn *conn, const char *schema, long long after_id);
/* The same for the registry's outbox. */
long long ts_outbox_last_id(PGconn *conn);
long long ts_outbox_count_after(PGconn *conn, long long after_id);

/* One outbox row. */
typedef struct {
    char *event_type;       /* e.g. "partner.joined" */
    char *aggregate_type;   /* e.g. "partner" */
    char *aggregate_id;     /* the partner's id as text, or an area's slug */
    unsigned char *payload; /* the serialised event */
    size_t payload_size;    /* bytes in payload */
} ts_event_t;

/* Every row of schema's outbox after after_id, oldest first; *count rows.
   Free with ts_events_free. */
ts_event_t **ts_schema_events_after(PGconn *conn, const char *schema, long long after_id,
                                    size_t *count);
void ts_events_free(ts_event_t ***events_p, size_t count);
/* Fails the test unless exactly one row was written to schema's outbox
   after after_id, with this event type, aggregate type (NULL: any) and
   aggregate id (NULL: any); returns it (free with ts_event_free). */
ts_event_t *ts_expect_one_event_in_at(PGconn *conn, const char *schema, long long after_id,
                                      const char *event_type, const char *aggregate_type,
                                      const char *aggregate_id, const char *file, int line);
/* The same in the registry's outbox, any aggregate type. */
ts_event_t *ts_expect_one_event_at(PGconn *conn, long long after_id, const char *event_type,
                                   const char *aggregate_id, const char *file, int line);
#define ts_expect_one_event(conn, after_id, event_type, aggregate_id)                              \
    ts_expect_one_event_at(conn, after_id, event_type, aggregate_id, __FILE__, __LINE__)
void ts_event_free(ts_event_t **event_p);
/* True when needle occurs in the payload. */
bool ts_event_mentions(const ts_event_t *event, const char *needle);

/* ---- The registry service ------------------------------------------------ */

/* The registry as the generic fixture starts it (service_support.h). */
typedef tf_service_t ts_registry_t;

/* Starts the registry actor on tcp://127.0.0.1:* against database_url (as
   dp_registry), with extra settings as "NAME", "value" pairs ending in NULL.
   Returns NULL after printing why when it cannot start. */
ts_registry_t *ts_registry_start(const char *database_url, const char *const *settings);
void ts_registry_stop(ts_registry_t **self_p);
/* The bound endpoint, e.g. "tcp://127.0.0.1:41234" (borrowed). */
const char *ts_registry_endpoint(const ts_registry_t *self);
/* Sets the client's wait per request (default 15 s). */
void ts_registry_set_timeout(ts_registry_t *self, int timeout_ms);

/* Sends any request and waits for the reply. Returns the decoded reply when
   the status is OK, else NULL; *status holds the verdict either way. Fails
   the test when no reply comes within the timeout. */
ProtobufCMessage *ts_call(ts_registry_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status);

/* A typed call per request type: Dp__XReply *ts_x (registry, request, status). */
#define TS_REGISTRY_CALLS(X)                                                                       \
    X(CreatePartner, create_partner)                                                               \
    X(GetPartner, get_partner)                                                                     \
    X(ListPartners, list_partners)                                                                 \
    X(UpdatePartner, update_partner)                                                               \
    X(RenamePartner, rename_partner)                                                               \
    X(WithdrawPartner, withdraw_partner)                                                           \
    X(AddContact, add_contact)                                                                     \
    X(RemoveContact, remove_contact)                                                               \
    X(RecordEngagement, record_engagement)                                                         \
    X(ListEngagements, list_engagements)                                                           \
    X(ListAreas, list_areas)                                                                       \
    X(AddArea, add_area)                                                                           \
    X(ListForms, list_forms)                                                                       \
    X(AddForm, add_form)                                                                           \
    X(ListPartnerDomains, list_partner_domains)                                                    \
    X(Health, health)

#define TS_DECLARE_CALL(Camel, snake) TF_DECLARE_CALL(ts_, Camel, snake)
TS_REGISTRY_CALLS(TS_DECLARE_CALL)
#undef TS_DECLARE_CALL

/* Frees a decoded message through a pointer to it, and nulls it. */
void ts_free(void *message_p);

/* ---- A registry fixture: database + service + admin connection ------------ */

typedef struct {
    ts_database_t *database; /* this program's own database */
    ts_registry_t *registry; /* the service under test */
    PGconn *admin;           /* superuser connection to the database */
} ts_fixture_t;

/* Creates the database and starts the registry on it; exits 1 on failure. */
ts_fixture_t *ts_fixture_new(const char *label, const char *const *settings);
/* ts_fixture_new, then the areas and the forms the tests refer to, each a
   list of "slug", "label" pairs ending in NULL (NULL: none). */
ts_fixture_t *ts_fixture_new_with_lists(const char *label, const char *const *areas,
                                        const char *const *forms);
void ts_fixture_destroy(ts_fixture_t **self_p);

struct CMUnitTest;

/* Runs the tests as one cmocka group named name, then destroys the
   fixture; returns the number of tests that failed (what main returns). */
int ts_fixture_run(ts_fixture_t **self_p, const char *name, const struct CMUnitTest *tests,
                   size_t count);

/* ---- Assertions ---------------------------------------------------------- */

/* Fails the test (showing the server's message) unless status has this code
   and field (field NULL: any). */
void ts_assert_status_at(const dp_status_t *status, Dp__Code code, const char *field,
                         const char *file, int line);
#define ts_assert_status(status, code, field)                                                      \
    ts_assert_status_at(status, DP__CODE__CODE_##code, field, __FILE__, __LINE__)
#define ts_assert_ok(status)                                                                       \
    ts_assert_status_at(status, DP__CODE__CODE_OK, NULL, __FILE__, __LINE__)

/* Sends any request to any service (tf_call) and fails the test unless the
   reply is OK. Returns the reply (free with ts_free). */
ProtobufCMessage *ts_call_ok_at(tf_service_t *service, const ProtobufCMessage *request,
                                const ProtobufCMessageDescriptor *reply_type, const char *file,
                                int line);
#define ts_call_ok(service, request, reply_type)                                                   \
    ts_call_ok_at(service, &(request)->base, reply_type, __FILE__, __LINE__)

/* Sends a request to the service that must be refused with code and field,
   and checks that the digest (e.g. ts_registry_fingerprint) of the
   database read through admin is the same after it. */
void ts_expect_refusal_at(tf_service_t *service, PGconn *admin, char *(*digest)(PGconn *),
                          const ProtobufCMessage *request, Dp__Code code, const char *field,
                          const char *file, int line);
/* Sends a request that must be refused with code and field, and checks that
   it changed no row of the registry (the outbox included). */
void ts_expect_error_at(ts_fixture_t *fixture, const ProtobufCMessage *request, Dp__Code code,
                        const char *field, const char *file, int line);
#define ts_expect_error(fixture, request, code, field)                                             \
    ts_expect_error_at(fixture, &(request)->base, DP__CODE__CODE_##code, field, __FILE__, __LINE__)

/* Fails the test unless the service answers Health through its typed
   client: OK, in its own name, with its database reachable. */
void ts_assert_healthy_at(tf_service_t *service, const char *file, int line);
#define ts_assert_healthy(service) ts_assert_healthy_at(service, __FILE__, __LINE__)

/* The same for a request whose reply is of no interest: dropped. */
void ts_send_ok_at(tf_service_t *service, const ProtobufCMessage *request,
                   const ProtobufCMessageDescriptor *reply_type, const char *file, int line);
#define ts_send_ok(service, request, reply_type)                                                   \
    ts_send_ok_at(service, &(request)->base, reply_type, __FILE__, __LINE__)

/* Sets the text field called name of message (where protobuf-c's
   descriptor says it is); fails the test when there is no such field. The
   message keeps the pointer. */
void ts_set_text(ProtobufCMessage *message, const char *name, const char *value);

/* Sends request (its field "partner" a dp.PartnerRef) first without a
   partner, refused INVALID_ARGUMENT naming partner, then naming unknown
   (a partner that does not exist), refused NOT_FOUND naming partner; no
   row changes either time (ts_expect_error). The request keeps unknown. */
void ts_expect_unknown_partner_at(ts_fixture_t *fixture, ProtobufCMessage *request,
                                  Dp__PartnerRef *unknown, const char *file, int line);
#define ts_expect_unknown_partner(fixture, request, unknown)                                       \
    ts_expect_unknown_partner_at(fixture, &(request)->base, unknown, __FILE__, __LINE__)

/* One step of a table of refusals: a text field of the request set to a
   value and then, unless refused is NULL, the request sent and expected to
   be refused INVALID_ARGUMENT naming the field `refused` (ts_expect_error).
   Values set stay set for the steps after. */
typedef struct {
    const char *field;
    const char *value;
    const char *refused;
} ts_text_step_t;

void ts_expect_text_steps_at(ts_fixture_t *fixture, ProtobufCMessage *request,
                             const ts_text_step_t *steps, size_t count, const char *file, int line);
#define ts_expect_text_steps(fixture, request, steps)                                              \
    ts_expect_text_steps_at(fixture, &(request)->base, steps, sizeof(steps) / sizeof *(steps),     \
                            __FILE__, __LINE__)

/* ---- Test data ------------------------------------------------------------ */

/* A slug unique within this test process: "<prefix>-<n>" (static buffer
   ring; copy it if you keep more than a few). */
const char *ts_unique(const char *prefix);

/* Creates a company partner (slug, name, joined_on, precision); fails the
   test unless it succeeds. Returns the reply (free with ts_free). */
Dp__CreatePartnerReply *ts_create_partner_at(ts_registry_t *registry, const char *slug,
                                             const char *name, const char *joined_on,
                                             Dp__DatePrecision precision, const char *file,
                                             int line);
#define ts_new_partner(registry, slug, name, joined_on, precision)                                 \
    ts_create_partner_at(registry, slug, name, joined_on,                                          \
                         DP__DATE_PRECISION__DATE_PRECISION_##precision, __FILE__, __LINE__)
/* Creates a partner and returns only its id. */
int64_t ts_create_partner_id(ts_registry_t *registry, const char *slug, const char *name,
                             const char *joined_on);

/* An add request of a reference list (AddArea, AddForm) and its item,
   laid out by their descriptors; it points into itself, so it is
   initialised where it lives. */
typedef struct {
    union {
        ProtobufCMessage base;
        Dp__Area area;
        Dp__Form form;
    } item;
    union {
        ProtobufCMessage base;
        Dp__AddAreaRequest area;
        Dp__AddFormRequest form;
    } request;
} ts_reference_add_t;

/* Builds the request: its field `list` ("area", "form") holds the item
   with slug and label, or (without_item) nothing. Returns the request. */
const ProtobufCMessage *ts_reference_add_init(ts_reference_add_t *add, const char *list,
                                              const ProtobufCMessageDescriptor *item_type,
                                              const ProtobufCMessageDescriptor *request_type,
                                              const char *slug, const char *label,
                                              bool without_item);

/* Adds an area or a form with this slug and label; fails the test unless OK. */
void ts_make_area(ts_registry_t *registry, const char *slug, const char *label);
void ts_make_form(ts_registry_t *registry, const char *slug, const char *label);

/* Gets a partner by slug, optionally as of a date ("" or NULL: now); fails
   the test unless OK. Free the reply with ts_free. */
Dp__GetPartnerReply *ts_get_partner_by_slug(ts_registry_t *registry, const char *slug,
                                            const char *as_of);

/* A partner reference on the stack: TS_REF_ID(name, id), TS_REF_SLUG(name, slug). */
#define TS_REF_ID(var, id_)                                                                        \
    Dp__PartnerRef var = DP__PARTNER_REF__INIT;                                                    \
    var.id = (id_)
#define TS_REF_SLUG(var, slug_)                                                                    \
    Dp__PartnerRef var = DP__PARTNER_REF__INIT;                                                    \
    var.slug = (char *)(slug_)

/* The id as decimal text, in a static buffer ring. */
const char *ts_id_text(int64_t id);

#endif
