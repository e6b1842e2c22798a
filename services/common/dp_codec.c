#include "dp_codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *s_code_names[] = {
    "OK",        "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",       "DATA_LOSS",
    "UNAUTHENTICATED"};

const char *dp_code_name(Dp__Code code)
{
    if ((int)code >= 0 && (size_t)code < sizeof s_code_names / sizeof s_code_names[0])
        return s_code_names[code];
    return "UNKNOWN";
}

/* Each block carries its size in front, so that free can give it back to the
   budget while decoding, and so that a decoded message can be freed later
   without the budget (which lived on the decoder's stack). */
typedef struct {
    size_t budget; /* bytes the decoder may take in all */
    size_t in_use; /* bytes it holds now */
} budget_t;

enum { HEADER_WORDS = 2 }; /* keeps the payload 16-byte aligned */

static void *s_budget_alloc(void *data, size_t size)
{
    budget_t *budget = data;
    if (size > budget->budget || size > budget->budget - budget->in_use)
        return NULL;
    size_t *block = malloc(sizeof(size_t) * HEADER_WORDS + size);
    if (!block)
        return NULL;
    block[0] = size;
    budget->in_use += size;
    return block + HEADER_WORDS;
}

static void s_budget_free(void *data, void *pointer)
{
    if (!pointer)
        return;
    size_t *block = (size_t *)pointer - HEADER_WORDS;
    if (data) {
        budget_t *budget = data;
        budget->in_use -= block[0];
    }
    free(block);
}

/* Frees blocks made by s_budget_alloc once decoding is over. */
static ProtobufCAllocator s_release_allocator = {
    .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = NULL};

/* protobuf-c reads a tag naming field 0 when it is written in more bytes
   than it needs, and keeps it as an unknown field; but it refuses that
   field once the message is encoded again. Field 0 is not valid protobuf,
   so a message holding one, at any depth, does not decode. */
static bool s_has_field_zero(const ProtobufCMessage *message)
{
    for (unsigned i = 0; i < message->n_unknown_fields; i++)
        if (message->unknown_fields[i].tag == 0)
            return true;
    const ProtobufCMessageDescriptor *type = message->descriptor;
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        const char *member = (const char *)message + field->offset;
        const char *quantifier = (const char *)message + field->quantifier_offset;
        if (field->type != PROTOBUF_C_TYPE_MESSAGE ||
            ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
             *(const uint32_t *)quantifier != field->id))
            continue;
        size_t count = field->label == PROTOBUF_C_LABEL_REPEATED ? *(const size_t *)quantifier : 1;
        ProtobufCMessage *const *nested = field->label == PROTOBUF_C_LABEL_REPEATED
                                              ? *(ProtobufCMessage *const *const *)member
                                              : (ProtobufCMessage *const *)member;
        for (size_t k = 0; k < count; k++)
            if (nested[k] && s_has_field_zero(nested[k]))
                return true;
    }
    return false;
}

/* Reads a varint at *p (before end); false when it runs past end or 10 bytes. */
static bool s_varint(const uint8_t **p, const uint8_t *end, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t byte = *(*p)++;
        *value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return true;
    }
    return false;
}

/* protobuf-c keeps strings as C strings, so a NUL inside one would cut it
   short without a word, and what was stored would not be what was sent.
   Walks the wire bytes and finds a NUL in any string field, at any depth.
   Structure it cannot read is left to the decoder to refuse. */
static bool s_string_has_nul(const ProtobufCMessageDescriptor *descriptor, const uint8_t *p,
                             const uint8_t *end, int depth)
{
    while (p < end && depth < 64) {
        uint64_t tag = 0, length = 0;
        if (!s_varint(&p, end, &tag))
            return false;
        switch (tag & 7) {
        case 0:
            if (!s_varint(&p, end, &length))
                return false;
            continue;
        case 1:
        case 5:
            if (end - p < ((tag & 7) == 1 ? 8 : 4))
                return false;
            p += (tag & 7) == 1 ? 8 : 4;
            continue;
        case 2:
            break;
        default:
            return false;
        }
        if (!s_varint(&p, end, &length) || length > (uint64_t)(end - p))
            return false;
        const ProtobufCFieldDescriptor *field =
            tag >> 3 <= UINT32_MAX
                ? protobuf_c_message_descriptor_get_field(descriptor, (unsigned)(tag >> 3))
                : NULL;
        if (field && field->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)length))
            return true;
        if (field && field->type == PROTOBUF_C_TYPE_MESSAGE &&
            s_string_has_nul(field->descriptor, p, p + length, depth + 1))
            return true;
        p += length;
    }
    return false;
}

ProtobufCMessage *dp_message_decode(const ProtobufCMessageDescriptor *descriptor, const void *data,
                                    size_t size, size_t memory_budget)
{
    if (data && s_string_has_nul(descriptor, data, (const uint8_t *)data + size, 0))
        return NULL;
    budget_t budget = {.budget = memory_budget, .in_use = 0};
    ProtobufCAllocator allocator = {
        .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = &budget};
    if (!data && size)
        return NULL;
    ProtobufCMessage *message = protobuf_c_message_unpack(
        descriptor, &allocator, size, data ? (const uint8_t *)data : (const uint8_t *)"");
    if (message && s_has_field_zero(message))
        dp_message_free(&message);
    return message;
}

void dp_message_free(ProtobufCMessage **message_p)
{
    if (!message_p || !*message_p)
        return;
    protobuf_c_message_free_unpacked(*message_p, &s_release_allocator);
    *message_p = NULL;
}

unsigned char *dp_message_pack(const ProtobufCMessage *message, size_t *size_out)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    unsigned char *buffer = malloc(size ? size : 1);
    if (!buffer)
        return NULL;
    *size_out = protobuf_c_message_pack(message, buffer);
    return buffer;
}
