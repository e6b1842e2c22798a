#include "dp_events.h"

#include <string.h>

#include "dp_client.h"
#include "dp_log.h"
#include "events.pb-c.h"

/* Longest prefix first: "partner.contact_" before "partner.". */
static const struct {
    const char *prefix;                           /* of the event type */
    const ProtobufCMessageDescriptor *descriptor; /* its payload */
} s_payloads[] = {
    {"partner.contact_", &dp__contact_event__descriptor},
    {"partner.", &dp__partner_event__descriptor},
    {"engagement.", &dp__engagement_event__descriptor},
    {"reference.", &dp__reference_event__descriptor},
    {"enquiry.rule_", &dp__intake_reference_event__descriptor},
    {"enquiry.kind_", &dp__intake_reference_event__descriptor},
    {"enquiry.", &dp__enquiry_event__descriptor},
    {"privacy.", &dp__privacy_event__descriptor},
};

const ProtobufCMessageDescriptor *dp_event_payload_type(const char *event_type)
{
    for (size_t i = 0; i < sizeof s_payloads / sizeof *s_payloads; i++)
        if (strncmp(event_type, s_payloads[i].prefix, strlen(s_payloads[i].prefix)) == 0)
            return s_payloads[i].descriptor;
    return NULL;
}

enum { REPLAY_PAGE = 1000, MAX_MESSAGE_BYTES = 64 * 1024 * 1024 };

struct _dp_follower_t {
    zsock_t *sub;        /* live events and heartbeats */
    dp_client_t *replay; /* requests to the notifications service */
    char *prefix;        /* topic prefix of the events wanted */
    uint64_t expected;   /* next seq to give; 0 until the first event */
    zlist_t *ready;      /* events in order, waiting to be given */
    uint64_t repaired;   /* events that came by replay */
};

/* Replays matching events with from <= seq < to into the ready list.
   to 0 means "up to the latest". Returns 0, or -1 when replay failed. */
static int s_repair(dp_follower_t *self, uint64_t from, uint64_t to)
{
    while (to == 0 || from < to) {
        Dp__ReplayEventsRequest request = DP__REPLAY_EVENTS_REQUEST__INIT;
        request.from_seq = from;
        request.topic_prefix = self->prefix;
        request.limit = REPLAY_PAGE;
        Dp__ReplayEventsReply *reply = NULL;
        dp_status_t status;
        if (dp_client_call(self->replay, &request.base, &dp__replay_events_reply__descriptor,
                           (ProtobufCMessage **)&reply, &status) != 0 ||
            status.code != DP__CODE__CODE_OK) {
            dp_warning("replay from %llu failed: %s", (unsigned long long)from, status.message);
            return -1;
        }
        if (to == 0)
            to = reply->latest_seq + 1;
        for (size_t i = 0; i < reply->n_events; i++) {
            Dp__Event *event = reply->events[i];
            if (event->seq < from || event->seq >= to)
                continue;
            /* Detach the event from the reply: it is freed on its own later. */
            size_t size = 0;
            unsigned char *packed = dp_message_pack(&event->base, &size);
            ProtobufCMessage *copy =
                packed ? dp_message_decode(&dp__event__descriptor, packed, size, size * 4 + 4096)
                       : NULL;
            free(packed);
            if (copy) {
                zlist_append(self->ready, copy);
                self->repaired++;
            }
        }
        uint64_t next = reply->next_seq;
        dp_message_free((ProtobufCMessage **)&reply);
        if (next <= from)
            break; /* nothing more to scan */
        from = next;
        /* What is in the ready list is given once: a failed later page
           resumes from here, not from the start of the gap. */
        self->expected = from < to ? from : to;
    }
    self->expected = to;
    return 0;
}

dp_follower_t *dp_follower_new(const char *pub_endpoint, const char *router_endpoint,
                               const char *topic_prefix, uint64_t from_seq)
{
    return dp_follower_new_with_keys(pub_endpoint, router_endpoint, topic_prefix, from_seq, NULL);
}

