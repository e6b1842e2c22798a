#include "fuzz_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp_config.h"
#include "dp_events.h"
#include "dp_log.h"
#include "intake_server.h"
#include "notify_server.h"
#include "registry_server.h"
#include "report_server.h"

void fuzz_fail(const char *file, int line, const char *condition, const char *format, ...)
{
    fprintf(stderr, "\n%s:%d: fuzz check failed: %s\n  ", file, line, condition);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fprintf(stderr, "\n");
    abort();
}

/* ---- message types ------------------------------------------------------------ */

static void s_add_type(fuzz_types_t *types, const ProtobufCMessageDescriptor *type)
{
    if (!type)
        return;
    for (size_t i = 0; i < types->count; i++)
        if (types->types[i] == type)
            return;
    FUZZ_ASSERT(types->count < FUZZ_MAX_TYPES, "raise FUZZ_MAX_TYPES");
    types->types[types->count++] = type;
}

static void s_add_routes(fuzz_types_t *types, const dp_route_t *routes, size_t count)
{
    for (size_t i = 0; i < count; i++)
        s_add_type(types, routes[i].request_type);
    /* Every server answers the health request besides its own routes. */
    s_add_type(types, &dp__health_request__descriptor);
}

const char *const fuzz_event_types[] = {
    "partner.joined",   "partner.contact_added", "engagement.recorded", "reference.area_added",
    "enquiry.received", "enquiry.rule_added",    "enquiry.kind_added",  "privacy.erased"};
const size_t fuzz_event_type_count = sizeof fuzz_event_types / sizeof *fuzz_event_types;

int fuzz_types_get(const char *set, fuzz_types_t *types)
{
    memset(types, 0, sizeof *types);
    if (strcmp(set, "registry") == 0)
        s_add_routes(types, registry_routes, registry_route_count);
    else if (strcmp(set, "intake") == 0)
        s_add_routes(types, intake_routes, intake_route_count);
    else if (strcmp(set, "notify") == 0)
        s_add_routes(types, notify_routes, notify_route_count);
    else if (strcmp(set, "report") == 0)
        s_add_routes(types, report_routes, report_route_count);
    else if (strcmp(set, "envelope") == 0) {
        s_add_type(types, &dp__request__descriptor);
        s_add_type(types, &dp__reply__descriptor);
        s_add_type(types, &dp__status__descriptor);
        s_add_type(types, &dp__health_request__descriptor);
        s_add_type(types, &dp__health_reply__descriptor);
    } else if (strcmp(set, "events") == 0) {
        s_add_type(types, &dp__event__descriptor);
        s_add_type(types, &dp__heartbeat__descriptor);
        s_add_type(types, &dp__replay_events_reply__descriptor);
        s_add_type(types, &dp__fetch_events_reply__descriptor);
        for (size_t i = 0; i < fuzz_event_type_count; i++)
            s_add_type(types, dp_event_payload_type(fuzz_event_types[i]));
    } else
        return -1;
    return 0;
}

/* ---- walking messages ------------------------------------------------------------ */

static size_t s_element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static const void *s_member(const ProtobufCMessage *message, const ProtobufCFieldDescriptor *field)
{
    return (const char *)message + field->offset;
}

static const void *s_quantifier(const ProtobufCMessage *message,
                                const ProtobufCFieldDescriptor *field)
{
    return (const char *)message + field->quantifier_offset;
}

/* Whether a singular field holds a value; proto3 fields (LABEL_NONE) always do. */
static bool s_present(const ProtobufCMessage *message, const ProtobufCFieldDescriptor *field)
{
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)s_quantifier(message, field) == field->id;
    if (field->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE)
            return *(void *const *)s_member(message, field) != NULL;
        return *(const protobuf_c_boolean *)s_quantifier(message, field);
    }
    return true;
}

static bool s_value_equal(ProtobufCType type, const void *a, const void *b)
{
    switch (type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        return (!x && !y) || (x && y && strcmp(x, y) == 0);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *x = a, *y = b;
        return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *x = *(ProtobufCMessage *const *)a;
        const ProtobufCMessage *y = *(ProtobufCMessage *const *)b;
        return (!x && !y) || (x && y && fuzz_message_equal(x, y));
    }
    default:
        return memcmp(a, b, s_element_size(type)) == 0;
    }
}

