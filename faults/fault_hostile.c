/* dp-fault-hostile: mixes DP_FAULT_HOSTILE malformed or hostile messages
   into DP_FAULT_VALID valid enquiry submissions sent to one intake. The
   valid ones go through the retrying submitter (fault_load.h) on sockets
   of their own; the hostile ones go out on other sockets, built byte by
   byte on the wire (so they can hold what protobuf-c would never write):
   random bytes, wrong frame counts, truncated envelopes and bodies, frames
   over the size limit and over the limit at which ZeroMQ drops the peer,
   unknown types, bodies of another type, invalid UTF-8, control
   characters, embedded NUL bytes, invalid request ids, huge repeated and
   unknown fields, field values the contract refuses, a valid key reused
   with other content, broken protobuf encodings, and envelopes whose own
   text (type, on_behalf_of) is not UTF-8. With DP_FAULT_REGISTRY_ENDPOINT
   some go to the registry instead: a partner reference with both an id
   and a slug, a slug that is not UTF-8, a slug with control characters.

   Every hostile submission has source "hostile" and a key "h-...", or (key
   reuse) a valid key with the subject "HOSTILE OVERWRITE", so the suite can
   count what was stored. No hostile message may be answered OK. Prints one
   line of key=value pairs: the valid traffic's counts, then hostile_sent,
   hostile_replies, hostile_ok (must be 0), hostile_echoed (replies whose
   message holds a control character: must be 0; UNAVAILABLE carries
   libpq's own text and is not counted) and the replies per status code;
   lines "hostile_ok_category=..." name the categories answered OK. Exit
   status 0 when every valid submission was acknowledged on its first
   attempt and no hostile message was answered OK or echoed a control
   character. */
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dp_codec.h"
#include "dp_config.h"
#include "fault_common.h"
#include "fault_load.h"

static const dp_setting_t s_settings[] = {
    {"DP_FAULT_ENDPOINT", "tcp://127.0.0.1:7602", "the intake's endpoint"},
    {"DP_FAULT_TAG", "v", "prefix of the valid submissions' keys (source faults)"},
    {"DP_FAULT_VALID", "2000", "valid submissions", true, 1, 100000000},
    {"DP_FAULT_HOSTILE", "2000", "hostile messages", true, 0, 100000000},
    {"DP_FAULT_SEED", "1", "seed of the random choices", true, 0, 2147483647},
    {"DP_FAULT_MAX_MESSAGE_BYTES", "1048576", "the intake's DP_MAX_MESSAGE_BYTES", true, 1024,
     67108864},
    {"DP_FAULT_ATTEMPT_MS", "5000", "valid submissions unanswered this long are resent", true, 100,
     600000},
    {"DP_FAULT_DEADLINE_MS", "300000", "give up after this long", true, 1000, 86400000},
    {"DP_FAULT_ACK_FILE", "", "acknowledgements of the valid submissions"},
    {"DP_FAULT_REGISTRY_ENDPOINT", "",
     "the registry's endpoint, for the registry's categories (empty: intake only)"},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

/* ---- the wire, byte by byte ----------------------------------------------------------- */

typedef struct {
    unsigned char *data; /* malloc'd */
    size_t size;         /* bytes written */
    size_t capacity;     /* bytes allocated */
    bool failed;         /* out of memory: the content is incomplete */
} wire_t;

static void w_raw(wire_t *w, const void *bytes, size_t size)
{
    if (w->failed)
        return;
    if (w->size + size > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 256;
        while (capacity < w->size + size)
            capacity *= 2;
        unsigned char *data = realloc(w->data, capacity);
        if (!data) {
            w->failed = true;
            return;
        }
        w->data = data;
        w->capacity = capacity;
    }
    if (size)
        memcpy(w->data + w->size, bytes, size);
    w->size += size;
}

static void w_varint(wire_t *w, uint64_t value)
{
    unsigned char bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (unsigned char)(value & 0x7f);
        value >>= 7;
        if (value)
            bytes[n] |= 0x80;
        n++;
    } while (value);
    w_raw(w, bytes, n);
}

