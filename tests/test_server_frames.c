/* dp_server's door, once for every service: a server with a stub route
   table (two handlers that count their calls) runs in an actor, and
   malformed traffic is sent with a raw DEALER or a plain TCP socket. Every
   request that can be answered gets a dp.Reply with a clear error and never
   reaches a handler; the server keeps serving afterwards. What depends on a
   service's own route table or settings (its size limit, a batch route, a
   PUB socket) stays in that service's frames test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_client.h"
#include "dp_server.h"
#include "intake.pb-c.h"
#include "registry.pb-c.h"
#include "test_support.h"
#include "test_wire.h"

enum {
    MAX_MESSAGE_BYTES = 65536,
    NOTE_LIMIT = 50000, /* the stub CreatePartner handler refuses longer notes */
    REPLY_TIMEOUT_MS = 10000,
    NO_REPLY_MS = 1000 /* how long a dropped request is given to (wrongly) get an answer */
};

/* ---- The stub service ---------------------------------------------------- */

typedef struct {
    atomic_int list_areas; /* calls of each handler */
    atomic_int create_partner;
} stub_state_t;

static stub_state_t s_state;
static zactor_t *s_server;
static dp_metrics_t *s_metrics; /* the stub server's */
static char *s_endpoint;

static void s_handle_list_areas(void *state, const ProtobufCMessage *request, dp_reply_t *reply)
{
    stub_state_t *self = state;
    atomic_fetch_add(&self->list_areas, 1);
    Dp__Area area = DP__AREA__INIT;
    area.slug = "stub-area";
    Dp__Area *areas[] = {&area};
    Dp__ListAreasReply answer = DP__LIST_AREAS_REPLY__INIT;
    answer.areas = areas;
    answer.n_areas = 1;
    dp_reply_ok(reply, &answer.base);
}

/* Refuses a long note for its own reason, so that a test can tell a request
   that reached the handler from one the server refused. */
static void s_handle_create_partner(void *state, const ProtobufCMessage *request, dp_reply_t *reply)
{
    stub_state_t *self = state;
    atomic_fetch_add(&self->create_partner, 1);
    const Dp__CreatePartnerRequest *create = (const Dp__CreatePartnerRequest *)request;
    if (strlen(create->note) > NOTE_LIMIT) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "note", "note is too long");
        return;
    }
    Dp__CreatePartnerReply answer = DP__CREATE_PARTNER_REPLY__INIT;
    dp_reply_ok(reply, &answer.base);
}

static const dp_route_t s_routes[] = {
    {&dp__list_areas_request__descriptor, s_handle_list_areas, NULL, 0},
    {&dp__create_partner_request__descriptor, s_handle_create_partner, NULL, 0},
};

static dp_server_config_t s_config = {
    .service_name = "stub",
    .endpoint = "tcp://127.0.0.1:*",
    .max_message_bytes = MAX_MESSAGE_BYTES,
    .queue_limit = 100,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes[0],
    .state = &s_state,
};

static void s_stub_actor(zsock_t *pipe, void *args)
{
    dp_server_run(args, pipe);
}

static int s_handler_calls(void)
{
    return atomic_load(&s_state.list_areas) + atomic_load(&s_state.create_partner);
}

static zsock_t *s_dealer(void)
{
    return ts_dealer_new(s_endpoint, REPLY_TIMEOUT_MS);
}

/* A well-formed request on the same socket reaches its handler, and the
   built-in health request from a typed client is answered. */
static void s_assert_still_serving(zsock_t *dealer)
{
    int before = atomic_load(&s_state.list_areas);
    Dp__ListAreasRequest areas = DP__LIST_AREAS_REQUEST__INIT;
    zmsg_t *request = ts_request_message("still-serving", &areas.base);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, OK, NULL);
    assert_string_equal(reply->request_id, "still-serving");
    assert_string_equal(reply->type, "dp.ListAreasReply");
    Dp__ListAreasReply *answer =
        (Dp__ListAreasReply *)ts_reply_body(reply, &dp__list_areas_reply__descriptor);
    assert_int_equal(answer->n_areas, 1);
    assert_string_equal(answer->areas[0]->slug, "stub-area");
    ts_free(&answer);
    ts_free(&reply);
    assert_int_equal(atomic_load(&s_state.list_areas), before + 1);

    dp_client_t *client = dp_client_new(s_endpoint, REPLY_TIMEOUT_MS, 1);
    assert_non_null(client);
    Dp__HealthRequest health = DP__HEALTH_REQUEST__INIT;
    ProtobufCMessage *healthy = NULL;
    dp_status_t status;
    assert_int_equal(
        dp_client_call(client, &health.base, &dp__health_reply__descriptor, &healthy, &status), 0);
    ts_assert_ok(&status);
    assert_string_equal(((Dp__HealthReply *)healthy)->service, "stub");
    assert_string_equal(((Dp__HealthReply *)healthy)->database_message, "not used");
    dp_message_free(&healthy);
    dp_client_destroy(&client);
}

