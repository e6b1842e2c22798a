/* The closed loop of requests over DEALER sockets (see bench_load.h). */
#include "bench_load.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "dp_codec.h"

/* Expired requests are looked for this often. */
#define EXPIRY_SCAN_US 100000

/* One request in flight, or none. */
typedef struct {
    uint64_t number; /* the request's sequence number; 0 when the slot is idle */
    int64_t sent_us; /* when it was sent, monotonic microseconds */
} slot_t;

typedef struct {
    zsock_t *socket; /* DEALER connected to the endpoint */
    slot_t *slots;   /* inflight entries, indexed by the request id's slot */
    size_t busy;     /* slots with a request in flight */
} connection_t;

typedef struct {
    bench_load_t *load;
    const bench_load_handler_t *handler;
    connection_t *connections;
    uint64_t next_number; /* from 1 */
} loop_t;

bool bench_load_in_window(const bench_load_t *load, int64_t at_us)
{
    return at_us >= load->window_start_us && at_us < load->window_end_us;
}

static int s_send(loop_t *self, int c, int index)
{
    connection_t *connection = &self->connections[c];
    slot_t *slot = &connection->slots[index];
    unsigned char body[8192], packed[8448];
    const char *type = NULL;
    size_t body_size = 0;
    if (self->handler->pack_body(self->handler->arg, c, index, &type, body, sizeof body,
                                 &body_size) != 0 ||
        !type)
        return -1;
    uint64_t number = self->next_number++;
    char request_id[64];
    snprintf(request_id, sizeof request_id, "%d:%" PRIu64, index, number);
    Dp__Request request = DP__REQUEST__INIT;
    request.request_id = request_id;
    request.type = (char *)type;
    request.body.data = body;
    request.body.len = body_size;
    if (protobuf_c_message_get_packed_size(&request.base) > sizeof packed) return -1;
    size_t size = protobuf_c_message_pack(&request.base, packed);
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, packed, size);
    slot->number = number;
    slot->sent_us = bench_now_us();
    if (zmsg_send(&message, connection->socket) != 0) {
        zmsg_destroy(&message);
        slot->number = 0;
        return -1;
    }
    connection->busy++;
    self->load->sent++;
    self->load->sent_bytes += size;
    return 0;
}

/* Takes one reply; returns the slot it freed, or -1 for a stale or
   undecodable reply. */
static int s_receive(loop_t *self, int c)
{
    connection_t *connection = &self->connections[c];
    zmsg_t *message = zmsg_recv(connection->socket);
    if (!message) return -1;
    int64_t now = bench_now_us();
    zframe_t *frame = zmsg_last(message);
    size_t reply_size = frame ? zframe_size(frame) : 0;
    Dp__Reply *reply =
        zmsg_size(message) == 2
            ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame), reply_size,
                                             self->load->max_reply)
            : NULL;
    zmsg_destroy(&message);
    char *end = NULL;
    long index = reply ? strtol(reply->request_id, &end, 10) : -1;
    uint64_t number = end && *end == ':' ? strtoull(end + 1, NULL, 10) : 0;
    if (index < 0 || index >= self->load->inflight || number == 0 ||
        connection->slots[index].number != number) {
        self->load->stale++;
        dp_message_free((ProtobufCMessage **)&reply);
        return -1;
    }
    slot_t *slot = &connection->slots[index];
    slot->number = 0;
    connection->busy--;
    self->handler->on_reply(self->handler->arg, c, (int)index, reply, reply_size,
                            now - slot->sent_us, bench_load_in_window(self->load, now));
    dp_message_free((ProtobufCMessage **)&reply);
    return (int)index;
}

/* Frees the slots whose request has waited longer than the time-out (the
   reply, if it ever comes, is then stale) and sends anew in them. */
static int s_expire(loop_t *self, int64_t now, bool send_more)
{
    bench_load_t *load = self->load;
    int outcome = 0;
    for (int c = 0; c < load->connection_count; c++)
        for (int index = 0; index < load->inflight; index++) {
            connection_t *connection = &self->connections[c];
            slot_t *slot = &connection->slots[index];
            if (!slot->number || now - slot->sent_us < load->timeout_us) continue;
            if (bench_load_in_window(load, now)) load->timeouts++;
            slot->number = 0;
            connection->busy--;
            if (send_more && outcome == 0) outcome = s_send(self, c, index);
        }
    return outcome;
}