static void w_tag(wire_t *w, uint32_t field, int wire_type)
{
    w_varint(w, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

static void w_bytes(wire_t *w, uint32_t field, const void *bytes, size_t size)
{
    w_tag(w, field, 2);
    w_varint(w, size);
    w_raw(w, bytes, size);
}

static void w_free(wire_t *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

/* ---- hostile submissions ------------------------------------------------------------------ */

enum { FIELD_COUNT = 13 }; /* dp.EnquirySubmission's fields 1..13 */

/* A submission as wire fields: field i+1 holds text[i] (length size[i]) or
   is absent when text[i] is NULL; `extra` is appended raw. */
typedef struct {
    const char *text[FIELD_COUNT]; /* values, borrowed */
    size_t size[FIELD_COUNT];      /* their lengths (may include NUL bytes) */
    char key[64];                  /* "h-<category>-<n>" */
    char email[96];                /* unique per message */
    char received_at[32];          /* now */
    wire_t extra;                  /* appended after the fields */
} hostile_t;

static void s_set(hostile_t *h, int field, const char *text, size_t size)
{
    h->text[field - 1] = text;
    h->size[field - 1] = size;
}

static void s_set_text(hostile_t *h, int field, const char *text)
{
    s_set(h, field, text, strlen(text));
}

/* A submission that would be stored if nothing were wrong with it. */
static void s_hostile_init(hostile_t *h, const char *category, uint64_t n)
{
    memset(h, 0, sizeof *h);
    snprintf(h->key, sizeof h->key, "h-%s-%" PRIu64, category, n);
    snprintf(h->email, sizeof h->email, "hostile.%" PRIu64 "@example.org", n);
    fault_now_rfc3339(h->received_at);
    s_set_text(h, 1, "hostile");
    s_set_text(h, 2, h->key);
    s_set_text(h, 3, "Mallory Hostile");
    s_set_text(h, 4, h->email);
    s_set_text(h, 5, "");
    s_set_text(h, 6, "FR");
    s_set_text(h, 7, "information-request");
    s_set_text(h, 8, "A question about data protection");
    s_set_text(h, 9, "Dear Sir or Madam, is there a training? Kind regards.");
    s_set_text(h, 10, "en");
    s_set_text(h, 12, h->received_at);
}

/* The dp.SubmitEnquiryRequest bytes of a hostile submission. */
static void s_hostile_body(hostile_t *h, wire_t *body)
{
    wire_t fields = {0};
    for (int i = 0; i < FIELD_COUNT; i++)
        if (h->text[i])
            w_bytes(&fields, (uint32_t)(i + 1), h->text[i], h->size[i]);
    w_raw(&fields, h->extra.data, h->extra.size);
    w_bytes(body, 1, fields.data, fields.size);
    body->failed = body->failed || fields.failed || h->extra.failed;
    w_free(&fields);
    w_free(&h->extra);
}

static void s_envelope(wire_t *out, const char *request_id, size_t request_id_size,
                       const char *type, const wire_t *body)
{
    w_bytes(out, 1, request_id, request_id_size);
    w_bytes(out, 2, type, strlen(type));
    w_bytes(out, 3, body->data, body->size);
    out->failed = out->failed || body->failed;
}

/* ---- the categories ----------------------------------------------------------------------- */

typedef enum {
    C_RANDOM_BYTES,
    C_RANDOM_FRAMES,
    C_NO_DELIMITER,
    C_EXTRA_FRAMES,
    C_NONEMPTY_DELIMITER,
    C_TRUNCATED_ENVELOPE,
    C_TRUNCATED_BODY,
    C_OVERSIZED,
    C_OVERSIZED_DROP,
    C_UNKNOWN_TYPE,
    C_WRONG_BODY,
    C_INVALID_UTF8,
    C_CONTROL_CHARS,
    C_NUL_IN_TEXT,
    C_BAD_REQUEST_ID,
    C_HUGE_REPEATED,
    C_BAD_VALUES,
    C_KEY_REUSE,
    C_BROKEN_PROTOBUF,
    C_ENVELOPE_TEXT,
    C_REGISTRY_ID_AND_SLUG,
    C_REGISTRY_BAD_UTF8,
    C_REGISTRY_CONTROLS,
    CATEGORY_COUNT
} category_t;

static const char *s_category_names[CATEGORY_COUNT] = {
    "random_bytes",         "random_frames",      "no_delimiter",     "extra_frames",
    "nonempty_delim",       "truncated_envelope", "truncated_body",   "oversized",
    "oversized_drop",       "unknown_type",       "wrong_body",       "invalid_utf8",
    "control_chars",        "nul_in_text",        "bad_request_id",   "huge_repeated",
    "bad_values",           "key_reuse",          "broken_protobuf",  "envelope_text",
    "registry_id_and_slug", "registry_bad_utf8",  "registry_controls"};

/* How often each category is picked, relative; a frame past ZeroMQ's limit
   costs megabytes, so it is rare. */
static const int s_weights[CATEGORY_COUNT] = {10, 6, 5, 5, 4,  8, 8, 2, 1, 8, 8, 10,
                                              6,  6, 5, 3, 10, 5, 8, 5, 4, 4, 4};

static const char *const s_bad_utf8[] = {
    "\xff",         "abc\xfe",      "\xc0\x80",         "\xc1\xbf",         "\xe0\x80\x80",
    "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80",
    "\x80",         "x\xbfy",       "\xe2\x82",         "caf\xc3",          "\xc3\x28"};
static const char *const s_control[] = {"\x01",
                                        "a\x1b[31mred",
                                        "\x7f",
                                        "\xc2\x85",
                                        "\xc2\x9f",
                                        "line\x0b"
                                        "feed",
                                        "back\x08"};

typedef struct {
    zmsg_t *message;      /* the frames to send */
    bool drop_connection; /* too large for ZeroMQ: sent on a throwaway socket */
    bool to_registry;     /* one of the registry's categories */
    char request_id[64];  /* as written, when the envelope carries one */
} outgoing_t;

typedef struct {
    uint64_t random;               /* generator state */
    size_t max_message_bytes;      /* the intake's limit */
    fault_load_t *valid;           /* for key reuse */
    const char *valid_tag;         /* the valid submissions' tag */
    uint64_t sent[CATEGORY_COUNT]; /* per category */
    uint64_t ok[CATEGORY_COUNT];   /* answered OK, per category: must stay 0 */
} hostile_state_t;

/* The bad values of C_BAD_VALUES, one a request: a field of the
   submission and the value the service must refuse. */
typedef struct {
    int field;        /* the submission's field; 0: an area the registry does not know */
    const char *text; /* the value; NULL: `size` bytes of a long text */
    size_t size;      /* the long text's length, for a NULL text */
} bad_value_t;

static const bad_value_t s_bad_values[] = {
    {7, "no-such-kind", 0}, /* fails the batch in PostgreSQL */
    {4, "not-an-address", 0},
    {1, "Hostile Source", 0},
    {2, "", 0},
    {2, NULL, 129},
    {12, "2026-13-45T25:61:00Z", 0},
    {6, "fr", 0},
    {10, "x", 0},
    {8, NULL, 301},
    {9, NULL, 20001},
    {0, "no-such-area", 0},
    {3, "   ", 0},
    {12, "2026-01-01T00:00:00+99:00", 0},
};

static uint64_t s_pick(hostile_state_t *state, uint64_t bound)
{
    return bound ? fault_random(&state->random) % bound : 0;
}

static void s_random_fill(hostile_state_t *state, wire_t *w, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char byte = (unsigned char)fault_random(&state->random);
        w_raw(w, &byte, 1);
    }
}

static zmsg_t *s_two_frames(const wire_t *second)
{
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, NULL, 0);
    zmsg_addmem(message, second->data, second->size);
    return message;
}

/* A complete valid-looking envelope of a hostile submission. */
static void s_plain(hostile_state_t *state, outgoing_t *out, category_t category, uint64_t n,
                    wire_t *envelope)
{
    hostile_t h;
    s_hostile_init(&h, s_category_names[category], n);
    wire_t body = {0};
    s_hostile_body(&h, &body);
    snprintf(out->request_id, sizeof out->request_id, "h-%s-%" PRIu64, s_category_names[category],
             n);
    s_envelope(envelope, out->request_id, strlen(out->request_id), "dp.SubmitEnquiryRequest",
               &body);
    w_free(&body);
}

/* Makes hostile message n of `category`. */
static void s_make(hostile_state_t *state, category_t category, uint64_t n, outgoing_t *out)
{
    memset(out, 0, sizeof *out);
    const char *name = s_category_names[category];
    wire_t envelope = {0}, body = {0};
    hostile_t h;
    s_hostile_init(&h, name, n);
    snprintf(out->request_id, sizeof out->request_id, "h-%s-%" PRIu64, name, n);
    const char *type = "dp.SubmitEnquiryRequest";
    switch (category) {
    case C_RANDOM_BYTES:
        s_random_fill(state, &envelope, (size_t)s_pick(state, 4097));
        out->message = s_two_frames(&envelope);
        break;
    case C_RANDOM_FRAMES: {
        out->message = zmsg_new();
        int frames = 1 + (int)s_pick(state, 6);
        for (int f = 0; f < frames; f++) {
            wire_t frame = {0};
            s_random_fill(state, &frame, (size_t)s_pick(state, 513));
            zmsg_addmem(out->message, frame.data, frame.size);
            w_free(&frame);
        }
        break;
    }
    case C_NO_DELIMITER:
        s_plain(state, out, category, n, &envelope);
        out->message = zmsg_new();
        zmsg_addmem(out->message, envelope.data, envelope.size);
        break;
    case C_EXTRA_FRAMES:
        s_plain(state, out, category, n, &envelope);
        out->message = s_two_frames(&envelope);
        for (int f = 1 + (int)s_pick(state, 3); f > 0; f--)
            zmsg_addmem(out->message, envelope.data, envelope.size);
        break;
    case C_NONEMPTY_DELIMITER:
        s_plain(state, out, category, n, &envelope);
        out->message = zmsg_new();
        zmsg_addstr(out->message, "x");
        zmsg_addmem(out->message, envelope.data, envelope.size);
        break;
    case C_TRUNCATED_ENVELOPE:
        s_plain(state, out, category, n, &envelope);
        envelope.size = 1 + (size_t)s_pick(state, envelope.size - 1);
        out->message = s_two_frames(&envelope);
        break;
    case C_TRUNCATED_BODY: {
        s_hostile_body(&h, &body);
        body.size = (size_t)s_pick(state, body.size);
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_OVERSIZED:
    case C_OVERSIZED_DROP: {
        /* Past the limit the intake refuses it; past four times the limit
           ZeroMQ drops the connection before the intake sees it. */
        size_t size =
            category == C_OVERSIZED
                ? state->max_message_bytes + 1 + (size_t)s_pick(state, state->max_message_bytes * 2)
                : state->max_message_bytes * 4 + 8192 +
                      (size_t)s_pick(state, state->max_message_bytes);
        char *text = malloc(size);
        if (text) {
            memset(text, 'a', size);
            s_set(&h, 9, text, size);
        }
        s_hostile_body(&h, &body);
        free(text);
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        out->drop_connection = category == C_OVERSIZED_DROP;
        break;
    }
    case C_UNKNOWN_TYPE: {
        static const char *const types[] = {
            "dp.NoSuchRequest",
            "",
            "dp.SubmitEnquiryRequest ",
            "DP.SUBMITENQUIRYREQUEST",
            "dp.SubmitEnquiryReply",
            "dp.Event",
            "dp.Request",
            "submit",
            "dp.SubmitEnquiryRequest\xff",
            "\xc0\x80",
            "dp."
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
        s_hostile_body(&h, &body);
        s_envelope(&envelope, out->request_id, strlen(out->request_id),
                   types[s_pick(state, sizeof types / sizeof *types)], &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_WRONG_BODY: {
        /* The type says submission; the body is another message. */
        switch (s_pick(state, 6)) {
        case 0: /* dp.GetEnquiryRequest { id } */
            w_tag(&body, 1, 0);
            w_varint(&body, 1 + s_pick(state, 1000));
            break;
        case 1: { /* dp.Event with a payload */
            w_tag(&body, 1, 0);
            w_varint(&body, n);
            w_bytes(&body, 2, "enquiry.received", 16);
            w_bytes(&body, 6, "\x08\x01", 2);
            break;
        }
        case 2: { /* the envelope where the body belongs */
            wire_t inner = {0};
            s_plain(state, out, category, n, &inner);
            w_raw(&body, inner.data, inner.size);
            w_free(&inner);
            break;
        }
        case 3: /* the submission's fields without their wrapper */
            for (int i = 0; i < FIELD_COUNT; i++)
                if (h.text[i])
                    w_bytes(&body, (uint32_t)(i + 1), h.text[i], h.size[i]);
            break;
        case 4: /* dp.ListEnquiriesRequest { page_size, source } */
            w_tag(&body, 9, 0);
            w_varint(&body, 500);
            w_bytes(&body, 3, "hostile", 7);
            break;
        default: /* dp.Reply { request_id, status { code 0 }, body } */
            w_bytes(&body, 1, "x", 1);
            w_bytes(&body, 2, "", 0);
            w_bytes(&body, 3, "dp.SubmitEnquiryReply", 21);
            break;
        }
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_INVALID_UTF8:
    case C_CONTROL_CHARS: {
        /* One text field (source ... honeypot) holds the bad sequence. */
        static const int fields[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13};
        int field = fields[s_pick(state, sizeof fields / sizeof *fields)];
        const char *bad = category == C_INVALID_UTF8
                              ? s_bad_utf8[s_pick(state, sizeof s_bad_utf8 / sizeof *s_bad_utf8)]
                              : s_control[s_pick(state, sizeof s_control / sizeof *s_control)];
        char value[256];
        if (field == 2) /* keep the key recognisable */
            snprintf(value, sizeof value, "%s%s", h.key, bad);
        else
            snprintf(value, sizeof value, "Text %s here", bad);
        s_set_text(&h, field, value);
        s_hostile_body(&h, &body);
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_NUL_IN_TEXT: {
        /* A NUL byte is a control character (U+0000): the contract refuses
           control characters in text. Placed in the key, the name, the
           subject or the body, with text after it. */
        static const int fields[] = {2, 3, 8, 9};
        int field = fields[s_pick(state, sizeof fields / sizeof *fields)];
        char value[256];
        int length = snprintf(value, sizeof value, "%s", field == 2 ? h.key : "Text");
        value[length++] = 0;
        length += snprintf(value + length, sizeof value - (size_t)length, "after the NUL");
        s_set(&h, field, value, (size_t)length);
        s_hostile_body(&h, &body);
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_BAD_REQUEST_ID: {
        char id[300];
        size_t id_size;
        switch (s_pick(state, 4)) {
        case 0:
            memset(id, 'r', 129);
            id_size = 129;
            break;
        case 1:
            id_size = (size_t)snprintf(id, sizeof id, "h-bad-id-\xff\xfe");
            break;
        case 2:
            id_size = (size_t)snprintf(id, sizeof id, "h-bad-id-\x01\x02");
            break;
        default:
            memcpy(id, "h-bad-id\0tail", 13);
            id_size = 13;
            break;
        }
        s_hostile_body(&h, &body);
        s_envelope(&envelope, id, id_size, type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_HUGE_REPEATED: {
        /* Under the size limit, so that only the decoder's budget and the
           field checks stand in the way. */
        size_t budget = state->max_message_bytes - 4096;
        switch (s_pick(state, 4)) {
        case 0: /* areas: "ai" over and over */
            for (size_t i = 0; i + 4 < budget; i += 4)
                w_bytes(&h.extra, 11, "ai", 2);
            break;
        case 1: /* areas: empty strings, as many as fit (the pointer array alone is larger) */
            for (size_t i = 0; i + 2 < budget; i += 2)
                w_bytes(&h.extra, 11, "", 0);
            break;
        case 2: /* an unknown field, repeated */
            for (size_t i = 0; i + 3 < budget; i += 3) {
                w_tag(&h.extra, 99, 0);
                w_varint(&h.extra, 1);
            }
            break;
        default: /* eleven known-looking areas: one more than allowed */
            for (int i = 0; i < 11; i++)
                w_bytes(&h.extra, 11, "data-protection", 15);
            break;
        }
        s_hostile_body(&h, &body);
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_BAD_VALUES: {
        static char long_text[21000];
        if (!long_text[0])
            memset(long_text, 'b', sizeof long_text - 1);
        const bad_value_t *bad =
            &s_bad_values[s_pick(state, sizeof s_bad_values / sizeof s_bad_values[0])];
        if (!bad->field)
            w_bytes(&h.extra, 11, bad->text, strlen(bad->text));
        else if (!bad->text)
            s_set(&h, bad->field, long_text, bad->size);
        else
            s_set_text(&h, bad->field, bad->text);
        s_hostile_body(&h, &body);
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_KEY_REUSE: {
        /* A key the valid traffic had acknowledged, with other content (the
           caller picks this category only once there is one). */
        uint64_t number = fault_load_some_acked(state->valid, fault_random(&state->random));
        if (number) {
            fault_submission_t original;
            char now[32];
            fault_now_rfc3339(now);
            fault_submission_init(&original, "faults", state->valid_tag, number, now);
            original.submission.subject = "HOSTILE OVERWRITE";
            size_t size = 0;
            unsigned char *packed = dp_message_pack(&original.request.base, &size);
            if (packed)
                w_raw(&body, packed, size);
            free(packed);
        }
        s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &body);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_BROKEN_PROTOBUF:
    default: {
        wire_t broken = {0};
        switch (s_pick(state, 8)) {
        case 0: /* a length far past the end */
            w_tag(&broken, 1, 2);
            w_varint(&broken, UINT64_MAX >> 1);
            w_raw(&broken, "abc", 3);
            break;
        case 1: /* field number 0 */
            w_tag(&broken, 0, 0);
            w_varint(&broken, 1);
            break;
        case 2: /* wire types 6 and 7 do not exist */
            w_tag(&broken, 1, 6 + (int)s_pick(state, 2));
            w_varint(&broken, 1);
            break;
        case 3: /* a group that never ends */
            w_tag(&broken, 5, 3);
            w_tag(&broken, 1, 0);
            w_varint(&broken, 1);
            break;
        case 4: /* a group end without a start */
            w_tag(&broken, 5, 4);
            break;
        case 5: /* a varint of eleven bytes */
            w_tag(&broken, 20, 0);
            w_raw(&broken, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
            break;
        case 6: /* a submission whose inner length passes its wrapper's end */
            w_tag(&broken, 1, 2);
            w_varint(&broken, 10);
            w_tag(&broken, 1, 2);
            w_varint(&broken, 200);
            w_raw(&broken, "hostile", 7);
            break;
        default: /* a 32-bit field cut short */
            w_tag(&broken, 7, 5);
            w_raw(&broken, "\x01\x02", 2);
            break;
        }
        if (s_pick(state, 2)) {
            /* as the body */
            s_envelope(&envelope, out->request_id, strlen(out->request_id), type, &broken);
        } else {
            /* as the envelope itself */
            w_raw(&envelope, broken.data, broken.size);
            out->request_id[0] = 0;
        }
        w_free(&broken);
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_ENVELOPE_TEXT: {
        /* A valid submission in an envelope whose type or on_behalf_of is
           not UTF-8: the shared decoder refuses the envelope. */
        const char *bad = s_bad_utf8[s_pick(state, sizeof s_bad_utf8 / sizeof *s_bad_utf8)];
        char text[96];
        s_hostile_body(&h, &body);
        w_bytes(&envelope, 1, out->request_id, strlen(out->request_id));
        if (s_pick(state, 2)) {
            snprintf(text, sizeof text, "dp.SubmitEnquiry%sRequest", bad);
            w_bytes(&envelope, 2, text, strlen(text));
            w_bytes(&envelope, 3, body.data, body.size);
        } else {
            snprintf(text, sizeof text, "Mallory %s", bad);
            w_bytes(&envelope, 2, type, strlen(type));
            w_bytes(&envelope, 3, body.data, body.size);
            w_bytes(&envelope, 4, text, strlen(text));
        }
        out->message = s_two_frames(&envelope);
        break;
    }
    case C_REGISTRY_ID_AND_SLUG:
    case C_REGISTRY_BAD_UTF8:
    case C_REGISTRY_CONTROLS: {
        /* dp.UpdatePartnerRequest { partner { id, slug }, update_mask
           ["note"], note }: partner 1 (the first of the seed) by id and a
           slug that names no partner (the id alone would win), or a slug
           that is not UTF-8, or one with control characters (never
           echoed). None may change anything. */
        char slug[128];
        wire_t ref = {0};
        if (category == C_REGISTRY_ID_AND_SLUG) {
            snprintf(slug, sizeof slug, "h-%" PRIu64, n);
            w_tag(&ref, 1, 0);
            w_varint(&ref, 1);
        } else
            snprintf(slug, sizeof slug, "h-%s-%s", name,
                     category == C_REGISTRY_BAD_UTF8
                         ? s_bad_utf8[s_pick(state, sizeof s_bad_utf8 / sizeof *s_bad_utf8)]
                         : s_control[s_pick(state, sizeof s_control / sizeof *s_control)]);
        w_bytes(&ref, 2, slug, strlen(slug));
        w_bytes(&body, 1, ref.data, ref.size);
        w_bytes(&body, 2, "note", 4);
        w_bytes(&body, 7, "HOSTILE OVERWRITE", 17);
        body.failed = body.failed || ref.failed;
        w_free(&ref);
        s_envelope(&envelope, out->request_id, strlen(out->request_id), "dp.UpdatePartnerRequest",
                   &body);
        out->message = s_two_frames(&envelope);
        out->to_registry = true;
        break;
    }
    }
    w_free(&h.extra);
    w_free(&body);
    w_free(&envelope);
}

static category_t s_choose(hostile_state_t *state)
{
    int total = 0;
    for (int c = 0; c < CATEGORY_COUNT; c++)
        total += s_weights[c];
    int roll = (int)s_pick(state, (uint64_t)total);
    for (int c = 0; c < CATEGORY_COUNT; c++) {
        if (roll < s_weights[c])
            return (category_t)c;
        roll -= s_weights[c];
    }
    return C_RANDOM_BYTES;
}

/* ---- sending and counting ------------------------------------------------------------------- */

enum { HOSTILE_SOCKETS = 4, THROWAWAY_SOCKETS = 4 };

typedef struct {
    const char *endpoint;                  /* the intake */
    zsock_t *sockets[HOSTILE_SOCKETS + 1]; /* round-robin; the last one: the registry's */
    bool registry;                         /* sockets[HOSTILE_SOCKETS] is connected */
    zsock_t *throwaway[THROWAWAY_SOCKETS]; /* for frames ZeroMQ drops the peer for */
    size_t next_throwaway;                 /* ring position */
    uint64_t sent;                         /* hostile messages sent */
    uint64_t unsent;                       /* refused by a full queue */
    uint64_t replies;                      /* replies on the hostile sockets */
    uint64_t ok;                           /* of them OK: must stay 0 */
    uint64_t by_code[17];                  /* replies per status code */
    uint64_t undecodable;                  /* replies that are no dp.Reply */
    uint64_t echoed;                       /* messages holding a control character */
} hostile_io_t;

static zsock_t *s_socket(const char *endpoint)
{
    zsock_t *socket = zsock_new(ZMQ_DEALER);
    if (!socket)
        return NULL;
    zsock_set_linger(socket, 2000);
    zsock_set_sndtimeo(socket, 0);
    zsock_set_sndhwm(socket, 10000);
    zsock_set_rcvhwm(socket, 10000);
    if (zsock_connect(socket, "%s", endpoint) != 0)
        zsock_destroy(&socket);
    return socket;
}

static void s_send_hostile(hostile_io_t *io, outgoing_t *out)
{
    zsock_t *socket;
    if (out->drop_connection) {
        /* The intake's ZeroMQ drops the connection on this frame: keep it off
           the sockets whose replies are counted. The oldest throwaway socket
           is closed; its linger lets what it queued go out. */
        size_t at = io->next_throwaway++ % THROWAWAY_SOCKETS;
        zsock_destroy(&io->throwaway[at]);
        io->throwaway[at] = s_socket(io->endpoint);
        socket = io->throwaway[at];
    } else if (out->to_registry)
        socket = io->sockets[HOSTILE_SOCKETS];
    else
        socket = io->sockets[io->sent % HOSTILE_SOCKETS];
    if (socket && zmsg_send(&out->message, socket) == 0)
        io->sent++;
    else {
        io->unsent++;
        zmsg_destroy(&out->message);
    }
}

static void s_drain_hostile(hostile_io_t *io, hostile_state_t *state)
{
    for (int s = 0; s < HOSTILE_SOCKETS + (io->registry ? 1 : 0); s++)
        while (zsock_events(io->sockets[s]) & ZMQ_POLLIN) {
            zmsg_t *message = zmsg_recv(io->sockets[s]);
            if (!message)
                break;
            io->replies++;
            zframe_t *frame = zmsg_last(message);
            Dp__Reply *reply =
                zmsg_size(message) == 2
                    ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                                     zframe_size(frame), 1 << 22)
                    : NULL;
            zmsg_destroy(&message);
            if (!reply) {
                io->undecodable++;
                continue;
            }
            Dp__Code code = reply->status ? reply->status->code : DP__CODE__CODE_OK;
            if ((int)code >= 0 && (int)code < 17)
                io->by_code[code]++;
            /* What a client sent never comes back as a line break or a
               terminal escape; UNAVAILABLE holds libpq's own text. */
            bool echoed = false;
            for (const char *p = reply->status ? reply->status->message : "";
                 code != DP__CODE__CODE_UNAVAILABLE && *p; p++)
                echoed = echoed || (unsigned char)*p < 0x20 || *p == 0x7f;
            if (echoed) {
                io->echoed++;
                fprintf(stderr, "dp-fault-hostile: a control character echoed to '%s'\n",
                        reply->request_id);
            }
            if (code == DP__CODE__CODE_OK) {
                io->ok++;
                for (int c = 0; c < CATEGORY_COUNT; c++) {
                    size_t length = strlen(s_category_names[c]);
                    if (strncmp(reply->request_id, "h-", 2) == 0 &&
                        strncmp(reply->request_id + 2, s_category_names[c], length) == 0 &&
                        reply->request_id[2 + length] == '-')
                        state->ok[c]++;
                }
                fprintf(stderr, "dp-fault-hostile: answered OK: request_id '%s'\n",
                        reply->request_id);
            }
            dp_message_free((ProtobufCMessage **)&reply);
        }
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config =
        fault_config_load("dp-fault-hostile", "hostile messages mixed into valid submissions",
                          s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    const char *ack_path = dp_config_get(config, "DP_FAULT_ACK_FILE");
    FILE *acks = *ack_path ? fopen(ack_path, "w") : NULL;
    uint64_t valid_count = (uint64_t)dp_config_get_int(config, "DP_FAULT_VALID");
    uint64_t hostile_count = (uint64_t)dp_config_get_int(config, "DP_FAULT_HOSTILE");
    fault_load_options_t options = {.endpoint = dp_config_get(config, "DP_FAULT_ENDPOINT"),
                                    .source = "faults",
                                    .tag = dp_config_get(config, "DP_FAULT_TAG"),
                                    .first = 1,
                                    .count = valid_count,
                                    .connections = 2,
                                    .inflight = 8,
                                    .attempt_ms =
                                        (int)dp_config_get_int(config, "DP_FAULT_ATTEMPT_MS"),
                                    .backoff_ms = 200,
                                    .acks = acks};
    hostile_state_t state = {
        .random = (uint64_t)dp_config_get_int(config, "DP_FAULT_SEED") * 2654435761u + 1,
        .max_message_bytes = (size_t)dp_config_get_int(config, "DP_FAULT_MAX_MESSAGE_BYTES"),
        .valid_tag = options.tag};
    hostile_io_t io = {.endpoint = options.endpoint};
    state.valid = fault_load_new(&options);
    bool ready = state.valid && (!*ack_path || acks);
    for (int s = 0; ready && s < HOSTILE_SOCKETS; s++)
        ready = (io.sockets[s] = s_socket(options.endpoint)) != NULL;
    const char *registry_endpoint = dp_config_get(config, "DP_FAULT_REGISTRY_ENDPOINT");
    if (ready && *registry_endpoint)
        ready = io.registry = (io.sockets[HOSTILE_SOCKETS] = s_socket(registry_endpoint)) != NULL;
    int status = 2;
    if (!ready)
        fprintf(stderr, "dp-fault-hostile: cannot connect to %s or write %s\n", options.endpoint,
                ack_path);
    else {
        int64_t deadline =
            fault_now_us() + dp_config_get_int(config, "DP_FAULT_DEADLINE_MS") * 1000;
        int64_t quiet_until = 0;
        while (!fault_stopping() && fault_now_us() < deadline) {
            fault_load_step(state.valid, 2);
            /* Hostile messages keep pace with the valid ones, so the two
               stay mixed from the first to the last. */
            const fault_load_counts_t *counts = fault_load_counts(state.valid);
            while (io.sent + io.unsent < hostile_count &&
                   (io.sent + io.unsent) * valid_count <= counts->started * hostile_count) {
                outgoing_t out;
                category_t category = s_choose(&state);
                /* Until a valid key was acknowledged there is none to reuse. */
                if (category == C_KEY_REUSE && !fault_load_some_acked(state.valid, 0))
                    category = C_BAD_VALUES;
                /* Without a registry, its categories go to the intake as text. */
                if (!io.registry &&
                    (category == C_REGISTRY_ID_AND_SLUG || category == C_REGISTRY_BAD_UTF8 ||
                     category == C_REGISTRY_CONTROLS))
                    category = category == C_REGISTRY_CONTROLS ? C_CONTROL_CHARS : C_INVALID_UTF8;
                s_make(&state, category, io.sent + io.unsent + 1, &out);
                state.sent[category]++;
                s_send_hostile(&io, &out);
            }
            s_drain_hostile(&io, &state);
            if (fault_load_done(state.valid) && io.sent + io.unsent >= hostile_count) {
                /* Give the last hostile replies a moment to come back. */
                if (!quiet_until)
                    quiet_until = fault_now_us() + 2000000;
                else if (fault_now_us() >= quiet_until)
                    break;
                zclock_sleep(10);
            }
        }
        s_drain_hostile(&io, &state);
        const fault_load_counts_t *counts = fault_load_counts(state.valid);
        fault_load_print(state.valid, stdout);
        printf(" hostile_sent=%" PRIu64 " hostile_unsent=%" PRIu64 " hostile_replies=%" PRIu64
               " hostile_ok=%" PRIu64 " hostile_undecodable=%" PRIu64 " hostile_echoed=%" PRIu64,
               io.sent, io.unsent, io.replies, io.ok, io.undecodable, io.echoed);
        for (int code = 0; code < 17; code++)
            if (io.by_code[code])
                printf(" replies_%s=%" PRIu64, dp_code_name((Dp__Code)code), io.by_code[code]);
        printf("\n");
        for (int c = 0; c < CATEGORY_COUNT; c++) {
            printf("category=%s sent=%" PRIu64 " ok=%" PRIu64 "\n", s_category_names[c],
                   state.sent[c], state.ok[c]);
        }
        if (*counts->first_error)
            fprintf(stderr, "dp-fault-hostile: first refusal of a valid submission: %s\n",
                    counts->first_error);
        bool valid_served = counts->acked == valid_count && counts->first_attempt == valid_count;
        status = valid_served && io.ok == 0 && io.echoed == 0 && io.sent == hostile_count ? 0 : 1;
    }
    for (int s = 0; s < HOSTILE_SOCKETS + 1; s++)
        zsock_destroy(&io.sockets[s]);
    for (int s = 0; s < THROWAWAY_SOCKETS; s++)
        zsock_destroy(&io.throwaway[s]);
    fault_load_destroy(&state.valid);
    if (acks && fclose(acks) != 0)
        status = 2;
    dp_config_destroy(&config);
    return status;
}
