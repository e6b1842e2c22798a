/* Raw traffic for tests that speak the wire protocol themselves (see
   proto/README.md): a DEALER socket, envelopes, the reply read back and its
   status checked. Used to send what dp_client never would (malformed
   frames, oversized messages) and to keep many requests in flight on one
   connection (pipelining). Any service's endpoint works. */
#ifndef TEST_WIRE_H
#define TEST_WIRE_H

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "envelope.pb-c.h"

/* A DEALER connected to endpoint; receives wait at most timeout_ms. */
zsock_t *ts_dealer_new(const char *endpoint, int timeout_ms);

/* A dp.Request frame with this id, type and body. */
zframe_t *ts_envelope(const char *request_id, const char *type, const void *body, size_t body_size);
/* A dp.Request frame carrying a packed message (type: its full name). */
zframe_t *ts_envelope_for(const char *request_id, const ProtobufCMessage *message);
/* The request [empty delimiter, envelope with this id, type and body]. */
zmsg_t *ts_envelope_message(const char *request_id, const char *type, const void *body,
                            size_t body_size);
/* The well-formed request [empty delimiter, envelope]. */
zmsg_t *ts_request_message(const char *request_id, const ProtobufCMessage *message);

/* Receives one answer and decodes it; fails the test when none comes within
   the socket's timeout or when it is not [empty, dp.Reply]. Free with ts_free. */
Dp__Reply *ts_receive_reply_at(zsock_t *dealer, const char *file, int line);
#define ts_receive_reply(dealer) ts_receive_reply_at(dealer, __FILE__, __LINE__)
/* Sends the message (taking it) and receives the answer as above. */
Dp__Reply *ts_exchange_at(zsock_t *dealer, zmsg_t **request_p, const char *file, int line);
#define ts_exchange(dealer, request_p) ts_exchange_at(dealer, request_p, __FILE__, __LINE__)

/* Fails the test unless the reply has this code and field (NULL: any); an
   error must also say what was wrong and carry no body. */
void ts_assert_reply_at(const Dp__Reply *reply, Dp__Code code, const char *field, const char *file,
                        int line);
#define ts_assert_reply(reply, code, field)                                                        \
    ts_assert_reply_at(reply, DP__CODE__CODE_##code, field, __FILE__, __LINE__)

/* The body of an OK reply decoded as reply_type; fails the test when the
   reply names another type or the body does not decode. Free with ts_free. */
ProtobufCMessage *ts_reply_body_at(const Dp__Reply *reply,
                                   const ProtobufCMessageDescriptor *reply_type, const char *file,
                                   int line);
#define ts_reply_body(reply, reply_type) ts_reply_body_at(reply, reply_type, __FILE__, __LINE__)

/* Sends the well-formed request with id "still-serving" on dealer and
   fails the test unless it is answered OK by a reply of reply_type (its
   full name, e.g. "dp.ListAreasReply") with that id. */
void ts_assert_answered_at(zsock_t *dealer, const ProtobufCMessage *request, const char *reply_type,
                           const char *file, int line);
#define ts_assert_answered(dealer, request, reply_type)                                            \
    ts_assert_answered_at(dealer, request, reply_type, __FILE__, __LINE__)
/* Sends another service's request with id "wrong-service" on dealer and
   fails the test unless it is refused UNIMPLEMENTED on "type", with that
   id and a message naming service. */
void ts_assert_not_served_at(zsock_t *dealer, const ProtobufCMessage *request, const char *service,
                             const char *file, int line);
#define ts_assert_not_served(dealer, request, service)                                             \
    ts_assert_not_served_at(dealer, request, service, __FILE__, __LINE__)

/* A loopback port nobody listens on now (bound, read, closed); fails the
   test when none can be had. */
int ts_free_port(void);
/* A plain TCP connection to a tcp://127.0.0.1:PORT endpoint; fails the test
   when it cannot connect. The caller closes it. */
int ts_tcp_connect(const char *endpoint);
/* Sends bytes on a plain TCP connection to a tcp://127.0.0.1:PORT endpoint
   and closes it; fails the test when it cannot. */
void ts_send_raw_tcp(const char *endpoint, const void *bytes, size_t size);

/* ---- A stub ROUTER -----------------------------------------------------------

   A server of the wire protocol in a thread of its own, answering as the
   test's function says: to test a client (dp_client, dp_follower's
   replay) against answers a real service would never give. It logs every
   request it takes. */
typedef struct _ts_stub_t ts_stub_t;

/* Answers the `seen`-th request (0 first) whose envelope decoded by
   appending to `replies` the messages to send back, in order, each as the
   frames after the peer's routing id (e.g. from ts_stub_reply); appending
   none drops the request. Runs in the stub's thread: it must not call
   cmocka's asserts. */
typedef void(ts_stub_fn)(void *state, const Dp__Request *request, size_t seen, zlist_t *replies);

/* Binds a ROUTER on tcp://127.0.0.1:* (state is passed to answer). Fails
   the test when it cannot. */
ts_stub_t *ts_stub_new(ts_stub_fn *answer, void *state);
void ts_stub_destroy(ts_stub_t **self_p);
const char *ts_stub_endpoint(const ts_stub_t *self);
/* Requests taken so far (answered or dropped). */
size_t ts_stub_count(ts_stub_t *self);
/* The index-th request's id, type and the peer's routing id in hex (the
   caller frees each); false when there is no such request. */
bool ts_stub_request(ts_stub_t *self, size_t index, char **request_id, char **type, char **peer);

/* [empty, dp.Reply] with this id and status, and the body when code is OK
   (body NULL: an empty body of no type). */
zmsg_t *ts_stub_reply(const char *request_id, Dp__Code code, const char *field,
                      const ProtobufCMessage *body);
/* [empty, dp.Reply] OK with this type and raw body bytes. */
zmsg_t *ts_stub_reply_raw(const char *request_id, const char *type, const void *body, size_t size);

#endif
