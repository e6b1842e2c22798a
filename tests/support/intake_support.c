#include "intake_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_client.h"
#include "dp_config.h"
#include "dp_pipeline.h"
#include "dp_server.h"

enum {
    CALL_TIMEOUT_MS = 15000,
    GATE_WAIT_MS = 10000,
    PARTNERS_WAIT_MS = 5000,
    PIPELINE_TIMEOUT_MS = 30000,
    REPLY_BUDGET = 16 << 20 /* what a copied reply may take when decoded */
};

/* ---- The intake service in process ----------------------------------------- */

ti_intake_t *ti_intake_start(const char *database_url, const char *registry_endpoint,
                             const char *const *settings)
{
    const char *const registry[] = {"DP_REGISTRY_ENDPOINT", registry_endpoint, NULL};
    ti_intake_t *self = tf_service_start_with(TF_INTAKE, database_url, registry, settings);
    if (!self)
        return NULL;
    /* The intake serves at once and gets its partner map from the registry
       in the background; tests that count on the partners made before the
       start wait for it here (a registry that is up answers in milliseconds). */
    int64_t deadline = zclock_mono() + PARTNERS_WAIT_MS;
    while (zclock_mono() < deadline) {
        char *loaded = tf_service_ask(self, "PARTNERS");
        bool yes = loaded && strcmp(loaded, "yes") == 0;
        zstr_free(&loaded);
        if (yes)
            break;
        zclock_sleep(10);
    }
    return self;
}

void ti_intake_stop(ti_intake_t **self_p)
{
    tf_service_stop(self_p);
}

const char *ti_intake_endpoint(const ti_intake_t *self)
{
    return tf_service_endpoint(self);
}

ProtobufCMessage *ti_call(ti_intake_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status)
{
    return tf_call(self, request, reply_type, status);
}

#define TI_DEFINE_CALL(Camel, snake) TF_DEFINE_CALL(ti_, Camel, snake)
TI_INTAKE_CALLS(TI_DEFINE_CALL)
#undef TI_DEFINE_CALL

/* ---- Fixture ------------------------------------------------------------- */

const char *const ti_areas[] = {"data-protection",  "cybercrime", "ai",        "child-protection",
                                "digital-literacy", "elections",  "bioethics", NULL};

ti_fixture_t *ti_fixture_new(const char *label)
{
    return ti_fixture_new_with(label, NULL);
}

ti_fixture_t *ti_fixture_new_with(const char *label, const char *const *registry_settings)
{
    ti_fixture_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->database = ts_database_new(label);
    self->admin = ts_connect_or_exit(ts_database_url(self->database, TS_ROLE_ADMIN));
    self->registry =
        ts_registry_start(ts_database_url(self->database, TS_ROLE_REGISTRY), registry_settings);
    if (!self->registry) {
        fprintf(stderr, "FATAL: cannot start the registry on %s\n",
                ts_database_name(self->database));
        ti_fixture_destroy(&self);
        exit(1);
    }
    for (const char *const *area = ti_areas; *area; area++)
        ts_make_area(self->registry, *area, *area);
    return self;
}

void ti_fixture_start_intake(ti_fixture_t *self, const char *const *settings)
{
    self->intake = ti_intake_start(ts_database_url(self->database, TS_ROLE_INTAKE),
                                   ts_registry_endpoint(self->registry), settings);
    if (!self->intake) {
        fprintf(stderr, "FATAL: cannot start the intake on %s\n", ts_database_name(self->database));
        ti_fixture_destroy(&self);
        exit(1);
    }
}

void ti_fixture_destroy(ti_fixture_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ti_fixture_t *self = *self_p;
    ti_intake_stop(&self->intake);
    ts_registry_stop(&self->registry);
    if (self->admin)
        PQfinish(self->admin);
    ts_database_destroy(&self->database);
    free(self);
    *self_p = NULL;
}

int ti_fixture_run(ti_fixture_t **self_p, const char *name, const struct CMUnitTest *tests,
                   size_t count)
{
    int failed = _cmocka_run_group_tests(name, tests, count, NULL, NULL);
    ti_fixture_destroy(self_p);
    return failed;
}

/* ---- Submissions ----------------------------------------------------------- */

