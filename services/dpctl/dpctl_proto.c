#include "dpctl_proto.h"

#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Length of the prefix every value name of the enum shares, cut after an
   underscore: "PARTNER_KIND_" for PARTNER_KIND_COMPANY and its siblings. */
static size_t s_prefix_length(const ProtobufCEnumDescriptor *type)
{
    const char *first = type->values[0].name;
    size_t common = strlen(first);
    for (unsigned i = 1; i < type->n_values; i++) {
        size_t same = 0;
        while (same < common && type->values[i].name[same] == first[same])
            same++;
        common = same;
    }
    if (type->n_values == 1 || common == strlen(first))
        common = strlen(first) - 1;
    while (common > 0 && first[common - 1] != '_')
        common--;
    return common;
}

static const char *s_short_name(const ProtobufCEnumDescriptor *type, unsigned index, char *buffer,
                                size_t size)
{
    const char *rest = type->values[index].name + s_prefix_length(type);
    size_t i = 0;
    for (; rest[i] && i + 1 < size; i++)
        buffer[i] = (char)tolower((unsigned char)rest[i]);
    buffer[i] = '\0';
    return buffer;
}

const char *dpctl_enum_label(const ProtobufCEnumDescriptor *type, int value, char *buffer,
                             size_t size)
{
    for (unsigned i = 0; i < type->n_values; i++)
        if (type->values[i].value == value)
            return s_short_name(type, i, buffer, size);
    snprintf(buffer, size, "%d", value);
    return buffer;
}

int dpctl_enum_parse(const ProtobufCEnumDescriptor *type, const char *label, int *value)
{
    char name[128];
    for (unsigned i = 0; i < type->n_values; i++) {
        if (type->values[i].value == 0)
            continue;
        if (strcasecmp(s_short_name(type, i, name, sizeof name), label) == 0) {
            *value = type->values[i].value;
            return 0;
        }
    }
    return -1;
}

const char *dpctl_enum_choices(const ProtobufCEnumDescriptor *type, char *buffer, size_t size)
{
    char name[128];
    size_t used = 0;
    buffer[0] = '\0';
    for (unsigned i = 0; i < type->n_values && used < size; i++) {
        if (type->values[i].value == 0)
            continue;
        int written = snprintf(buffer + used, size - used, "%s%s", used ? "|" : "",
                               s_short_name(type, i, name, sizeof name));
        used += written > 0 ? (size_t)written : 0;
    }
    return buffer;
}

static json_t *s_json_base64(const ProtobufCBinaryData *data)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *text = malloc((data->len + 2) / 3 * 4 + 1);
    if (!text)
        return NULL;
    size_t out = 0;
    for (size_t i = 0; i < data->len; i += 3) {
        uint32_t group = (uint32_t)data->data[i] << 16;
        if (i + 1 < data->len)
            group |= (uint32_t)data->data[i + 1] << 8;
        if (i + 2 < data->len)
            group |= data->data[i + 2];
        text[out++] = alphabet[(group >> 18) & 63];
        text[out++] = alphabet[(group >> 12) & 63];
        text[out++] = i + 1 < data->len ? alphabet[(group >> 6) & 63] : '=';
        text[out++] = i + 2 < data->len ? alphabet[group & 63] : '=';
    }
    text[out] = '\0';
    json_t *string = json_string(text);
    free(text);
    return string;
}

/* One value of the field's type, read at member. */
static json_t *s_json_value(const ProtobufCFieldDescriptor *field, const void *member)
{
    char label[128];
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)member);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)member);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)member);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_integer((json_int_t) * (const uint64_t *)member);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)member);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)member);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)member);
    case PROTOBUF_C_TYPE_ENUM:
        return json_string(
            dpctl_enum_label(field->descriptor, *(const int *)member, label, sizeof label));
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(char *const *)member;
        json_t *string = json_string(text ? text : "");
        return string ? string : json_null(); /* not UTF-8: say nothing rather than lie */
    }
    case PROTOBUF_C_TYPE_BYTES:
        return s_json_base64(member);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *inner = *(ProtobufCMessage *const *)member;
        return inner ? dpctl_json_message(inner) : json_null();
    }
    }
    return json_null();
}