bool fuzz_message_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (a->descriptor != b->descriptor)
        return false;
    const ProtobufCMessageDescriptor *type = a->descriptor;
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *)s_quantifier(a, field);
            if (count != *(const size_t *)s_quantifier(b, field))
                return false;
            const char *x = *(char *const *)s_member(a, field);
            const char *y = *(char *const *)s_member(b, field);
            size_t step = s_element_size(field->type);
            for (size_t k = 0; k < count; k++)
                if (!s_value_equal(field->type, x + k * step, y + k * step))
                    return false;
            continue;
        }
        bool present = s_present(a, field);
        if (present != s_present(b, field))
            return false;
        if (present && !s_value_equal(field->type, s_member(a, field), s_member(b, field)))
            return false;
    }
    if (a->n_unknown_fields != b->n_unknown_fields)
        return false;
    for (unsigned i = 0; i < a->n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *x = &a->unknown_fields[i], *y = &b->unknown_fields[i];
        if (x->tag != y->tag || x->wire_type != y->wire_type || x->len != y->len ||
            (x->len && memcmp(x->data, y->data, x->len) != 0))
            return false;
    }
    return true;
}

/* Bytes the decoder surely allocated for one value; strings and bytes left
   at their defaults point at constants and were not allocated. */
static size_t s_value_footprint(const ProtobufCFieldDescriptor *field, const void *value)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(char *const *)value;
        if (!text || text == protobuf_c_empty_string || text == field->default_value)
            return 0;
        return strlen(text) + 1;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bytes = value;
        const ProtobufCBinaryData *fallback = field->default_value;
        if (!bytes->data || (fallback && bytes->data == fallback->data))
            return 0;
        return bytes->len;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *nested = *(ProtobufCMessage *const *)value;
        return nested ? fuzz_message_footprint(nested) : 0;
    }
    default:
        return 0;
    }
}

size_t fuzz_message_footprint(const ProtobufCMessage *message)
{
    const ProtobufCMessageDescriptor *type = message->descriptor;
    size_t total = type->sizeof_message;
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *)s_quantifier(message, field);
            const char *array = *(char *const *)s_member(message, field);
            size_t step = s_element_size(field->type);
            if (count && array)
                total += count * step;
            for (size_t k = 0; array && k < count; k++)
                total += s_value_footprint(field, array + k * step);
        } else if (s_present(message, field))
            total += s_value_footprint(field, s_member(message, field));
    }
    total += message->n_unknown_fields * sizeof(ProtobufCMessageUnknownField);
    for (unsigned i = 0; i < message->n_unknown_fields; i++)
        total += message->unknown_fields[i].len;
    return total;
}

static bool s_utf8(const char *text);

/* True when every string field of the message, at any depth, is UTF-8 by
   fuzz_utf8_next (written apart from dp_codec's check). */
static bool s_all_text_utf8(const ProtobufCMessage *message)
{
    const ProtobufCMessageDescriptor *type = message->descriptor;
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        if ((field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE) ||
            !s_present(message, field))
            continue;
        bool repeated = field->label == PROTOBUF_C_LABEL_REPEATED;
        size_t count = repeated ? *(const size_t *)s_quantifier(message, field) : 1;
        void *const *items = repeated ? *(void *const *const *)s_member(message, field)
                                      : (void *const *)s_member(message, field);
        for (size_t k = 0; items && k < count; k++) {
            if (!items[k])
                continue;
            if (field->type == PROTOBUF_C_TYPE_STRING ? !s_utf8(items[k])
                                                      : !s_all_text_utf8(items[k]))
                return false;
        }
    }
    return true;
}

