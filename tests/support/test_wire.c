#include "test_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_codec.h"
#include "test_support.h"

/* Replies are small; this only bounds what a broken service could make us decode. */
enum { MAX_REPLY_BYTES = 16 << 20 };

zsock_t *ts_dealer_new(const char *endpoint, int timeout_ms)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    assert_non_null(dealer);
    zsock_set_linger(dealer, 0);
    zsock_set_rcvtimeo(dealer, timeout_ms);
    assert_int_equal(zsock_connect(dealer, "%s", endpoint), 0);
    return dealer;
}

zframe_t *ts_envelope(const char *request_id, const char *type, const void *body, size_t body_size)
{
    Dp__Request envelope = DP__REQUEST__INIT;
    envelope.request_id = (char *)request_id;
    envelope.type = (char *)type;
    envelope.body.data = (uint8_t *)body;
    envelope.body.len = body_size;
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&envelope.base, &size);
    assert_non_null(packed);
    zframe_t *frame = zframe_new(packed, size);
    free(packed);
    assert_non_null(frame);
    return frame;
}

zframe_t *ts_envelope_for(const char *request_id, const ProtobufCMessage *message)
{
    size_t size = 0;
    unsigned char *body = dp_message_pack(message, &size);
    assert_non_null(body);
    zframe_t *frame = ts_envelope(request_id, message->descriptor->name, body, size);
    free(body);
    return frame;
}

zmsg_t *ts_request_message(const char *request_id, const ProtobufCMessage *message)
{
    zmsg_t *request = zmsg_new();
    assert_non_null(request);
    zmsg_addmem(request, NULL, 0);
    zframe_t *envelope = ts_envelope_for(request_id, message);
    zmsg_append(request, &envelope);
    return request;
}

Dp__Reply *ts_receive_reply_at(zsock_t *dealer, const char *file, int line)
{
    zmsg_t *answer = zmsg_recv(dealer);
    if (!answer) {
        print_error("no reply within %d ms\n", zsock_rcvtimeo(dealer));
        _fail(file, line);
    }
    if (zmsg_size(answer) != 2 || zframe_size(zmsg_first(answer)) != 0) {
        print_error("the answer is not [empty, dp.Reply] but %zu frames\n", zmsg_size(answer));
        zmsg_destroy(&answer);
        _fail(file, line);
    }
    zframe_t *frame = zmsg_last(answer);
    Dp__Reply *reply = (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                                      zframe_size(frame), MAX_REPLY_BYTES);
    zmsg_destroy(&answer);
    if (!reply || !reply->status) {
        ts_free(&reply);
        print_error("the answer is not a dp.Reply with a status\n");
        _fail(file, line);
    }
    return reply;
}

Dp__Reply *ts_exchange_at(zsock_t *dealer, zmsg_t **request_p, const char *file, int line)
{
    if (zmsg_send(request_p, dealer) != 0) {
        print_error("cannot send the request\n");
        _fail(file, line);
    }
    return ts_receive_reply_at(dealer, file, line);
}

void ts_assert_reply_at(const Dp__Reply *reply, Dp__Code code, const char *field, const char *file,
                        int line)
{
    dp_status_t status = {.code = reply->status->code};
    snprintf(status.message, sizeof status.message, "%s", reply->status->message);
    snprintf(status.field, sizeof status.field, "%s", reply->status->field);
    ts_assert_status_at(&status, code, field, file, line);
    if (code == DP__CODE__CODE_OK)
        return;
    if (!*reply->status->message || *reply->type || reply->body.len) {
        print_error("an error reply must say what was wrong and carry no body "
                    "(message '%s', type '%s', %zu body bytes)\n",
                    reply->status->message, reply->type, reply->body.len);
        _fail(file, line);
    }
}

ProtobufCMessage *ts_reply_body_at(const Dp__Reply *reply,
                                   const ProtobufCMessageDescriptor *reply_type, const char *file,
                                   int line)
{
    ts_assert_reply_at(reply, DP__CODE__CODE_OK, NULL, file, line);
    if (strcmp(reply->type, reply_type->name) != 0) {
        print_error("expected a %s, the reply names '%s'\n", reply_type->name, reply->type);
        _fail(file, line);
    }
    ProtobufCMessage *body =
        dp_message_decode(reply_type, reply->body.data, reply->body.len, MAX_REPLY_BYTES);
    if (!body) {
        print_error("the reply body does not decode as %s\n", reply_type->name);
        _fail(file, line);
    }
    return body;
}

zmsg_t *ts_envelope_message(const char *request_id, const char *type, const void *body,
                            size_t body_size)
{
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zframe_t *envelope = ts_envelope(request_id, type, body, body_size);
    zmsg_append(request, &envelope);
    return request;
}

