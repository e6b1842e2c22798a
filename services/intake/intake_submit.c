/* Submissions from feeding systems. Every submission that arrived while the
   previous batch was being committed is validated on its own, then all
   valid ones are stored in one transaction (group commit) and acknowledged
   only after COMMIT returns (synchronous_commit is on). A batch that fails
   as a whole is retried one submission at a time, so that one bad
   submission is refused alone. */
#include <ctype.h>
#include <czmq.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dp_format.h"
#include "dp_handler.h"
#include "dp_log.h"
#include "dp_privacy.h"
#include "dp_security.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "intake_db.h"
#include "intake_service.h"

enum {
    MAX_SOURCE_BYTES = 63,
    MAX_KEY_BYTES = 128,
    MAX_NAME_BYTES = 200,
    MAX_SUBJECT_BYTES = 300,
    MAX_LANGUAGE_BYTES = 16,
    MAX_AREAS = 10
};

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* One valid submission on its way into the database. */
typedef struct {
    const Dp__EnquirySubmission *submission; /* the request's */
    dp_reply_t *reply;                       /* where its answer goes */
    char *content_hash;                      /* of every field */
    char *subject_key;                       /* normalised subject */
    int64_t partner_id;                      /* matched partner, or 0 */
    const char *partner_slug;                /* borrowed from the triage map, or "" */
    const char *quarantine_reason;           /* "honeypot", "rate" or "" */
    bool partner_pending;                    /* stored before the intake had a partner map */
    const char *actor;                       /* who submitted it (dp_reply_actor) */
} item_t;

/* ---- validation ---------------------------------------------------------------- */

/* The two digits at p as a number, or -1 when they are not two digits
   (sscanf's %2d would take " 5", "-5" and "5:"). */
static int s_two_digits(const char *p)
{
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* The earliest received_at accepted: 2017-01-01T00:00:00Z. The partnership
   began on 8 November 2017; mail of the months before may be imported. */
#define EARLIEST_RECEIVED_AT 1483228800
/* Clocks of feeding systems may run a little fast; more is a wrong date. */
#define MAX_FUTURE_SKEW_S 300

/* Seconds since the epoch of a valid RFC 3339 time (see s_valid_timestamp). */
static int64_t s_epoch(const char *text)
{
    struct tm tm = {0};
    tm.tm_year = atoi(text) - 1900;
    tm.tm_mon = s_two_digits(text + 5) - 1;
    tm.tm_mday = s_two_digits(text + 8);
    tm.tm_hour = s_two_digits(text + 11);
    tm.tm_min = s_two_digits(text + 14);
    tm.tm_sec = s_two_digits(text + 17);
    int64_t seconds = (int64_t)timegm(&tm);
    const char *p = text + 19;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (*p == '+' || *p == '-') {
        int64_t offset = s_two_digits(p + 1) * 3600 + s_two_digits(p + 4) * 60;
        seconds += *p == '+' ? -offset : offset;
    }
    return seconds;
}

/* RFC 3339: 2026-11-28T16:30:00Z, with optional fraction and offset. */
static bool s_valid_timestamp(const char *text)
{
    if (strlen(text) < 20 || strlen(text) > 35)
        return false;
    char date[11];
    memcpy(date, text, 10);
    date[10] = 0;
    if (!dp_valid_date(date) || (text[10] != 'T' && text[10] != 't' && text[10] != ' '))
        return false;
    const char *p = text + 11;
    int hour = s_two_digits(p), minute = s_two_digits(p + 3), second = s_two_digits(p + 6);
    if (p[2] != ':' || p[5] != ':' || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 60)
        return false;
    p += 8;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == 0)
        return true;
    if ((*p != '+' && *p != '-') || strlen(p) != 6 || p[3] != ':')
        return false;
    /* PostgreSQL takes offsets up to 15:59. */
    int offset_hours = s_two_digits(p + 1), offset_minutes = s_two_digits(p + 4);
    return offset_hours >= 0 && offset_hours < 16 && offset_minutes >= 0 && offset_minutes < 60;
}

