/* Status codes and bounded protobuf decoding shared by servers and clients. */
#ifndef DP_CODEC_H
#define DP_CODEC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "envelope.pb-c.h"

/* A reply's status as the client sees it. */
typedef struct {
    Dp__Code code;     /* DP__CODE__CODE_OK when the request succeeded */
    char message[512]; /* the server's message, or the client's own on a timeout */
    char field[64];    /* the offending field, or "" */
} dp_status_t;

/* "OK", "INVALID_ARGUMENT", ... (the gRPC name without the CODE_ prefix). */
const char *dp_code_name(Dp__Code code);

/* Decodes data as the given message type, refusing when the decoder would
   need more than memory_budget bytes. Returns NULL when the data does not
   decode, which includes a field numbered 0 (protobuf-c lets one through
   in an overlong tag, but could not read it back once re-encoded). Free the
   result with dp_message_free. */
ProtobufCMessage *dp_message_decode(const ProtobufCMessageDescriptor *descriptor, const void *data,
                                    size_t size, size_t memory_budget);
void dp_message_free(ProtobufCMessage **message_p);

/* Packs a message into a new buffer (free with free()); NULL on failure. */
unsigned char *dp_message_pack(const ProtobufCMessage *message, size_t *size_out);

#endif
