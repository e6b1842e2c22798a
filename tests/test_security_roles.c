/* CurveZMQ and roles, with the four services started in this process on a
   key folder made by czmq in a temporary directory (DP_CURVE_DIR):

   - every role (feeder, consumer, staff, service) sends every request type
     of every route table (registry, intake, notify, report) and
     dp.HealthRequest to its service: the answer is PERMISSION_DENIED
     exactly when the route's roles exclude the role, and something else
     (INVALID_ARGUMENT for an empty request, OK, ...) otherwise;
   - a client without keys (the NULL mechanism), one with a key that is not
     in clients/, and one whose key was removed from clients/ (at its next
     connection) get no answer at all;
   - nothing a refused client sent reached a handler: no row was written
     (a digest of every table), although the same request from staff writes;
   - a refusal is logged with an "audit:" line naming the client and role,
     and the audit trail names the caller's certificate, not the actor the
     request claims;
   - the intake reaches the registry as role "service" over CURVE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_security.h"
#include "dp_server.h"
#include "intake_server.h"
#include "notify.pb-c.h"
#include "notify_server.h"
#include "privacy_support.h"
#include "registry_server.h"
#include "report_server.h"

enum { ANSWER_MS = 10000, SILENCE_MS = 1500 };

static tk_capture_t *capture;                    /* standard error, for the audit lines */
static ts_database_t *database;                  /* this program's database */
static PGconn *admin;                            /* superuser connection */
static tk_keys_t *keys;                          /* the key folder */
static tk_service_t *services[TK_SERVICE_COUNT]; /* the four services, CURVE on */
static char *pub;                                /* notify's PUB endpoint */

static const char *const roles[] = {"feeder", "consumer", "staff", "service"};
enum { ROLE_COUNT = 4 };

/* The route table of each service. */
static const dp_route_t *s_routes(tk_kind_t kind, size_t *count)
{
    switch (kind) {
    case TK_REGISTRY:
        *count = registry_route_count;
        return registry_routes;
    case TK_INTAKE:
        *count = intake_route_count;
        return intake_routes;
    case TK_NOTIFY:
        *count = notify_route_count;
        return notify_routes;
    default:
        *count = report_route_count;
        return report_routes;
    }
}

/* A client of the service with the certificate private/<name>.key_secret. */
static tk_client_t *s_client(tk_kind_t kind, const char *name)
{
    return tk_client_new(tk_service_endpoint(services[kind]), keys, kind,
                         tk_keys_secret_path(keys, name));
}

static char *s_client_name(const char *role)
{
    char *name = malloc(64);
    assert_non_null(name);
    snprintf(name, 64, "%s-client", role);
    return name;
}

/* Every row of every table the services write, notify's included, once
   the relay has moved what the outboxes held (it changes rows on its own). */
static char *s_digest(void)
{
    if (!tp_wait_value(admin,
                       "SELECT (SELECT count(*) FROM registry.outbox)"
                       " + (SELECT count(*) FROM intake.outbox)",
                       0, NULL, 0, 10000))
        fail_msg("the relay did not empty the outboxes within 10 s");
    char *services_digest = tp_digest(admin);
    char *notify = ts_query_text(
        admin,
        "SELECT concat_ws('/',"
        " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.seq), '')) FROM notify.event t),"
        " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        "    FROM notify.consumer t),"
        " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        "    FROM notify.delivery t),"
        " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        "    FROM notify.webhook t),"
        " (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        "    FROM notify.webhook_delivery t))",
        0, NULL);
    size_t size = strlen(services_digest) + strlen(notify) + 2;
    char *digest = malloc(size);
    assert_non_null(digest);
    snprintf(digest, size, "%s/%s", services_digest, notify);
    free(services_digest);
    free(notify);
    return digest;
}

/* A valid request that writes when it reaches its handler. */
static void s_partner_request(Dp__CreatePartnerRequest *request, const char *slug)
{
    dp__create_partner_request__init(request);
    request->slug = (char *)slug;
    request->name = (char *)slug;
    request->kind = DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    request->joined_on = "2024-05-06";
}