/* ---- Requests that must be refused at the door -------------------------- */

/* An envelope frame from raw protobuf bytes: what protobuf-c would never
   pack (a NUL inside a string) can be written so. */
static zframe_t *s_raw_envelope(const char *request_id, size_t id_size, const char *type,
                                size_t type_size)
{
    unsigned char bytes[256];
    size_t used = 0;
    assert_true(id_size < 120 && type_size < 120);
    bytes[used++] = 0x0a; /* field 1 (request_id), length-delimited */
    bytes[used++] = (unsigned char)id_size;
    memcpy(bytes + used, request_id, id_size);
    used += id_size;
    bytes[used++] = 0x12; /* field 2 (type), length-delimited */
    bytes[used++] = (unsigned char)type_size;
    memcpy(bytes + used, type, type_size);
    used += type_size;
    return zframe_new(bytes, used);
}

static zmsg_t *s_delimited(zframe_t *envelope)
{
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zmsg_append(request, &envelope);
    return request;
}

static zmsg_t *s_single_frame(void)
{
    Dp__ListAreasRequest body = DP__LIST_AREAS_REQUEST__INIT;
    zmsg_t *request = zmsg_new();
    zframe_t *envelope = ts_envelope_for("one-frame", &body.base);
    zmsg_append(request, &envelope);
    return request;
}

static zmsg_t *s_three_frames(void)
{
    Dp__ListAreasRequest body = DP__LIST_AREAS_REQUEST__INIT;
    zmsg_t *request = ts_request_message("three-frames", &body.base);
    zmsg_addstr(request, "extra");
    return request;
}

static zmsg_t *s_no_delimiter(void)
{
    Dp__ListAreasRequest body = DP__LIST_AREAS_REQUEST__INIT;
    zmsg_t *request = zmsg_new();
    zmsg_addstr(request, "not-empty");
    zframe_t *envelope = ts_envelope_for("no-delimiter", &body.base);
    zmsg_append(request, &envelope);
    return request;
}

static zmsg_t *s_envelope_not_protobuf(void)
{
    static const unsigned char garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x07, 0x07};
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zmsg_addmem(request, garbage, sizeof garbage);
    return request;
}

static zmsg_t *s_unknown_type(void)
{
    return ts_envelope_message("unknown-type", "dp.NoSuchRequest", NULL, 0);
}

/* A real request type of another service: not in this route table. */
static zmsg_t *s_foreign_type(void)
{
    Dp__SubmitEnquiryRequest body = DP__SUBMIT_ENQUIRY_REQUEST__INIT;
    return ts_request_message("foreign-type", &body.base);
}

static zmsg_t *s_missing_type(void)
{
    return ts_envelope_message("no-type", "", NULL, 0);
}

static zmsg_t *s_body_not_decoding(void)
{
    static const unsigned char garbage[] = {0x0a, 0x7f, 'a', 'b'};
    return ts_envelope_message("bad-body", "dp.CreatePartnerRequest", garbage, sizeof garbage);
}

static zmsg_t *s_invalid_request_id(void)
{
    return ts_envelope_message("bad\xff"
                               "id",
                               "dp.ListAreasRequest", NULL, 0);
}

/* "dp.ListAreasRequest" followed by a NUL and more: a C string would stop
   at the NUL and find the route. */
static zmsg_t *s_type_with_nul(void)
{
    static const char type[] = "dp.ListAreasRequest\0.evil";
    return s_delimited(s_raw_envelope("nul-type", 8, type, sizeof type - 1));
}

static zmsg_t *s_request_id_with_nul(void)
{
    static const char id[] = "nul\0id";
    static const char type[] = "dp.ListAreasRequest";
    return s_delimited(s_raw_envelope(id, sizeof id - 1, type, sizeof type - 1));
}

/* A type that would forge a log line if it were written out as it is. */
static zmsg_t *s_type_with_newline(void)
{
    return ts_envelope_message("newline-type", "dp.X\naudit: forged", NULL, 0);
}

