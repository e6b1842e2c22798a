#include "dpctl_pipeline.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_MAX_REPLY_BYTES = 64 * 1024 * 1024 };

/* One request in flight. */
typedef struct {
    bool busy;             /* holds a request that is not done */
    char request_id[64];   /* the envelope's, kept on every resend */
    unsigned char *packed; /* the whole envelope, sent again as it is */
    size_t size;           /* bytes in packed */
    uint64_t tag;          /* the caller's number for it */
    int sends;             /* attempts made so far */
    int64_t first_sent;    /* zclock_mono time of the first attempt */
    int64_t deadline;      /* zclock_mono time by which its reply is due */
} s_slot_t;

struct _dpctl_pipeline_t {
    char *endpoints;                              /* as given, comma-separated */
    dp_client_keys_t keys;                        /* CURVE keys (a copy), or none */
    size_t window;                                /* requests outstanding at most */
    int timeout_ms;                               /* wait per attempt */
    int attempts;                                 /* sends per request */
    const ProtobufCMessageDescriptor *reply_type; /* what an OK reply's body holds */
    dpctl_pipeline_done_fn *done;                 /* told of every finished request */
    void *sink;                                   /* done's first argument */
    zsock_t *socket;                              /* DEALER; replaced after a stall */
    s_slot_t *slots;                              /* window of them */
    size_t *free_slots;                           /* indexes of idle slots, a stack */
    size_t free_count;                            /* entries on that stack */
    zhashx_t *by_id;                              /* request id -> its slot (borrowed) */
    char prefix[40];                              /* random, so ids are unique across runs */
    uint64_t sequence;                            /* numbers this pipeline's requests */
    int64_t last_heard;                           /* last reply, or when the socket was made */
    int64_t last_reply;                           /* when a reply last came (0: never) */
    bool unresponsive;                            /* see dpctl_pipeline_unresponsive */
    int64_t next_check;                           /* earliest deadline of a busy slot */
    size_t finished;                              /* requests handed to done so far */
    size_t resent;                                /* sends after the first, so far */
};

/* Makes a fresh socket and connects it; 0, or -1 when no endpoint connects. */
static int s_connect(dpctl_pipeline_t *self)
{
    zsock_destroy(&self->socket);
    self->socket = zsock_new(ZMQ_DEALER);
    if (!self->socket) return -1;
    zsock_set_linger(self->socket, 0);
    zsock_set_maxmsgsize(self->socket, S_MAX_REPLY_BYTES);
    /* A send never waits longer than a reply would: a request that could not
       be queued stays outstanding and goes again at its deadline. */
    zsock_set_sndtimeo(self->socket, self->timeout_ms);
    dp_client_keys_apply(&self->keys, self->socket);
    char *list = strdup(self->endpoints);
    int connected = 0;
    char *saveptr = NULL;
    for (char *one = list ? strtok_r(list, ",", &saveptr) : NULL; one;
         one = strtok_r(NULL, ",", &saveptr)) {
        one += strspn(one, " ");
        if (*one && zsock_connect(self->socket, "%s", one) == 0) connected++;
    }
    free(list);
    self->last_heard = zclock_mono();
    return connected ? 0 : -1;
}

dpctl_pipeline_t *dpctl_pipeline_new(const char *endpoints, const dp_client_keys_t *keys,
                                     size_t window, int timeout_ms, int attempts,
                                     const ProtobufCMessageDescriptor *reply_type,
                                     dpctl_pipeline_done_fn *done, void *sink)
{
    dpctl_pipeline_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->endpoints = strdup(endpoints ? endpoints : "");
    if (keys && keys->client) {
        memcpy(self->keys.server_public, keys->server_public, sizeof self->keys.server_public);
        self->keys.client = zcert_dup(keys->client);
    }
    self->window = window ? window : 1;
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    self->attempts = attempts > 0 ? attempts : 1;
    self->reply_type = reply_type;
    self->done = done;
    self->sink = sink;
    self->slots = calloc(self->window, sizeof *self->slots);
    self->free_slots = calloc(self->window, sizeof *self->free_slots);
    self->by_id = zhashx_new();
    zuuid_t *uuid = zuuid_new();
    snprintf(self->prefix, sizeof self->prefix, "%s", uuid ? zuuid_str(uuid) : "dpctl");
    zuuid_destroy(&uuid);
    if (!self->endpoints || !self->slots || !self->free_slots || !self->by_id ||
        (keys && keys->client && !self->keys.client) || s_connect(self) != 0) {
        dpctl_pipeline_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < self->window; i++)
        self->free_slots[self->free_count++] = self->window - 1 - i;
    return self;
}