ProtobufCMessage *fuzz_round_trip(const ProtobufCMessageDescriptor *type, const uint8_t *data,
                                  size_t size)
{
    ProtobufCMessage *first = dp_message_decode(type, data, size, FUZZ_MEMORY_BUDGET);
    /* Text that is not UTF-8 never gets through the door. */
    FUZZ_ASSERT(!first || s_all_text_utf8(first), "%s decoded with text that is not UTF-8",
                type->name);
    /* Nothing fits in no memory at all. */
    ProtobufCMessage *starved = dp_message_decode(type, data, size, 0);
    FUZZ_ASSERT(!starved, "%s decoded with a budget of 0 bytes", type->name);
    if (!first)
        return NULL;
    FUZZ_ASSERT(first->descriptor == type, "decoded as %s, asked for %s", first->descriptor->name,
                type->name);
    size_t held = fuzz_message_footprint(first);
    FUZZ_ASSERT(held <= FUZZ_MEMORY_BUDGET, "%s holds at least %zu bytes, over the budget of %d",
                type->name, held, FUZZ_MEMORY_BUDGET);
    size_t packed_size = 0;
    unsigned char *packed = dp_message_pack(first, &packed_size);
    FUZZ_ASSERT(packed, "%s does not pack", type->name);
    FUZZ_ASSERT(packed_size == protobuf_c_message_get_packed_size(first),
                "%s packed to %zu bytes, not the %zu announced", type->name, packed_size,
                protobuf_c_message_get_packed_size(first));
    ProtobufCMessage *second = dp_message_decode(type, packed, packed_size, FUZZ_MEMORY_BUDGET);
    FUZZ_ASSERT(second, "%s re-encoded (%zu bytes) does not decode", type->name, packed_size);
    FUZZ_ASSERT(fuzz_message_equal(first, second), "%s changed in a round trip", type->name);
    size_t again_size = 0;
    unsigned char *again = dp_message_pack(second, &again_size);
    FUZZ_ASSERT(again && again_size == packed_size && memcmp(again, packed, packed_size) == 0,
                "%s encodes differently after a round trip", type->name);
    free(again);
    free(packed);
    dp_message_free(&second);
    return first;
}

/* ---- filling messages for seeds ----------------------------------------------------- */

static bool s_ends_with(const char *text, const char *suffix)
{
    size_t length = strlen(text), suffix_length = strlen(suffix);
    return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

/* A value that the services accept for a string field of this name. The
   default is a slug, which is also non-blank text. */
static const char *s_string_for(const char *name)
{
    if (strcmp(name, "email") == 0)
        return "ana@example.org";
    if (strcmp(name, "website") == 0 || strcmp(name, "url") == 0)
        return "https://example.org/";
    if (strstr(name, "domain"))
        return "example.org";
    if (strcmp(name, "country") == 0)
        return "FR";
    if (strcmp(name, "language") == 0)
        return "en";
    if (strcmp(name, "update_mask") == 0)
        return "note";
    if (strcmp(name, "secret") == 0)
        return "0123456789abcdef";
    if (strcmp(name, "honeypot") == 0 || s_ends_with(name, "_token"))
        return "";
    if (strcmp(name, "at") == 0 || s_ends_with(name, "_at"))
        return "2026-11-28T16:30:00Z";
    if (s_ends_with(name, "_on") || strcmp(name, "as_of") == 0 || s_ends_with(name, "_from") ||
        s_ends_with(name, "_to"))
        return "2024-01-01";
    return "fuzz-seed";
}

/* Writes one value of the field's type at `value`; false when out of memory. */
static bool s_fill_value(const ProtobufCFieldDescriptor *field, void *value, int depth)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
        *(char **)value = strdup(s_string_for(field->name));
        return *(char **)value != NULL;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bytes = value;
        bytes->data = (uint8_t *)strdup("seed");
        bytes->len = bytes->data ? 4 : 0;
        return bytes->data != NULL;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *nested = field->descriptor;
        if (depth >= 4) {
            *(ProtobufCMessage **)value = NULL;
            return true;
        }
        ProtobufCMessage *message = calloc(1, nested->sizeof_message);
        if (!message)
            return false;
        protobuf_c_message_init(nested, message);
        *(ProtobufCMessage **)value = message;
        for (unsigned i = 0; i < nested->n_fields; i++) {
            const ProtobufCFieldDescriptor *inner = &nested->fields[i];
            bool ok = true;
            if (inner->label == PROTOBUF_C_LABEL_REPEATED) {
                void *array = calloc(1, s_element_size(inner->type));
                if (!array)
                    return false;
                *(void **)((char *)message + inner->offset) = array;
                *(size_t *)((char *)message + inner->quantifier_offset) = 1;
                ok = s_fill_value(inner, array, depth + 1);
            } else if (inner->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                uint32_t *choice = (uint32_t *)((char *)message + inner->quantifier_offset);
                if (*choice == 0) {
                    *choice = inner->id;
                    ok = s_fill_value(inner, (char *)message + inner->offset, depth + 1);
                }
            } else {
                if (inner->label == PROTOBUF_C_LABEL_OPTIONAL &&
                    inner->type != PROTOBUF_C_TYPE_STRING && inner->type != PROTOBUF_C_TYPE_MESSAGE)
                    *(protobuf_c_boolean *)((char *)message + inner->quantifier_offset) = 1;
                ok = s_fill_value(inner, (char *)message + inner->offset, depth + 1);
            }
            if (!ok)
                return false;
        }
        /* A partner reference names its partner by id or by slug, never
           both (refused as INVALID_ARGUMENT): the slug is kept. */
        if (strcmp(nested->name, "dp.PartnerRef") == 0) {
            const ProtobufCFieldDescriptor *id =
                protobuf_c_message_descriptor_get_field_by_name(nested, "id");
            if (id)
                memset((char *)message + id->offset, 0, s_element_size(id->type));
        }
        return true;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        /* The second named value past 0 where there is one (COMPANY and
           ASSOCIATION are both fine, but a transition to RECEIVED is not). */
        const ProtobufCEnumDescriptor *values = field->descriptor;
        unsigned pick = values->n_values > 2 ? 2 : values->n_values - 1;
        *(int32_t *)value = values->values[pick].value;
        return true;
    }
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)value = 1;
        return true;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)value = 1;
        return true;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)value = 1;
        return true;
    default: /* integers: 1 is a valid id, page size, limit, seq and version */
        memset(value, 0, s_element_size(field->type));
        *(uint8_t *)value = 1; /* little-endian: the value 1 at any width */
        return true;
    }
}

