/* Writes the seed corpus of every fuzz target under DIR/<target>/, made
   from the message descriptors and route tables of this build, so that the
   seeds follow the .proto files. The build runs it (see CMakeLists.txt):
     fuzz_seeds DIR
   Each seed is a valid input of its target, or a known awkward one, and
   the cases that fuzzing once found are kept here as regression seeds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dp_events.h"
#include "fuzz_support.h"
#include "notify.pb-c.h"

static const char *s_root;
static int s_failures;

/* Writes DIR/<target>/<name>: an optional first byte, then the bytes. */
static void s_seed(const char *target, const char *name, int first, const void *data, size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_seeds: cannot make %s: %s\n", path, strerror(errno));
        s_failures++;
        return;
    }
    snprintf(path, sizeof path, "%s/%s/%s", s_root, target, name);
    FILE *file = fopen(path, "wb");
    bool ok = file != NULL;
    if (ok && first >= 0)
        ok = fputc(first, file) != EOF;
    if (ok && size)
        ok = fwrite(data, 1, size, file) == size;
    if (file && fclose(file) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        s_failures++;
    }
}

static void s_text_seed(const char *target, const char *name, int first, const char *text)
{
    s_seed(target, name, first, text, strlen(text));
}

static void s_message_seed(const char *target, const char *name, int first,
                           const ProtobufCMessage *message)
{
    size_t size = 0;
    unsigned char *packed = message ? dp_message_pack(message, &size) : NULL;
    if (message && !packed) {
        s_failures++;
        return;
    }
    s_seed(target, name, first, packed, size);
    free(packed);
}

/* ---- decoders ------------------------------------------------------------------ */

/* Replaces every singular string field of a filled message, and of its
   singular nested messages, with `value` (the message owns its strings:
   fuzz_message_fill strdup'd them). */
static void s_spoil_text(ProtobufCMessage *message, const char *value)
{
    const ProtobufCMessageDescriptor *type = message->descriptor;
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        if (field->label == PROTOBUF_C_LABEL_REPEATED ||
            (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
            ProtobufCMessage *nested = *(ProtobufCMessage **)((char *)message + field->offset);
            if (nested)
                s_spoil_text(nested, value);
            continue;
        }
        if (field->type != PROTOBUF_C_TYPE_STRING)
            continue;
        char **member = (char **)((char *)message + field->offset);
        char *copy = strdup(value);
        if (!copy)
            continue;
        if (*member != protobuf_c_empty_string)
            free(*member);
        *member = copy;
    }
}

/* The first nested dp.PartnerRef of a filled message, or NULL. */
static ProtobufCMessage *s_partner_ref(ProtobufCMessage *message)
{
    const ProtobufCMessageDescriptor *type = message->descriptor;
    for (unsigned i = 0; i < type->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &type->fields[i];
        if (field->type == PROTOBUF_C_TYPE_MESSAGE && field->label != PROTOBUF_C_LABEL_REPEATED &&
            strcmp(((const ProtobufCMessageDescriptor *)field->descriptor)->name,
                   "dp.PartnerRef") == 0)
            return *(ProtobufCMessage **)((char *)message + field->offset);
    }
    return NULL;
}

static void s_decode_seeds(const char *set)
{
    char target[64], name[160];
    snprintf(target, sizeof target, "decode_%s", set);
    fuzz_types_t types;
    if (fuzz_types_get(set, &types) != 0) {
        s_failures++;
        return;
    }
    for (size_t i = 0; i < types.count; i++) {
        ProtobufCMessage *filled = fuzz_message_fill(types.types[i]);
        snprintf(name, sizeof name, "%02zu-%s-filled", i, types.types[i]->name);
        s_message_seed(target, name, (int)i, filled);
        snprintf(name, sizeof name, "%02zu-%s-empty", i, types.types[i]->name);
        s_seed(target, name, (int)i, NULL, 0);
        if (filled) {
            /* Text that is not UTF-8: the decoder refuses it. */
            s_spoil_text(filled, "caf\xc3\x28");
            snprintf(name, sizeof name, "%02zu-%s-not-utf8", i, types.types[i]->name);
            s_message_seed(target, name, (int)i, filled);
        }
        if (filled)
            protobuf_c_message_free_unpacked(filled, NULL);
        else
            s_failures++;
        /* Regression: field 0 in an overlong tag decoded, but its
           re-encoding did not (dp_codec.c now refuses it). */
        snprintf(name, sizeof name, "%02zu-regression-field-zero", i);
        s_seed(target, name, (int)i, "\x82\x00\x00", 3);
        /* An event of each event type, with its payload, as consumers get them. */
        for (size_t e = 0; types.types[i] == &dp__event__descriptor && e < fuzz_event_type_count;
             e++) {
            const ProtobufCMessageDescriptor *payload_type =
                dp_event_payload_type(fuzz_event_types[e]);
            ProtobufCMessage *payload = payload_type ? fuzz_message_fill(payload_type) : NULL;
            size_t size = 0;
            unsigned char *packed = payload ? dp_message_pack(payload, &size) : NULL;
            if (packed) {
                Dp__Event event = DP__EVENT__INIT;
                event.seq = 1;
                event.type = (char *)fuzz_event_types[e];
                event.aggregate_type = "partner";
                event.aggregate_id = "1";
                event.occurred_at = "2026-11-28T16:30:00Z";
                event.payload.data = packed;
                event.payload.len = size;
                event.origin = "registry";
                snprintf(name, sizeof name, "%02zu-event-%s", i, fuzz_event_types[e]);
                s_message_seed(target, name, (int)i, &event.base);
            }
            free(packed);
            if (payload)
                protobuf_c_message_free_unpacked(payload, NULL);
        }
    }
}

