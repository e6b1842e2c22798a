#include "dp_codec.h"

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

ProtobufCMessage *dp_message_decode(const ProtobufCMessageDescriptor *descriptor, const void *data,
                                    size_t size, size_t memory_budget)
{
    budget_t budget = {.budget = memory_budget, .in_use = 0};
    ProtobufCAllocator allocator = {
        .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = &budget};
    if (!data && size)
        return NULL;
    return protobuf_c_message_unpack(descriptor, &allocator, size,
                                     data ? (const uint8_t *)data : (const uint8_t *)"");
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