static bool s_valid_language(const char *text)
{
    if (!*text)
        return true;
    size_t length = strlen(text);
    if (length > MAX_LANGUAGE_BYTES || length < 2)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isalnum((unsigned char)text[i]) && text[i] != '-')
            return false;
    return isalpha((unsigned char)text[0]) && isalpha((unsigned char)text[1]);
}

static bool s_valid_country(const char *text)
{
    return !*text || (strlen(text) == 2 && isupper((unsigned char)text[0]) &&
                      isupper((unsigned char)text[1]));
}

static bool s_check(const intake_t *intake, const Dp__EnquirySubmission *s, dp_reply_t *reply)
{
    if (!s) {
        dp_reply_error(reply, INVALID, "enquiry", "enquiry is required");
        return false;
    }
    if (!dp_valid_slug(s->source)) {
        dp_reply_error(reply, INVALID, "source",
                       "source must be the feeding system's name: 1 to %d lower-case letters, "
                       "digits or hyphens",
                       MAX_SOURCE_BYTES);
        return false;
    }
    if (!dp_check_text(reply, "idempotency_key", s->idempotency_key, MAX_KEY_BYTES, true) ||
        !dp_check_text(reply, "sender_name", s->sender_name, MAX_NAME_BYTES, true))
        return false;
    if (!dp_valid_email(s->email)) {
        dp_reply_error(reply, INVALID, "email",
                       "email must be an address such as name@example.org");
        return false;
    }
    if (!dp_check_text(reply, "organisation", s->organisation, MAX_NAME_BYTES, false))
        return false;
    if (!s_valid_country(s->country)) {
        dp_reply_error(reply, INVALID, "country",
                       "country must be an ISO 3166-1 alpha-2 code such as FR, or empty");
        return false;
    }
    if (!dp_valid_slug(s->kind)) {
        dp_reply_error(reply, INVALID, "kind", "kind must be the slug of an enquiry kind");
        return false;
    }
    if (!dp_check_text(reply, "subject", s->subject, MAX_SUBJECT_BYTES, true) ||
        !dp_check_text(reply, "body", s->body, intake->max_body_bytes, true))
        return false;
    if (!s_valid_language(s->language)) {
        dp_reply_error(reply, INVALID, "language",
                       "language must be a language tag such as en or de-CH, or empty");
        return false;
    }
    if (s->n_areas > MAX_AREAS) {
        dp_reply_error(reply, INVALID, "areas", "at most %d areas", MAX_AREAS);
        return false;
    }
    for (size_t i = 0; i < s->n_areas; i++)
        if (!dp_valid_slug(s->areas[i]) || !intake_triage_area_known(intake->triage, s->areas[i])) {
            dp_reply_error(reply, INVALID, "areas", "areas[%zu] is not a known area", i);
            return false;
        }
    if (!s_valid_timestamp(s->received_at)) {
        dp_reply_error(reply, INVALID, "received_at",
                       "received_at must be an RFC 3339 time such as 2026-11-28T16:30:00Z");
        return false;
    }
    int64_t received = s_epoch(s->received_at);
    if (received < EARLIEST_RECEIVED_AT || received > (int64_t)time(NULL) + MAX_FUTURE_SKEW_S) {
        dp_reply_error(reply, INVALID, "received_at",
                       "received_at must lie between 2017-01-01 and now (at most %d minutes ahead)",
                       MAX_FUTURE_SKEW_S / 60);
        return false;
    }
    if (!dp_valid_text(s->honeypot, 1000)) {
        dp_reply_error(reply, INVALID, "honeypot", "honeypot must be text");
        return false;
    }
    return true;
}

/* ---- storing ---------------------------------------------------------------------- */