/* ---- handlers -------------------------------------------------------------------- */

static void s_envelope_seed(const char *target, const char *name, int framing, const char *id,
                            const char *type, const ProtobufCMessage *body)
{
    size_t size = 0;
    unsigned char *packed = fuzz_envelope_pack(id, type, body, &size);
    if (!packed) {
        s_failures++;
        return;
    }
    s_seed(target, name, framing, packed, size);
    free(packed);
}

static void s_handle_seeds(const char *service)
{
    char target[64], name[160];
    snprintf(target, sizeof target, "handle_%s", service);
    fuzz_types_t types;
    if (fuzz_types_get(service, &types) != 0) {
        s_failures++;
        return;
    }
    int standard = FUZZ_FRAMING_STANDARD;
    for (size_t i = 0; i < types.count; i++) {
        const char *type = types.types[i]->name;
        ProtobufCMessage *filled = fuzz_message_fill(types.types[i]);
        if (!filled) {
            s_failures++;
            continue;
        }
        /* Valid by the field names' values: it gets past validation to the
           database; empty: every check meets its defaults. */
        snprintf(name, sizeof name, "%s-valid", type);
        s_envelope_seed(target, name, standard, "seed-valid", type, filled);
        snprintf(name, sizeof name, "%s-empty", type);
        s_envelope_seed(target, name, standard, "seed-empty", type, NULL);
        /* At the door: a reference with both an id and a slug; then text
           with control characters (never echoed); then text that is not
           UTF-8 (INVALID_ARGUMENT naming the field). */
        ProtobufCMessage *ref = s_partner_ref(filled);
        const ProtobufCFieldDescriptor *id =
            ref ? protobuf_c_message_descriptor_get_field_by_name(ref->descriptor, "id") : NULL;
        if (id) {
            *(int64_t *)((char *)ref + id->offset) = 1;
            snprintf(name, sizeof name, "%s-partner-id-and-slug", type);
            s_envelope_seed(target, name, standard, "seed-both", type, filled);
            *(int64_t *)((char *)ref + id->offset) = 0;
        }
        s_spoil_text(filled, "fuzz\x1b[2J\r\naudit: forged\x7f");
        if (ref)
            s_spoil_text(ref, "no-such\x1b[31m\n");
        snprintf(name, sizeof name, "%s-control-characters", type);
        s_envelope_seed(target, name, standard, "seed-control", type, filled);
        s_spoil_text(filled, "caf\xc3\x28 \xed\xa0\x80 \xc0\xaf");
        if (ref)
            s_spoil_text(ref, "caf\xc3\x28");
        snprintf(name, sizeof name, "%s-text-not-utf8", type);
        s_envelope_seed(target, name, standard, "seed-not-utf8", type, filled);
        if (i == 0) {
            s_envelope_seed(target, "framing-envelope-alone", 5, "seed", type, filled);
            s_envelope_seed(target, "framing-delimiter-not-empty", 6, "seed", type, filled);
            s_envelope_seed(target, "framing-extra-frame", 7, "seed", type, filled);
            s_envelope_seed(target, "envelope-bad-request-id", standard, "seed\x01", type, filled);
            s_envelope_seed(target, "envelope-unknown-type", standard, "seed", "dp.NoSuchRequest",
                            filled);
            s_envelope_seed(target, "envelope-no-type", standard, "seed", "", filled);
            Dp__Request envelope = DP__REQUEST__INIT;
            envelope.request_id = "seed";
            envelope.type = (char *)type;
            envelope.body.data = (uint8_t *)"\xff\xff\xff\xff";
            envelope.body.len = 4;
            s_message_seed(target, "envelope-body-does-not-decode", standard, &envelope.base);
            /* Past max_message_bytes: RESOURCE_EXHAUSTED. */
            unsigned char *large = calloc(1, FUZZ_MAX_MESSAGE_BYTES + 16);
            if (large) {
                envelope.body.data = large;
                envelope.body.len = FUZZ_MAX_MESSAGE_BYTES + 16;
                s_message_seed(target, "envelope-too-large", standard, &envelope.base);
                free(large);
            }
            s_text_seed(target, "envelope-does-not-decode", standard, "\xff\xff\xff");
            envelope.body.data = (uint8_t *)"\x82\x00\x00";
            envelope.body.len = 3;
            s_message_seed(target, "regression-body-field-zero", standard, &envelope.base);
        }
        protobuf_c_message_free_unpacked(filled, NULL);
    }
}

