#include "dp_codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_code_names[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

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

/* Well-formed UTF-8 of `size` bytes: no overlong forms, no surrogates,
   nothing above U+10FFFF. Control characters are text here; the handlers
   decide where they are allowed. */
static bool s_utf8(const uint8_t *p, size_t size)
{
    const uint8_t *end = p + size;
    while (p < end) {
        uint8_t c = *p;
        size_t extra;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf)
            extra = 1;
        else if (c >= 0xe0 && c <= 0xef)
            extra = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            extra = 3;
        else
            return false;
        if ((size_t)(end - p) <= extra)
            return false;
        for (size_t i = 1; i <= extra; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
            (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
            return false;
        p += extra + 1;
    }
    return true;
}

/* Appends ".name" (or "name" at the top) and "[index]" for a repeated
   field to path, truncating quietly: the path only names the field. */
static void s_path_append(char *path, size_t size, const char *name, bool repeated, size_t index)
{
    size_t used = strlen(path);
    if (used + 1 >= size)
        return;
    int written =
        repeated ? snprintf(path + used, size - used, "%s%s[%zu]", used ? "." : "", name, index)
                 : snprintf(path + used, size - used, "%s%s", used ? "." : "", name);
    (void)written;
}

static bool s_find_bad_utf8(const ProtobufCMessage *message, char *path, size_t size, int depth)
{
    if (depth > 64)
        return false;
    const ProtobufCMessageDescriptor *type = message->descriptor;
    size_t base = strlen(path);
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        if (field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *member = (const char *)message + field->offset;
        const char *quantifier = (const char *)message + field->quantifier_offset;
        if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)quantifier != field->id)
            continue;
        bool repeated = field->label == PROTOBUF_C_LABEL_REPEATED;
        size_t count = repeated ? *(const size_t *)quantifier : 1;
        void *const *items = repeated ? *(void *const *const *)member : (void *const *)member;
        for (size_t k = 0; items && k < count; k++) {
            if (!items[k])
                continue;
            if (field->type == PROTOBUF_C_TYPE_STRING) {
                const char *text = items[k];
                if (s_utf8((const uint8_t *)text, strlen(text)))
                    continue;
                s_path_append(path, size, field->name, repeated, k);
                return true;
            }
            s_path_append(path, size, field->name, repeated, k);
            if (s_find_bad_utf8(items[k], path, size, depth + 1))
                return true;
            path[base] = '\0';
        }
    }
    return false;
}

bool dp_message_find_bad_utf8(const ProtobufCMessage *message, char *path, size_t path_size)
{
    if (!message || !path || !path_size)
        return false;
    path[0] = '\0';
    return s_find_bad_utf8(message, path, path_size, 0);
}

ProtobufCMessage *dp_message_decode_checked(const ProtobufCMessageDescriptor *descriptor,
                                            const void *data, size_t size, size_t memory_budget,
                                            dp_decode_problem_t *problem)
{
    dp_decode_problem_t ignored;
    if (!problem)
        problem = &ignored;
    problem->field[0] = problem->message[0] = '\0';
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
    char path[128];
    if (message && dp_message_find_bad_utf8(message, path, sizeof path)) {
        /* The field as every handler names it (its own name, as in
           "sender_name" or "domains"); the message gives the whole path. */
        const char *dot = strrchr(path, '.');
        snprintf(problem->field, sizeof problem->field, "%.*s", (int)sizeof problem->field - 1,
                 dot ? dot + 1 : path);
        char *index = strchr(problem->field, '[');
        if (index)
            *index = '\0';
        snprintf(problem->message, sizeof problem->message, "%s must be valid UTF-8", path);
        dp_message_free(&message);
    }
    return message;
}

ProtobufCMessage *dp_message_decode(const ProtobufCMessageDescriptor *descriptor, const void *data,
                                    size_t size, size_t memory_budget)
{
    return dp_message_decode_checked(descriptor, data, size, memory_budget, NULL);
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

size_t dp_field_element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return sizeof(int32_t);
    }
}

int dp_status_set(dp_status_t *status, Dp__Code code, const char *field, const char *message)
{
    status->code = code;
    snprintf(status->message, sizeof status->message, "%s", message ? message : "");
    snprintf(status->field, sizeof status->field, "%s", field ? field : "");
    return -1;
}