static size_t s_busy(const loop_t *self)
{
    size_t busy = 0;
    for (int c = 0; c < self->load->connection_count; c++)
        busy += self->connections[c].busy;
    return busy;
}

/* Keeps every slot busy until the window ends, then waits (up to the
   time-out) for the replies still due. */
static int s_loop(loop_t *self, zpoller_t *poller)
{
    bench_load_t *load = self->load;
    int64_t start = bench_now_us();
    load->window_start_us = start + load->warmup_us;
    load->window_end_us = load->window_start_us + load->duration_us;
    int outcome = 0;
    for (int c = 0; outcome == 0 && c < load->connection_count; c++)
        for (int index = 0; outcome == 0 && index < load->inflight; index++)
            outcome = s_send(self, c, index);
    int64_t drain_end = load->window_end_us + load->timeout_us;
    int64_t next_expiry = start + EXPIRY_SCAN_US;
    while (outcome == 0) {
        int64_t now = bench_now_us();
        bool sending = now < load->window_end_us;
        if (!sending && (s_busy(self) == 0 || now >= drain_end)) break;
        if (now >= next_expiry) {
            outcome = s_expire(self, now, sending);
            next_expiry = now + EXPIRY_SCAN_US;
        }
        int64_t wake =
            sending && load->window_end_us < next_expiry ? load->window_end_us : next_expiry;
        int wait_ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        zsock_t *which = zpoller_wait(poller, wait_ms);
        if (!which) {
            if (zpoller_terminated(poller)) outcome = -1;
            continue;
        }
        int c = 0;
        while (c < load->connection_count && self->connections[c].socket != which)
            c++;
        if (c == load->connection_count) continue;
        /* Take everything this socket has, sending the next request into
           each slot as it frees up. */
        do {
            int index = s_receive(self, c);
            if (index >= 0 && bench_now_us() < load->window_end_us)
                outcome = s_send(self, c, index);
        } while (outcome == 0 && (zsock_events(which) & ZMQ_POLLIN));
    }
    load->unanswered = s_busy(self);
    return outcome;
}

int bench_load_run(bench_load_t *load, const char *program, const char *endpoint,
                   const bench_load_handler_t *handler)
{
    loop_t self = {load, handler, NULL, 1};
    load->sent = load->sent_bytes = load->timeouts = load->stale = load->unanswered = 0;
    if (!load->max_reply) load->max_reply = 1 << 20;
    self.connections = calloc((size_t)load->connection_count, sizeof *self.connections);
    zpoller_t *poller = zpoller_new(NULL);
    int outcome = self.connections && poller ? 0 : -1;
    for (int c = 0; outcome == 0 && c < load->connection_count; c++) {
        connection_t *connection = &self.connections[c];
        connection->slots = calloc((size_t)load->inflight, sizeof *connection->slots);
        connection->socket = zsock_new(ZMQ_DEALER);
        if (!connection->slots || !connection->socket) {
            outcome = -1;
            break;
        }
        zsock_set_linger(connection->socket, 0);
        zsock_set_sndhwm(connection->socket, load->inflight * 2 + 16);
        zsock_set_rcvhwm(connection->socket, load->inflight * 2 + 16);
        if (zsock_connect(connection->socket, "%s", endpoint) != 0) {
            fprintf(stderr, "%s: cannot connect to %s\n", program, endpoint);
            outcome = -1;
            break;
        }
        zpoller_add(poller, connection->socket);
    }
    if (outcome == 0 && (outcome = s_loop(&self, poller)) != 0)
        fprintf(stderr, "%s: a send failed; results are incomplete\n", program);
    zpoller_destroy(&poller);
    for (int c = 0; self.connections && c < load->connection_count; c++) {
        zsock_destroy(&self.connections[c].socket);
        free(self.connections[c].slots);
    }
    free(self.connections);
    return outcome;
}
