/* The changes pages ask of services, made from their forms by name through
   protobuf-c's descriptors: one table row per change instead of one block
   of assignments each. */
#include <stdlib.h>
#include <string.h>

#include "console_html.h"

const console_change_t *console_change_find(const console_change_t *table, size_t count,
                                            const char *action)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].action, action) == 0)
            return &table[i];
    return NULL;
}

static void *s_member(ProtobufCMessage *message, const char *name,
                      const ProtobufCFieldDescriptor **field_out)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(message->descriptor, name);
    *field_out = field;
    return field && field->label != PROTOBUF_C_LABEL_REPEATED ? (char *)message + field->offset
                                                              : NULL;
}

/* Sets one field from text; false when the text is not a value of its type. */
static bool s_set(ProtobufCMessage *message, const char *name, const char *text)
{
    const ProtobufCFieldDescriptor *field = NULL;
    void *member = s_member(message, name, &field);
    if (!member)
        return false;
    char *end = NULL;
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
        *(const char **)member = text;
        return true;
    case PROTOBUF_C_TYPE_INT64:
        *(int64_t *)member = strtoll(text, &end, 10);
        return end && end != text && *end == '\0';
    case PROTOBUF_C_TYPE_ENUM:
        /* The one enum a form sends: a workflow status, by its slug. */
        return console_status_parse(text, (Dp__EnquiryStatus *)member);
    default:
        return false;
    }
}

int console_change_send(console_request_t *request, const console_change_t *change, int64_t id,
                        const ProtobufCMessage *partner, dp_status_t *status)
{
    ProtobufCMessage *message = calloc(1, change->request->sizeof_message);
    if (!message) {
        return dp_status_set(status, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
    }
    protobuf_c_message_init(change->request, message);
    const ProtobufCFieldDescriptor *field = NULL;
    void *member = s_member(message, "id", &field);
    if (member)
        *(int64_t *)member = id;
    if ((member = s_member(message, "partner", &field)))
        *(const ProtobufCMessage **)member = partner;
    if ((member = s_member(message, "actor", &field)))
        *(const char **)member = request->person;
    int outcome = 0;
    for (size_t i = 0; change->fields[i][0] && outcome == 0; i++) {
        const char *value = console_field(request, change->fields[i][0]);
        if (strcmp(change->fields[i][1], "assignee") == 0 && strcmp(value, "me") == 0)
            value = request->account.name;
        if (*value && !s_set(message, change->fields[i][1], value)) {
            outcome = dp_status_set(status, DP__CODE__CODE_INVALID_ARGUMENT, change->fields[i][0],
                                    TXT->bad_value);
        }
    }
    ProtobufCMessage *reply = NULL;
    if (outcome == 0)
        outcome = console_call(request, change->peer, message, change->reply, &reply, status);
    dp_message_free(&reply);
    free(message); /* its texts are the form's */
    return outcome;
}