ProtobufCMessage *fuzz_message_fill(const ProtobufCMessageDescriptor *type)
{
    /* A pseudo-field lets the top level share the nested case. */
    ProtobufCFieldDescriptor top = {
        .name = "", .type = PROTOBUF_C_TYPE_MESSAGE, .descriptor = type};
    ProtobufCMessage *message = NULL;
    if (!s_fill_value(&top, &message, 0)) {
        if (message)
            protobuf_c_message_free_unpacked(message, NULL);
        return NULL;
    }
    return message;
}

unsigned char *fuzz_envelope_pack(const char *request_id, const char *type,
                                  const ProtobufCMessage *body, size_t *size_out)
{
    size_t body_size = 0;
    unsigned char *packed_body = body ? dp_message_pack(body, &body_size) : NULL;
    if (body && !packed_body)
        return NULL;
    Dp__Request envelope = DP__REQUEST__INIT;
    envelope.request_id = (char *)request_id;
    envelope.type = (char *)type;
    envelope.body.data = packed_body;
    envelope.body.len = body_size;
    unsigned char *packed = dp_message_pack(&envelope.base, size_out);
    free(packed_body);
    return packed;
}

zmsg_t *fuzz_frames(const uint8_t *data, size_t size)
{
    zmsg_t *frames = zmsg_new();
    FUZZ_ASSERT(frames, "out of memory");
    int framing = size ? data[0] % FUZZ_FRAMING_COUNT : 0;
    const uint8_t *envelope = size ? data + 1 : data;
    size_t envelope_size = size ? size - 1 : 0;
    if (framing == 6)
        zmsg_addmem(frames, "x", 1);
    else if (framing != 5)
        zmsg_addmem(frames, NULL, 0);
    zmsg_addmem(frames, envelope, envelope_size);
    if (framing == 7)
        zmsg_addmem(frames, NULL, 0);
    return frames;
}

/* ---- services --------------------------------------------------------------------------- */

struct _fuzz_service_t {
    dp_config_t *settings; /* the service's settings table, as set below */
    int closed_port;       /* a bound socket that never listens: connections are refused */
    registry_t *registry;  /* the service, made by its own x_new: one of these four */
    intake_t *intake;
    notify_t *notify;
    report_t *report;
    const dp_server_config_t *config; /* what dp_server_handle_frames takes, from the service */
};

/* Binds a loopback port without listening on it; returns the socket or -1. */
static int s_closed_port(int *port_out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port_out = ntohs(address.sin_port);
    return fd;
}

/* Each service made by its x_new from self->settings: the same state,
   connections, actors and route table as in production. */
static void s_registry_new(fuzz_service_t *self)
{
    self->registry = registry_new(self->settings);
    self->config = self->registry ? registry_server_config(self->registry) : NULL;
}

static void s_intake_new(fuzz_service_t *self)
{
    self->intake = intake_new(self->settings);
    self->config = self->intake ? intake_server_config(self->intake) : NULL;
}

static void s_notify_new(fuzz_service_t *self)
{
    self->notify = notify_new(self->settings);
    self->config = self->notify ? notify_server_config(self->notify) : NULL;
}

static void s_report_new(fuzz_service_t *self)
{
    self->report = report_new(self->settings);
    self->config = self->report ? report_server_config(self->report) : NULL;
}

