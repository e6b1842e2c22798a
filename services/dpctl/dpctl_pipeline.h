/* Many requests in flight on one DEALER socket, for bulk work such as
   `dpctl enquiry import`. dp_client waits for each reply before it sends
   the next request; this keeps up to `window` requests outstanding, matches
   replies to requests by request_id (proto/README.md), and resends a
   request whose reply is late with the same request id and the same bytes.
   When nothing at all has come back for a whole timeout it also replaces
   the socket, dropping what was queued for a peer that went away (Lazy
   Pirate, for a window of requests). Only requests that are safe to repeat
   belong here. */
#ifndef DPCTL_PIPELINE_H
#define DPCTL_PIPELINE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_codec.h"
#include "dp_security.h"

typedef struct _dpctl_pipeline_t dpctl_pipeline_t;

/* Called once for each request sent, when its reply came or its attempts
   ran out. status is the verdict (UNAVAILABLE after the last attempt);
   reply, when the status is OK, is the decoded reply, borrowed for the call.
   tag is the caller's number given to dpctl_pipeline_send; sends is how
   often the request went out (more than 1: an earlier send may have been
   carried out although its reply was lost). done must not send. */
typedef void(dpctl_pipeline_done_fn)(void *sink, uint64_t tag, int sends, const dp_status_t *status,
                                     const ProtobufCMessage *reply);

/* endpoints: one or more, comma-separated. keys: CURVE keys for every
   socket it makes (copied), or NULL. window: requests outstanding at most
   (>= 1). timeout_ms: wait per attempt. attempts: sends per request.
   Every reply is decoded as reply_type and handed to done. NULL when the
   socket cannot be made or no endpoint connects. */
dpctl_pipeline_t *dpctl_pipeline_new(const char *endpoints, const dp_client_keys_t *keys,
                                     size_t window, int timeout_ms, int attempts,
                                     const ProtobufCMessageDescriptor *reply_type,
                                     dpctl_pipeline_done_fn *done, void *sink);
/* Forgets the requests still outstanding (done is not called for them). */
void dpctl_pipeline_destroy(dpctl_pipeline_t **self_p);

/* Sends request (packed at once: the caller keeps it). While `window`
   requests are outstanding it first handles replies, so it may call done.
   Returns 0, or -1 when out of memory. */
int dpctl_pipeline_send(dpctl_pipeline_t *self, const ProtobufCMessage *request, uint64_t tag);

/* Handles replies and late requests for up to wait_ms (0: only what has
   arrived). Returns the number of requests still outstanding. */
size_t dpctl_pipeline_poll(dpctl_pipeline_t *self, int wait_ms);

/* Handles replies until every request is done. */
void dpctl_pipeline_drain(dpctl_pipeline_t *self);

/* Requests sent and not yet done. */
size_t dpctl_pipeline_outstanding(const dpctl_pipeline_t *self);

/* Requests sent again after a late reply, so far. */
size_t dpctl_pipeline_resent(const dpctl_pipeline_t *self);

/* True when a request ran out of attempts and no reply at all has come
   since it was first sent: the service is down or unreachable, and sending
   more is pointless. False again once any reply arrives. */
bool dpctl_pipeline_unresponsive(const dpctl_pipeline_t *self);

#endif