static json_t *s_json_repeated(const ProtobufCFieldDescriptor *field, const char *base)
{
    size_t count = *(const size_t *)(base + field->quantifier_offset);
    const char *items = *(char *const *)(base + field->offset);
    json_t *array = json_array();
    for (size_t i = 0; array && i < count; i++)
        json_array_append_new(array,
                              s_json_value(field, items + i * dp_field_element_size(field->type)));
    return array;
}

/* False for a oneof member that is not the chosen one and for an unset
   proto2-style optional scalar. */
static bool s_is_present(const ProtobufCFieldDescriptor *field, const char *base)
{
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + field->quantifier_offset) == field->id;
    if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->quantifier_offset &&
        field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
        return *(const protobuf_c_boolean *)(base + field->quantifier_offset);
    return true;
}

json_t *dpctl_json_message(const ProtobufCMessage *message)
{
    json_t *object = json_object();
    const char *base = (const char *)message;
    const ProtobufCMessageDescriptor *type = message->descriptor;
    for (unsigned i = 0; object && i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        json_t *value = field->label == PROTOBUF_C_LABEL_REPEATED ? s_json_repeated(field, base)
                        : s_is_present(field, base) ? s_json_value(field, base + field->offset)
                                                    : json_null();
        json_object_set_new(object, field->name, value);
    }
    return object;
}

ProtobufCMessage *dpctl_message_new(const ProtobufCMessageDescriptor *type)
{
    ProtobufCMessage *message = calloc(1, type->sizeof_message);
    if (message)
        protobuf_c_message_init(type, message);
    return message;
}

/* Sets *status to INVALID_ARGUMENT about field; returns -1. */
static int s_refuse(dp_status_t *status, const char *field, const char *message)
{
    status->code = DP__CODE__CODE_INVALID_ARGUMENT;
    snprintf(status->field, sizeof status->field, "%s", field);
    snprintf(status->message, sizeof status->message, "%s %s", field, message);
    return -1;
}

/* Stores one JSON value at member as the field's type; 0 or -1. */
static int s_from_json_value(const ProtobufCFieldDescriptor *field, const json_t *value,
                             void *member, dp_status_t *status)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(value))
            return s_refuse(status, field->name, "must be a string");
        *(const char **)member = json_string_value(value);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(value))
            return s_refuse(status, field->name, "must be true or false");
        *(protobuf_c_boolean *)member = json_is_true(value);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int number = 0;
        if (!json_is_string(value) ||
            dpctl_enum_parse(field->descriptor, json_string_value(value), &number) != 0)
            return s_refuse(status, field->name, "is not one of its values");
        *(int *)member = number;
        return 0;
    }
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        if (!json_is_integer(value))
            return s_refuse(status, field->name, "must be a whole number");
        json_int_t number = json_integer_value(value);
        if (dp_field_element_size(field->type) == sizeof(int64_t))
            *(int64_t *)member = (int64_t)number;
        else if (number < INT32_MIN || number > UINT32_MAX)
            return s_refuse(status, field->name, "is out of range");
        else
            *(int32_t *)member = (int32_t)number;
        return 0;
    }
    default:
        return s_refuse(status, field->name, "cannot be given as JSON here");
    }
}

static int s_from_json_repeated(const ProtobufCFieldDescriptor *field, const json_t *array,
                                char *base, dp_status_t *status)
{
    if (!json_is_array(array))
        return s_refuse(status, field->name, "must be an array");
    size_t count = json_array_size(array), size = dp_field_element_size(field->type);
    char *items = calloc(count ? count : 1, size);
    if (!items)
        return s_refuse(status, field->name, "does not fit in memory");
    *(char **)(base + field->offset) = items;
    *(size_t *)(base + field->quantifier_offset) = count;
    for (size_t i = 0; i < count; i++)
        if (s_from_json_value(field, json_array_get(array, i), items + i * size, status) != 0)
            return -1;
    return 0;
}