static long long s_partners_with_slug(const char *slug)
{
    const char *params[] = {slug};
    return ts_query_long(admin, "SELECT count(*) FROM registry.partner WHERE slug = $1", 1, params);
}

/* ---- every role against every route ------------------------------------------------ */

/* Undoes what s_setup made; safe on what it did not make. */
static int s_teardown(void **state)
{
    for (int kind = TK_SERVICE_COUNT - 1; kind >= 0; kind--)
        tk_service_stop(&services[kind]);
    zstr_free(&pub);
    tk_keys_destroy(&keys);
    if (admin)
        PQfinish(admin);
    admin = NULL;
    ts_database_destroy(&database);
    tk_capture_end(&capture);
    return 0;
}

/* Everything the tests share, made once; -1 (after undoing what was made)
   when a service does not start. */
static int s_setup(void **state)
{
    capture = tk_capture_start();
    database = ts_database_new("security_roles");
    admin = ts_connect_or_exit(ts_database_url(database, TS_ROLE_ADMIN));
    keys = tk_keys_new();
    const char *curve[] = {"DP_CURVE_DIR", tk_keys_dir(keys), NULL};
    services[TK_REGISTRY] =
        tk_service_start(TK_REGISTRY, ts_database_url(database, TS_ROLE_REGISTRY), curve);
    services[TK_NOTIFY] =
        tk_service_start(TK_NOTIFY, ts_database_url(database, TS_ROLE_NOTIFY), curve);
    pub = services[TK_NOTIFY] ? tk_service_ask(services[TK_NOTIFY], "PUB_ENDPOINT") : NULL;
    if (!services[TK_REGISTRY] || !pub) {
        s_teardown(state);
        fprintf(stderr, "FATAL: the registry or notify did not start with CURVE\n");
        return -1;
    }
    char service_cert[512];
    snprintf(service_cert, sizeof service_cert, "%s", tk_keys_secret_path(keys, "service-client"));
    const char *intake_override[] = {"DP_CURVE_DIR",
                                     tk_keys_dir(keys),
                                     "DP_CURVE_CLIENT_CERT",
                                     service_cert,
                                     "DP_REGISTRY_ENDPOINT",
                                     tk_service_endpoint(services[TK_REGISTRY]),
                                     "DP_NOTIFY_ENDPOINT",
                                     tk_service_endpoint(services[TK_NOTIFY]),
                                     "DP_NOTIFY_PUB_ENDPOINT",
                                     pub,
                                     NULL};
    services[TK_INTAKE] =
        tk_service_start(TK_INTAKE, ts_database_url(database, TS_ROLE_INTAKE), intake_override);
    services[TK_REPORT] =
        tk_service_start(TK_REPORT, ts_database_url(database, TS_ROLE_REPORT), curve);
    if (!services[TK_INTAKE] || !services[TK_REPORT]) {
        s_teardown(state);
        fprintf(stderr, "FATAL: the intake or report did not start with CURVE\n");
        return -1;
    }
    return 0;
}

