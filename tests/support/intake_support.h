/* Support for the intake tests: the intake actor started inside the test
   process next to a registry actor, typed calls, a valid submission to
   start from, the intake's tables read as the superuser (a digest of every
   row, the outbox), a gate that holds the intake's inserts so that
   pipelined submissions queue up into one batch, and pipelining itself.

   As in test_support.h, a helper that cannot do its job fails the current
   test, or exits 1 during setup. Names start with ti_ (test intake). */
#ifndef INTAKE_SUPPORT_H
#define INTAKE_SUPPORT_H

#include <czmq.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "intake.pb-c.h"
#include "test_support.h"
#include "test_wire.h"

/* ---- The intake service in process ----------------------------------------- */

/* The intake as the generic fixture starts it (service_support.h). */
typedef tf_service_t ti_intake_t;

/* Starts the intake actor on tcp://127.0.0.1:* against database_url (as
   dp_intake), reading partners from the registry at registry_endpoint, with
   extra settings as "NAME", "value" pairs ending in NULL. Returns NULL
   after printing why when it cannot start. */
ti_intake_t *ti_intake_start(const char *database_url, const char *registry_endpoint,
                             const char *const *settings);
void ti_intake_stop(ti_intake_t **self_p);
/* The bound endpoint (borrowed). */
const char *ti_intake_endpoint(const ti_intake_t *self);

/* Sends any request and waits (15 s) for the reply; as ts_call. */
ProtobufCMessage *ti_call(ti_intake_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status);

/* A typed call per request type: Dp__XReply *ti_x (intake, request, status). */
#define TI_INTAKE_CALLS(X)                                                                         \
    X(SubmitEnquiry, submit_enquiry)                                                               \
    X(GetEnquiry, get_enquiry)                                                                     \
    X(ListEnquiries, list_enquiries)                                                               \
    X(AssignEnquiry, assign_enquiry)                                                               \
    X(TransitionEnquiry, transition_enquiry)                                                       \
    X(AddEnquiryNote, add_enquiry_note)                                                            \
    X(ListTriageRules, list_triage_rules)                                                          \
    X(AddTriageRule, add_triage_rule)                                                              \
    X(RemoveTriageRule, remove_triage_rule)                                                        \
    X(ListEnquiryKinds, list_enquiry_kinds)                                                        \
    X(AddEnquiryKind, add_enquiry_kind)                                                            \
    X(Health, health)

#define TI_DECLARE_CALL(Camel, snake) TF_DECLARE_CALL(ti_, Camel, snake)
TI_INTAKE_CALLS(TI_DECLARE_CALL)
#undef TI_DECLARE_CALL

/* ---- A fixture: database, registry, intake, admin connection -------------- */

typedef struct {
    ts_database_t *database; /* this program's own database */
    ts_registry_t *registry; /* where the intake reads partners and areas */
    ti_intake_t *intake;     /* the service under test; NULL until started */
    PGconn *admin;           /* superuser connection to the database */
} ti_fixture_t;

/* The areas every fixture's registry holds (NULL-terminated slugs): those
   the intake's seeded triage rules suggest, among others. */
extern const char *const ti_areas[];

/* Creates the database, starts the registry on it and adds ti_areas;
   exits 1 on failure. Partners made now are known to the intake from its
   start (it loads them before it serves). */
ti_fixture_t *ti_fixture_new(const char *label);
/* The same with the registry's settings ("NAME", "value", ..., NULL). */
ti_fixture_t *ti_fixture_new_with(const char *label, const char *const *registry_settings);
/* Starts the intake with these settings; exits 1 when it cannot. */
void ti_fixture_start_intake(ti_fixture_t *self, const char *const *settings);
void ti_fixture_destroy(ti_fixture_t **self_p);
/* Runs the tests as one group, then destroys the fixture; as ts_fixture_run. */
int ti_fixture_run(ti_fixture_t **self_p, const char *name, const struct CMUnitTest *tests,
                   size_t count);

/* ---- Submissions ----------------------------------------------------------- */

/* A valid submission, unique in this process: its key, address and subject
   carry "<tag>-<n>" (the tag: lower-case letters, digits and hyphens, and
   no triage keyword). Fields may be pointed elsewhere before sending. The
   struct points into itself: initialise it where it lives, never copy it. */
typedef struct {
    Dp__SubmitEnquiryRequest request; /* what is sent; points at enquiry */
    Dp__EnquirySubmission enquiry;    /* the submission's fields */
    char key[80];                     /* idempotency key "<tag>-<n>" */
    char email[120];                  /* "<tag>-<n>@example.org" */
    char subject[120];                /* "Question <tag>-<n>" */
} ti_form_t;

void ti_form_init(ti_form_t *form, const char *tag);
/* Submission number n of a stream: key "<tag>-<n>", the rest a function of
   n too, so that a retry sends exactly what the original did. Addresses
   repeat (one in 97), subjects do not. */
void ti_form_init_numbered(ti_form_t *form, const char *tag, unsigned long n);

/* Submits and fails the test unless the reply is OK. Free with ts_free. */
Dp__SubmitEnquiryReply *ti_submit_ok_at(ti_fixture_t *fixture, const ti_form_t *form,
                                        const char *file, int line);