int dpctl_message_from_json(ProtobufCMessage *message, const json_t *object, dp_status_t *status)
{
    if (!json_is_object(object)) {
        status->code = DP__CODE__CODE_INVALID_ARGUMENT;
        status->field[0] = '\0';
        snprintf(status->message, sizeof status->message, "a JSON object is expected");
        return -1;
    }
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)object, name, value)
    {
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name(message->descriptor, name);
        if (!field) {
            status->code = DP__CODE__CODE_INVALID_ARGUMENT;
            snprintf(status->field, sizeof status->field, "%s", name);
            snprintf(status->message, sizeof status->message, "%s is not a field of %s", name,
                     message->descriptor->name);
            return -1;
        }
        if (json_is_null(value))
            continue;
        int stored = field->label == PROTOBUF_C_LABEL_REPEATED
                         ? s_from_json_repeated(field, value, (char *)message, status)
                         : s_from_json_value(field, value, (char *)message + field->offset, status);
        if (stored != 0)
            return -1;
    }
    return 0;
}

void dpctl_message_release(ProtobufCMessage **message_p)
{
    if (!message_p || !*message_p)
        return;
    ProtobufCMessage *message = *message_p;
    const ProtobufCMessageDescriptor *type = message->descriptor;
    for (unsigned i = 0; i < type->n_fields; i++)
        if (type->fields[i].label == PROTOBUF_C_LABEL_REPEATED)
            free(*(void **)((char *)message + type->fields[i].offset));
    free(message);
    *message_p = NULL;
}

static const ProtobufCFieldDescriptor *s_field(const ProtobufCMessage *message, const char *name,
                                               ProtobufCType type)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(message->descriptor, name);
    assert(field && field->type == type && field->label != PROTOBUF_C_LABEL_REPEATED);
    return field;
}

const char *dpctl_field_string(const ProtobufCMessage *message, const char *name)
{
    const ProtobufCFieldDescriptor *field = s_field(message, name, PROTOBUF_C_TYPE_STRING);
    const char *text = *(char *const *)((const char *)message + field->offset);
    return text ? text : "";
}

void dpctl_field_set_string(ProtobufCMessage *message, const char *name, const char *value)
{
    const ProtobufCFieldDescriptor *field = s_field(message, name, PROTOBUF_C_TYPE_STRING);
    *(const char **)((char *)message + field->offset) = value;
}

ProtobufCMessage *dpctl_field_message(const ProtobufCMessage *message, const char *name)
{
    const ProtobufCFieldDescriptor *field = s_field(message, name, PROTOBUF_C_TYPE_MESSAGE);
    return *(ProtobufCMessage *const *)((const char *)message + field->offset);
}

void dpctl_field_set_message(ProtobufCMessage *message, const char *name, ProtobufCMessage *value)
{
    const ProtobufCFieldDescriptor *field = s_field(message, name, PROTOBUF_C_TYPE_MESSAGE);
    *(ProtobufCMessage **)((char *)message + field->offset) = value;
}

ProtobufCMessage **dpctl_field_items(const ProtobufCMessage *message, size_t *count)
{
    const ProtobufCMessageDescriptor *type = message->descriptor;
    const char *base = (const char *)message;
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        if (field->label == PROTOBUF_C_LABEL_REPEATED && field->type == PROTOBUF_C_TYPE_MESSAGE) {
            *count = *(const size_t *)(base + field->quantifier_offset);
            return *(ProtobufCMessage * *const *)(base + field->offset);
        }
    }
    assert(!"dpctl: the message has no repeated message field");
    *count = 0;
    return NULL;
}
