/* Many requests in flight on a few DEALER sockets (see dp_pipeline.h). */
#include "dp_pipeline.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { S_DEFAULT_MAX_REPLY = 64 * 1024 * 1024, S_DEFAULT_TIMEOUT_MS = 5000 };

/* One request outstanding, or none. */
typedef struct {
    bool busy;             /* holds a request that has not ended */
    size_t owner;          /* index of the socket it belongs to */
    char request_id[96];   /* the envelope's, kept on every resend */
    unsigned char *packed; /* the whole envelope, sent again as it is */
    size_t size;           /* bytes in packed */
    uint64_t tag;          /* the caller's number for it */
    int attempts;          /* sends counted against the bound */
    int sends;             /* sends of any kind */
    int64_t first_sent;    /* monotonic microseconds of the first send */
    int64_t deadline;      /* its reply is due by then; 0 while waiting to resend */
    int64_t resend_at;     /* done asked for it again at this time; 0 otherwise */
} s_slot_t;

/* One DEALER socket with its share of the window. */
typedef struct {
    zsock_t *socket;    /* replaced after a late reply (see fresh) */
    s_slot_t *slots;    /* window of them */
    size_t *free_slots; /* indexes of idle slots, a stack */
    size_t free_count;  /* entries on that stack */
    int64_t last_heard; /* last reply, or when the socket was made */
} s_socket_t;

struct _dp_pipeline_t {
    dp_pipeline_options_t options; /* as given, strings copied */
    dp_client_keys_t keys;         /* CURVE keys (a copy), or none */
    s_socket_t *sockets;           /* options.sockets of them */
    zhashx_t *by_id;               /* request id -> its slot (borrowed) */
    char prefix[48];               /* of every request id */
    uint64_t sequence;             /* numbers this pipeline's requests */
    int64_t last_reply;            /* when a reply last came (0: never) */
    bool unresponsive;             /* see dp_pipeline_unresponsive */
    int64_t next_check;            /* no deadline nor resend falls before this */
    size_t outstanding;            /* busy slots over all sockets */
    uint64_t events;               /* replies taken and requests ended, for poll */
    dp_pipeline_stats_t stats;     /* see dp_pipeline_stats */
};

static int64_t s_now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/* Makes a fresh socket and connects it; 0, or -1 when no endpoint connects. */
static int s_connect(dp_pipeline_t *self, s_socket_t *one)
{
    zsock_destroy(&one->socket);
    one->last_heard = s_now_us();
    one->socket = zsock_new(ZMQ_DEALER);
    if (!one->socket)
        return -1;
    zsock_set_linger(one->socket, 0);
    zsock_set_maxmsgsize(one->socket, (int64_t)self->options.max_reply);
    /* Room for the window and the answers to earlier sends: a send never
       waits, and one that could not be queued goes again at its deadline. */
    int hwm = (int)self->options.window * 4 + 16;
    zsock_set_sndhwm(one->socket, hwm);
    zsock_set_rcvhwm(one->socket, hwm);
    zsock_set_sndtimeo(one->socket, 0);
    dp_client_keys_apply(&self->keys, one->socket);
    char *list = strdup(self->options.endpoints);
    int connected = 0;
    char *saveptr = NULL;
    for (char *endpoint = list ? strtok_r(list, ",", &saveptr) : NULL; endpoint;
         endpoint = strtok_r(NULL, ",", &saveptr)) {
        endpoint += strspn(endpoint, " ");
        if (*endpoint && zsock_connect(one->socket, "%s", endpoint) == 0)
            connected++;
    }
    free(list);
    return connected ? 0 : -1;
}

