/* A protobuf-c message as proto3 canonical JSON
   (https://protobuf.dev/programming-guides/json/): field names in
   lowerCamelCase, 64-bit integers as strings, bytes in base64 with
   padding, enums by name, fields holding their default value left out.
   Maps and well-known types are not used by the messages sent this way. */
#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <string.h>

#include "notify_service.h"

/* "aggregate_type" -> "aggregateType", as protoc's json_name. */
static void s_json_name(const char *name, char *out, size_t size)
{
    size_t length = 0;
    bool upper = false;
    for (const char *p = name; *p && length + 1 < size; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        out[length++] = upper ? (char)toupper((unsigned char)*p) : *p;
        upper = false;
    }
    out[length] = 0;
}

static json_t *s_base64(const ProtobufCBinaryData *data)
{
    size_t size = 4 * ((data->len + 2) / 3) + 1;
    unsigned char *encoded = malloc(size);
    if (!encoded)
        return NULL;
    EVP_EncodeBlock(encoded, data->data, (int)data->len);
    json_t *value = json_string((const char *)encoded);
    free(encoded);
    return value;
}

static json_t *s_double(double number)
{
    if (isnan(number))
        return json_string("NaN");
    if (isinf(number))
        return json_string(number > 0 ? "Infinity" : "-Infinity");
    return json_real(number);
}

static json_t *s_int64_text(long long number, bool is_unsigned)
{
    char text[24];
    if (is_unsigned)
        snprintf(text, sizeof text, "%llu", (unsigned long long)number);
    else
        snprintf(text, sizeof text, "%lld", number);
    return json_string(text);
}

/* One value of a field at `value`; *is_default says whether proto3 would
   leave it out. */
static json_t *s_value(const ProtobufCFieldDescriptor *field, const void *value, bool *is_default)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *is_default = *(const int32_t *)value == 0;
        return json_integer(*(const int32_t *)value);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *is_default = *(const uint32_t *)value == 0;
        return json_integer((json_int_t) * (const uint32_t *)value);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *is_default = *(const int64_t *)value == 0;
        return s_int64_text(*(const int64_t *)value, false);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *is_default = *(const uint64_t *)value == 0;
        return s_int64_text((long long)*(const uint64_t *)value, true);
    case PROTOBUF_C_TYPE_FLOAT:
        *is_default = *(const float *)value == 0;
        return s_double(*(const float *)value);
    case PROTOBUF_C_TYPE_DOUBLE:
        *is_default = *(const double *)value == 0;
        return s_double(*(const double *)value);
    case PROTOBUF_C_TYPE_BOOL:
        *is_default = !*(const protobuf_c_boolean *)value;
        return json_boolean(*(const protobuf_c_boolean *)value);
    case PROTOBUF_C_TYPE_ENUM: {
        int number = *(const int *)value;
        *is_default = number == 0;
        const ProtobufCEnumValue *named =
            protobuf_c_enum_descriptor_get_value(field->descriptor, number);
        return named ? json_string(named->name) : json_integer(number);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(char *const *)value;
        *is_default = !text || !*text;
        return json_string(text ? text : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *data = value;
        *is_default = data->len == 0;
        return s_base64(data);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *message = *(ProtobufCMessage *const *)value;
        *is_default = message == NULL;
        return message ? notify_message_json(message) : json_null();
    }
    }
    return NULL;
}

json_t *notify_message_json(const ProtobufCMessage *message)
{
    const ProtobufCMessageDescriptor *descriptor = message->descriptor;
    json_t *object = json_object();
    for (unsigned i = 0; object && i < descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &descriptor->fields[i];
        const char *base = (const char *)message;
        const void *member = base + field->offset;
        char name[128];
        s_json_name(field->name, name, sizeof name);
        json_t *value = NULL;
        bool present = true;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *)(base + field->quantifier_offset);
            const char *items = *(char *const *)member;
            present = count > 0;
            value = json_array();
            for (size_t n = 0; value && n < count; n++) {
                bool ignored;
                json_t *item =
                    s_value(field, items + n * dp_field_element_size(field->type), &ignored);
                if (!item || json_array_append_new(value, item) != 0) {
                    json_decref(value);
                    value = NULL;
                }
            }
        } else {
            bool is_default = false;
            value = s_value(field, member, &is_default);
            if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                present = *(const uint32_t *)(base + field->quantifier_offset) == field->id;
            else if (field->label == PROTOBUF_C_LABEL_OPTIONAL &&
                     field->type != PROTOBUF_C_TYPE_MESSAGE &&
                     field->type != PROTOBUF_C_TYPE_STRING)
                present = *(const protobuf_c_boolean *)(base + field->quantifier_offset);
            else
                present = !is_default;
        }
        if (!value) {
            json_decref(object);
            return NULL;
        }
        if (!present)
            json_decref(value);
        else if (json_object_set_new(object, name, value) != 0) {
            json_decref(object);
            return NULL;
        }
    }
    return object;
}

char *notify_event_json(const Dp__Event *event)
{
    json_t *object = notify_message_json(&event->base);
    char *text = object ? json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(object);
    return text;
}