/* The fields every form starts with; the tag-dependent ones are set by the caller. */
static void s_form_defaults(ti_form_t *form)
{
    memset(form, 0, sizeof *form);
    dp__submit_enquiry_request__init(&form->request);
    dp__enquiry_submission__init(&form->enquiry);
    form->request.enquiry = &form->enquiry;
    Dp__EnquirySubmission *e = &form->enquiry;
    e->source = "website";
    e->idempotency_key = form->key;
    e->sender_name = "Ada Lovelace";
    e->email = form->email;
    e->organisation = "Analytical Engines Ltd";
    e->country = "GB";
    e->kind = "information-request";
    e->subject = form->subject;
    e->body = "We would like to learn more about the Digital Partnership.";
    e->language = "en";
    e->received_at = "2026-11-28T16:30:00Z";
    e->honeypot = "";
}

void ti_form_init_numbered(ti_form_t *form, const char *tag, unsigned long n)
{
    s_form_defaults(form);
    snprintf(form->key, sizeof form->key, "%s-%lu", tag, n);
    snprintf(form->email, sizeof form->email, "%s-%lu@example.com", tag, n % 97);
    snprintf(form->subject, sizeof form->subject, "Message %lu of %s", n, tag);
    form->enquiry.kind = n % 3 ? "information-request" : "media";
    if (n % 5 == 0)
        form->enquiry.body = "A question about privacy at school.";
}

void ti_form_init(ti_form_t *form, const char *tag)
{
    static unsigned counter;
    unsigned n = ++counter;
    s_form_defaults(form);
    snprintf(form->key, sizeof form->key, "%s-%u", tag, n);
    snprintf(form->email, sizeof form->email, "%s-%u@example.org", tag, n);
    snprintf(form->subject, sizeof form->subject, "Question %s-%u", tag, n);
}