void dpctl_pipeline_destroy(dpctl_pipeline_t **self_p)
{
    if (!self_p || !*self_p) return;
    dpctl_pipeline_t *self = *self_p;
    for (size_t i = 0; self->slots && i < self->window; i++)
        free(self->slots[i].packed);
    zhashx_destroy(&self->by_id);
    zsock_destroy(&self->socket);
    dp_client_keys_free(&self->keys);
    free(self->slots);
    free(self->free_slots);
    free(self->endpoints);
    free(self);
    *self_p = NULL;
}

static void s_transmit(dpctl_pipeline_t *self, s_slot_t *slot, int64_t now)
{
    slot->sends++;
    slot->deadline = now + self->timeout_ms;
    if (slot->deadline < self->next_check || dpctl_pipeline_outstanding(self) == 1)
        self->next_check = slot->deadline;
    zmsg_t *message = self->socket ? zmsg_new() : NULL;
    if (!message) return; /* goes again at its deadline */
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, slot->packed, slot->size);
    if (zmsg_send(&message, self->socket) != 0) zmsg_destroy(&message);
}

/* Hands the request's verdict to done and frees its slot. */
static void s_finish(dpctl_pipeline_t *self, s_slot_t *slot, const dp_status_t *status,
                     const ProtobufCMessage *reply)
{
    uint64_t tag = slot->tag;
    int sends = slot->sends;
    zhashx_delete(self->by_id, slot->request_id);
    free(slot->packed);
    memset(slot, 0, sizeof *slot);
    self->free_slots[self->free_count++] = (size_t)(slot - self->slots);
    self->finished++;
    self->done(self->sink, tag, sends, status, reply);
}

static void s_set_status(dp_status_t *status, Dp__Code code, const char *field, const char *message)
{
    status->code = code;
    snprintf(status->field, sizeof status->field, "%s", field ? field : "");
    snprintf(status->message, sizeof status->message, "%s", message ? message : "");
}

/* Matches one reply to its request; drops replies to requests already done
   (answers to an earlier attempt) and frames that are no reply. */
static void s_take_reply(dpctl_pipeline_t *self, zmsg_t *message)
{
    zframe_t *frame = zmsg_last(message);
    Dp__Reply *envelope =
        zmsg_size(message) == 2
            ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                             zframe_size(frame), (size_t)S_MAX_REPLY_BYTES * 4)
            : NULL;
    s_slot_t *slot = envelope ? zhashx_lookup(self->by_id, envelope->request_id) : NULL;
    if (slot) {
        dp_status_t status;
        const Dp__Status *verdict = envelope->status;
        s_set_status(&status, verdict ? verdict->code : DP__CODE__CODE_OK,
                     verdict ? verdict->field : "", verdict ? verdict->message : "");
        ProtobufCMessage *reply = NULL;
        if (status.code == DP__CODE__CODE_OK) {
            reply = dp_message_decode(self->reply_type, envelope->body.data, envelope->body.len,
                                      (size_t)S_MAX_REPLY_BYTES * 4);
            if (!reply)
                s_set_status(&status, DP__CODE__CODE_INTERNAL, NULL,
                             "the reply body does not decode as the expected message");
        }
        s_finish(self, slot, &status, reply);
        dp_message_free(&reply);
    }
    dp_message_free((ProtobufCMessage **)&envelope);
}

static void s_take_replies(dpctl_pipeline_t *self)
{
    while (self->socket && (zsock_events(self->socket) & ZMQ_POLLIN)) {
        zmsg_t *message = zmsg_recv(self->socket);
        if (!message) break;
        self->last_heard = self->last_reply = zclock_mono();
        self->unresponsive = false;
        s_take_reply(self, message);
        zmsg_destroy(&message);
    }
}