dp_follower_t *dp_follower_new_with_keys(const char *pub_endpoint, const char *router_endpoint,
                                         const char *topic_prefix, uint64_t from_seq,
                                         const dp_client_keys_t *keys)
{
    dp_follower_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->prefix = strdup(topic_prefix ? topic_prefix : "");
    self->ready = zlist_new();
    self->sub = zsock_new(ZMQ_SUB);
    self->replay = dp_client_new(router_endpoint, 3000, 3);
    if (!self->prefix || !self->ready || !self->sub || !self->replay) {
        dp_follower_destroy(&self);
        return NULL;
    }
    dp_client_keys_apply(keys, self->sub);
    if (keys)
        dp_client_set_keys(self->replay, keys);
    zsock_set_rcvhwm(self->sub, 100000);
    zsock_set_maxmsgsize(self->sub, MAX_MESSAGE_BYTES);
    zsock_set_subscribe(self->sub, self->prefix);
    zsock_set_subscribe(self->sub, "heartbeat");
    if (zsock_connect(self->sub, "%s", pub_endpoint) != 0) {
        dp_follower_destroy(&self);
        return NULL;
    }
    /* Subscribed first, then replayed: live events that overlap the replay
       are recognised by seq and dropped. */
    if (from_seq > 0 && s_repair(self, from_seq, 0) != 0 && !self->expected)
        self->expected = from_seq; /* repaired on the first live event */
    return self;
}

void dp_follower_destroy(dp_follower_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dp_follower_t *self = *self_p;
    if (self->ready) {
        ProtobufCMessage *event;
        while ((event = zlist_pop(self->ready)) != NULL)
            dp_message_free(&event);
        zlist_destroy(&self->ready);
    }
    zsock_destroy(&self->sub);
    dp_client_destroy(&self->replay);
    free(self->prefix);
    free(self);
    *self_p = NULL;
}

/* Takes one live message off the socket and sorts it into the ready list. */
static void s_receive(dp_follower_t *self)
{
    zmsg_t *message = zmsg_recv(self->sub);
    if (!message)
        return;
    char *topic = zmsg_popstr(message);
    zframe_t *frame = zmsg_first(message);
    if (!topic || !frame) {
        zstr_free(&topic);
        zmsg_destroy(&message);
        return;
    }
    if (strcmp(topic, "heartbeat") == 0) {
        Dp__Heartbeat *beat = (Dp__Heartbeat *)dp_message_decode(
            &dp__heartbeat__descriptor, zframe_data(frame), zframe_size(frame), 65536);
        if (beat && self->expected && beat->latest_seq >= self->expected)
            s_repair(self, self->expected, beat->latest_seq + 1);
        dp_message_free((ProtobufCMessage **)&beat);
    } else {
        Dp__Event *event = (Dp__Event *)dp_message_decode(
            &dp__event__descriptor, zframe_data(frame), zframe_size(frame), MAX_MESSAGE_BYTES);
        if (event && self->expected == 0)
            self->expected = event->seq;
        if (event && event->seq > self->expected)
            s_repair(self, self->expected, event->seq);
        if (event && event->seq == self->expected) {
            zlist_append(self->ready, event);
            self->expected = event->seq + 1;
        } else
            dp_message_free((ProtobufCMessage **)&event); /* seen already */
    }
    zstr_free(&topic);
    zmsg_destroy(&message);
}

Dp__Event *dp_follower_next(dp_follower_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (zlist_size(self->ready) == 0) {
        int64_t left = deadline - zclock_mono();
        zmq_pollitem_t item = {zsock_resolve(self->sub), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, left > 0 ? (long)left : 0) <= 0)
            break;
        s_receive(self);
    }
    return zlist_pop(self->ready);
}

zsock_t *dp_follower_socket(dp_follower_t *self)
{
    return self->sub;
}

uint64_t dp_follower_repaired(const dp_follower_t *self)
{
    return self->repaired;
}

uint64_t dp_follower_expected(const dp_follower_t *self)
{
    return self->expected;
}
