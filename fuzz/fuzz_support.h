/* What the fuzz targets share: the message types of each service (read
   from its route table, so a new route is fuzzed without a change here),
   a deep comparison of decoded messages, messages filled from their
   descriptors for the seed corpora, each service's routes and state with a
   database that refuses connections, and the checks every reply must pass. */
#ifndef FUZZ_SUPPORT_H
#define FUZZ_SUPPORT_H

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_codec.h"
#include "dp_server.h"

enum {
    FUZZ_MEMORY_BUDGET = 256 * 1024, /* dp_message_decode's budget in the decode targets */
    FUZZ_MAX_MESSAGE_BYTES = 8192,   /* the handler targets' max_message_bytes */
    FUZZ_MAX_BODY_BYTES = 2000,      /* the intake's longest enquiry body */
    FUZZ_MAX_TYPES = 64              /* message types in one set */
};

/* Prints the failed condition and aborts, which libFuzzer reports as a crash. */
#define FUZZ_ASSERT(condition, ...)                                                                \
    do {                                                                                           \
        if (!(condition))                                                                          \
            fuzz_fail(__FILE__, __LINE__, #condition, __VA_ARGS__);                                \
    } while (0)
void fuzz_fail(const char *file, int line, const char *condition, const char *format, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* Message types in a fixed order: the index is what the first input byte
   of a decode target picks. */
typedef struct {
    const ProtobufCMessageDescriptor *types[FUZZ_MAX_TYPES]; /* the set */
    size_t count;                                            /* entries used */
} fuzz_types_t;

/* Fills `types` with a set: "registry", "intake", "notify" or "report" (the
   requests of that service's route table, then dp.HealthRequest),
   "envelope" (dp.Request, dp.Reply and the health messages) or "events"
   (dp.Event, the heartbeat, replies that carry events and every payload
   that dp_event_payload_type knows). Returns -1 for an unknown set. */
int fuzz_types_get(const char *set, fuzz_types_t *types);

/* Event types named in events.proto, one per payload prefix; their payload
   types come from dp_event_payload_type, the table consumers use. */
extern const char *const fuzz_event_types[];
extern const size_t fuzz_event_type_count;

/* Decodes data as `type` under FUZZ_MEMORY_BUDGET; when it decodes, checks
   that what it holds fits the budget, re-encodes it, decodes that again and
   aborts unless both decodings are equal field by field and the second
   encoding is the first. Returns the first decoding (free it with
   dp_message_free) or NULL. */
ProtobufCMessage *fuzz_round_trip(const ProtobufCMessageDescriptor *type, const uint8_t *data,
                                  size_t size);

/* True when both messages have the same type and equal fields, unknown
   fields included. */
bool fuzz_message_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* A lower bound of the bytes a decoded message holds (structures, arrays,
   strings, bytes and unknown fields): it can never exceed the budget. */
size_t fuzz_message_footprint(const ProtobufCMessage *message);

/* A message of `type` with every field set (repeated ones to one element,
   nested messages to a depth of 4), from values chosen by the field's
   name that the services accept: dates, addresses, URLs, slugs... Free it
   with protobuf_c_message_free_unpacked (message, NULL). */
ProtobufCMessage *fuzz_message_fill(const ProtobufCMessageDescriptor *type);

/* A packed dp.Request carrying `body` (may be NULL: an empty body) as `type`.
   The buffer is the caller's to free. */
unsigned char *fuzz_envelope_pack(const char *request_id, const char *type,
                                  const ProtobufCMessage *body, size_t *size_out);

/* The frames a handler target hands the server. The first byte picks the
   framing (0 to 4: [empty delimiter, envelope], as clients send; 5: the
   envelope alone; 6: a non-empty delimiter; 7: an extra empty frame after
   the envelope); the rest is the envelope. */
zmsg_t *fuzz_frames(const uint8_t *data, size_t size);
enum { FUZZ_FRAMING_STANDARD = 0, FUZZ_FRAMING_COUNT = 8 };

/* A service made by its own x_new (registry_new, ...) from its settings
   table, as its actor makes it (routes, state, limits, background actors),
   with a database URL naming a loopback port that this process holds bound
   and never listens on, so every connection attempt is refused at once;
   no /metrics, and no other service to talk to. `service`: "registry",
   "intake", "notify" or "report". NULL when unknown, out of memory or the
   service refused to start. */
typedef struct _fuzz_service_t fuzz_service_t;
fuzz_service_t *fuzz_service_new(const char *service);
void fuzz_service_destroy(fuzz_service_t **self_p);
/* The server configuration that dp_server_handle_frames takes. */
const dp_server_config_t *fuzz_service_config(const fuzz_service_t *self);

/* Decodes the UTF-8 character at `text` (not at its end) the strict way:
   shortest form, no surrogate, at most U+10FFFF. Returns its length in
   bytes, or 0 when it is not well-formed. A reference the checks of
   dp_validate are compared with, written apart from them. */
size_t fuzz_utf8_next(const char *text, uint32_t *point_out);

/* Aborts unless `reply` is what a server whose database is unreachable may
   answer to `request`: [empty delimiter, dp.Reply] with the request's id,
   and a status of INVALID_ARGUMENT, UNIMPLEMENTED, RESOURCE_EXHAUSTED or
   UNAVAILABLE with a message, or OK with a health reply. Never INTERNAL:
   that is a handler that gave no reply or a database failure nobody
   classified. Returns the decoded reply; free it with dp_message_free. */
Dp__Reply *fuzz_check_reply(zmsg_t *request, zmsg_t *reply);

#endif