static void test_every_role_against_every_request_type(void **state)
{
    char *before = s_digest();
    char problems[8192] = "";
    size_t used = 0;
    int exchanges = 0, denied = 0;
    for (int role = 0; role < ROLE_COUNT; role++) {
        dp_role_t role_bit = dp_role_parse(roles[role]);
        assert_true(role_bit != DP_ROLE_NONE);
        char *name = s_client_name(roles[role]);
        for (int kind = 0; kind < TK_SERVICE_COUNT; kind++) {
            tk_client_t *client = s_client((tk_kind_t)kind, name);
            size_t count = 0;
            const dp_route_t *routes = s_routes((tk_kind_t)kind, &count);
            /* The table's routes, then the health request every service answers. */
            for (size_t r = 0; r <= count; r++) {
                const ProtobufCMessageDescriptor *type =
                    r < count ? routes[r].request_type : &dp__health_request__descriptor;
                unsigned allowed =
                    r < count ? (routes[r].roles ? routes[r].roles : DP_ROLE_STAFF) : DP_ROLE_ANY;
                bool expect_denied = !(allowed & role_bit);
                ProtobufCMessage *request = calloc(1, type->sizeof_message);
                assert_non_null(request);
                protobuf_c_message_init(type, request);
                Dp__Reply *reply = tk_exchange(client, request, ANSWER_MS);
                free(request);
                exchanges++;
                const char *outcome = !reply ? "no answer" : dp_code_name(reply->status->code);
                bool was_denied = reply && reply->status->code == DP__CODE__CODE_PERMISSION_DENIED;
                if (!reply || was_denied != expect_denied ||
                    (was_denied && strcmp(reply->status->field, "type") != 0))
                    used += (size_t)snprintf(
                        problems + used, sizeof problems - used, "  %s -> %s %s: %s, expected %s\n",
                        roles[role], tk_kind_name((tk_kind_t)kind), type->name, outcome,
                        expect_denied ? "PERMISSION_DENIED" : "an answer other than that");
                denied += was_denied;
                ts_free(&reply);
                if (used >= sizeof problems - 200)
                    break;
            }
            tk_client_destroy(&client);
        }
        free(name);
    }
    if (*problems)
        fail_msg("%d exchanges, wrong answers:\n%s", exchanges, problems);
    /* Not vacuous: most of it is staff's, but every role is refused something. */
    assert_true(exchanges >= 4 * 40);
    assert_true(denied >= 3 * 20);
    char *after = s_digest();
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_a_refusal_is_logged_as_an_audit_line(void **state)
{
    tk_client_t *client = s_client(TK_REGISTRY, "consumer-client");
    Dp__CreatePartnerRequest request;
    s_partner_request(&request, "audit-line");
    Dp__Reply *reply = tk_exchange(client, &request.base, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_PERMISSION_DENIED);
    assert_non_null(strstr(reply->status->message, "consumer"));
    ts_free(&reply);
    tk_client_destroy(&client);
    char *text = tk_capture_text(capture);
    assert_non_null(strstr(text, "audit: denied dp.CreatePartnerRequest to client "
                                 "'consumer-client' with role 'consumer'"));
    free(text);
}

static void test_a_certificate_without_a_role_is_refused_everything(void **state)
{
    /* Allowed in clients/, but with no role: not even health (DP_ROLE_ANY
       is any of the four roles). */
    tk_keys_add_client(keys, "roleless", NULL, true);
    tk_client_t *client = s_client(TK_REGISTRY, "roleless");
    Dp__ListAreasRequest areas = DP__LIST_AREAS_REQUEST__INIT;
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    const ProtobufCMessage *requests[] = {&areas.base, &health.base};
    for (size_t i = 0; i < 2; i++) {
        Dp__Reply *reply = tk_exchange(client, requests[i], ANSWER_MS);
        assert_non_null(reply);
        assert_int_equal(reply->status->code, DP__CODE__CODE_PERMISSION_DENIED);
        ts_free(&reply);
    }
    tk_client_destroy(&client);
    char *text = tk_capture_text(capture);
    assert_non_null(strstr(text, "audit: denied dp.HealthRequest to client 'roleless' with role "
                                 "'none'"));
    free(text);
}

/* ---- refused at the door -------------------------------------------------------------- */

static void test_a_client_without_keys_gets_no_answer(void **state)
{
    char *before = s_digest();
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    for (int kind = 0; kind < TK_SERVICE_COUNT; kind++) {
        tk_client_t *client =
            tk_client_new(tk_service_endpoint(services[kind]), keys, (tk_kind_t)kind, NULL);
        Dp__Reply *reply = tk_exchange(client, &health.base, SILENCE_MS);
        if (reply)
            fail_msg("the %s answered a client without keys", tk_kind_name(kind));
        tk_client_destroy(&client);
    }
    tk_client_t *client =
        tk_client_new(tk_service_endpoint(services[TK_REGISTRY]), keys, TK_REGISTRY, NULL);
    Dp__CreatePartnerRequest request;
    s_partner_request(&request, "from-null-mechanism");
    assert_null(tk_exchange(client, &request.base, SILENCE_MS));
    tk_client_destroy(&client);
    char *after = s_digest();
    assert_string_equal(after, before);
    free(before);
    free(after);
}

static void test_an_unknown_key_gets_no_answer(void **state)
{
    /* A certificate made like the others, claiming staff, but never put in clients/. */
    tk_keys_add_client(keys, "stranger", "staff", false);
    char *before = s_digest();
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    for (int kind = 0; kind < TK_SERVICE_COUNT; kind++) {
        tk_client_t *client = s_client((tk_kind_t)kind, "stranger");
        Dp__Reply *reply = tk_exchange(client, &health.base, SILENCE_MS);
        if (reply)
            fail_msg("the %s answered a key that is not in clients/", tk_kind_name(kind));
        tk_client_destroy(&client);
    }
    tk_client_t *client = s_client(TK_REGISTRY, "stranger");
    Dp__CreatePartnerRequest request;
    s_partner_request(&request, "from-stranger");
    assert_null(tk_exchange(client, &request.base, SILENCE_MS));
    tk_client_destroy(&client);
    char *after = s_digest();
    assert_string_equal(after, before);
    assert_int_equal(s_partners_with_slug("from-stranger"), 0);
    free(before);
    free(after);
}

static void test_a_removed_key_is_refused_at_its_next_connection(void **state)
{
    tk_keys_add_client(keys, "leaver", "staff", true);
    tk_client_t *client = s_client(TK_REGISTRY, "leaver");
    Dp__CreatePartnerRequest request;
    s_partner_request(&request, "before-leaving");
    Dp__Reply *reply = tk_exchange(client, &request.base, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
    ts_free(&reply);
    tk_client_destroy(&client);
    assert_int_equal(s_partners_with_slug("before-leaving"), 1);

    tk_keys_revoke(keys, "leaver");
    char *before = s_digest();
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    for (int kind = 0; kind < TK_SERVICE_COUNT; kind++) {
        client = s_client((tk_kind_t)kind, "leaver");
        reply = tk_exchange(client, &health.base, SILENCE_MS);
        if (reply)
            fail_msg("the %s answered a key removed from clients/", tk_kind_name(kind));
        tk_client_destroy(&client);
    }
    client = s_client(TK_REGISTRY, "leaver");
    s_partner_request(&request, "after-leaving");
    assert_null(tk_exchange(client, &request.base, SILENCE_MS));
    tk_client_destroy(&client);
    char *after = s_digest();
    assert_string_equal(after, before);
    assert_int_equal(s_partners_with_slug("after-leaving"), 0);
    free(before);
    free(after);
}

static void test_refused_writes_reach_no_handler_though_staff_writes_the_same(void **state)
{
    /* A valid enquiry, for the intake. */
    ti_form_t form;
    ti_form_init(&form, "refused");
    form.enquiry.source = "feeder-client"; /* a feeder key submits under its own name */
    Dp__ErasePersonalDataRequest erase = DP__ERASE_PERSONAL_DATA_REQUEST__INIT;
    erase.email = "someone@example.org";
    Dp__RunRetentionRequest retention = DP__RUN_RETENTION_REQUEST__INIT;
    Dp__CreatePartnerRequest partner;
    s_partner_request(&partner, "refused-partner");
    Dp__Area new_area = DP__AREA__INIT;
    new_area.slug = "refused-area";
    new_area.label = "Refused";
    Dp__AddAreaRequest area = DP__ADD_AREA_REQUEST__INIT;
    area.area = &new_area;
    Dp__CreateConsumerRequest consumer = DP__CREATE_CONSUMER_REQUEST__INIT;
    consumer.name = "refused-consumer";
    consumer.topic_prefix = "partner.";
    /* Each: which service, which client, what. */
    const struct {
        tk_kind_t kind;
        const char *client;
        const ProtobufCMessage *request;
    } refused[] = {
        {TK_REGISTRY, "consumer-client", &partner.base},
        {TK_REGISTRY, "feeder-client", &partner.base},
        {TK_REGISTRY, "service-client", &partner.base},
        {TK_REGISTRY, "service-client", &area.base},
        {TK_REGISTRY, "feeder-client", &erase.base},
        {TK_INTAKE, "consumer-client", &form.request.base},
        {TK_INTAKE, "service-client", &form.request.base},
        {TK_INTAKE, "feeder-client", &retention.base},
        {TK_INTAKE, "consumer-client", &erase.base},
        {TK_NOTIFY, "feeder-client", &consumer.base},
        {TK_NOTIFY, "service-client", &consumer.base},
    };
    char *before = s_digest();
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        tk_client_t *client = s_client(refused[i].kind, refused[i].client);
        Dp__Reply *reply = tk_exchange(client, refused[i].request, ANSWER_MS);
        assert_non_null(reply);
        if (reply->status->code != DP__CODE__CODE_PERMISSION_DENIED)
            fail_msg("%s sending %s: %s", refused[i].client, refused[i].request->descriptor->name,
                     dp_code_name(reply->status->code));
        ts_free(&reply);
        tk_client_destroy(&client);
    }
    char *after = s_digest();
    assert_string_equal(after, before);

    /* The same requests from allowed roles write: the refusals were not empty gestures. */
    const struct {
        tk_kind_t kind;
        const char *client;
        const ProtobufCMessage *request;
    } allowed[] = {
        {TK_REGISTRY, "staff-client", &partner.base},
        {TK_INTAKE, "feeder-client", &form.request.base},
        {TK_NOTIFY, "consumer-client", &consumer.base},
    };
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        tk_client_t *client = s_client(allowed[i].kind, allowed[i].client);
        Dp__Reply *reply = tk_exchange(client, allowed[i].request, ANSWER_MS);
        assert_non_null(reply);
        if (reply->status->code != DP__CODE__CODE_OK)
            fail_msg("%s sending %s: %s (%s)", allowed[i].client,
                     allowed[i].request->descriptor->name, dp_code_name(reply->status->code),
                     reply->status->message);
        ts_free(&reply);
        tk_client_destroy(&client);
    }
    char *written = s_digest();
    assert_string_not_equal(written, after);
    assert_int_equal(s_partners_with_slug("refused-partner"), 1);
    free(before);
    free(after);
    free(written);
}