void ts_assert_answered_at(zsock_t *dealer, const ProtobufCMessage *request, const char *reply_type,
                           const char *file, int line)
{
    zmsg_t *message = ts_request_message("still-serving", request);
    Dp__Reply *reply = ts_exchange_at(dealer, &message, file, line);
    ts_assert_reply_at(reply, DP__CODE__CODE_OK, NULL, file, line);
    bool as_expected =
        strcmp(reply->request_id, "still-serving") == 0 && strcmp(reply->type, reply_type) == 0;
    if (!as_expected)
        print_error("expected %s to still-serving, got %s to %s\n", reply_type, reply->type,
                    reply->request_id);
    ts_free(&reply);
    if (!as_expected)
        _fail(file, line);
}

void ts_assert_not_served_at(zsock_t *dealer, const ProtobufCMessage *request, const char *service,
                             const char *file, int line)
{
    zmsg_t *message = ts_request_message("wrong-service", request);
    Dp__Reply *reply = ts_exchange_at(dealer, &message, file, line);
    ts_assert_reply_at(reply, DP__CODE__CODE_UNIMPLEMENTED, "type", file, line);
    bool as_expected = strcmp(reply->request_id, "wrong-service") == 0 &&
                       strstr(reply->status->message, service) != NULL;
    if (!as_expected)
        print_error("expected a refusal to wrong-service naming %s, got '%s' to %s\n", service,
                    reply->status->message, reply->request_id);
    ts_free(&reply);
    if (!as_expected)
        _fail(file, line);
}

int ts_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        close(fd);
        fail_msg("cannot find a free port: %s", strerror(errno));
    }
    close(fd);
    return ntohs(address.sin_port);
}

int ts_tcp_connect(const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    assert_non_null(colon);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)atoi(colon + 1))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
    return fd;
}

void ts_send_raw_tcp(const char *endpoint, const void *bytes, size_t size)
{
    int fd = ts_tcp_connect(endpoint);
    assert_int_equal(send(fd, bytes, size, MSG_NOSIGNAL), (ssize_t)size);
    close(fd);
}

/* ---- A stub ROUTER ----------------------------------------------------------- */

struct _ts_stub_t {
    zactor_t *actor; /* s_stub_actor */
    char *endpoint;  /* where it listens */
    void *args;      /* the actor's stub_args_t, freed once the actor has ended */
};

typedef struct {
    ts_stub_fn *answer; /* the test's function */
    void *state;        /* its state */
} stub_args_t;

/* The log answers "COUNT" and "GET <n>" on the pipe, so that the test's
   thread never reads the stub thread's memory. */
static void s_stub_actor(zsock_t *pipe, void *args_)
{
    stub_args_t *args = args_;
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    zlist_t *log = zlist_new();
    zlist_autofree(log);
    if (!router || !log || zsock_bind(router, "tcp://127.0.0.1:*") < 0) {
        zsock_destroy(&router);
        zlist_destroy(&log);
        zsock_signal(pipe, 1);
        return;
    }
    zsock_set_linger(router, 0);
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    size_t seen = 0;
    bool running = true;
    while (running) {
        void *which = zpoller_wait(poller, -1);
        if (which == pipe) {
            zmsg_t *command = zmsg_recv(pipe);
            char *verb = command ? zmsg_popstr(command) : NULL;
            running = verb && strcmp(verb, "$TERM") != 0;
            if (verb && strcmp(verb, "ENDPOINT") == 0) {
                char *endpoint = zsock_last_endpoint(router);
                zstr_send(pipe, endpoint ? endpoint : "");
                free(endpoint);
            } else if (verb && strcmp(verb, "COUNT") == 0)
                zstr_sendf(pipe, "%zu", zlist_size(log) / 3);
            else if (verb && strcmp(verb, "GET") == 0) {
                char *index = zmsg_popstr(command);
                size_t n = index ? strtoul(index, NULL, 10) : 0;
                zstr_free(&index);
                zmsg_t *entry = zmsg_new();
                size_t i = 0;
                for (char *item = zlist_first(log); item; item = zlist_next(log), i++)
                    if (i / 3 == n)
                        zmsg_addstr(entry, item);
                zmsg_send(&entry, pipe);
            }
            zstr_free(&verb);
            zmsg_destroy(&command);
            continue;
        }
        if (which != router)
            break;
        zmsg_t *message = zmsg_recv(router);
        if (!message)
            break;
        zframe_t *peer = zmsg_pop(message);
        zframe_t *delimiter = zmsg_pop(message);
        zframe_t *frame = zmsg_first(message);
        Dp__Request *request =
            frame && zmsg_size(message) == 1
                ? (Dp__Request *)dp_message_decode(&dp__request__descriptor, zframe_data(frame),
                                                   zframe_size(frame), MAX_REPLY_BYTES)
                : NULL;
        if (request) {
            char *hex = zframe_strhex(peer);
            zlist_append(log, request->request_id);
            zlist_append(log, request->type);
            zlist_append(log, hex ? hex : "");
            free(hex);
            zlist_t *replies = zlist_new();
            if (replies)
                args->answer(args->state, request, seen++, replies);
            zmsg_t *reply;
            while (replies && (reply = zlist_pop(replies))) {
                zframe_t *to = zframe_dup(peer);
                zmsg_prepend(reply, &to);
                zmsg_send(&reply, router);
            }
            zlist_destroy(&replies);
            dp_message_free((ProtobufCMessage **)&request);
        }
        zframe_destroy(&peer);
        zframe_destroy(&delimiter);
        zmsg_destroy(&message);
    }
    zpoller_destroy(&poller);
    zlist_destroy(&log);
    zsock_destroy(&router);
}