static json_t *s_row(const intake_t *intake, const item_t *item, size_t ord)
{
    char key[DP_PRIVACY_KEY_HEX];
    dp_privacy_subject_key(intake->privacy_key, item->submission->email, key);
    const Dp__EnquirySubmission *s = item->submission;
    json_t *areas = json_array();
    for (size_t i = 0; i < s->n_areas; i++)
        json_array_append_new(areas, json_string(s->areas[i]));
    json_t *row = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                            "s:o, s:s, s:s, s:s, s:s}",
                            "ord", (json_int_t)ord, "source", s->source, "idempotency_key",
                            s->idempotency_key, "content_hash", item->content_hash, "sender_name",
                            s->sender_name, "email", s->email, "organisation", s->organisation,
                            "country", s->country, "kind", s->kind, "subject", s->subject,
                            "subject_key", item->subject_key, "body", s->body, "language",
                            s->language, "areas", areas, "received_at", s->received_at, "status",
                            *item->quarantine_reason ? "quarantined" : "triaged", "partner_slug",
                            item->partner_slug, "quarantine_reason", item->quarantine_reason);
    if (row)
        json_object_set_new(row, "email_key", json_string(key));
    if (row && item->partner_id)
        json_object_set_new(row, "partner_id", json_integer(item->partner_id));
    if (row)
        json_object_set_new(row, "partner_pending", json_boolean(item->partner_pending));
    if (row)
        json_object_set_new(row, "actor", json_string(item->actor));
    return row;
}

static int s_add_event(json_t *events, const char *type, const Dp__EnquiryEvent *event)
{
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&event->base, &size);
    if (!packed)
        return -1;
    char *hex = malloc(size * 2 + 1);
    if (!hex) {
        free(packed);
        return -1;
    }
    dp_format_hex(packed, size, hex);
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, event->enquiry_id);
    int outcome = json_array_append_new(
        events, json_pack("{s:s, s:s, s:s}", "type", type, "id", id, "payload", hex));
    free(hex);
    free(packed);
    return outcome;
}

/* enquiry.received and enquiry.triaged for one newly stored enquiry. */
static int s_add_events(json_t *events, const item_t *item, const intake_stored_t *stored)
{
    const Dp__EnquirySubmission *s = item->submission;
    size_t n_areas = s->n_areas + stored->n_suggested_areas;
    char **areas = calloc(n_areas ? n_areas : 1, sizeof *areas);
    if (!areas)
        return -1;
    for (size_t i = 0; i < s->n_areas; i++)
        areas[i] = s->areas[i];
    for (size_t i = 0; i < stored->n_suggested_areas; i++)
        areas[s->n_areas + i] = stored->suggested_areas[i];
    Dp__EnquiryEvent event = DP__ENQUIRY_EVENT__INIT;
    event.enquiry_id = stored->id;
    event.source = s->source;
    event.kind = s->kind;
    event.status = "received";
    event.partner_id = item->partner_id;
    event.areas = areas;
    event.n_areas = n_areas;
    event.received_at = s->received_at;
    event.possible_duplicate = stored->possible_duplicate_of != 0;
    int outcome = s_add_event(events, "enquiry.received", &event);
    event.previous_status = "received";
    event.status = (char *)stored->status;
    if (outcome == 0)
        outcome = s_add_event(events, "enquiry.triaged", &event);
    free(areas);
    return outcome;
}

/* What one transaction over a batch works with. */
typedef struct {
    intake_t *intake;        /* the service */
    item_t *items;           /* the submissions */
    size_t count;            /* how many */
    intake_stored_t *stored; /* the database's answer for each */
    const char *rows_json;   /* the submissions as rows */
    dp_arena_t *arena;       /* for suggested areas */
} batch_t;

/* Two new enquiries of one batch from the same sender with the same subject:
   the statement that stored them could not see each other, so link them now. */
static int s_link_duplicates_in_batch(dp_db_t *db, batch_t *batch)
{
    bool pair = false;
    for (size_t i = 0; i < batch->count && !pair; i++)
        for (size_t j = 0; j < i && !pair; j++)
            pair = batch->stored[i].inserted && batch->stored[j].inserted &&
                   strcmp(batch->items[i].subject_key, batch->items[j].subject_key) == 0 &&
                   strcasecmp(batch->items[i].submission->email,
                              batch->items[j].submission->email) == 0;
    if (!pair)
        return 0;
    int64_t *ids = calloc(batch->count, sizeof *ids);
    int64_t *links = calloc(batch->count, sizeof *links);
    size_t count = 0;
    for (size_t i = 0; ids && i < batch->count; i++)
        if (batch->stored[i].inserted && !batch->stored[i].possible_duplicate_of)
            ids[count++] = batch->stored[i].id;
    int outcome = ids && links ? intake_db_link_duplicates(db, ids, links, count,
                                                           batch->intake->duplicate_window_hours)
                               : -1;
    for (size_t i = 0; outcome >= 0 && i < batch->count; i++)
        for (size_t k = 0; k < count; k++)
            if (batch->stored[i].inserted && batch->stored[i].id == ids[k] && links[k])
                batch->stored[i].possible_duplicate_of = links[k];
    free(ids);
    free(links);
    return outcome < 0 ? -1 : 0;
}