/* ---- text checks ------------------------------------------------------------------- */

static void s_validate_seeds(void)
{
    /* The order of fuzz_validate.c's table: text, required text, date,
       slug, domain, email, URL. */
    static const char *samples[][6] = {
        {"Grüße, 世界 \t\r\n", "\xc2\x85", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf", ""},
        {" x ", " \t", "é", "", "\x7f", "a"},
        {"2024-02-29", "2023-02-29", "1900-01-01", "2999-12-31", "3000-01-01", "2024-1-01"},
        {"fuzz-seed", "-a", "a-", "a--b", "UPPER", "a"},
        {"example.org", "a.b", "-a.org", "a-.org", "xn--bcher-kva.example", "a..b"},
        {"ana@example.org", "a.b@Example.ORG", ".a@example.org", "a..b@example.org", "a@b@c.org",
         "\"a\"@example.org"},
        {"https://example.org/", "http://x", "http://", "https:///path", "ftp://example.org",
         "https://example.org/a b"}};
    char name[64];
    for (size_t check = 0; check < sizeof samples / sizeof *samples; check++)
        for (size_t i = 0; i < 6; i++) {
            unsigned char input[512];
            size_t length = strlen(samples[check][i]);
            input[0] = (unsigned char)check;
            input[1] = 100;
            memcpy(input + 2, samples[check][i], length);
            snprintf(name, sizeof name, "check%zu-sample%zu", check, i);
            s_seed("validate", name, -1, input, length + 2);
        }
}

/* Separates the fields of a submission in an intake_subject input. */
#define SEP "\x1f"

static void s_intake_seeds(void)
{
    static const char *subjects[] = {
        "Re: Fw: Hello  World", "AW:  tr:wg: Partnership\tenquiry ",
        "RE:RE:", "Grüße aus Straßburg",
        /* Regression: its key, "fw: folded", had a key of its own. */
        "re:\vfw: folded",
        /* The fields of a submission, for the content hash; 0x1f between them. */
        "example" SEP "key" SEP "name" SEP "ana@Example.org" SEP SEP "FR" SEP "kind" SEP
        "Subject" SEP "Body" SEP "en" SEP "2026-11-28T16:30:00Z" SEP SEP "area"};
    char name[64];
    for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++) {
        snprintf(name, sizeof name, "subject%zu", i);
        s_text_seed("intake_subject", name, -1, subjects[i]);
    }
    static const char *timestamps[] = {
        "2026-11-28T16:30:00Z", "2026-11-28t16:30:00.123456z", "2026-11-28 16:30:00+01:00",
        "2026-11-28T23:59:60-15:59", "2026-11-28T24:00:00Z", "2026-02-30T16:30:00Z",
        "2026-11-28T16:30:00+16:00", "2026-11-28T16:30:00.Z",
        /* Regressions: sscanf's %2d took a sign, a space or one digit. */
        "2052-11-28 16:30:00+01:0:", "2026-11-28T16:30:0Z+01:00", "2026-11-28T16:-1:00Z",
        "2026-11-28T16:30:00+-1:00", "2026-11-28T16: 5:00Z"};
    for (size_t i = 0; i < sizeof timestamps / sizeof *timestamps; i++) {
        snprintf(name, sizeof name, "timestamp%zu", i);
        s_text_seed("intake_timestamp", name, -1, timestamps[i]);
    }
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    s_root = argv[1];
    if (mkdir(s_root, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_seeds: cannot make %s: %s\n", s_root, strerror(errno));
        return 1;
    }
    static const char *sets[] = {"registry", "intake", "notify", "report", "envelope", "events"};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        s_decode_seeds(sets[i]);
    for (size_t i = 0; i < 4; i++)
        s_handle_seeds(sets[i]);
    s_validate_seeds();
    s_intake_seeds();
    return s_failures ? 1 : 0;
}
