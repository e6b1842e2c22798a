/* Reading and writing protobuf-c messages through their descriptors, so that
   code shared by many message types (JSON output, paging, areas and forms)
   is written once. */
#ifndef DPCTL_PROTO_H
#define DPCTL_PROTO_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "dp_codec.h"

/* The short name of an enum value: its proto name without the prefix that
   all the enum's names share, in lower case ("company" for
   PARTNER_KIND_COMPANY). A value the enum does not know prints as its number. */
const char *dpctl_enum_label(const ProtobufCEnumDescriptor *type, int value, char *buffer,
                             size_t size);
/* The value whose short name is label (any case). The zero value
   ("unspecified") is never accepted. Returns 0, or -1 when no value matches. */
int dpctl_enum_parse(const ProtobufCEnumDescriptor *type, const char *label, int *value);
/* The accepted short names joined by "|", e.g. "company|association". */
const char *dpctl_enum_choices(const ProtobufCEnumDescriptor *type, char *buffer, size_t size);

/* A JSON object with every field of the message, named as in the .proto;
   enums by their short names, 64-bit numbers as integers, bytes in base64. */
json_t *dpctl_json_message(const ProtobufCMessage *message);

/* A message with its defaults, made with calloc; free it with free(), since
   the strings set on it are borrowed. NULL when out of memory. */
ProtobufCMessage *dpctl_message_new(const ProtobufCMessageDescriptor *type);

/* The inverse of dpctl_json_message for flat messages: sets the fields of
   message (from dpctl_message_new) named by the object's keys. Strings are
   borrowed from object, which must outlive the message; null leaves a field
   at its default. Handles string, bool, integer and enum fields (by short
   name), single or repeated. Returns 0, or -1 with *status saying which
   field is unknown or of the wrong type (INVALID_ARGUMENT, as the service
   would say it). Free the message with dpctl_message_release either way. */
int dpctl_message_from_json(ProtobufCMessage *message, const json_t *object, dp_status_t *status);
/* Frees a message filled by dpctl_message_from_json (its repeated fields'
   arrays, then the message) and nulls *message_p. */
void dpctl_message_release(ProtobufCMessage **message_p);

/* Fields by name. The field must exist with the right type: asking for
   another is a programming error. Strings are borrowed both ways. */
const char *dpctl_field_string(const ProtobufCMessage *message, const char *name);
void dpctl_field_set_string(ProtobufCMessage *message, const char *name, const char *value);
ProtobufCMessage *dpctl_field_message(const ProtobufCMessage *message, const char *name);
void dpctl_field_set_message(ProtobufCMessage *message, const char *name, ProtobufCMessage *value);
/* The items of the message's first repeated message field (a list reply's items). */
ProtobufCMessage **dpctl_field_items(const ProtobufCMessage *message, size_t *count);

#endif