static dp_txn_outcome_t s_store_body(dp_db_t *db, void *arg)
{
    batch_t *batch = arg;
    memset(batch->stored, 0, batch->count * sizeof *batch->stored);
    if (intake_db_store_batch(db, batch->arena, batch->rows_json,
                              batch->intake->duplicate_window_hours, batch->intake->response_days,
                              batch->stored, batch->count) < 0 ||
        s_link_duplicates_in_batch(db, batch) < 0)
        return DP_TXN_FAILED;
    json_t *events = json_array();
    int failed = events ? 0 : -1;
    for (size_t i = 0; !failed && i < batch->count; i++)
        if (batch->stored[i].inserted)
            failed = s_add_events(events, &batch->items[i], &batch->stored[i]);
    char *events_json =
        failed || json_array_size(events) == 0 ? NULL : json_dumps(events, JSON_COMPACT);
    json_decref(events);
    if (failed)
        return DP_TXN_FAILED;
    int appended = events_json ? intake_db_append_events(db, events_json) : 1;
    free(events_json);
    return appended < 0 ? DP_TXN_FAILED : DP_TXN_COMMIT;
}

static void s_answer(const item_t *item, const intake_stored_t *stored)
{
    if (stored->id == 0) {
        dp_reply_error(item->reply, DP__CODE__CODE_INTERNAL, NULL, "the enquiry was not stored");
        return;
    }
    /* The caller may submit under this source (s_source_allowed), so the
       key is its own; still, the message names no enquiry id: an id says
       how many enquiries the intake holds, which is nobody's business. */
    if (!stored->inserted && strcmp(stored->content_hash, item->content_hash) != 0) {
        dp_reply_error(item->reply, DP__CODE__CODE_ALREADY_EXISTS, "idempotency_key",
                       "idempotency_key was used for a different enquiry of this source; a retry "
                       "must send the same content");
        return;
    }
    Dp__SubmitEnquiryReply answer = DP__SUBMIT_ENQUIRY_REPLY__INIT;
    answer.enquiry_id = stored->id;
    answer.status = intake_status_value(stored->status);
    answer.already_submitted = !stored->inserted;
    dp_reply_ok(item->reply, &answer.base);
}

/* Stores items in one transaction; returns 0 when committed and answered. */
static int s_store(intake_t *intake, item_t *items, size_t count)
{
    json_t *rows = json_array();
    for (size_t i = 0; rows && i < count; i++)
        json_array_append_new(rows, s_row(intake, &items[i], i));
    char *rows_json = rows ? json_dumps(rows, JSON_COMPACT) : NULL;
    json_decref(rows);
    intake_stored_t *stored = calloc(count, sizeof *stored);
    dp_arena_t *arena = dp_arena_new();
    int outcome = -1;
    if (rows_json && stored && arena) {
        batch_t batch = {intake, items, count, stored, rows_json, arena};
        outcome = dp_db_transaction(intake->db, s_store_body, &batch);
        for (size_t i = 0; outcome == 0 && i < count; i++) {
            /* A retry of a stored enquiry is not a new message from its sender. */
            if (!stored[i].inserted)
                intake_triage_uncount(intake->triage, items[i].submission->email);
            s_answer(&items[i], &stored[i]);
        }
    }
    free(rows_json);
    free(stored);
    dp_arena_destroy(&arena);
    return outcome == 0 ? 0 : -1;
}

static void s_refuse_all(intake_t *intake, item_t *items, size_t count)
{
    bool unknown_kind = dp_db_failure(intake->db) == DP_DB_FOREIGN_KEY &&
                        strcmp(dp_db_failure_constraint(intake->db), "enquiry_kind_fkey") == 0;
    for (size_t i = 0; i < count; i++)
        if (unknown_kind)
            dp_reply_error(items[i].reply, INVALID, "kind", "unknown kind '%s'",
                           items[i].submission->kind);
        else
            dp_reply_db_failure(items[i].reply, intake->db);
}