dp_pipeline_t *dp_pipeline_new(const dp_pipeline_options_t *options)
{
    dp_pipeline_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->options = *options;
    self->options.endpoints = strdup(options->endpoints ? options->endpoints : "");
    self->options.keys = NULL;
    self->options.id_prefix = NULL;
    if (!self->options.sockets)
        self->options.sockets = 1;
    if (!self->options.window)
        self->options.window = 1;
    if (self->options.timeout_ms <= 0)
        self->options.timeout_ms = S_DEFAULT_TIMEOUT_MS;
    if (self->options.attempts < 0)
        self->options.attempts = 0;
    if (!self->options.max_reply)
        self->options.max_reply = S_DEFAULT_MAX_REPLY;
    if (options->keys && options->keys->client) {
        memcpy(self->keys.server_public, options->keys->server_public,
               sizeof self->keys.server_public);
        self->keys.client = zcert_dup(options->keys->client);
    }
    if (options->id_prefix)
        snprintf(self->prefix, sizeof self->prefix, "%s", options->id_prefix);
    else {
        /* Random, so that ids are unique across runs and clients. */
        zuuid_t *uuid = zuuid_new();
        snprintf(self->prefix, sizeof self->prefix, "%s-", uuid ? zuuid_str(uuid) : "dp");
        zuuid_destroy(&uuid);
    }
    self->sockets = calloc(self->options.sockets, sizeof *self->sockets);
    self->by_id = zhashx_new();
    bool failed = !self->options.endpoints || !self->sockets || !self->by_id ||
                  !self->options.done ||
                  (options->keys && options->keys->client && !self->keys.client);
    size_t window = self->options.window;
    for (size_t s = 0; !failed && s < self->options.sockets; s++) {
        s_socket_t *one = &self->sockets[s];
        one->slots = calloc(window, sizeof *one->slots);
        one->free_slots = calloc(window, sizeof *one->free_slots);
        failed = !one->slots || !one->free_slots || s_connect(self, one) != 0;
        for (size_t i = 0; !failed && i < window; i++) {
            one->slots[i].owner = s;
            one->free_slots[one->free_count++] = window - 1 - i;
        }
    }
    if (failed)
        dp_pipeline_destroy(&self);
    return self;
}

void dp_pipeline_destroy(dp_pipeline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dp_pipeline_t *self = *self_p;
    for (size_t s = 0; self->sockets && s < self->options.sockets; s++) {
        s_socket_t *one = &self->sockets[s];
        for (size_t i = 0; one->slots && i < self->options.window; i++)
            free(one->slots[i].packed);
        free(one->slots);
        free(one->free_slots);
        zsock_destroy(&one->socket);
    }
    free(self->sockets);
    zhashx_destroy(&self->by_id);
    dp_client_keys_free(&self->keys);
    free((char *)self->options.endpoints);
    free(self);
    *self_p = NULL;
}

/* Sends the slot's request (again); a full or absent peer is no error: the
   attempt then simply times out. counted: the send is an attempt. */
static void s_transmit(dp_pipeline_t *self, s_slot_t *slot, int64_t now, bool counted)
{
    if (slot->sends++ > 0)
        self->stats.resent++;
    slot->attempts += counted;
    slot->resend_at = 0;
    slot->deadline = now + (int64_t)self->options.timeout_ms * 1000;
    if (slot->deadline < self->next_check)
        self->next_check = slot->deadline;
    self->stats.sends++;
    zsock_t *socket = self->sockets[slot->owner].socket;
    zmsg_t *message = socket ? zmsg_new() : NULL;
    if (!message)
        return; /* goes again at its deadline */
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, slot->packed, slot->size);
    if (zmsg_send(&message, socket) != 0)
        zmsg_destroy(&message);
}

static void s_set_status(dp_status_t *status, Dp__Code code, const char *field, const char *message)
{
    status->code = code;
    snprintf(status->field, sizeof status->field, "%s", field ? field : "");
    snprintf(status->message, sizeof status->message, "%s", message ? message : "");
}

/* Tells done how the request ended, and frees its slot unless done wants
   it sent again. */
static void s_finish(dp_pipeline_t *self, s_slot_t *slot, const dp_status_t *status,
                     const Dp__Reply *envelope, size_t reply_size, const ProtobufCMessage *reply,
                     int64_t now)
{
    dp_pipeline_result_t result = {slot->tag,   slot->owner, slot->attempts,
                                   slot->sends, status,      envelope,
                                   reply_size,  reply,       now - slot->first_sent};
    self->events++;
    int again_ms = self->options.done(self->options.sink, &result);
    if (again_ms > 0 && envelope) {
        slot->deadline = 0;
        slot->resend_at = now + (int64_t)again_ms * 1000;
        if (slot->resend_at < self->next_check)
            self->next_check = slot->resend_at;
        return;
    }
    s_socket_t *one = &self->sockets[slot->owner];
    zhashx_delete(self->by_id, slot->request_id);
    free(slot->packed);
    size_t owner = slot->owner;
    memset(slot, 0, sizeof *slot);
    slot->owner = owner;
    one->free_slots[one->free_count++] = (size_t)(slot - one->slots);
    self->outstanding--;
}