/* ---- who the audit trail names ---------------------------------------------------------- */

static void test_the_audit_trail_names_the_certificate_not_the_claimed_actor(void **state)
{
    tk_client_t *client = s_client(TK_INTAKE, "staff-client");
    Dp__ExportPersonalDataRequest request = DP__EXPORT_PERSONAL_DATA_REQUEST__INIT;
    request.email = "someone@example.org";
    request.actor = "somebody.else";
    Dp__Reply *reply = tk_exchange(client, &request.base, ANSWER_MS);
    assert_non_null(reply);
    assert_int_equal(reply->status->code, DP__CODE__CODE_OK);
    ts_free(&reply);
    tk_client_destroy(&client);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(*) FROM intake.audit_log WHERE action = 'export'"
                                   " AND actor = 'staff-client'",
                                   0, NULL),
                     1);
    assert_int_equal(ts_query_long(admin,
                                   "SELECT count(*) FROM intake.audit_log"
                                   " WHERE actor = 'somebody.else'",
                                   0, NULL),
                     0);
}

/* ---- the services among themselves ------------------------------------------------------ */

static void test_the_intake_reaches_the_registry_as_service(void **state)
{
    char *text = tk_capture_text(capture);
    bool loaded = strstr(text, "partner domains loaded") != NULL;
    bool refused = strstr(text, "partner domains not refreshed") != NULL;
    free(text);
    assert_true(loaded);
    assert_false(refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_role_against_every_request_type),
        cmocka_unit_test(test_a_refusal_is_logged_as_an_audit_line),
        cmocka_unit_test(test_a_certificate_without_a_role_is_refused_everything),
        cmocka_unit_test(test_a_client_without_keys_gets_no_answer),
        cmocka_unit_test(test_an_unknown_key_gets_no_answer),
        cmocka_unit_test(test_a_removed_key_is_refused_at_its_next_connection),
        cmocka_unit_test(test_refused_writes_reach_no_handler_though_staff_writes_the_same),
        cmocka_unit_test(test_the_audit_trail_names_the_certificate_not_the_claimed_actor),
        cmocka_unit_test(test_the_intake_reaches_the_registry_as_service),
    };
    return cmocka_run_group_tests_name("security roles", tests, s_setup, s_teardown);
}
