/* Consuming the event stream from C: the payload type of each event, and a
   follower that gives live events in order and repairs gaps by replay (the
   ZeroMQ guide's Clone pattern). */
#ifndef DP_EVENTS_H
#define DP_EVENTS_H

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "dp_codec.h"
#include "dp_security.h"
#include "notify.pb-c.h"

/* The events.proto message carried by an event type, or NULL when unknown. */
const ProtobufCMessageDescriptor *dp_event_payload_type(const char *event_type);

typedef struct _dp_follower_t dp_follower_t;

/* Subscribes to pub_endpoint (the notifications service's PUB) for events
   whose type starts with topic_prefix, and uses router_endpoint for replay.
   from_seq 0 follows from the next live event; from_seq N first replays
   every matching event from N. */
dp_follower_t *dp_follower_new(const char *pub_endpoint, const char *router_endpoint,
                               const char *topic_prefix, uint64_t from_seq);
/* The same over CURVE with the notifications service's keys (NULL: none). */
dp_follower_t *dp_follower_new_with_keys(const char *pub_endpoint, const char *router_endpoint,
                                         const char *topic_prefix, uint64_t from_seq,
                                         const dp_client_keys_t *keys);
void dp_follower_destroy(dp_follower_t **self_p);

/* The next matching event in sequence order, waiting up to timeout_ms
   (0: do not wait). NULL on timeout. A gap seen in the live stream (a
   skipped seq, or a heartbeat ahead of what arrived) is filled by replay
   before later events are given. Free the event with dp_message_free. */
Dp__Event *dp_follower_next(dp_follower_t *self, int timeout_ms);

/* The SUB socket, to poll it in a service loop. */
zsock_t *dp_follower_socket(dp_follower_t *self);
/* Events received by replay rather than live, since the start. */
uint64_t dp_follower_repaired(const dp_follower_t *self);
/* The next seq the follower expects (0 before the first event). */
uint64_t dp_follower_expected(const dp_follower_t *self);

#endif