/* Matches one reply to its request; counts as stale the replies to
   requests that have ended or wait to go again (answers to an earlier
   send) and frames that are no reply. */
static void s_take_reply(dp_pipeline_t *self, zmsg_t *message, int64_t now)
{
    zframe_t *frame = zmsg_last(message);
    size_t reply_size = frame ? zframe_size(frame) : 0;
    Dp__Reply *envelope =
        zmsg_size(message) == 2
            ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame), reply_size,
                                             self->options.max_reply * 4)
            : NULL;
    s_slot_t *slot = envelope ? zhashx_lookup(self->by_id, envelope->request_id) : NULL;
    if (!slot || slot->resend_at) {
        self->stats.stale++;
        dp_message_free((ProtobufCMessage **)&envelope);
        return;
    }
    dp_status_t status;
    const Dp__Status *verdict = envelope->status;
    s_set_status(&status, verdict ? verdict->code : DP__CODE__CODE_OK,
                 verdict ? verdict->field : "", verdict ? verdict->message : "");
    ProtobufCMessage *reply = NULL;
    if (status.code == DP__CODE__CODE_OK && self->options.reply_type) {
        reply = dp_message_decode(self->options.reply_type, envelope->body.data, envelope->body.len,
                                  self->options.max_reply * 4);
        if (!reply)
            s_set_status(&status, DP__CODE__CODE_INTERNAL, NULL,
                         "the reply body does not decode as the expected message");
    }
    s_finish(self, slot, &status, envelope, reply_size, reply, now);
    dp_message_free(&reply);
    dp_message_free((ProtobufCMessage **)&envelope);
}

static void s_take_replies(dp_pipeline_t *self)
{
    for (size_t s = 0; s < self->options.sockets; s++) {
        s_socket_t *one = &self->sockets[s];
        while (one->socket && (zsock_events(one->socket) & ZMQ_POLLIN)) {
            zmsg_t *message = zmsg_recv(one->socket);
            if (!message)
                break;
            int64_t now = s_now_us();
            one->last_heard = self->last_reply = now;
            self->unresponsive = false;
            self->events++;
            s_take_reply(self, message, now);
            zmsg_destroy(&message);
        }
    }
}

/* Fails a request out of attempts. */
static void s_give_up(dp_pipeline_t *self, s_slot_t *slot, int64_t now)
{
    char message[512];
    snprintf(message, sizeof message, "no reply from %s after %d attempt%s of %d ms",
             self->options.endpoints, slot->attempts, slot->attempts == 1 ? "" : "s",
             self->options.timeout_ms);
    dp_status_t status;
    s_set_status(&status, DP__CODE__CODE_UNAVAILABLE, NULL, message);
    self->unresponsive = self->last_reply < slot->first_sent;
    s_finish(self, slot, &status, NULL, 0, NULL, now);
}

/* Late requests and due resends on one socket. A late request replaces the
   socket when the policy says so, and then everything in flight on it
   goes again on the new one (not counted as an attempt when it was not
   late itself: it was lost with the old socket). */
static void s_expire_socket(dp_pipeline_t *self, s_socket_t *one, int64_t now)
{
    size_t window = self->options.window;
    bool late = false;
    for (size_t i = 0; !late && i < window; i++)
        late = one->slots[i].busy && one->slots[i].deadline && one->slots[i].deadline <= now;
    bool fresh = late && self->options.fresh != DP_PIPELINE_FRESH_NEVER &&
                 (self->options.fresh == DP_PIPELINE_FRESH_ON_TIMEOUT ||
                  now - one->last_heard >= (int64_t)self->options.timeout_ms * 1000);
    if (fresh) {
        self->stats.reconnects++;
        s_connect(self, one);
    }
    for (size_t i = 0; i < window; i++) {
        s_slot_t *slot = &one->slots[i];
        if (!slot->busy)
            continue;
        bool due = slot->deadline && slot->deadline <= now;
        if (due)
            self->stats.timeouts++;
        if (due && self->options.attempts && slot->attempts >= self->options.attempts)
            s_give_up(self, slot, now);
        else if (due || (slot->resend_at && slot->resend_at <= now))
            s_transmit(self, slot, now, true);
        else if (fresh && slot->deadline)
            s_transmit(self, slot, now, false);
        if (slot->busy && slot->deadline && slot->deadline < self->next_check)
            self->next_check = slot->deadline;
        if (slot->busy && slot->resend_at && slot->resend_at < self->next_check)
            self->next_check = slot->resend_at;
    }
}