Dp__SubmitEnquiryReply *ti_submit_ok_at(ti_fixture_t *fixture, const ti_form_t *form,
                                        const char *file, int line)
{
    dp_status_t status;
    Dp__SubmitEnquiryReply *reply = ti_submit_enquiry(fixture->intake, &form->request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    if (!reply || reply->enquiry_id <= 0) {
        ts_free(&reply);
        print_error("SubmitEnquiry answered OK without an enquiry id\n");
        _fail(file, line);
    }
    return reply;
}

int64_t ti_new_enquiry_at(ti_fixture_t *fixture, const char *tag, const char *file, int line)
{
    ti_form_t form;
    ti_form_init(&form, tag);
    Dp__SubmitEnquiryReply *reply = ti_submit_ok_at(fixture, &form, file, line);
    int64_t id = reply->enquiry_id;
    ts_free(&reply);
    return id;
}

Dp__GetEnquiryReply *ti_get_at(ti_fixture_t *fixture, int64_t id, const char *file, int line)
{
    Dp__GetEnquiryRequest request = DP__GET_ENQUIRY_REQUEST__INIT;
    request.id = id;
    dp_status_t status;
    Dp__GetEnquiryReply *reply = ti_get_enquiry(fixture->intake, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    if (!reply || !reply->enquiry || reply->enquiry->id != id) {
        ts_free(&reply);
        print_error("GetEnquiry answered OK without enquiry %lld\n", (long long)id);
        _fail(file, line);
    }
    return reply;
}

void ti_move_ok(ti_fixture_t *fixture, int64_t id, Dp__EnquiryStatus to, const char *note)
{
    Dp__TransitionEnquiryRequest request = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.to_status = to;
    request.actor = "officer.one";
    request.note = (char *)note;
    ts_send_ok(fixture->intake, &request, &dp__transition_enquiry_reply__descriptor);
}

void ti_assign_ok(ti_fixture_t *fixture, int64_t id, const char *note)
{
    Dp__AssignEnquiryRequest request = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.assignee = "officer.two";
    request.actor = "officer.one";
    request.note = (char *)note;
    ts_send_ok(fixture->intake, &request, &dp__assign_enquiry_reply__descriptor);
}

int64_t ti_create_partner_with_domain(ts_registry_t *registry, const char *slug, const char *domain)
{
    char *domains[] = {(char *)domain};
    Dp__CreatePartnerRequest request = DP__CREATE_PARTNER_REQUEST__INIT;
    request.slug = (char *)slug;
    request.name = (char *)slug;
    request.kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    request.joined_on = "2020-01-01";
    request.domains = domains;
    request.n_domains = 1;
    dp_status_t status;
    Dp__CreatePartnerReply *reply = ts_create_partner(registry, &request, &status);
    ts_assert_ok(&status);
    assert_non_null(reply);
    assert_non_null(reply->partner);
    int64_t id = reply->partner->id;
    ts_free(&reply);
    assert_true(id > 0);
    return id;
}

/* ---- The intake's tables ---------------------------------------------------------- */

char *ti_fingerprint(PGconn *conn)
{
    static const char *const tables[] = {"enquiry",     "enquiry_transition", "enquiry_note",
                                         "triage_rule", "enquiry_kind",       "outbox",
                                         NULL};
    return ts_tables_fingerprint(conn, "intake", tables);
}

long long ti_outbox_last_id(PGconn *conn)
{
    return ts_schema_outbox_last_id(conn, "intake");
}

long long ti_outbox_count_after(PGconn *conn, long long after_id)
{
    return ts_schema_outbox_count_after(conn, "intake", after_id);
}

void ti_assert_stored_once_at(PGconn *conn, const char *source, long long stored_count,
                              const int64_t *ids, size_t count, const char *file, int line)
{
    const char *params[] = {source};
    long long stored =
        ts_query_long(conn, "SELECT count(*) FROM intake.enquiry WHERE source = $1", 1, params);
    long long repeated = ts_query_long(conn,
                                       "SELECT count(*) FROM (SELECT 1 FROM intake.enquiry"
                                       " GROUP BY source, idempotency_key HAVING count(*) > 1) d",
                                       0, NULL);
    /* The number after "<source>-" in the key, and the id stored for it. */
    PGresult *rows = ts_query(conn,
                              "SELECT substr(idempotency_key, length($1) + 2)::int, id"
                              " FROM intake.enquiry WHERE source = $1",
                              1, params);
    size_t mismatches = 0;
    for (int row = 0; row < PQntuples(rows); row++) {
        unsigned long n = strtoul(PQgetvalue(rows, row, 0), NULL, 10);
        int64_t id = strtoll(PQgetvalue(rows, row, 1), NULL, 10);
        if (n >= count || ids[n] != id)
            mismatches++;
    }
    PQclear(rows);
    if (stored != stored_count || repeated != 0 || mismatches != 0) {
        print_error("%s: %lld stored (expected %lld), %lld keys stored twice, %zu under another"
                    " id than acknowledged\n",
                    source, stored, stored_count, repeated, mismatches);
        _fail(file, line);
    }
}

long long ti_enquiry_count(PGconn *conn)
{
    return ts_query_long(conn, "SELECT count(*) FROM intake.enquiry", 0, NULL);
}

ts_event_t **ti_events_after(PGconn *conn, long long after_id, size_t *count)
{
    return ts_schema_events_after(conn, "intake", after_id, count);
}

void ti_events_free(ts_event_t ***events_p, size_t count)
{
    ts_events_free(events_p, count);
}

ts_event_t *ti_expect_one_event_at(PGconn *conn, long long after_id, const char *event_type,
                                   const char *aggregate_id, const char *file, int line)
{
    /* Privacy events are about a person, not one enquiry. */
    const char *aggregate_type = strncmp(event_type, "privacy.", 8) == 0 ? "privacy" : "enquiry";
    return ts_expect_one_event_in_at(conn, "intake", after_id, event_type, aggregate_type,
                                     aggregate_id, file, line);
}

Dp__EnquiryEvent *ti_enquiry_event(const ts_event_t *event)
{
    Dp__EnquiryEvent *decoded = (Dp__EnquiryEvent *)dp_message_decode(
        &dp__enquiry_event__descriptor, event->payload, event->payload_size, 1 << 20);
    if (!decoded)
        fail_msg("the %s payload is not a dp.EnquiryEvent", event->event_type);
    return decoded;
}

/* ---- Assertions -------------------------------------------------------------------- */

void ti_expect_error_at(ti_fixture_t *fixture, const ProtobufCMessage *request, Dp__Code code,
                        const char *field, const char *file, int line)
{
    ts_expect_refusal_at(fixture->intake, fixture->admin, ti_fingerprint, request, code, field,
                         file, line);
}

/* ---- Batches --------------------------------------------------------------------- */

struct _ti_gate_t {
    PGconn *holder;   /* the superuser session whose transaction holds the lock */
    PGconn *observer; /* the fixture's admin connection, to watch the intake wait */
};

ti_gate_t *ti_gate_close(ti_fixture_t *fixture)
{
    ti_gate_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->observer = fixture->admin;
    self->holder = ts_connect_or_exit(ts_database_url(fixture->database, TS_ROLE_ADMIN));
    PQclear(ts_query(self->holder, "BEGIN", 0, NULL));
    PQclear(ts_query(self->holder, "LOCK TABLE intake.enquiry IN EXCLUSIVE MODE", 0, NULL));
    return self;
}

bool ti_gate_await_blocked(ti_gate_t *self)
{
    int64_t deadline = zclock_mono() + GATE_WAIT_MS;
    while (ts_query_long(self->observer,
                         "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                         " AND application_name = 'dp-intake' AND wait_event_type = 'Lock'",
                         0, NULL) == 0) {
        if (zclock_mono() > deadline)
            return false;
        zclock_sleep(5);
    }
    return true;
}

void ti_gate_open(ti_gate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ti_gate_t *self = *self_p;
    PGresult *result = PQexec(self->holder, "COMMIT");
    PQclear(result);
    PQfinish(self->holder);
    free(self);
    *self_p = NULL;
}

/* Where the pipeline's done puts each reply: a copy in its request's place. */
typedef struct {
    Dp__Reply **replies; /* replies[tag] answers requests[tag] */
    size_t count;
    size_t missing; /* requests that ended without a reply taken */
} s_collect_t;

static int s_collect(void *sink, const dp_pipeline_result_t *result)
{
    s_collect_t *collect = sink;
    if (!result->envelope || result->tag >= collect->count || collect->replies[result->tag]) {
        collect->missing++;
        return 0;
    }
    /* The envelope is borrowed for the call: the caller gets its own. */
    size_t size = 0;
    unsigned char *bytes = dp_message_pack(&result->envelope->base, &size);
    if (bytes)
        collect->replies[result->tag] =
            (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, bytes, size, REPLY_BUDGET);
    free(bytes);
    if (!collect->replies[result->tag])
        collect->missing++;
    return 0;
}

void ti_pipeline_gated(ti_fixture_t *fixture, const char *prefix,
                       const ProtobufCMessage *const *requests, size_t count, Dp__Reply **replies)
{
    for (size_t i = 0; i < count; i++)
        replies[i] = NULL;
    /* Every request in flight at once on one socket, each sent once: a
       resend could land in another batch than the one under test. */
    char id_prefix[96];
    snprintf(id_prefix, sizeof id_prefix, "%s-", prefix);
    s_collect_t collect = {replies, count, 0};
    dp_pipeline_options_t options = {.endpoints = ti_intake_endpoint(fixture->intake),
                                     .window = count,
                                     .timeout_ms = PIPELINE_TIMEOUT_MS,
                                     .attempts = 1,
                                     .id_prefix = id_prefix,
                                     .done = s_collect,
                                     .sink = &collect};
    dp_pipeline_t *pipeline = dp_pipeline_new(&options);
    assert_non_null(pipeline);

    ti_form_t plug;
    ti_form_init(&plug, "gate-plug");
    zsock_t *plug_dealer = ts_dealer_new(ti_intake_endpoint(fixture->intake), CALL_TIMEOUT_MS);
    ti_gate_t *gate = ti_gate_close(fixture);
    zmsg_t *plug_request = ts_request_message("plug", &plug.request.base);
    assert_int_equal(zmsg_send(&plug_request, plug_dealer), 0);
    if (!ti_gate_await_blocked(gate)) {
        ti_gate_open(&gate);
        zsock_destroy(&plug_dealer);
        dp_pipeline_destroy(&pipeline);
        fail_msg("the intake did not reach the closed gate within %d ms", GATE_WAIT_MS);
    }
    int sent = 0;
    for (size_t i = 0; i < count && sent == 0; i++)
        sent = dp_pipeline_send(pipeline, requests[i], i);
    ti_gate_open(&gate);
    Dp__Reply *plug_reply = ts_receive_reply(plug_dealer);
    ts_assert_reply(plug_reply, OK, NULL);
    ts_free(&plug_reply);
    zsock_destroy(&plug_dealer);
    dp_pipeline_drain(pipeline);
    uint64_t stale = dp_pipeline_stats(pipeline)->stale;
    dp_pipeline_destroy(&pipeline);
    if (sent != 0 || collect.missing || stale) {
        for (size_t i = 0; i < count; i++)
            ts_free(&replies[i]);
        fail_msg("pipelined %zu requests: %zu without a reply, %llu replies to no request%s", count,
                 collect.missing, (unsigned long long)stale,
                 sent != 0 ? ", and a send failed" : "");
    }
}

/* ---- Small things -------------------------------------------------------------- */

const char *ti_status_name(Dp__EnquiryStatus status)
{
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value(&dp__enquiry_status__descriptor, (int)status);
    return value ? value->name : "?";
}

bool ti_contains(char *const *values, size_t count, const char *value)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(values[i], value) == 0)
            return true;
    return false;
}