ts_stub_t *ts_stub_new(ts_stub_fn *answer, void *state)
{
    ts_stub_t *self = calloc(1, sizeof *self);
    stub_args_t *args = calloc(1, sizeof *args);
    assert_non_null(self);
    assert_non_null(args);
    args->answer = answer;
    args->state = state;
    /* The actor reads its arguments until its last turn: they are freed
       after zactor_destroy has waited for it to end. */
    self->args = args;
    self->actor = zactor_new(s_stub_actor, args);
    assert_non_null(self->actor);
    zstr_send(self->actor, "ENDPOINT");
    self->endpoint = zstr_recv(self->actor);
    if (!self->endpoint || !*self->endpoint)
        fail_msg("the stub ROUTER did not bind");
    return self;
}

void ts_stub_destroy(ts_stub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_stub_t *self = *self_p;
    zactor_destroy(&self->actor);
    free(self->args);
    zstr_free(&self->endpoint);
    free(self);
    *self_p = NULL;
}

const char *ts_stub_endpoint(const ts_stub_t *self)
{
    return self->endpoint;
}

size_t ts_stub_count(ts_stub_t *self)
{
    zstr_send(self->actor, "COUNT");
    char *count = zstr_recv(self->actor);
    assert_non_null(count);
    size_t n = strtoul(count, NULL, 10);
    zstr_free(&count);
    return n;
}

bool ts_stub_request(ts_stub_t *self, size_t index, char **request_id, char **type, char **peer)
{
    zstr_sendm(self->actor, "GET");
    zstr_sendf(self->actor, "%zu", index);
    zmsg_t *entry = zmsg_recv(self->actor);
    assert_non_null(entry);
    bool found = zmsg_size(entry) == 3;
    if (found) {
        *request_id = zmsg_popstr(entry);
        *type = zmsg_popstr(entry);
        *peer = zmsg_popstr(entry);
    }
    zmsg_destroy(&entry);
    return found;
}

/* [empty, dp.Reply]; NULL when out of memory (the stub then drops). */
static zmsg_t *s_reply(const char *request_id, Dp__Code code, const char *field, const char *type,
                       const void *body, size_t size)
{
    Dp__Status status = DP__STATUS__INIT;
    status.code = code;
    status.field = (char *)(field ? field : "");
    status.message = code == DP__CODE__CODE_OK ? "" : "refused by the stub";
    Dp__Reply reply = DP__REPLY__INIT;
    reply.request_id = (char *)request_id;
    reply.status = &status;
    reply.type = (char *)type;
    reply.body.data = (uint8_t *)body;
    reply.body.len = size;
    size_t packed_size = 0;
    unsigned char *packed = dp_message_pack(&reply.base, &packed_size);
    if (!packed)
        return NULL;
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, packed, packed_size);
    free(packed);
    return message;
}

zmsg_t *ts_stub_reply_raw(const char *request_id, const char *type, const void *body, size_t size)
{
    return s_reply(request_id, DP__CODE__CODE_OK, NULL, type, body, size);
}

zmsg_t *ts_stub_reply(const char *request_id, Dp__Code code, const char *field,
                      const ProtobufCMessage *body)
{
    if (code != DP__CODE__CODE_OK || !body)
        return s_reply(request_id, code, field, "", NULL, 0);
    size_t size = 0;
    unsigned char *packed = dp_message_pack(body, &size);
    if (!packed)
        return NULL;
    zmsg_t *message = s_reply(request_id, code, field, body->descriptor->name, packed, size);
    free(packed);
    return message;
}