static void s_expire(dp_pipeline_t *self, int64_t now)
{
    if (self->outstanding == 0 || now < self->next_check)
        return;
    self->next_check = INT64_MAX;
    for (size_t s = 0; s < self->options.sockets; s++)
        s_expire_socket(self, &self->sockets[s], now);
}

int dp_pipeline_send_body(dp_pipeline_t *self, const char *type, const void *body, size_t size,
                          uint64_t tag)
{
    while (dp_pipeline_room(self) == 0)
        dp_pipeline_poll(self, self->options.timeout_ms);
    s_socket_t *one = &self->sockets[0];
    for (size_t s = 1; s < self->options.sockets; s++)
        if (self->sockets[s].free_count > one->free_count)
            one = &self->sockets[s];
    s_slot_t *slot = &one->slots[one->free_slots[one->free_count - 1]];
    snprintf(slot->request_id, sizeof slot->request_id, "%s%llu", self->prefix,
             (unsigned long long)++self->sequence);
    Dp__Request envelope = DP__REQUEST__INIT;
    envelope.request_id = slot->request_id;
    envelope.type = (char *)type;
    envelope.body.data = (uint8_t *)body;
    envelope.body.len = size;
    slot->packed = dp_message_pack(&envelope.base, &slot->size);
    if (!slot->packed || zhashx_insert(self->by_id, slot->request_id, slot) != 0) {
        free(slot->packed);
        slot->packed = NULL;
        return -1;
    }
    one->free_count--;
    self->outstanding++;
    self->stats.requests++;
    self->stats.bytes += slot->size;
    slot->busy = true;
    slot->tag = tag;
    slot->attempts = slot->sends = 0;
    slot->first_sent = s_now_us();
    if (self->outstanding == 1)
        self->next_check = INT64_MAX;
    s_transmit(self, slot, slot->first_sent, true);
    return 0;
}

int dp_pipeline_send(dp_pipeline_t *self, const ProtobufCMessage *request, uint64_t tag)
{
    size_t size = 0;
    unsigned char *body = dp_message_pack(request, &size);
    int outcome =
        body ? dp_pipeline_send_body(self, request->descriptor->name, body, size, tag) : -1;
    free(body);
    return outcome;
}

size_t dp_pipeline_poll(dp_pipeline_t *self, int wait_ms)
{
    int64_t until = s_now_us() + (int64_t)(wait_ms > 0 ? wait_ms : 0) * 1000;
    uint64_t events_before = self->events;
    enum { S_MAX_ITEMS = 256 };
    zmq_pollitem_t items[S_MAX_ITEMS];
    size_t count = self->options.sockets < S_MAX_ITEMS ? self->options.sockets : S_MAX_ITEMS;
    while (true) {
        s_take_replies(self);
        s_expire(self, s_now_us());
        if (self->events != events_before || self->outstanding == 0)
            break;
        int64_t now = s_now_us();
        if (now >= until)
            break;
        int64_t wait = until - now;
        if (self->next_check - now < wait)
            wait = self->next_check > now ? self->next_check - now : 0;
        for (size_t s = 0; s < count; s++) {
            zsock_t *socket = self->sockets[s].socket;
            items[s] = (zmq_pollitem_t){socket ? zsock_resolve(socket) : NULL, -1,
                                        socket ? ZMQ_POLLIN : 0, 0};
        }
        /* Whole milliseconds, rounded up, so that a deadline is never
           looked at just before it falls. */
        if (zmq_poll(items, (int)count, (long)((wait + 999) / 1000)) < 0)
            break; /* interrupted */
    }
    return self->outstanding;
}

void dp_pipeline_drain(dp_pipeline_t *self)
{
    while (self->outstanding > 0)
        dp_pipeline_poll(self, self->options.timeout_ms);
}

size_t dp_pipeline_outstanding(const dp_pipeline_t *self)
{
    return self->outstanding;
}

size_t dp_pipeline_room(const dp_pipeline_t *self)
{
    return self->options.sockets * self->options.window - self->outstanding;
}

const dp_pipeline_stats_t *dp_pipeline_stats(const dp_pipeline_t *self)
{
    return &self->stats;
}

bool dp_pipeline_unresponsive(const dp_pipeline_t *self)
{
    return self->unresponsive;
}