/* What each service reads besides the database: nothing that could
   answer, and nothing served on a fixed port. Every service: no /metrics.
   The intake: a registry nobody binds (its partner actor asks in vain, at
   its backoff) and no event stream; notify: its PUB in this process;
   report: the dashboard on a free loopback port. */
static const char *const s_registry_settings[] = {NULL};
static const char *const s_intake_settings[] = {"DP_REGISTRY_ENDPOINT", "inproc://fuzz-registry",
                                                "DP_NOTIFY_PUB_ENDPOINT", "", NULL};
static const char *const s_notify_settings[] = {"DP_NOTIFY_PUB_ENDPOINT", "inproc://fuzz-events",
                                                NULL};
static const char *const s_report_settings[] = {"DP_REPORT_HTTP_PORT", "0", NULL};

static const struct {
    const char *name;                   /* the service */
    const dp_setting_t *settings;       /* its settings table */
    const size_t *setting_count;        /* rows in it */
    const char *const *own;             /* "NAME", "value" pairs for it alone */
    void (*make)(fuzz_service_t *self); /* its x_new */
} s_services[] = {
    {"registry", registry_settings, &registry_setting_count, s_registry_settings, s_registry_new},
    {"intake", intake_settings, &intake_setting_count, s_intake_settings, s_intake_new},
    {"notify", notify_settings, &notify_setting_count, s_notify_settings, s_notify_new},
    {"report", report_settings, &report_setting_count, s_report_settings, s_report_new},
};

/* Sets the pairs of `settings` ("NAME", "value", ..., NULL); -1 at the
   first refused. */
static int s_set_all(dp_config_t *config, const char *const *settings)
{
    for (const char *const *pair = settings; *pair; pair += 2)
        if (dp_config_set(config, pair[0], pair[1]) != 0)
            return -1;
    return 0;
}

fuzz_service_t *fuzz_service_new(const char *service)
{
    size_t which = 0;
    while (which < sizeof s_services / sizeof *s_services &&
           strcmp(s_services[which].name, service) != 0)
        which++;
    if (which == sizeof s_services / sizeof *s_services)
        return NULL;
    fuzz_service_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    /* libFuzzer keeps SIGINT and the other signals: czmq must not take them
       when a service's actors bring it up. */
    zsys_handler_set(NULL);
    int port = 0;
    self->closed_port = s_closed_port(&port);
    self->settings = dp_config_new(service, "fuzz", s_services[which].settings,
                                   *s_services[which].setting_count);
    /* No TLS and no GSSAPI: nothing to try before the refused connect. */
    char conninfo[256];
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%d dbname=fuzz user=fuzz sslmode=disable gssencmode=disable "
             "connect_timeout=1",
             port);
    char max_message[24], max_body[24];
    snprintf(max_message, sizeof max_message, "%d", FUZZ_MAX_MESSAGE_BYTES);
    snprintf(max_body, sizeof max_body, "%d", FUZZ_MAX_BODY_BYTES);
    const char *const common[] = {"DP_DATABASE_URL",
                                  conninfo,
                                  "DP_MAX_MESSAGE_BYTES",
                                  max_message,
                                  "DP_METRICS_PORT",
                                  "-1",
                                  NULL};
    if (self->closed_port < 0 || !self->settings || s_set_all(self->settings, common) != 0 ||
        s_set_all(self->settings, s_services[which].own) != 0 ||
        (strcmp(service, "intake") == 0 &&
         dp_config_set(self->settings, "DP_INTAKE_MAX_BODY_BYTES", max_body) != 0)) {
        fuzz_service_destroy(&self);
        return NULL;
    }
    s_services[which].make(self);
    if (!self->config)
        fuzz_service_destroy(&self);
    return self;
}

void fuzz_service_destroy(fuzz_service_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fuzz_service_t *self = *self_p;
    registry_destroy(&self->registry);
    intake_destroy(&self->intake);
    notify_destroy(&self->notify);
    report_destroy(&self->report);
    dp_config_destroy(&self->settings);
    if (self->closed_port >= 0)
        close(self->closed_port);
    free(self);
    *self_p = NULL;
}

const dp_server_config_t *fuzz_service_config(const fuzz_service_t *self)
{
    return self->config;
}

/* ---- replies ------------------------------------------------------------------------------ */