/* A CreatePartner whose note makes the message note_bytes + about 100 bytes. */
static zmsg_t *s_create_partner_with_note(const char *request_id, size_t note_bytes)
{
    char *note = malloc(note_bytes + 1);
    assert_non_null(note);
    memset(note, 'n', note_bytes);
    note[note_bytes] = 0;
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.slug = "sized";
    create.note = note;
    zmsg_t *request = ts_request_message(request_id, &create.base);
    free(note);
    return request;
}

static zmsg_t *s_over_the_limit(void)
{
    zmsg_t *request = s_create_partner_with_note("too-large", 100 * 1024);
    assert_true(zmsg_content_size(request) > MAX_MESSAGE_BYTES);
    return request;
}

typedef struct {
    const char *name;       /* for the failure message */
    zmsg_t *(*build)(void); /* the request */
    Dp__Code code;          /* the refusal */
    const char *field;      /* its field, NULL: none asked for */
    const char *request_id; /* the id echoed, NULL: not checked */
    const char *says;       /* a word the message must hold, NULL: not checked */
} refusal_t;

static const refusal_t s_refusals[] = {
    {"single frame", s_single_frame, DP__CODE__CODE_INVALID_ARGUMENT, NULL, NULL, "frames"},
    {"three frames", s_three_frames, DP__CODE__CODE_INVALID_ARGUMENT, NULL, NULL, "frames"},
    {"no empty delimiter", s_no_delimiter, DP__CODE__CODE_INVALID_ARGUMENT, NULL, NULL, NULL},
    /* Nothing could be read, not even the request id. */
    {"envelope not protobuf", s_envelope_not_protobuf, DP__CODE__CODE_INVALID_ARGUMENT, NULL, "",
     "envelope"},
    {"unknown type", s_unknown_type, DP__CODE__CODE_UNIMPLEMENTED, "type", "unknown-type", "stub"},
    {"another service's type", s_foreign_type, DP__CODE__CODE_UNIMPLEMENTED, "type", "foreign-type",
     "stub"},
    {"missing type", s_missing_type, DP__CODE__CODE_INVALID_ARGUMENT, "type", "no-type", NULL},
    {"body not decoding", s_body_not_decoding, DP__CODE__CODE_INVALID_ARGUMENT, "body", "bad-body",
     NULL},
    {"request id not UTF-8", s_invalid_request_id, DP__CODE__CODE_INVALID_ARGUMENT, "request_id",
     NULL, NULL},
    /* A NUL inside a string of the envelope: the envelope is refused whole. */
    {"NUL inside the type", s_type_with_nul, DP__CODE__CODE_INVALID_ARGUMENT, NULL, "", "envelope"},
    {"NUL inside the request id", s_request_id_with_nul, DP__CODE__CODE_INVALID_ARGUMENT, NULL, "",
     "envelope"},
    {"newline inside the type", s_type_with_newline, DP__CODE__CODE_UNIMPLEMENTED, "type",
     "newline-type", NULL},
    {"over the size limit", s_over_the_limit, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, NULL,
     "limit"},
};

/* Every malformed request gets its refusal, no handler runs, and the same
   connection is served afterwards. */
static void test_malformed_requests_are_refused_at_the_door(void **state)
{
    zsock_t *dealer = s_dealer();
    for (size_t i = 0; i < sizeof s_refusals / sizeof s_refusals[0]; i++) {
        const refusal_t *refusal = &s_refusals[i];
        print_message("case: %s\n", refusal->name);
        int calls = s_handler_calls();
        zmsg_t *request = refusal->build();
        Dp__Reply *reply = ts_exchange(dealer, &request);
        ts_assert_reply_at(reply, refusal->code, refusal->field, __FILE__, __LINE__);
        if (refusal->request_id)
            assert_string_equal(reply->request_id, refusal->request_id);
        if (refusal->says && !strstr(reply->status->message, refusal->says))
            fail_msg("%s: the message '%s' does not say '%s'", refusal->name,
                     reply->status->message, refusal->says);
        /* No control character comes back in the message. */
        for (const char *p = reply->status->message; *p; p++)
            if ((unsigned char)*p < 0x20)
                fail_msg("%s: a control character in the message", refusal->name);
        ts_free(&reply);
        if (s_handler_calls() != calls)
            fail_msg("%s reached a handler", refusal->name);
        s_assert_still_serving(dealer);
    }
    zsock_destroy(&dealer);
    /* No text of a client reaches the metrics: a type that is not routed
       is counted as "(undecoded)", so no label needs escaping. */
    char *text = dp_metrics_render(s_metrics);
    assert_non_null(text);
    const char *client_texts[] = {"NoSuchRequest", "forged", "evil", "\\", "bad"};
    for (size_t i = 0; i < sizeof client_texts / sizeof *client_texts; i++)
        if (strstr(text, client_texts[i]))
            fail_msg("'%s' in the metrics:\n%s", client_texts[i], text);
    assert_non_null(strstr(text, "type=\"(undecoded)\",code=\"UNIMPLEMENTED\""));
    free(text);
}