#define ti_submit_ok(fixture, form) ti_submit_ok_at(fixture, form, __FILE__, __LINE__)
/* Submits a fresh valid enquiry (ti_form_init (tag)) and returns its id. */
int64_t ti_new_enquiry_at(ti_fixture_t *fixture, const char *tag, const char *file, int line);
#define ti_new_enquiry(fixture, tag) ti_new_enquiry_at(fixture, tag, __FILE__, __LINE__)
/* GetEnquiry that must succeed, with its enquiry set. Free with ts_free. */
Dp__GetEnquiryReply *ti_get_at(ti_fixture_t *fixture, int64_t id, const char *file, int line);
#define ti_get(fixture, id) ti_get_at(fixture, id, __FILE__, __LINE__)

/* A move by officer.one, and an assignment to officer.two by officer.one,
   that must succeed (with this note). */
void ti_move_ok(ti_fixture_t *fixture, int64_t id, Dp__EnquiryStatus to, const char *note);
void ti_assign_ok(ti_fixture_t *fixture, int64_t id, const char *note);

/* Creates a partner (company, joined 2020-01-01) owning one e-mail domain;
   fails the test unless it succeeds. Returns its id. */
int64_t ti_create_partner_with_domain(ts_registry_t *registry, const char *slug,
                                      const char *domain);

/* ---- The intake's tables ---------------------------------------------------------- */

/* A digest of every row of every intake table, the outbox included. */
char *ti_fingerprint(PGconn *conn);
/* The highest intake outbox id (0 when empty), and rows after an id. */
long long ti_outbox_last_id(PGconn *conn);
long long ti_outbox_count_after(PGconn *conn, long long after_id);
/* Fails the test unless the submissions of source (keys "<source>-<n>",
   n < count) are stored stored_count times in all, each key once, each
   under the id acknowledged for it (ids[n]). */
void ti_assert_stored_once_at(PGconn *conn, const char *source, long long stored_count,
                              const int64_t *ids, size_t count, const char *file, int line);
#define ti_assert_stored_once(conn, source, stored_count, ids, count)                              \
    ti_assert_stored_once_at(conn, source, stored_count, ids, count, __FILE__, __LINE__)
/* Rows of intake.enquiry. */
long long ti_enquiry_count(PGconn *conn);

/* Every intake outbox row after after_id, oldest first; *count rows. Free
   with ti_events_free. */
ts_event_t **ti_events_after(PGconn *conn, long long after_id, size_t *count);
void ti_events_free(ts_event_t ***events_p, size_t count);
/* Fails the test unless exactly one intake outbox row came after after_id,
   with this type and aggregate id (NULL: any). Free with ts_event_free. */
ts_event_t *ti_expect_one_event_at(PGconn *conn, long long after_id, const char *event_type,
                                   const char *aggregate_id, const char *file, int line);
#define ti_expect_one_event(conn, after_id, event_type, aggregate_id)                              \
    ti_expect_one_event_at(conn, after_id, event_type, aggregate_id, __FILE__, __LINE__)
/* The payload decoded as dp.EnquiryEvent; fails the test when it does not
   decode. Free with ts_free. */
Dp__EnquiryEvent *ti_enquiry_event(const ts_event_t *event);

/* ---- Assertions -------------------------------------------------------------------- */

/* Sends a request that must be refused with code and field, and checks that
   no row of the intake (the outbox included) changed. */
void ti_expect_error_at(ti_fixture_t *fixture, const ProtobufCMessage *request, Dp__Code code,
                        const char *field, const char *file, int line);
#define ti_expect_error(fixture, request, code, field)                                             \
    ti_expect_error_at(fixture, &(request)->base, DP__CODE__CODE_##code, field, __FILE__, __LINE__)

/* ---- Batches --------------------------------------------------------------------- */

/* A gate on intake.enquiry: while closed (a superuser transaction holds an
   EXCLUSIVE lock on the table) the intake's next insert waits, and requests
   sent meanwhile queue up on its socket; opening the gate lets the waiting
   batch commit, and the service then takes the queued requests together. */
typedef struct _ti_gate_t ti_gate_t;

ti_gate_t *ti_gate_close(ti_fixture_t *fixture);
/* Waits (at most 10 s) until the intake waits on the gate; false when it
   never did (open the gate before failing, or later tests hang). */
bool ti_gate_await_blocked(ti_gate_t *self);
void ti_gate_open(ti_gate_t **self_p);

/* Sends every request at once through a dp_pipeline (ids "<prefix>-<n>")
   behind the gate, so that the service takes them as one batch: closes the
   gate, sends a submission of its own from another connection and waits
   until the intake is blocked storing it, sends the requests, opens the
   gate, and collects every reply (its own must be OK): replies[i] answers
   requests[i]. Fails the test when a reply is missing or answers no
   request. Free each with ts_free. (The requests reach the service's
   socket while it is blocked, in practice within a millisecond; nothing
   can confirm it from outside, so a test that needs one batch checks
   stored_at afterwards.) */
void ti_pipeline_gated(ti_fixture_t *fixture, const char *prefix,
                       const ProtobufCMessage *const *requests, size_t count, Dp__Reply **replies);

/* ---- Small things -------------------------------------------------------------- */

/* The status's name for messages, e.g. "ENQUIRY_STATUS_TRIAGED". */
const char *ti_status_name(Dp__EnquiryStatus status);
/* True when the list holds the value. */
bool ti_contains(char *const *values, size_t count, const char *value);

#endif