size_t fuzz_utf8_next(const char *text, uint32_t *point_out)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t extra = *p < 0x80   ? 0
                   : *p < 0xc2 ? 9
                   : *p < 0xe0 ? 1
                   : *p < 0xf0 ? 2
                   : *p < 0xf5 ? 3
                               : 9;
    if (extra == 9)
        return 0;
    uint32_t point = extra ? *p & (0x3fu >> extra) : *p;
    for (size_t i = 1; i <= extra; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        point = point << 6 | (p[i] & 0x3f);
    }
    if ((extra == 2 && (point < 0x800 || (point >= 0xd800 && point <= 0xdfff))) ||
        (extra == 3 && (point < 0x10000 || point > 0x10ffff)))
        return 0;
    *point_out = point;
    return extra + 1;
}

static bool s_utf8(const char *text)
{
    uint32_t point;
    for (size_t length; *text; text += length)
        if (!(length = fuzz_utf8_next(text, &point)))
            return false;
    return true;
}

/* The request's envelope when the frames carry one where the server reads it. */
static Dp__Request *s_request_envelope(zmsg_t *request)
{
    if (zmsg_size(request) != 2)
        return NULL;
    zframe_t *frame = zmsg_last(request);
    return (Dp__Request *)dp_message_decode(&dp__request__descriptor, zframe_data(frame),
                                            zframe_size(frame), FUZZ_MEMORY_BUDGET * 4);
}

Dp__Reply *fuzz_check_reply(zmsg_t *request, zmsg_t *reply)
{
    FUZZ_ASSERT(reply, "no reply");
    FUZZ_ASSERT(zmsg_size(reply) == 2, "a reply of %zu frames", zmsg_size(reply));
    FUZZ_ASSERT(zframe_size(zmsg_first(reply)) == 0, "the reply's delimiter is not empty");
    zframe_t *frame = zmsg_next(reply);
    Dp__Reply *answer = (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                                       zframe_size(frame), FUZZ_MEMORY_BUDGET * 4);
    FUZZ_ASSERT(answer && answer->status, "the reply is not a dp.Reply with a status");
    const Dp__Status *status = answer->status;
    Dp__Code code = status->code;
    const char *name = dp_code_name(code);
    FUZZ_ASSERT(s_utf8(status->message) && s_utf8(status->field) && s_utf8(answer->request_id),
                "%s: the reply carries text that is not UTF-8: '%s'", name, status->message);
    /* Nothing a client sent comes back as a control character (a line
       break or a terminal escape in a message that ends up in a log or on
       a screen). UNAVAILABLE carries libpq's own text, line breaks and
       all, and nothing of the request. */
    for (const char *p = status->message; code != DP__CODE__CODE_UNAVAILABLE && *p; p++)
        FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f,
                    "%s: the reply's message holds the control character 0x%02x", name,
                    (unsigned char)*p);
    switch (code) {
    case DP__CODE__CODE_OK:
        FUZZ_ASSERT(strcmp(answer->type, dp__health_reply__descriptor.name) == 0,
                    "OK without a database, as %s", answer->type);
        break;
    case DP__CODE__CODE_INVALID_ARGUMENT:
    case DP__CODE__CODE_UNIMPLEMENTED:
    case DP__CODE__CODE_RESOURCE_EXHAUSTED:
    case DP__CODE__CODE_UNAVAILABLE:
        FUZZ_ASSERT(*status->message, "%s without a message", name);
        FUZZ_ASSERT(!*answer->type && answer->body.len == 0, "%s with a body of type '%s'", name,
                    answer->type);
        break;
    default:
        FUZZ_ASSERT(false, "status %s (field '%s'): %s", name, status->field, status->message);
    }
    /* The id is echoed once the envelope decoded and the id was acceptable,
       which it must have been for a handler to run. */
    Dp__Request *envelope = s_request_envelope(request);
    bool handled = code == DP__CODE__CODE_OK || code == DP__CODE__CODE_UNAVAILABLE;
    FUZZ_ASSERT(!handled || envelope, "%s for a request whose envelope does not decode", name);
    if (envelope)
        FUZZ_ASSERT(!*answer->request_id || strcmp(answer->request_id, envelope->request_id) == 0,
                    "request_id '%s' echoed as '%s'", envelope->request_id, answer->request_id);
    if (handled)
        FUZZ_ASSERT(strcmp(answer->request_id, envelope->request_id) == 0,
                    "%s without the request_id '%s'", name, envelope->request_id);
    dp_message_free((ProtobufCMessage **)&envelope);
    return answer;
}
