/* Status codes and bounded protobuf decoding shared by servers and clients. */
#ifndef DP_CODEC_H
#define DP_CODEC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "envelope.pb-c.h"

/* A reply's status as the client sees it. */
typedef struct {
    Dp__Code code;     /* DP__CODE__CODE_OK when the request succeeded */
    char message[512]; /* the server's message, or the client's own on a timeout */
    char field[64];    /* the offending field, or "" */
} dp_status_t;

/* Fills a status (message and field may be NULL); returns -1, so that a
   refusal can be `return dp_status_set(...)`. */
int dp_status_set(dp_status_t *status, Dp__Code code, const char *field, const char *message);

/* "OK", "INVALID_ARGUMENT", ... (the gRPC name without the CODE_ prefix). */
const char *dp_code_name(Dp__Code code);

/* Decodes data as the given message type, refusing when the decoder would
   need more than memory_budget bytes. Returns NULL when the data does not
   decode, which includes a field numbered 0 (protobuf-c lets one through
   in an overlong tag, but could not read it back once re-encoded), a NUL
   inside a string and a string that is not valid UTF-8. Free the result
   with dp_message_free. */
ProtobufCMessage *dp_message_decode(const ProtobufCMessageDescriptor *descriptor, const void *data,
                                    size_t size, size_t memory_budget);
void dp_message_free(ProtobufCMessage **message_p);

/* Why dp_message_decode_checked refused a message. */
typedef struct {
    char field[64];    /* the field's own name, as handlers name it ("slug"); "" if none */
    char message[160]; /* one line for the reply, with the field's path
                          ("partner.slug must be valid UTF-8", "domains[1] ...") */
} dp_decode_problem_t;

/* dp_message_decode, saying why it refused. Both refuse a string field,
   at any depth, repeated or not, that is not valid UTF-8 (proto3 requires
   it, protobuf-c does not check it, and PostgreSQL would refuse it later
   as a database error): the server answers INVALID_ARGUMENT naming the
   field, so no handler ever sees such text. */
ProtobufCMessage *dp_message_decode_checked(const ProtobufCMessageDescriptor *descriptor,
                                            const void *data, size_t size, size_t memory_budget,
                                            dp_decode_problem_t *problem);
/* The path of the first string field of message that is not valid UTF-8,
   written to path; false when there is none. */
bool dp_message_find_bad_utf8(const ProtobufCMessage *message, char *path, size_t path_size);

/* The bytes one item of a repeated field of this type takes in the
   field's array (protobuf-c stores 64-bit numbers in 8, enums as int,
   strings and messages as pointers). */
size_t dp_field_element_size(ProtobufCType type);

/* Packs a message into a new buffer (free with free()); NULL on failure. */
unsigned char *dp_message_pack(const ProtobufCMessage *message, size_t *size_out);

#endif
