#include "test_wire.h"

#include <arpa/inet.h>
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
    if (code == DP__CODE__CODE_OK) return;
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

void ts_send_raw_tcp(const char *endpoint, const void *bytes, size_t size)
{
    const char *colon = strrchr(endpoint, ':');
    assert_non_null(colon);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)atoi(colon + 1))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal(send(fd, bytes, size, MSG_NOSIGNAL), (ssize_t)size);
    close(fd);
}