static void test_well_formed_request_is_answered(void **state)
{
    zsock_t *dealer = s_dealer();
    s_assert_still_serving(dealer);
    /* The raw envelope the NUL cases are made with is well-formed without
       the NUL: their refusal is the NUL's. */
    static const char type[] = "dp.ListAreasRequest";
    zmsg_t *request = s_delimited(s_raw_envelope("raw-id", 6, type, sizeof type - 1));
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, OK, NULL);
    assert_string_equal(reply->request_id, "raw-id");
    ts_free(&reply);
    zsock_destroy(&dealer);
}

/* 60 KB is under the limit: the handler sees it and refuses the note for
   its own reason, not the size of the message. */
static void test_request_under_the_size_limit_reaches_its_handler(void **state)
{
    zsock_t *dealer = s_dealer();
    int calls = atomic_load(&s_state.create_partner);
    zmsg_t *request = s_create_partner_with_note("under-limit", 60 * 1024);
    assert_true(zmsg_content_size(request) < MAX_MESSAGE_BYTES);
    Dp__Reply *reply = ts_exchange(dealer, &request);
    ts_assert_reply(reply, INVALID_ARGUMENT, "note");
    assert_string_equal(reply->request_id, "under-limit");
    ts_free(&reply);
    assert_int_equal(atomic_load(&s_state.create_partner), calls + 1);
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

/* Past four times the limit ZeroMQ drops the peer without reading the
   message: no reply, no handler, and other clients are served as before. */
static void test_request_far_over_the_limit_drops_the_connection_only(void **state)
{
    int calls = s_handler_calls();
    zsock_t *dealer = ts_dealer_new(s_endpoint, NO_REPLY_MS);
    zmsg_t *request = s_create_partner_with_note("far-too-large", 5 * MAX_MESSAGE_BYTES);
    assert_int_equal(zmsg_send(&request, dealer), 0);
    zmsg_t *answer = zmsg_recv(dealer);
    assert_null(answer);
    zsock_destroy(&dealer);
    assert_int_equal(s_handler_calls(), calls);
    dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
}

static void test_raw_garbage_on_the_router_harms_nothing(void **state)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    unsigned char noise[4096];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 37 + 11);
    int calls = s_handler_calls();
    ts_send_raw_tcp(s_endpoint, http, sizeof http - 1);
    ts_send_raw_tcp(s_endpoint, noise, sizeof noise);
    zsock_t *dealer = s_dealer();
    s_assert_still_serving(dealer);
    zsock_destroy(&dealer);
    /* Only s_assert_still_serving's request reached a handler. */
    assert_int_equal(s_handler_calls(), calls + 1);
}

static void test_start_leaves_no_time_out_on_the_pipe(void **state)
{
    /* dp_server_start bounds its own wait for the endpoint, and only that:
       the caller's later questions to the actor wait as long as they must. */
    assert_int_equal(zsock_rcvtimeo(s_server), -1);
    zstr_send(s_server, "ENDPOINT");
    char *endpoint = zstr_recv(s_server);
    assert_non_null(endpoint);
    assert_string_equal(endpoint, s_endpoint);
    zstr_free(&endpoint);
}

int main(void)
{
    s_metrics = dp_metrics_new("stub");
    s_config.metrics = s_metrics;
    s_server = dp_server_start(s_stub_actor, &s_config, &s_endpoint);
    if (!s_server) {
        fprintf(stderr, "FATAL: the stub server did not start\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_leaves_no_time_out_on_the_pipe),
        cmocka_unit_test(test_well_formed_request_is_answered),
        cmocka_unit_test(test_malformed_requests_are_refused_at_the_door),
        cmocka_unit_test(test_request_under_the_size_limit_reaches_its_handler),
        cmocka_unit_test(test_request_far_over_the_limit_drops_the_connection_only),
        cmocka_unit_test(test_raw_garbage_on_the_router_harms_nothing),
    };
    int failed = cmocka_run_group_tests_name("server frames", tests, NULL, NULL);
    zactor_destroy(&s_server);
    zstr_free(&s_endpoint);
    dp_metrics_destroy(&s_metrics);
    return failed;
}
