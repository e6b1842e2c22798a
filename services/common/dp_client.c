#include "dp_client.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>

struct _dp_client_t {
    char *endpoints;        /* as given, comma-separated */
    int timeout_ms;         /* wait per attempt */
    int attempts;           /* sends before giving up */
    size_t max_reply_bytes; /* larger replies are refused */
    zsock_t *socket;        /* DEALER; replaced after a timeout */
    uint64_t sequence;      /* distinguishes this client's requests */
    char prefix[40];        /* random per client, so ids are unique across clients */
    dp_client_keys_t keys;  /* CURVE keys, applied to every new socket */
    char on_behalf_of[101]; /* the person a front end acts for, or "" */
};

static int s_connect(dp_client_t *self)
{
    zsock_destroy(&self->socket);
    self->socket = zsock_new(ZMQ_DEALER);
    if (!self->socket)
        return -1;
    zsock_set_linger(self->socket, 0);
    zsock_set_maxmsgsize(self->socket, (int64_t)self->max_reply_bytes);
    dp_client_keys_apply(&self->keys, self->socket);
    return dp_client_connect_all(self->socket, self->endpoints) > 0 ? 0 : -1;
}

int dp_client_connect_all(zsock_t *socket, const char *endpoints)
{
    char *list = strdup(endpoints);
    if (!list)
        return -1;
    int connected = 0;
    char *saveptr = NULL;
    for (char *one = strtok_r(list, ",", &saveptr); one; one = strtok_r(NULL, ",", &saveptr)) {
        while (*one == ' ')
            one++;
        if (*one && zsock_connect(socket, "%s", one) == 0)
            connected++;
    }
    free(list);
    return connected;
}

dp_client_t *dp_client_new(const char *endpoints, int timeout_ms, int attempts)
{
    dp_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoints = strdup(endpoints ? endpoints : "");
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 3000;
    self->attempts = attempts > 0 ? attempts : 1;
    self->max_reply_bytes = 64 * 1024 * 1024;
    zuuid_t *uuid = zuuid_new();
    snprintf(self->prefix, sizeof self->prefix, "%s", uuid ? zuuid_str_canonical(uuid) : "client");
    zuuid_destroy(&uuid);
    if (!self->endpoints || s_connect(self) != 0) {
        dp_client_destroy(&self);
        return NULL;
    }
    return self;
}

void dp_client_destroy(dp_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dp_client_t *self = *self_p;
    zsock_destroy(&self->socket);
    dp_client_keys_free(&self->keys);
    free(self->endpoints);
    free(self);
    *self_p = NULL;
}

void dp_client_set_keys(dp_client_t *self, const dp_client_keys_t *keys)
{
    dp_client_keys_free(&self->keys);
    memset(&self->keys, 0, sizeof self->keys);
    if (keys && keys->client) {
        memcpy(self->keys.server_public, keys->server_public, sizeof self->keys.server_public);
        self->keys.client = zcert_dup(keys->client);
    }
    s_connect(self);
}

void dp_client_set_max_reply_bytes(dp_client_t *self, size_t bytes)
{
    self->max_reply_bytes = bytes;
    /* ZeroMQ reads ZMQ_MAXMSGSIZE when it connects: a fresh socket takes it. */
    s_connect(self);
}

/* Waits for the reply carrying request_id until deadline. 1: got it, 0: timed out. */
static int s_await(dp_client_t *self, const char *request_id, int64_t deadline,
                   const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply_out,
                   dp_status_t *status)
{
    zpoller_t *poller = zpoller_new(self->socket, NULL);
    int outcome = 0;
    while (poller) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            break;
        if (zpoller_wait(poller, (int)left) != self->socket)
            break;
        zmsg_t *message = zmsg_recv(self->socket);
        if (!message)
            break;
        zframe_t *frame = zmsg_last(message);
        Dp__Reply *envelope =
            zmsg_size(message) == 2
                ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                                 zframe_size(frame), self->max_reply_bytes * 4)
                : NULL;
        zmsg_destroy(&message);
        if (!envelope)
            continue; /* not a reply we can read: wait for the real one */
        if (strcmp(envelope->request_id, request_id) != 0 && *envelope->request_id) {
            dp_message_free((ProtobufCMessage **)&envelope);
            continue; /* a late reply to an earlier request */
        }
        Dp__Status *reply_status = envelope->status;
        dp_status_set(status, reply_status ? reply_status->code : DP__CODE__CODE_OK,
                      reply_status ? reply_status->field : "",
                      reply_status ? reply_status->message : "");
        if (status->code == DP__CODE__CODE_OK && reply_out) {
            *reply_out = dp_message_decode(reply_type, envelope->body.data, envelope->body.len,
                                           self->max_reply_bytes * 4);
            if (!*reply_out)
                dp_status_set(status, DP__CODE__CODE_INTERNAL, NULL,
                              "the reply body does not decode as the expected message");
        }
        dp_message_free((ProtobufCMessage **)&envelope);
        outcome = 1;
        break;
    }
    zpoller_destroy(&poller);
    return outcome;
}

int dp_client_call(dp_client_t *self, const ProtobufCMessage *request,
                   const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply_out,
                   dp_status_t *status)
{
    if (reply_out)
        *reply_out = NULL;
    char request_id[64];
    snprintf(request_id, sizeof request_id, "%s-%llu", self->prefix,
             (unsigned long long)++self->sequence);

    size_t body_size = 0;
    unsigned char *body = dp_message_pack(request, &body_size);
    Dp__Request envelope = DP__REQUEST__INIT;
    envelope.request_id = request_id;
    envelope.type = (char *)request->descriptor->name;
    envelope.on_behalf_of = self->on_behalf_of;
    envelope.body.data = body;
    envelope.body.len = body_size;
    size_t packed_size = 0;
    unsigned char *packed = body ? dp_message_pack(&envelope.base, &packed_size) : NULL;
    free(body);
    if (!packed) {
        dp_status_set(status, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
        return -1;
    }

    int outcome = 0;
    for (int attempt = 1; attempt <= self->attempts && !outcome; attempt++) {
        if (!self->socket && s_connect(self) != 0)
            break;
        zmsg_t *message = zmsg_new();
        zmsg_addmem(message, NULL, 0);
        zmsg_addmem(message, packed, packed_size);
        if (zmsg_send(&message, self->socket) != 0) {
            zmsg_destroy(&message);
            break;
        }
        outcome = s_await(self, request_id, zclock_mono() + self->timeout_ms, reply_type, reply_out,
                          status);
        if (!outcome)
            s_connect(self); /* Lazy Pirate: a fresh socket drops the stuck one's queue */
    }
    free(packed);
    if (outcome)
        return 0;
    char message[256];
    snprintf(message, sizeof message, "no reply from %s after %d attempt%s of %d ms",
             self->endpoints, self->attempts, self->attempts == 1 ? "" : "s", self->timeout_ms);
    dp_status_set(status, DP__CODE__CODE_UNAVAILABLE, NULL, message);
    return -1;
}

void dp_client_set_on_behalf_of(dp_client_t *self, const char *person)
{
    snprintf(self->on_behalf_of, sizeof self->on_behalf_of, "%s", person ? person : "");
}
