/* A request/reply client with a timeout and retries: the ZeroMQ guide's
   Lazy Pirate. On a timeout it closes the socket, opens a new one and sends
   the same request (same request id) again; replies to earlier attempts are
   recognised by their request id and dropped. */
#ifndef DP_CLIENT_H
#define DP_CLIENT_H

#include <protobuf-c/protobuf-c.h>

#include "dp_codec.h"
#include "dp_security.h"

typedef struct _dp_client_t dp_client_t;

/* endpoints: one or more comma-separated ZeroMQ endpoints, e.g.
   "tcp://127.0.0.1:7101" or "tcp://a:7102,tcp://b:7102" (requests are
   spread over replicas). timeout_ms per attempt; attempts >= 1. */
dp_client_t *dp_client_new(const char *endpoints, int timeout_ms, int attempts);

/* Connects `socket` to each of the comma-separated endpoints (replicas of
   one service). Returns how many it connected, or -1 when out of memory. */
int dp_client_connect_all(zsock_t *socket, const char *endpoints);
void dp_client_destroy(dp_client_t **self_p);

/* Sends `request` and waits for the reply. Returns 0 when the server
   answered: `status` holds its verdict and, when OK, *reply_out the decoded
   reply (free with dp_message_free). Returns -1 when no reply came after
   every attempt, with status UNAVAILABLE, or DEADLINE_EXCEEDED. */
int dp_client_call(dp_client_t *self, const ProtobufCMessage *request,
                   const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply_out,
                   dp_status_t *status);

/* Talks CURVE with these keys from now on (see dp_security.h); the keys
   are copied. NULL keys or keys without a client certificate: no CURVE. */
void dp_client_set_keys(dp_client_t *self, const dp_client_keys_t *keys);

/* For a front end (role frontend): the person every following request is
   made for (Request.on_behalf_of, at most 100 bytes); "" or NULL for none. */
void dp_client_set_on_behalf_of(dp_client_t *self, const char *person);

/* Replies larger than this are refused (default 64 MiB). */
void dp_client_set_max_reply_bytes(dp_client_t *self, size_t bytes);

#endif