/* With CURVE on, a feeder submits only under the sources its certificate
   lists ("sources" metadata, comma-separated), by default under its own
   name; staff and front ends may submit under any source. */
static bool s_source_allowed(dp_reply_t *reply, const char *source)
{
    if (!dp_reply_authenticated(reply) || dp_reply_role(reply) != DP_ROLE_FEEDER)
        return true;
    const char *sources = dp_reply_sources(reply);
    if (!*sources)
        return strcmp(source, dp_reply_caller(reply)) == 0;
    size_t length = strlen(source);
    for (const char *p = sources; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && last[-1] == ' ')
            last--;
        if ((size_t)(last - p) == length && length && strncmp(p, source, length) == 0)
            return true;
        p = end;
    }
    return false;
}

void intake_submit_batch(void *state, const ProtobufCMessage **requests, dp_reply_t **replies,
                         size_t count)
{
    intake_t *intake = state;
    item_t *items = calloc(count, sizeof *items);
    if (!items) {
        for (size_t i = 0; i < count; i++)
            dp_reply_error(replies[i], DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
        return;
    }
    size_t valid = 0;
    int64_t now = zclock_mono();
    for (size_t i = 0; i < count; i++) {
        const Dp__EnquirySubmission *s = ((const Dp__SubmitEnquiryRequest *)requests[i])->enquiry;
        if (!s_check(intake, s, replies[i]))
            continue;
        if (!s_source_allowed(replies[i], s->source)) {
            /* The message names the source asked for, never what the key may use. */
            dp_reply_error(replies[i], DP__CODE__CODE_PERMISSION_DENIED, "source",
                           "this key may not submit under source %s", s->source);
            continue;
        }
        /* Per key as well as per source: one key cannot use up a shared source's rate. */
        if (dp_reply_authenticated(replies[i]) &&
            !intake_triage_key_allowed(intake->triage, dp_reply_caller(replies[i]), now)) {
            dp_reply_error(replies[i], DP__CODE__CODE_RESOURCE_EXHAUSTED, "source",
                           "this key is over its rate limit; retry later");
            continue;
        }
        if (!intake_triage_source_allowed(intake->triage, s->source, now)) {
            dp_reply_error(replies[i], DP__CODE__CODE_RESOURCE_EXHAUSTED, "source",
                           "source %s is over its rate limit; retry later", s->source);
            continue;
        }
        item_t *item = &items[valid];
        item->submission = s;
        item->reply = replies[i];
        item->content_hash = intake_content_hash(s);
        item->subject_key = intake_subject_key(s->subject);
        item->partner_slug = "";
        /* Without a map yet (the registry away) the enquiry is stored at
           once and matched when the map arrives (intake_partners.c). */
        item->partner_pending = !intake_triage_has_partners(intake->triage);
        intake_triage_match_partner(intake->triage, s->email, &item->partner_id,
                                    &item->partner_slug);
        item->actor = dp_reply_actor(replies[i], s->source);
        item->quarantine_reason = *s->honeypot ? "honeypot"
                                  : intake_triage_over_rate(intake->triage, s->email, now) ? "rate"
                                                                                           : "";
        if (!item->content_hash || !item->subject_key) {
            dp_reply_error(replies[i], DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
            free(item->content_hash);
            free(item->subject_key);
            continue;
        }
        valid++;
    }
    if (valid && s_store(intake, items, valid) != 0) {
        dp_db_failure_t failure = dp_db_failure(intake->db);
        if (failure == DP_DB_CONNECTION || valid == 1)
            s_refuse_all(intake, items, valid);
        else {
            /* Something in the batch failed it: store each alone, so only
               the culprit is refused. */
            dp_warning("batch of %zu failed (%s); storing one by one", valid,
                       dp_db_failure_sqlstate(intake->db));
            for (size_t i = 0; i < valid; i++)
                if (s_store(intake, &items[i], 1) != 0)
                    s_refuse_all(intake, &items[i], 1);
        }
    }
    for (size_t i = 0; i < valid; i++) {
        free(items[i].content_hash);
        free(items[i].subject_key);
    }
    free(items);
}