/* Sends again the requests whose reply is late, or fails those out of
   attempts. When nothing came back for a whole timeout the socket is
   replaced, and then every outstanding request goes again on the new one. */
static void s_expire(dpctl_pipeline_t *self, int64_t now)
{
    if (dpctl_pipeline_outstanding(self) == 0 || now < self->next_check) return;
    bool stalled = now - self->last_heard >= self->timeout_ms;
    if (stalled) s_connect(self);
    self->next_check = INT64_MAX;
    for (size_t i = 0; i < self->window; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy) continue;
        bool late = slot->deadline <= now;
        if (late && slot->sends >= self->attempts) {
            char message[512];
            snprintf(message, sizeof message, "no reply from %s after %d attempt%s of %d ms",
                     self->endpoints, slot->sends, slot->sends == 1 ? "" : "s", self->timeout_ms);
            dp_status_t status;
            s_set_status(&status, DP__CODE__CODE_UNAVAILABLE, NULL, message);
            self->unresponsive = self->last_reply < slot->first_sent;
            s_finish(self, slot, &status, NULL);
        } else if (late || stalled) {
            if (!late) slot->sends--; /* lost with the old socket: not a new attempt */
            self->resent++;
            s_transmit(self, slot, now);
        } else if (slot->deadline < self->next_check)
            self->next_check = slot->deadline;
    }
}

int dpctl_pipeline_send(dpctl_pipeline_t *self, const ProtobufCMessage *request, uint64_t tag)
{
    while (self->free_count == 0)
        dpctl_pipeline_poll(self, self->timeout_ms);
    size_t body_size = 0;
    unsigned char *body = dp_message_pack(request, &body_size);
    s_slot_t *slot = &self->slots[self->free_slots[self->free_count - 1]];
    snprintf(slot->request_id, sizeof slot->request_id, "%s-%llu", self->prefix,
             (unsigned long long)++self->sequence);
    Dp__Request envelope = DP__REQUEST__INIT;
    envelope.request_id = slot->request_id;
    envelope.type = (char *)request->descriptor->name;
    envelope.body.data = body;
    envelope.body.len = body_size;
    slot->packed = body ? dp_message_pack(&envelope.base, &slot->size) : NULL;
    free(body);
    if (!slot->packed || zhashx_insert(self->by_id, slot->request_id, slot) != 0) {
        free(slot->packed);
        memset(slot, 0, sizeof *slot);
        return -1;
    }
    self->free_count--;
    slot->busy = true;
    slot->tag = tag;
    slot->first_sent = zclock_mono();
    s_transmit(self, slot, slot->first_sent);
    return 0;
}

size_t dpctl_pipeline_poll(dpctl_pipeline_t *self, int wait_ms)
{
    int64_t until = zclock_mono() + (wait_ms > 0 ? wait_ms : 0);
    size_t finished_before = self->finished;
    while (true) {
        s_take_replies(self);
        s_expire(self, zclock_mono());
        if (self->finished != finished_before || dpctl_pipeline_outstanding(self) == 0) break;
        int64_t now = zclock_mono();
        if (now >= until) break;
        int64_t wait = until - now;
        if (self->next_check - now < wait)
            wait = self->next_check > now ? self->next_check - now : 0;
        if (!self->socket) {
            zclock_sleep((int)wait); /* no socket until the next stall makes one */
            continue;
        }
        zmq_pollitem_t item = {zsock_resolve(self->socket), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)wait) < 0) break; /* interrupted */
    }
    return dpctl_pipeline_outstanding(self);
}

void dpctl_pipeline_drain(dpctl_pipeline_t *self)
{
    while (dpctl_pipeline_outstanding(self) > 0)
        dpctl_pipeline_poll(self, self->timeout_ms);
}

size_t dpctl_pipeline_outstanding(const dpctl_pipeline_t *self)
{
    return self->window - self->free_count;
}

size_t dpctl_pipeline_resent(const dpctl_pipeline_t *self)
{
    return self->resent;
}

bool dpctl_pipeline_unresponsive(const dpctl_pipeline_t *self)
{
    return self->unresponsive;
}
